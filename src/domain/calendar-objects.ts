import { sql } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { CalendarObject, User } from '../db/schema.ts'
import { IcalError } from '../ical/errors.ts'
import { parseObject, type CalendarObject as Parsed, type ComponentType } from '../ical/parse.ts'
import { requireCalendar, type VisibleCalendar } from './access.ts'
import type { Actor } from './actor.ts'
import { createAppointment, deleteAppointment, participantsOf, updateAppointment, type AppointmentInput } from './appointments.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { appointmentInputFromIcal, taskInputFromIcal } from './ical-mapping.ts'
import { objectChangesSince } from './journal.ts'
import { createTask, deleteTask, updateTask } from './tasks.ts'

/**
 * The calendar object resources of a calendar as CalDAV sees them: read by
 * name, listed (with a time-range prefilter done in SQL), changed since a
 * journal sequence, and written: a client's PUT or DELETE becomes the CRM
 * operation on the appointment or task behind it, so business rules and the
 * journal apply, and the exact body is kept for the copy the client wrote.
 */
export type ObjectMeta = Pick<CalendarObject, 'id' | 'calendar_id' | 'name' | 'uid' | 'component' | 'etag' | 'size' | 'updated_at' | 'modified_seq' | 'item_kind' | 'item_id'>
export type ObjectRow = ObjectMeta & { ical?: string } & Partial<Pick<CalendarObject, 'first_start' | 'last_end'>>

const META = ['id', 'calendar_id', 'name', 'uid', 'component', 'etag', 'size', 'updated_at', 'modified_seq', 'item_kind', 'item_id'] as const

export type ListOptions = {
  withBody?: boolean
  component?: 'VEVENT' | 'VTODO'
  /** keep objects whose instances may touch [start, end]: the coarse prefilter; the exact test is the caller's */
  range?: { start?: Date; end?: Date }
  /** with first_start/last_end, the stored span of every instance */
  withSpan?: boolean
  /** a page in id order: objects after this id, at most `limit` of them */
  afterId?: number
  limit?: number
}

function select (db: Db, calendarId: number, withBody: boolean) {
  const q = db.selectFrom('calendar_objects').select([...META]).where('calendar_id', '=', calendarId)
  return withBody ? q.select('ical') : q
}

/** Logins of users of the actor's organisation by id (owners of calendars shared with them). */
export async function loginsOf (db: Db, actor: User, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('users').select(['id', 'login']).where('org_id', '=', actor.org_id).where('id', 'in', ids).execute()
  return new Map(rows.map(r => [r.id, r.login]))
}

export async function readableCalendar (db: Db, user: User, calendarId: number): Promise<VisibleCalendar> {
  return requireCalendar(db, user, calendarId, 'read')
}

export async function getObject (db: Db, user: User, calendarId: number, name: string, withBody = true): Promise<ObjectRow | null> {
  await readableCalendar(db, user, calendarId)
  return (await select(db, calendarId, withBody).where('name', '=', name).executeTakeFirst()) ?? null
}

export async function getObjects (db: Db, user: User, calendarId: number, names: string[], withBody = true): Promise<ObjectRow[]> {
  await readableCalendar(db, user, calendarId)
  if (names.length === 0) return []
  return select(db, calendarId, withBody).where('name', 'in', names).execute()
}

/** Every object of the calendar, or those a time range may touch; bodies only when asked for. */
export async function listObjects (db: Db, user: User, calendarId: number, opts: ListOptions = {}): Promise<ObjectRow[]> {
  await readableCalendar(db, user, calendarId)
  let q = select(db, calendarId, opts.withBody === true)
  if (opts.withSpan === true) q = q.select(['first_start', 'last_end']) as unknown as typeof q
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId)
  if (opts.component !== undefined) q = q.where('component', '=', opts.component)
  const end = opts.range?.end
  const start = opts.range?.start
  if ((start !== undefined || end !== undefined) && !(start !== undefined && end !== undefined && start > end)) {
    // the expression of the calendar_objects_range GiST index (migration 0005): overlap of inclusive spans
    q = q.where(sql<boolean>`tstzrange(first_start, CASE WHEN last_end < first_start THEN first_start ELSE last_end END, '[]') && tstzrange(${start ?? null}::timestamptz, ${end ?? null}::timestamptz, '[]')`)
  } else {
    if (end !== undefined) q = q.where(eb => eb.or([eb('first_start', 'is', null), eb('first_start', '<=', end)]))
    if (start !== undefined) q = q.where(eb => eb.or([eb('last_end', 'is', null), eb('last_end', '>=', start)]))
  }
  q = q.orderBy('id')
  return (opts.limit === undefined ? q : q.limit(opts.limit)).execute()
}

