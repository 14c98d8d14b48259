import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely'
import { transact, type Db } from '../db/connect.ts'
import { runShaped, type Part } from '../db/shaped.ts'
import type { CalendarObject, Database, User } from '../db/schema.ts'
import { IcalError } from '../ical/errors.ts'
import { parseObject, type CalendarObject as Parsed, type ComponentType } from '../ical/parse.ts'
import { allows, requireCalendar, visibleCalendars, type Need, type VisibleCalendar } from './access.ts'
import type { Actor } from './actor.ts'
import { createAppointment, deleteAppointment, heldAlong, heldFromJson, participantsOf, updateAppointment, type AppointmentInput, type HeldJson } from './appointments.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { appointmentInputFromIcal, taskInputFromIcal } from './ical-mapping.ts'
import { memberChanges, type MemberChanges } from './journal.ts'
import type { ClientBody } from './objects.ts'
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

/**
 * A calendar object as the text of a listing's member needs it (caldav/member-xml.ts), for
 * a PROPFIND Depth: 1 or sync-collection of a whole calendar: pg parses every column of
 * every row, so no uid, item or calendar columns; the body only when calendar-data is asked
 * for and updated_at (a timestamp, the dearest to parse) only when getlastmodified is, null
 * when not.
 */
export type MemberRow = Pick<ObjectMeta, 'id' | 'name' | 'component' | 'etag' | 'size' | 'modified_seq'> & { updated_at: Date | null; ical: string | null }
export type MemberColumns = { withBody: boolean; lastModified: boolean }

function selectMembers (db: Db, calendarId: number, cols: MemberColumns) {
  return db.selectFrom('calendar_objects').select(['id', 'name', 'component', 'etag', 'size', 'modified_seq'])
    .select(sql<Date | null>`${cols.lastModified ? sql.ref('updated_at') : sql`NULL`}`.as('updated_at'))
    .select(sql<string | null>`${cols.withBody ? sql.ref('ical') : sql`NULL`}`.as('ical'))
    .where('calendar_id', '=', calendarId)
}

/** Logins of users of the actor's organisation by id (owners of calendars shared with them). */
export async function loginsOf (db: Db, actor: User, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('users').select(['id', 'login']).where('org_id', '=', actor.org_id).where('id', 'in', ids).execute()
  return new Map(rows.map(r => [r.id, r.login]))
}

/**
 * A calendar by id, or as access.ts handed it out to this user through
 * `calendarsFor` a moment ago: then its access was decided there and is not
 * asked again (one statement less a request). Anything else, a stale
 * decision or an object access.ts did not hand out, is checked again.
 */
export type CalendarRef = number | VisibleCalendar

/** How long a calendar list's decision stands in for the check (one request, in practice). */
const DECISION_MS = 5_000
const decided = new WeakMap<VisibleCalendar, { user: User; at: number }>()

/** The calendars the user may see (access.ts decides), remembered as decided for the reads that follow. */
export async function calendarsFor (db: Db, user: User): Promise<VisibleCalendar[]> {
  const list = await visibleCalendars(db, user)
  const at = Date.now()
  for (const cal of list) decided.set(cal, { user, at })
  return list
}

/**
 * A list calendarsFor gave for this user earlier, handed out again as decided
 * now: for a caller that knows nothing deciding access has changed since (the
 * organisation's access version it was kept under is the one read with this
 * request's sign-in check).
 */
export function decidedAgain (list: VisibleCalendar[], user: User): VisibleCalendar[] {
  const at = Date.now()
  for (const cal of list) decided.set(cal, { user, at })
  return list
}

export async function calendarFor (db: Db, user: User, ref: CalendarRef, need: Need): Promise<VisibleCalendar> {
  if (typeof ref === 'object') {
    const d = decided.get(ref)
    // by id: a list kept across requests is shared by the user's concurrent requests, each with its own user row
    if (d !== undefined && d.user.id === user.id && Date.now() - d.at < DECISION_MS && allows(ref.access, need)) return ref
  }
  return requireCalendar(db, user, typeof ref === 'number' ? ref : ref.id, need)
}

export async function readableCalendar (db: Db, user: User, calendar: CalendarRef): Promise<VisibleCalendar> {
  return calendarFor(db, user, calendar, 'read')
}

export async function getObject (db: Db, user: User, calendar: CalendarRef, name: string, withBody = true): Promise<ObjectRow | null> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  return (await select(db, calendarId, withBody).where('name', '=', name).executeTakeFirst()) ?? null
}

