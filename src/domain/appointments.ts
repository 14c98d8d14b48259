import { randomUUID } from 'node:crypto'
import { transact, type Db } from '../db/connect.ts'
import { runShaped } from '../db/shaped.ts'
import { sql, type Expression } from 'kysely'
import type { Appointment, AppointmentStatus, CalendarObject, User } from '../db/schema.ts'
import { appointmentRole, calendarAccess, requireOrganiser, requireSameOrgUser, type ItemRole, type VisibleCalendar } from './access.ts'
import { defaultCalendarOf, writableCalendar, writableCalendarFor } from './calendars.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { appointmentFields } from './ical-mapping.ts'
import { changedFields, record, type ChangeInput } from './journal.ts'
import { removeAllPlacements, requireFreeUid, syncPlacements, type ClientBody, type Placement } from './objects.ts'
import { caseInOrg, typeInOrg } from './references.ts'
import type { Actor } from './actor.ts'
import { dateOnly, instant, recurrenceRule, text, timeZone } from './values.ts'

export type AppointmentInput = {
  calendarId?: number
  uid?: string
  title?: string
  description?: string
  location?: string
  allDay?: boolean
  start?: string
  end?: string
  timezone?: string | null
  rrule?: string | null
  exdates?: string[]
  caseId?: number | null
  typeId?: number | null
  status?: AppointmentStatus
  private?: boolean
  busy?: boolean
  ownerId?: number
  participantIds?: number[]
}

export type AppointmentView = Appointment & { participant_ids: number[] }

type Values = Omit<Appointment, 'id' | 'created_at' | 'updated_at' | 'version' | 'span_start' | 'span_end'>

const STATUSES: AppointmentStatus[] = ['tentative', 'confirmed', 'cancelled']

async function normalize (tx: Db, actor: User, input: AppointmentInput, base: Values): Promise<Values> {
  const v: Values = { ...base }
  if (input.title !== undefined) v.title = text('title', input.title, { max: 1000, required: true })
  if (input.description !== undefined) v.description = text('description', input.description, { max: 100_000 })
  if (input.location !== undefined) v.location = text('location', input.location, { max: 1000 })
  if (input.status !== undefined) {
    if (!STATUSES.includes(input.status)) throw invalid('status', `must be one of ${STATUSES.join(', ')}`)
    v.status = input.status
  }
  if (input.private !== undefined) v.private = Boolean(input.private)
  if (input.busy !== undefined) v.busy = Boolean(input.busy)
  if (input.caseId !== undefined) v.case_id = input.caseId === null ? null : await caseInOrg(tx, actor, input.caseId, 'caseId')
  if (input.typeId !== undefined) v.type_id = input.typeId === null ? null : await typeInOrg(tx, actor, input.typeId, 'appointment', 'typeId')
  if (input.rrule !== undefined) v.rrule = recurrenceRule('rrule', input.rrule)
  if (input.exdates !== undefined) {
    if (!Array.isArray(input.exdates)) throw invalid('exdates', 'must be a list of dates or date-times')
    v.exdates = input.exdates.map((d, i) => /T/.test(d) ? instant(`exdates[${i}]`, d).toISOString() : dateOnly(`exdates[${i}]`, d))
  }
  const allDay = input.allDay ?? base.all_day
  const timing = input.start !== undefined || input.end !== undefined || input.allDay !== undefined || input.timezone !== undefined
  if (timing) {
    v.all_day = allDay
    if (allDay) {
      const start = dateOnly('start', input.start ?? base.start_date)
      const end = dateOnly('end', input.end ?? base.end_date ?? start)
      if (end <= start) throw invalid('end', 'an all-day appointment ends after the day it starts (the end date is exclusive)')
      Object.assign(v, { start_date: start, end_date: end, starts_at: null, ends_at: null, timezone: null })
    } else {
      const start = instant('start', input.start ?? base.starts_at?.toISOString())
      const end = instant('end', input.end ?? base.ends_at?.toISOString())
      if (end.getTime() < start.getTime()) throw invalid('end', 'must not be before start')
      const tz = input.timezone === undefined ? (base.timezone ?? actor.timezone) : input.timezone === null ? 'UTC' : timeZone('timezone', input.timezone)
      Object.assign(v, { starts_at: start, ends_at: end, timezone: tz, start_date: null, end_date: null })
    }
  }
  return v
}