/**
 * The highest journal sequence number at or below which every change has
 * committed. Numbers are taken at INSERT but become visible at COMMIT, so a
 * later number can show up before an earlier one; a sync token past that gap
 * would skip the earlier change for ever. SHARE mode waits for the
 * transactions writing the journal and holds new writers off for one read.
 * It gives up after a moment (a VACUUM of the journal conflicts with it and
 * must not be cancelled by a stream of sync requests) and then answers the
 * last horizon this process saw: staler, never unsafe.
 */
export async function committedSeq (db: Db): Promise<number> {
  try {
    const seq = await db.transaction().execute(async tx => {
      await sql`SET LOCAL lock_timeout = '300ms'`.execute(tx)
      await sql`LOCK TABLE changes IN SHARE MODE`.execute(tx)
      const row = await tx.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
      return Number(row?.seq ?? 0)
    })
    const known = horizons.get(db) ?? 0
    if (seq > known) horizons.set(db, seq)
    return Math.max(seq, known)
  } catch (err) {
    if ((err as { code?: string }).code !== '55P03') throw err
    return horizons.get(db) ?? 0
  }
}

const horizons = new WeakMap<Db, number>()

/** The calendar's newest committed change at or below `horizon`: the base of its ctag and sync token. */
async function calendarSeqUpTo (db: Db, calendarId: number, horizon: number): Promise<number> {
  const row = await db.selectFrom('changes').where('calendar_id', '=', calendarId).where('seq', '<=', horizon)
    .select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
  return Number(row?.seq ?? 0)
}

export async function calendarVersion (db: Db, user: User, calendarId: number): Promise<number> {
  await readableCalendar(db, user, calendarId)
  return calendarSeqUpTo(db, calendarId, await committedSeq(db))
}

/** calendarVersion of several calendars the caller has already checked the user may read, with one horizon and one query. */
export async function calendarVersionsOf (db: Db, calendarIds: number[]): Promise<Map<number, number>> {
  const out = new Map(calendarIds.map(id => [id, 0]))
  if (calendarIds.length === 0) return out
  const horizon = await committedSeq(db)
  const rows = await db.selectFrom('changes').where('calendar_id', 'in', calendarIds).where('seq', '<=', horizon)
    .select(eb => ['calendar_id', eb.fn.max('seq').as('seq')]).groupBy('calendar_id').execute()
  for (const r of rows) out.set(Number(r.calendar_id), Number(r.seq))
  return out
}

export type ObjectChanges = { seq: number; changed: ObjectRow[]; deleted: string[]; truncated: boolean }

/**
 * What changed in the calendar after journal sequence `since` (0: everything
 * there is). `seq` is the sequence the answer is complete up to; with a limit
 * it stops early and says so.
 */