/** An object's row as objectAlong reads it: JSON, so its timestamp is text. */
export type ObjectJson = Omit<ObjectRow, 'updated_at'> & { updated_at: string }

/**
 * getObject's read as a part of another statement (the request's sign-in
 * check, SignIn's Along), so it costs no round trip of its own: the row as
 * JSON, or null. What it read is handed out only by objectFromAlong, which
 * decides access as getObject does.
 */
export function objectAlong (db: Db, calendarId: number, name: string): Part<RawBuilder<ObjectJson | null>> {
  return { shape: 'object', args: [calendarId, name], build: (c: number, n: string) => sql<ObjectJson | null>`(SELECT to_json(o) FROM (${select(db, c, true).where('name', '=', n)}) o)` }
}

/** What objectAlong read, as getObject would hand it out: only in a calendar this user may read. */
export async function objectFromAlong (db: Db, user: User, calendar: CalendarRef, read: ObjectJson | null): Promise<ObjectRow | null> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  if (read === null) return null
  if (read.calendar_id !== calendarId) throw new Error(`an object read along for calendar ${read.calendar_id}, not ${calendarId}`)
  return { ...read, updated_at: new Date(read.updated_at) }
}

export async function getObjects (db: Db, user: User, calendar: CalendarRef, names: string[], withBody = true): Promise<ObjectRow[]> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  if (names.length === 0) return []
  return select(db, calendarId, withBody).where('name', 'in', names).execute()
}

/** Every object of the calendar, or those a time range may touch; bodies only when asked for. */
export async function listObjects (db: Db, user: User, calendar: CalendarRef, opts: ListOptions = {}): Promise<ObjectRow[]> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
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

/** Every object of the calendar as MemberRows, a page in id order: listObjects for a listing's text. */
export async function listMembers (db: Db, user: User, calendar: CalendarRef, cols: MemberColumns, page: { afterId?: number; limit?: number } = {}): Promise<MemberRow[]> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  let q = selectMembers(db, calendarId, cols)
  if (page.afterId !== undefined) q = q.where('id', '>', page.afterId)
  q = q.orderBy('id')
  return (page.limit === undefined ? q : q.limit(page.limit)).execute()
}

/**
 * The highest journal sequence number at or below which every change has
 * committed. Numbers are taken at INSERT but become visible at COMMIT, so a
 * later number can show up before an earlier one; a sync token past that gap
 * would skip the earlier change for ever.
 *
 * Usually one statement: the last number handed out (the sequence's
 * last_value, read first), kept only if no other session then holds a
 * writer's lock on the journal (ROW EXCLUSIVE or stronger). Every INSERT takes its lock on the table
 * before it takes its number and keeps it to the end of its transaction,
 * which ends (and is visible to later statements) before the lock goes; so
 * with no writer at that moment every number up to the one read has
 * committed or been rolled back. Readers (a sync on the slow path below
 * holds SHARE), VACUUM and ANALYZE do not count: none of them takes a number,
 * and a session that does takes ROW EXCLUSIVE as well, whatever else it
 * holds. Sessions of other databases with a table of the same oid, or a
 * DELETE of old changes, only send us down the slow path.
 *
 * When a writer is there: SHARE mode waits for the transactions writing the
 * journal and holds new writers off for one read. It gives up after a moment
 * (a VACUUM of the journal conflicts with it and must not be cancelled by a
 * stream of sync requests) and then answers the last horizon this process
 * saw: staler, never unsafe.
 */
export async function committedSeq (db: Db): Promise<number> {
  return (await horizon(db)).seq
}

/**
 * committedSeq, and on its quiet path the calendar's newest change up to it
 * read by the same statement (its snapshot may be a moment older than the
 * horizon: a version a moment staler, never one that skips a change).
 */
async function horizon (db: Db, calendarId?: number): Promise<{ seq: number; calendarSeq?: number }> {
  const quiet = await quietHorizon(calendarId).execute(db)
  const row = quiet.rows[0]
  if (row !== undefined) return { seq: remember(db, Number(row.seq)), ...(calendarId === undefined ? {} : { calendarSeq: Number(row.cal ?? 0) }) }
  try {
    const seq = await db.transaction().execute(async tx => {
      await sql`SET LOCAL lock_timeout = '300ms'`.execute(tx)
      await sql`LOCK TABLE changes IN SHARE MODE`.execute(tx)
      const row = await tx.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
      return Number(row?.seq ?? 0)
    })
    return { seq: remember(db, seq) }
  } catch (err) {
    if ((err as { code?: string }).code !== '55P03') throw err
    return { seq: horizons.get(db) ?? 0 }
  }
}