export async function participantsOf (tx: Db, appointmentId: number): Promise<number[]> {
  return (await participantsOfMany(tx, [appointmentId])).get(appointmentId) ?? []
}

export async function participantsOfMany (tx: Db, appointmentIds: number[]): Promise<Map<number, number[]>> {
  const byAppointment = new Map<number, number[]>()
  if (appointmentIds.length === 0) return byAppointment
  const rows = await tx.selectFrom('appointment_participants').select(['appointment_id', 'user_id'])
    .where('appointment_id', 'in', appointmentIds).orderBy('user_id').execute()
  for (const r of rows) byAppointment.set(r.appointment_id, [...(byAppointment.get(r.appointment_id) ?? []), r.user_id])
  return byAppointment
}

/** The owner's copy in the home calendar, and one in each other participant's default calendar. */
async function placementsFor (tx: Db, appt: Appointment, participants: number[]): Promise<Placement[]> {
  const places: Placement[] = [{ calendarId: appt.calendar_id }]
  for (const userId of participants) {
    if (userId === appt.owner_id) continue
    const cal = await defaultCalendarOf(tx, userId, 'personal')
    if (!places.some(p => p.calendarId === cal.id)) places.push({ calendarId: cal.id })
  }
  return places
}

async function snapshot (tx: Db, appt: Appointment) {
  return { kind: 'appointment' as const, id: appt.id, orgId: appt.org_id, uid: appt.uid, component: 'VEVENT' as const, fields: await appointmentFields(tx, appt) }
}

/** Writes every copy, then indexes the appointment by the span of its home copy. */
async function place (tx: Db, appt: Appointment, participants: number[], ctx: Parameters<typeof syncPlacements>[3]): Promise<Appointment> {
  const span = await syncPlacements(tx, await snapshot(tx, appt), await placementsFor(tx, appt, participants), ctx)
  if (span.firstStart?.getTime() === appt.span_start?.getTime() && span.lastEnd?.getTime() === appt.span_end?.getTime()) return appt
  return tx.updateTable('appointments').set({ span_start: span.firstStart, span_end: span.lastEnd }).where('id', '=', appt.id).returningAll().executeTakeFirstOrThrow()
}

async function participantsInput (tx: Db, actor: User, ids: unknown): Promise<number[]> {
  if (!Array.isArray(ids)) throw invalid('participantIds', 'must be a list of user ids')
  const unique = [...new Set(ids)]
  for (const [i, id] of unique.entries()) {
    if (!Number.isInteger(id)) throw invalid(`participantIds[${i}]`, 'must be a user id')
    await requireSameOrgUser(tx, actor, id as number, `participantIds[${i}]`)
  }
  return (unique as number[]).sort((a, b) => a - b)
}

/**
 * `calendar`: the calendar as access.ts decided it for this user a moment ago
 * in the same transaction (a CalDAV PUT's), so it is not asked again;
 * `uidChecked`: the caller looked for the UID in that calendar in this
 * transaction (calendar_objects keeps (calendar_id, uid) unique in any case).
 */
export type CreateOptions = { clientBody?: ClientBody; calendar?: VisibleCalendar; uidChecked?: boolean }