export async function objectChanges (db: Db, user: User, calendarId: number, since: number, opts: { limit?: number; withBody?: boolean } = {}): Promise<ObjectChanges> {
  await readableCalendar(db, user, calendarId)
  const now = await calendarSeqUpTo(db, calendarId, await committedSeq(db))
  const withBody = opts.withBody === true
  if (since > now) {
    // a token from a process that saw a later horizon: nothing new up to ours yet
    const newest = await db.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
    if (since > Number(newest?.seq ?? 0)) throw new DomainError('precondition-failed', 'the sync token was never handed out', { rule: 'valid-sync-token' })
    return { seq: since, changed: [], deleted: [], truncated: false }
  }
  if (since === 0) {
    let q = select(db, calendarId, withBody).where('modified_seq', '<=', now).orderBy('modified_seq').orderBy('id')
    if (opts.limit !== undefined) q = q.limit(opts.limit + 1)
    const rows = await q.execute()
    if (opts.limit !== undefined && rows.length > opts.limit) {
      // every object has its own sequence number, so the page ends exactly at its last one
      const page = rows.slice(0, opts.limit)
      return { seq: Number(page.at(-1)!.modified_seq), changed: page, deleted: [], truncated: true }
    }
    return { seq: now, changed: rows, deleted: [], truncated: false }
  }
  // changes past `now` are left for the next sync: an earlier one may still be committing
  const names = (await objectChangesSince(db, calendarId, since, opts.limit === undefined ? undefined : opts.limit + 1)).filter(n => n.seq <= now)
  const truncated = opts.limit !== undefined && names.length > opts.limit
  const page = truncated ? names.slice(0, opts.limit) : names
  const present = page.length === 0 ? [] : await select(db, calendarId, withBody).where('name', 'in', page.map(n => n.name)).execute()
  const byName = new Map(present.map(r => [r.name, r]))
  const changed: ObjectRow[] = []
  const deleted: string[] = []
  for (const n of page) {
    const row = byName.get(n.name)
    if (row === undefined) deleted.push(n.name); else changed.push(row)
  }
  return { seq: truncated ? page.at(-1)!.seq : Math.max(now, since), changed, deleted, truncated }
}

export type Preconditions = { ifMatch?: string[] | '*'; ifNoneMatch?: string[] | '*' }

function checkPreconditions (current: { etag: string } | undefined, cond: Preconditions) {
  const { ifMatch, ifNoneMatch } = cond
  if (ifMatch !== undefined) {
    if (current === undefined) throw new DomainError('precondition-failed', 'If-Match: the resource does not exist')
    if (ifMatch !== '*' && !ifMatch.includes(current.etag)) throw new DomainError('precondition-failed', `If-Match: the resource changed, its ETag is now ${current.etag}`)
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === '*' || ifNoneMatch.includes(current.etag)) throw new DomainError('precondition-failed', 'If-None-Match: the resource already exists')
  }
}

async function currentWithVersion (db: Db, calendarId: number, name: string) {
  const obj = await select(db, calendarId, true).where('name', '=', name).executeTakeFirst() as ObjectRow | undefined
  if (obj === undefined) return undefined
  const table = obj.item_kind === 'appointment' ? 'appointments' : 'tasks'
  const item = await db.selectFrom(table).select('version').where('id', '=', obj.item_id).executeTakeFirst()
  return { ...obj, ical: obj.ical as string, version: item?.version }
}

/** Keys whose value differs; the timing of an appointment travels together. */
function changedInput<T extends Record<string, unknown>> (before: T, after: T, groups: string[][] = []): Partial<T> {
  const out: Record<string, unknown> = {}
  const differs = (k: string) => JSON.stringify(before[k]) !== JSON.stringify(after[k])
  for (const k of Object.keys(after)) if (differs(k)) out[k] = after[k]
  for (const group of groups) {
    if (group.some(k => k in out)) for (const k of group) if (k in after) out[k] = after[k]
  }
  return out as Partial<T>
}

const TIMING = ['allDay', 'start', 'end', 'timezone']

export type PutResult = { created: boolean; etag: string; body: string }

/**
 * A client's PUT of `body` as `name` in the calendar: creates the appointment
 * or task, or edits the one behind the object (a participant's copy edits
 * the shared appointment). Only fields the client changed are sent to the
 * domain, so an untouched locked field never trips a business rule.
 */