/** horizon's one statement: a row only when no writer holds the journal, with the calendar's newest change up to it. */
function quietHorizon (calendarId?: number) {
  return sql<{ seq: string | number; cal: string | number | null }>`
    SELECT h.seq, ${calendarId === undefined ? sql`NULL` : sql`(SELECT max(c.seq) FROM changes c WHERE c.calendar_id = ${calendarId} AND c.seq <= h.seq)`} AS cal
    FROM (SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('changes', 'seq')::regclass), 0) AS seq OFFSET 0) h
    WHERE NOT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'relation' AND l.relation = 'changes'::regclass
        AND l.mode NOT IN ('AccessShareLock', 'ShareUpdateExclusiveLock', 'ShareLock')
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.pid IS DISTINCT FROM pg_backend_pid()
        AND h.seq IS NOT NULL -- refers to h, so it runs after the number was read
    )`
}

/**
 * calendarVersion as a part of another statement (the request's sign-in
 * check): read on horizon's quiet path only, where it is exact (every change
 * up to the horizon committed, none in flight); null when a writer holds the
 * journal. Handed out by versionFromAlong.
 */
export type VersionJson = { calendar: number; seq: number; cal: number }
export function calendarVersionAlong (calendarId: number): Part<RawBuilder<VersionJson | null>> {
  return { shape: 'calendar-version', args: [calendarId], build: (c: number) => sql<VersionJson | null>`(SELECT json_build_object('calendar', ${c}::bigint, 'seq', q.seq, 'cal', coalesce(q.cal, 0)) FROM (${quietHorizon(c)}) q)` }
}

/** What calendarVersionAlong read, as calendarVersion would hand it out (undefined: not read quietly, ask calendarVersion). */
export async function versionFromAlong (db: Db, user: User, calendar: CalendarRef, read: VersionJson | null): Promise<number | undefined> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  if (read === null) return undefined
  if (Number(read.calendar) !== calendarId) throw new Error(`a version read along for calendar ${read.calendar}, not ${calendarId}`)
  remember(db, Number(read.seq))
  return Number(read.cal)
}

/** The calendar's newest committed change: the base of its ctag and sync token. */
async function committedCalendarSeq (db: Db, calendarId: number): Promise<number> {
  const h = await horizon(db, calendarId)
  return h.calendarSeq ?? calendarSeqUpTo(db, calendarId, h.seq)
}

function remember (db: Db, seq: number): number {
  const known = horizons.get(db) ?? 0
  if (seq > known) horizons.set(db, seq)
  return Math.max(seq, known)
}

const horizons = new WeakMap<Db, number>()

/** The calendar's newest committed change at or below `horizon`: the base of its ctag and sync token. */
async function calendarSeqUpTo (db: Db, calendarId: number, horizon: number): Promise<number> {
  const row = await db.selectFrom('changes').where('calendar_id', '=', calendarId).where('seq', '<=', horizon)
    .select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst()
  return Number(row?.seq ?? 0)
}

export async function calendarVersion (db: Db, user: User, calendar: CalendarRef): Promise<number> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  return committedCalendarSeq(db, calendarId)
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

/** `at`: the calendar's version as versionFromAlong gave it this request (read exactly), so not asked again */
export type ChangeOptions = { limit?: number; at?: number }

/**
 * What changed in the calendar after journal sequence `since` (0: everything
 * there is). `seq` is the sequence the answer is complete up to; with a limit
 * it stops early and says so.
 */
export async function objectChanges (db: Db, user: User, calendar: CalendarRef, since: number, opts: ChangeOptions & { withBody?: boolean } = {}): Promise<ObjectChanges> {
  const withBody = opts.withBody === true
  return changesOf(db, user, calendar, since, opts, id => select(db, id, withBody))
}

/** objectChanges with the changed objects as MemberRows, for a sync-collection's text. */
export async function memberRowChanges (db: Db, user: User, calendar: CalendarRef, since: number, cols: MemberColumns, opts: ChangeOptions = {}): Promise<MemberChanges<MemberRow>> {
  return changesOf(db, user, calendar, since, opts, id => selectMembers(db, id, cols))
}

