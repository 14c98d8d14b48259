import type { Db } from '../db/connect.ts'
import type { SelectQueryBuilder } from 'kysely'
import type { Appointment, Database, Task, User } from '../db/schema.ts'
import { visibleCalendars } from './access.ts'
import { invalid } from './errors.ts'
import { participantsOfMany, type AppointmentView } from './appointments.ts'
import { instant } from './values.ts'

export type ListFilter = {
  from?: string
  to?: string
  calendarId?: number
  caseId?: number
  withoutCase?: boolean
  typeId?: number
  status?: string
  ownerId?: number
  cursor?: string
  limit?: number
}

/** The filters appointments and tasks have in common (both tables carry these columns). */
function sharedFilters (f: ListFilter) {
  return <Q extends SelectQueryBuilder<Database, 'appointments', Appointment> | SelectQueryBuilder<Database, 'tasks', Task>>(q: Q): Q => {
    let r = q as SelectQueryBuilder<Database, 'appointments', Appointment>
    if (f.calendarId !== undefined) r = r.where('calendar_id', '=', f.calendarId)
    if (f.caseId !== undefined) r = r.where('case_id', '=', f.caseId)
    if (f.withoutCase === true) r = r.where('case_id', 'is', null)
    if (f.typeId !== undefined) r = r.where('type_id', '=', f.typeId)
    if (f.status !== undefined) r = r.where('status', '=', f.status as never)
    return r as Q
  }
}

export type Page<T> = { items: T[]; nextCursor: string | null }

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function decode<T> (cursor: string, check: (v: unknown) => v is T): T {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (check(v)) return v
  } catch {}
  throw invalid('cursor', 'is not a cursor this server handed out')
}

function limitOf (limit: number | undefined): number {
  if (limit === undefined) return 100
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit', 'must be from 1 to 1000')
  return limit
}

/** Appointments the user may see: in visible calendars or where they take part; ordered by start. */
export async function listAppointments (db: Db, actor: User, f: ListFilter): Promise<Page<AppointmentView>> {
  const limit = limitOf(f.limit)
  const calendarIds = (await visibleCalendars(db, actor)).map(c => c.id)
  const from = f.from === undefined ? undefined : instant('from', f.from)
  const to = f.to === undefined ? undefined : instant('to', f.to)
  if (from !== undefined && to !== undefined && to <= from) throw invalid('to', 'must be after from')
  let q = db.selectFrom('appointments').selectAll().where('org_id', '=', actor.org_id)
    .where(eb => eb.or([
      ...(calendarIds.length > 0 ? [eb('calendar_id', 'in', calendarIds)] : []),
      eb('id', 'in', eb.selectFrom('appointment_participants').select('appointment_id').where('user_id', '=', actor.id))
    ]))
  if (to !== undefined) q = q.where('span_start', '<', to)
  if (from !== undefined) q = q.where(eb => eb.or([eb('span_end', 'is', null), eb('span_end', '>', from)]))
  q = q.$call(sharedFilters(f))
  if (f.ownerId !== undefined) q = q.where('owner_id', '=', f.ownerId)
  if (f.cursor !== undefined) {
    const [start, id] = decode(f.cursor, (v): v is [string, number] => Array.isArray(v) && typeof v[0] === 'string' && Number.isInteger(v[1]))
    q = q.where(eb => eb.or([eb('span_start', '>', new Date(start)), eb.and([eb('span_start', '=', new Date(start)), eb('id', '>', id)])]))
  }
  const rows = await q.orderBy('span_start').orderBy('id').limit(limit + 1).execute()
  const page = rows.slice(0, limit)
  const participants = await participantsOfMany(db, page.map(a => a.id))
  const items = page.map(a => ({ ...a, participant_ids: participants.get(a.id) ?? [] }))
  const last = page.at(-1)
  return { items, nextCursor: rows.length > limit && last !== undefined ? encode([last.span_start!.toISOString(), last.id]) : null }
}

/** Tasks the user may see: in visible lists, assigned to them or created by them; ordered by id. */
export async function listTasks (db: Db, actor: User, f: ListFilter & { assigneeId?: number; createdBy?: number }) {
  const limit = limitOf(f.limit)
  const calendarIds = (await visibleCalendars(db, actor)).map(c => c.id)
  let q = db.selectFrom('tasks').selectAll().where('org_id', '=', actor.org_id)
    .where(eb => eb.or([
      ...(calendarIds.length > 0 ? [eb('calendar_id', 'in', calendarIds)] : []),
      eb('assignee_id', '=', actor.id), eb('created_by', '=', actor.id)
    ]))
  const from = f.from === undefined ? undefined : instant('from', f.from)
  const to = f.to === undefined ? undefined : instant('to', f.to)
  if (from !== undefined) q = q.where(eb => eb(eb.fn.coalesce('due_at', 'planned_end', 'planned_start'), '>=', from))
  if (to !== undefined) q = q.where(eb => eb(eb.fn.coalesce('planned_start', 'due_at', 'planned_end'), '<', to))
  q = q.$call(sharedFilters(f))
  if (f.assigneeId !== undefined) q = q.where('assignee_id', '=', f.assigneeId)
  if (f.createdBy !== undefined) q = q.where('created_by', '=', f.createdBy)
  if (f.ownerId !== undefined) q = q.where('assignee_id', '=', f.ownerId)
  if (f.cursor !== undefined) q = q.where('id', '>', decode(f.cursor, (v): v is number => Number.isInteger(v)))
  const rows = await q.orderBy('id').limit(limit + 1).execute()
  const items = rows.slice(0, limit)
  return { items, nextCursor: rows.length > limit ? encode(items.at(-1)!.id) : null }
}