export async function putObject (db: Db, actor: Actor, calendarId: number, name: string, body: string, cond: Preconditions = {}): Promise<PutResult> {
  const cal = await requireCalendar(db, actor.user, calendarId, 'write')
  // RFC 5545 §3.1 allows no control characters but tab in content; PostgreSQL cannot store NUL at all
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(body)) throw new IcalError('valid-calendar-data', 'iCalendar content must not contain control characters')
  const parsed = parseObject(body, { allowed: cal.components as ComponentType[], maxInstances: 10_000 })
  const current = await currentWithVersion(db, calendarId, name)
  checkPreconditions(current, cond)
  const zone = cal.timezone ?? actor.user.timezone
  const clientBody = { calendarId, name, ical: body }
  const clash = await db.selectFrom('calendar_objects').select('name').where('calendar_id', '=', calendarId)
    .where('uid', '=', parsed.uid).where('name', '!=', name).executeTakeFirst()
  if (clash !== undefined) throw new DomainError('conflict', `another object in this calendar (${clash.name}) has UID ${parsed.uid}`, { rule: 'no-uid-conflict', field: clash.name })
  if (current === undefined) {
    const moved = await movedHere(db, actor, parsed.componentType, parsed.uid, calendarId)
    if (moved !== null) {
      // the client copies the item into another of the user's calendars and then deletes the
      // old one (Thunderbird's "move"): the CRM item moves, keeping its history and links
      if (moved.kind === 'appointment') await updateAppointment(db, actor, moved.id, { ...appointmentInputFromIcal(parsed.index, zone), calendarId }, { clientBody })
      else await updateTask(db, actor, moved.id, { ...taskInputFromIcal(parsed.index, zone), calendarId }, { clientBody })
      return { created: true, ...(await stored(db, calendarId, name)) }
    }
    if (parsed.componentType === 'VEVENT') {
      const participantIds = await colleaguesIn(db, actor.user, addressesOf(parsed))
      await createAppointment(db, actor, { ...appointmentInputFromIcal(parsed.index, zone), calendarId, uid: parsed.uid, ...(participantIds.length > 0 ? { participantIds } : {}) }, { clientBody })
    } else if (parsed.componentType === 'VTODO') {
      await createTask(db, actor, { ...taskInputFromIcal(parsed.index, zone), calendarId, uid: parsed.uid }, { clientBody })
    } else {
      throw new DomainError('forbidden', `${parsed.componentType} is not stored here`, { rule: 'supported-calendar-component' })
    }
    return { created: true, ...(await stored(db, calendarId, name)) }
  }
  if (current.uid !== parsed.uid) throw new DomainError('conflict', `the UID of ${name} is ${current.uid} and cannot change`, { rule: 'no-uid-conflict', field: name })
  if (current.component !== parsed.componentType) throw invalid('body', `${name} holds a ${current.component}, not a ${parsed.componentType}`)
  const previous = parseObject(current.ical)
  const before = previous.index
  const ifVersion = current.version
  if (current.item_kind === 'appointment') {
    const input: AppointmentInput = changedInput(appointmentInputFromIcal(before, zone), appointmentInputFromIcal(parsed.index, zone), [TIMING])
    const participants = await participantsChange(db, actor, current.item_id, previous, parsed)
    if (participants !== null) input.participantIds = participants
    await updateAppointment(db, actor, current.item_id, input, { ifVersion, clientBody })
  } else {
    const input = changedInput(taskInputFromIcal(before, zone) as Record<string, unknown>, taskInputFromIcal(parsed.index, zone) as Record<string, unknown>)
    await updateTask(db, actor, current.item_id, input, { ifVersion, clientBody })
  }
  return { created: false, ...(await stored(db, calendarId, name)) }
}

/** ATTENDEE and ORGANIZER addresses of the master (or first override), lower-cased, without mailto:. */
function addressesOf (obj: Parsed): Set<string> {
  const c = obj.master ?? obj.overrides[0]
  const out = new Set<string>()
  if (c === undefined || c === null) return out
  for (const p of [...c.getAllProperties('attendee'), ...c.getAllProperties('organizer')]) {
    const v = String(p.getFirstValue() ?? '').trim()
    if (/^mailto:/i.test(v)) out.add(v.slice(7).toLowerCase())
  }
  return out
}

/**
 * Colleagues a meeting names as attendees (or organizer): PRODUCT.md wants a
 * meeting with attendees made in a calendar app to become one appointment
 * with the CRM users involved as participants, each with their own copy.
 */