async function changesOf<R extends { name: string; modified_seq: number }> (db: Db, user: User, calendar: CalendarRef, since: number, opts: ChangeOptions,
  from: (calendarId: number) => SelectQueryBuilder<Database, 'calendar_objects', R>): Promise<MemberChanges<R>> {
  const calendarId = (await readableCalendar(db, user, calendar)).id
  const now = opts.at ?? await committedCalendarSeq(db, calendarId)
  return memberChanges<R>(db, since, now, opts.limit, {
    changed: (since, now, limit) => {
      const q = from(calendarId).where('modified_seq', '>', since).where('modified_seq', '<=', now).orderBy('modified_seq').orderBy('id')
      return (limit === undefined ? q : q.limit(limit)).execute()
    },
    collection: { column: 'calendar_id', members: 'calendar_objects', id: calendarId }
  })
}

export type Preconditions = { ifMatch?: string[] | '*'; ifNoneMatch?: string[] | '*' }

/** If-Match / If-None-Match of a write (RFC 9110 §13.1) against the object as stored; a GET asks If-Match alone. */
export function checkPreconditions (current: { etag: string } | undefined, cond: Preconditions) {
  const { ifMatch, ifNoneMatch } = cond
  if (ifMatch !== undefined) {
    if (current === undefined) throw new DomainError('precondition-failed', 'If-Match: the resource does not exist')
    if (ifMatch !== '*' && !ifMatch.includes(current.etag)) throw new DomainError('precondition-failed', `If-Match: the resource changed, its ETag is now ${current.etag}`)
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === '*' || ifNoneMatch.includes(current.etag)) throw new DomainError('precondition-failed', 'If-None-Match: the resource already exists')
  }
}

/**
 * The object stored as `name` with its item's version, and (with `uid`) the
 * name of another object of the calendar holding that UID: one statement.
 * `lock`: the same statement locks the object's appointment for the write
 * that follows and reads it then (`held`, heldAlong), as updateAppointment
 * would. The version read is the one from before the lock was granted: a
 * writer that came between shows in `held` (updateAppointment's ifVersion).
 */