export async function createAppointment (db: Db, actor: Actor, input: AppointmentInput, opts: CreateOptions = {}): Promise<AppointmentView> {
  return transact(db, async tx => {
    const calendarId = input.calendarId ?? (await defaultCalendarOf(tx, actor.user.id, 'personal')).id
    const cal = opts.calendar?.id === calendarId ? writableCalendar(opts.calendar, 'VEVENT') : await writableCalendarFor(tx, actor.user, calendarId, 'VEVENT')
    if (input.title === undefined) throw invalid('title', 'is required')
    if (input.start === undefined) throw invalid('start', 'is required')
    const ownerId = input.ownerId ?? cal.owner_id ?? actor.user.id
    if (ownerId !== actor.user.id) await requireSameOrgUser(tx, actor.user, ownerId, 'ownerId')
    const uid = input.uid === undefined ? randomUUID() : text('uid', input.uid, { max: 255, required: true, singleLine: true })
    const base: Values = {
      org_id: actor.user.org_id, uid, calendar_id: cal.id, owner_id: ownerId, title: '', description: '', location: '',
      all_day: false, starts_at: null, ends_at: null, start_date: null, end_date: null, timezone: null, rrule: null, exdates: [],
      case_id: null, type_id: null, status: 'confirmed', private: false, busy: true, created_by: actor.user.id
    }
    const values = await normalize(tx, actor.user, { ...input, allDay: input.allDay ?? false }, base)
    if (opts.uidChecked !== true) await requireFreeUid(tx, cal.id, uid)
    // the home copy is the client's body: its span, known already, indexes the appointment from the start
    const span = opts.clientBody?.calendarId === cal.id ? opts.clientBody.span : undefined
    const inserted = await tx.insertInto('appointments').values(span === undefined ? values : { ...values, span_start: span.firstStart, span_end: span.lastEnd }).returningAll().executeTakeFirstOrThrow()
    const participants = input.participantIds === undefined ? [] : await participantsInput(tx, actor.user, input.participantIds)
    if (participants.length > 0) await tx.insertInto('appointment_participants').values(participants.map(user_id => ({ appointment_id: inserted.id, user_id }))).execute()
    const journal: ChangeInput[] = [{ org_id: inserted.org_id, entity: 'appointment', entity_id: inserted.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }]
    const appt = await place(tx, inserted, participants, { origin: actor.origin, actorId: actor.user.id, clientBody: opts.clientBody, op: 'create', journal })
    return { ...appt, participant_ids: participants }
  })
}

/**
 * `calendar`: a calendar access.ts decided for this user a moment ago (a
 * CalDAV write's); when it is the appointment's home, its access is not asked
 * again. `held`: the caller locked and read the appointment already in this
 * transaction (heldAlong in currentWithVersion's statement).
 */
export async function loadAppointment (tx: Db, actor: User, id: number, need: 'read', opts?: { calendar?: VisibleCalendar }): Promise<{ appt: Appointment; role: ItemRole }>
export async function loadAppointment (tx: Db, actor: User, id: number, need: 'write', opts?: { calendar?: VisibleCalendar; held?: Held }): Promise<{ appt: Appointment; role: ItemRole; participants: number[]; copies: CalendarObject[] }>
export async function loadAppointment (tx: Db, actor: User, id: number, need: 'read' | 'write', opts: { calendar?: VisibleCalendar; held?: Held } = {}) {
  let appt: Appointment | undefined
  let held: { participants: number[]; copies: CalendarObject[] } | undefined
  if (need === 'read') appt = await tx.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst()
  else {
    // a writer locks the row, so a concurrent edit waits, then reads it, who takes part and its copies
    const row = opts.held?.appt.id === id ? opts.held : await heldAppointment(tx, id)
    if (row !== undefined) ({ appt, ...held } = row)
  }
  if (appt === undefined || appt.org_id !== actor.org_id) throw notFound('appointment')
  const role = await appointmentRole(tx, actor, appt, { home: opts.calendar, participants: held?.participants })
  if (!role.canRead) throw notFound('appointment')
  if (need === 'write' && !role.canWrite) throw new DomainError('forbidden', 'this appointment is in a calendar shared with you read-only', { rule: 'need-privileges' })
  return { appt, role, ...held }
}

/** An appointment locked for a write, with who takes part and its copies in every calendar. */
export type Held = { appt: Appointment; participants: number[]; copies: CalendarObject[] }

/**
 * The appointment `id` locked and then read, as JSON, in one statement
 * (migration 0017's locked_appointment, whose read follows its lock), or
 * as part of another statement: heldAlong(sql`o.item_id`).
 */
export const heldAlong = (id: Expression<number | null> | number) => sql<HeldJson | null>`locked_appointment(${id})`