async function colleaguesIn (db: Db, actor: User, addresses: Set<string>): Promise<number[]> {
  if (addresses.size === 0) return []
  const rows = await db.selectFrom('users').select(['id', 'email']).where('org_id', '=', actor.org_id).where('disabled', '=', false)
    .where(eb => eb(eb.fn('lower', ['email']), 'in', [...addresses])).execute()
  return rows.map(r => r.id).filter(id => id !== actor.id).sort((a, b) => a - b)
}

/**
 * Participants after an edit that added or removed attendees: colleagues the
 * client added join, those it removed leave; participants added in the CRM
 * stay. Null when the attendees did not change.
 */
async function participantsChange (db: Db, actor: Actor, appointmentId: number, before: Parsed, after: Parsed): Promise<number[] | null> {
  const was = await colleaguesIn(db, actor.user, addressesOf(before))
  const is = await colleaguesIn(db, actor.user, addressesOf(after))
  if (JSON.stringify(was) === JSON.stringify(is)) return null
  const owner = await db.selectFrom('appointments').select('owner_id').where('id', '=', appointmentId).executeTakeFirst()
  const next = new Set(await participantsOf(db, appointmentId))
  for (const id of is) if (!was.includes(id)) next.add(id)
  for (const id of was) if (!is.includes(id)) next.delete(id)
  if (owner !== undefined) next.delete(owner.owner_id)
  return [...next].sort((a, b) => a - b)
}

/**
 * The item a PUT of a new object moves rather than duplicates: same UID, homed
 * in another calendar the user owns, with its copy there. Anything else with
 * that UID stays a no-uid-conflict.
 */
async function movedHere (db: Db, actor: Actor, component: string, uid: string, calendarId: number): Promise<{ kind: 'appointment' | 'task'; id: number } | null> {
  const table = component === 'VEVENT' ? 'appointments' : component === 'VTODO' ? 'tasks' : null
  if (table === null) return null
  // UIDs are unique per calendar only: the item to move is the one homed in a calendar of this user's
  const item = await db.selectFrom(table).innerJoin('calendars', 'calendars.id', `${table}.calendar_id`)
    .select([`${table}.id as id`, `${table}.calendar_id as calendar_id`])
    .where(`${table}.org_id`, '=', actor.user.org_id).where(`${table}.uid`, '=', uid)
    .where('calendars.owner_id', '=', actor.user.id).where(`${table}.calendar_id`, '!=', calendarId)
    .executeTakeFirst()
  if (item === undefined) return null
  const kind = table === 'appointments' ? 'appointment' as const : 'task' as const
  const copy = await db.selectFrom('calendar_objects').select('id').where('item_kind', '=', kind).where('item_id', '=', item.id).where('calendar_id', '=', item.calendar_id).executeTakeFirst()
  return copy === undefined ? null : { kind, id: item.id }
}

async function stored (db: Db, calendarId: number, name: string): Promise<{ etag: string; body: string }> {
  const row = await db.selectFrom('calendar_objects').select(['etag', 'ical']).where('calendar_id', '=', calendarId).where('name', '=', name).executeTakeFirst()
  if (row === undefined) throw notFound('calendar object')
  return { etag: row.etag, body: row.ical }
}

/**
 * A client's DELETE: the owner's (or a writer's) delete removes the
 * appointment for everyone, a participant's removes only their copy; a task
 * is deleted.
 */
export async function deleteObject (db: Db, actor: Actor, calendarId: number, name: string, cond: Preconditions = {}): Promise<'deleted' | 'left'> {
  await requireCalendar(db, actor.user, calendarId, 'write')
  const current = await currentWithVersion(db, calendarId, name)
  if (current === undefined) throw notFound('calendar object')
  checkPreconditions(current, cond)
  if (current.item_kind === 'appointment') return deleteAppointment(db, actor, current.item_id, { ifVersion: current.version })
  await deleteTask(db, actor, current.item_id, { ifVersion: current.version })
  return 'deleted'
}