export async function currentWithVersion (db: Db, calendarId: number, name: string, uid?: string, opts: { lock?: boolean } = {}) {
  const lock = opts.lock === true
  // built once per shape (src/db/shaped.ts): every PUT sends it
  const rows = await runShaped(db, `calendar-objects:current:${uid === undefined ? 'name' : 'name-uid'}:${lock}`, uid === undefined ? [calendarId, name] : [calendarId, name, uid], (c: number, n: string, u?: string) => {
    const q = db.selectFrom('calendar_objects as o')
      .leftJoin('appointments as a', join => join.onRef('a.id', '=', 'o.item_id').on('o.item_kind', '=', 'appointment'))
      .leftJoin('tasks as t', join => join.onRef('t.id', '=', 'o.item_id').on('o.item_kind', '=', 'task'))
      .select(META.map(col => `o.${col}` as const))
      .select(sql<string | null>`CASE WHEN o.name = ${n} THEN o.ical END`.as('ical'))
      .select(sql<number | null>`coalesce(a.version, t.version)`.as('version'))
      .select(lock ? sql<HeldJson | null>`CASE WHEN o.item_kind = 'appointment' AND o.name = ${n} THEN ${heldAlong(sql.ref('o.item_id'))} END`.as('held') : sql<null>`NULL`.as('held'))
      .where('o.calendar_id', '=', c)
    return u === undefined ? q.where('o.name', '=', n) : q.where(eb => eb.or([eb('o.name', '=', n), eb('o.uid', '=', u)]))
  })
  const obj = rows.find(r => r.name === name)
  const clash = uid === undefined ? undefined : rows.find(r => r.name !== name && r.uid === uid)?.name
  if (obj === undefined) return { current: undefined, clash, held: undefined }
  const { held, ...row } = obj
  return { current: { ...row, ical: row.ical as string, version: row.version ?? undefined }, clash, held: heldFromJson(held) }
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
export async function putObject (db: Db, actor: Actor, calendar: CalendarRef, name: string, body: string, cond: Preconditions = {}): Promise<PutResult> {
  return transact(db, async tx => {
    const cal = await calendarFor(tx, actor.user, calendar, 'write')
    await lockObjectName(tx, cal.id, name)
    return putLocked(tx, actor, cal, name, body, cond)
  })
}

/** Namespace of the transaction locks that make writes of one href take turns. */
const OBJECT_NAME_LOCK = 4_711_002

/**
 * Writes of one href take turns, so the precondition, the read of what is
 * there and the write speak of one object: a second client creating the same
 * name at the same moment finds the first one's object and updates it (or
 * fails its If-None-Match) instead of colliding with it.
 */
async function lockObjectName (tx: Db, calendarId: number, name: string): Promise<void> {
  // without parameters (the name as hex digits), so it goes in one round trip with the BEGIN (src/db/deferred-begin.ts)
  const key = Buffer.from(`${calendarId}/${name}`).toString('hex')
  await sql`SELECT pg_advisory_xact_lock(${sql.lit(OBJECT_NAME_LOCK)}, hashtext(convert_from(decode(${sql.lit(key)}, 'hex'), 'UTF8')))`.execute(tx)
}

async function putLocked (db: Db, actor: Actor, cal: VisibleCalendar, name: string, body: string, cond: Preconditions): Promise<PutResult> {
  const calendarId = cal.id
  // RFC 5545 §3.1 allows no control characters but tab in content; PostgreSQL cannot store NUL at all
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(body)) throw new IcalError('valid-calendar-data', 'iCalendar content must not contain control characters')
  const parsed = parseObject(body, { allowed: cal.components as ComponentType[], maxInstances: 10_000 })
  const { current, clash, held } = await currentWithVersion(db, calendarId, name, parsed.uid, { lock: true })
  checkPreconditions(current, cond)
  const zone = cal.timezone ?? actor.user.timezone
  const clientBody: ClientBody = { calendarId, name, ical: body, span: { firstStart: parsed.index.firstStart, lastEnd: parsed.index.lastEnd } }
  if (clash !== undefined) throw new DomainError('conflict', `another object in this calendar (${clash}) has UID ${parsed.uid}`, { rule: 'no-uid-conflict', field: clash })
  if (current === undefined) {
    if (parsed.componentType === 'VEVENT') {
      const participantIds = await colleaguesIn(db, actor.user, addressesOf(parsed))
      await createAppointment(db, actor, { ...appointmentInputFromIcal(parsed.index, zone), calendarId, uid: parsed.uid, ...(participantIds.length > 0 ? { participantIds } : {}) }, { clientBody, calendar: cal, uidChecked: true })
    } else if (parsed.componentType === 'VTODO') {
      await createTask(db, actor, { ...taskInputFromIcal(parsed.index, zone), calendarId, uid: parsed.uid }, { clientBody })
    } else {
      throw new DomainError('forbidden', `${parsed.componentType} is not stored here`, { rule: 'supported-calendar-component' })
    }
    return { created: true, ...(await stored(db, clientBody)) }
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
    await updateAppointment(db, actor, current.item_id, input, { ifVersion, clientBody, calendar: cal, held })
  } else {
    const input = changedInput(taskInputFromIcal(before, zone) as Record<string, unknown>, taskInputFromIcal(parsed.index, zone) as Record<string, unknown>)
    await updateTask(db, actor, current.item_id, input, { ifVersion, clientBody })
  }
  return { created: false, ...(await stored(db, clientBody)) }
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
export async function colleaguesIn (db: Db, actor: User, addresses: Set<string>): Promise<number[]> {
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

/** The copy the PUT wrote (the domain says what it stored), or as stored now when the domain kept another one. */
async function stored (db: Db, written: ClientBody): Promise<{ etag: string; body: string }> {
  if (written.stored !== undefined) return { etag: written.stored.etag, body: written.stored.ical }
  const row = await db.selectFrom('calendar_objects').select(['etag', 'ical']).where('calendar_id', '=', written.calendarId).where('name', '=', written.name).executeTakeFirst()
  if (row === undefined) throw notFound('calendar object')
  return { etag: row.etag, body: row.ical }
}

/**
 * A client's DELETE: the owner's (or a writer's) delete removes the
 * appointment for everyone, a participant's removes only their copy; a task
 * is deleted.
 */
export async function deleteObject (db: Db, actor: Actor, calendar: CalendarRef, name: string, cond: Preconditions = {}): Promise<'deleted' | 'left'> {
  const calendarId = (await calendarFor(db, actor.user, calendar, 'write')).id
  const { current } = await currentWithVersion(db, calendarId, name)
  if (current === undefined) throw notFound('calendar object')
  checkPreconditions(current, cond)
  if (current.item_kind === 'appointment') return deleteAppointment(db, actor, current.item_id, { ifVersion: current.version })
  await deleteTask(db, actor, current.item_id, { ifVersion: current.version })
  return 'deleted'
}