async function heldAppointment (tx: Db, id: number): Promise<Held | undefined> {
  const { rows } = await sql<{ held: HeldJson | null }>`SELECT ${heldAlong(id)} AS held`.execute(tx)
  return heldFromJson(rows[0]?.held ?? null)
}

export type HeldJson = { appt: JsonAppointment; participant_ids: number[]; copies: JsonCopy[] }
type JsonAppointment = Omit<Appointment, 'starts_at' | 'ends_at' | 'span_start' | 'span_end' | 'created_at' | 'updated_at'> &
  { starts_at: string | null; ends_at: string | null; span_start: string | null; span_end: string | null; created_at: string; updated_at: string }

/** What locked_appointment read, as pg would have parsed the row itself (timestamps as Dates). */
export function heldFromJson (json: HeldJson | null): Held | undefined {
  if (json === null) return undefined
  const a = json.appt
  const at = (v: string | null) => v === null ? null : new Date(v)
  const appt: Appointment = {
    ...a,
    starts_at: at(a.starts_at), ends_at: at(a.ends_at), span_start: at(a.span_start), span_end: at(a.span_end),
    created_at: new Date(a.created_at), updated_at: new Date(a.updated_at)
  }
  return { appt, participants: json.participant_ids.map(Number), copies: json.copies.map(copyFromJson) }
}

type JsonCopy = Omit<CalendarObject, 'first_start' | 'last_end' | 'updated_at'> & { first_start: string | null; last_end: string | null; updated_at: string }
const copyFromJson = (o: JsonCopy): CalendarObject => ({
  ...o, first_start: o.first_start === null ? null : new Date(o.first_start), last_end: o.last_end === null ? null : new Date(o.last_end), updated_at: new Date(o.updated_at)
})


export async function getAppointment (db: Db, actor: User, id: number): Promise<AppointmentView> {
  const { appt } = await loadAppointment(db, actor, id, 'read')
  return { ...appt, participant_ids: await participantsOf(db, id) }
}

export async function updateAppointment (
  db: Db, actor: Actor, id: number, input: AppointmentInput,
  opts: { ifVersion?: number; clientBody?: ClientBody; overrides?: string; calendar?: VisibleCalendar; held?: Held } = {}
): Promise<AppointmentView> {
  return transact(db, async tx => {
    const { appt: before, role, participants: held, copies } = await loadAppointment(tx, actor.user, id, 'write', { calendar: opts.calendar, held: opts.held })
    if (opts.ifVersion !== undefined && opts.ifVersion !== before.version) {
      throw new DomainError('precondition-failed', `the appointment changed since version ${opts.ifVersion} (now ${before.version})`)
    }
    const { id: _id, created_at: _c, updated_at: _u, version: _v, span_start: _s, span_end: _e, ...base } = before
    const values = await normalize(tx, actor.user, input, base)
    if (input.ownerId !== undefined && input.ownerId !== before.owner_id) {
      requireOrganiser(role, 'ownerId')
      await requireSameOrgUser(tx, actor.user, input.ownerId, 'ownerId')
      values.owner_id = input.ownerId
      // Reassignment: leaves the old owner's calendar and appears in the new owner's.
      const home = await tx.selectFrom('calendars').select(['owner_id']).where('id', '=', before.calendar_id).executeTakeFirstOrThrow()
      if (home.owner_id === before.owner_id) values.calendar_id = (await defaultCalendarOf(tx, input.ownerId, 'personal')).id
    }
    if (input.calendarId !== undefined && input.calendarId !== values.calendar_id) {
      requireOrganiser(role, 'calendarId')
      values.calendar_id = (await writableCalendarFor(tx, actor.user, input.calendarId, 'VEVENT')).id
    }
    let participants = held
    if (input.participantIds !== undefined) {
      const next = await participantsInput(tx, actor.user, input.participantIds)
      if (next.join() !== participants.join()) requireOrganiser(role, 'participantIds')
      await tx.deleteFrom('appointment_participants').where('appointment_id', '=', id).execute()
      if (next.length > 0) await tx.insertInto('appointment_participants').values(next.map(user_id => ({ appointment_id: id, user_id }))).execute()
      participants = next
    }
    // the home copy is the client's body: its span, known already, goes in with the rest (place() then has nothing to index)
    const span = opts.clientBody?.calendarId === values.calendar_id ? opts.clientBody.span : undefined
    const set: Record<string, unknown> = { ...values, ...(span === undefined ? {} : { span_start: span.firstStart, span_end: span.lastEnd }), updated_at: new Date(), version: before.version + 1 }
    const columns = Object.keys(set)
    // built once per set of columns (src/db/shaped.ts): every edit sends it
    const [updated] = await runShaped(tx, `appointments:update:${columns.join(',')}`, [id, ...columns.map(c => set[c])],
      (i: number, ...row: unknown[]) => tx.updateTable('appointments').set(Object.fromEntries(columns.map((c, k) => [c, row[k]]))).where('id', '=', i).returningAll())
    if (updated === undefined) throw notFound('appointment')
    // the span is an index, not a field the journal speaks of
    const detail = changedFields(before, { ...updated, span_start: before.span_start, span_end: before.span_end })
    const journal: ChangeInput[] = [{ org_id: updated.org_id, entity: 'appointment', entity_id: id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail }]
    const appt = await place(tx, updated, participants, { origin: actor.origin, actorId: actor.user.id, clientBody: opts.clientBody, overrides: opts.overrides, op: 'update', journal, existing: copies })
    return { ...appt, participant_ids: participants }
  })
}

/**
 * The owner (or anyone who may write the home calendar) deletes it for
 * everyone; a participant who deletes it only leaves the meeting.
 */
export async function deleteAppointment (db: Db, actor: Actor, id: number, opts: { ifVersion?: number } = {}): Promise<'deleted' | 'left'> {
  return transact(db, async tx => {
    const { appt, role } = await loadAppointment(tx, actor.user, id, 'write')
    if (opts.ifVersion !== undefined && opts.ifVersion !== appt.version) throw new DomainError('precondition-failed', 'the appointment changed meanwhile')
    const home = await calendarAccess(tx, actor.user, appt.calendar_id)
    const mayDeleteForAll = role.isOwner || (!role.isParticipant && home !== null && home.access !== 'read')
    const ctx = { origin: actor.origin, actorId: actor.user.id }
    if (!mayDeleteForAll) {
      await tx.deleteFrom('appointment_participants').where('appointment_id', '=', id).where('user_id', '=', actor.user.id).execute()
      const participants = await participantsOf(tx, id)
      await record(tx, [{ org_id: appt.org_id, entity: 'appointment', entity_id: id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail: { left: actor.user.id } }])
      await place(tx, appt, participants, { ...ctx, op: 'update' })
      await placeOthersOfUid(tx, appt, ctx)
      return 'left'
    }
    await removeAllPlacements(tx, { kind: 'appointment', id, orgId: appt.org_id }, ctx)
    await tx.deleteFrom('appointments').where('id', '=', id).execute()
    await record(tx, [{ org_id: appt.org_id, entity: 'appointment', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id, detail: { uid: appt.uid } }])
    await placeOthersOfUid(tx, appt, ctx)
    return 'deleted'
  })
}

/**
 * A participant's calendar holds one object per UID, so another appointment
 * with this UID (a client's copy in a second calendar, before it deletes the
 * first: Thunderbird's move) got no copy where this one had one. With this
 * one's copy gone, it gets it now; its copies that are there stay as they are.
 */
async function placeOthersOfUid (tx: Db, gone: Appointment, ctx: { origin: Actor['origin']; actorId: number }): Promise<void> {
  const others = await tx.selectFrom('appointments').selectAll().where('org_id', '=', gone.org_id).where('uid', '=', gone.uid).where('id', '!=', gone.id).execute()
  const participants = await participantsOfMany(tx, others.map(o => o.id))
  for (const other of others) {
    const ids = participants.get(other.id)
    if (ids !== undefined) await syncPlacements(tx, await snapshot(tx, other), await placementsFor(tx, other, ids), { ...ctx, op: 'update', onlyMissing: true })
  }
}
