import type { Db } from '../db/connect.ts'
import type { Appointment, Task } from '../db/schema.ts'
import { applyFields, buildObject, parseObject, type ItemFields, type When } from '../ical/index.ts'

/**
 * The CRM ⇄ iCalendar mapping. CRM fields become standard properties where
 * one exists; the rest travel as X-KALENDS-* so clients keep and return them.
 */
export type { ItemFields, When }

export const TASK_STATUS_TO_ICAL = { open: 'NEEDS-ACTION', in_progress: 'IN-PROCESS', review: 'IN-PROCESS', done: 'COMPLETED' } as const

export function renderItem (component: 'VEVENT' | 'VTODO', fields: ItemFields, existing?: string): string {
  return existing === undefined ? buildObject(component, fields) : applyFields(existing, fields)
}

export function spanOf (ical: string): { firstStart: Date | null; lastEnd: Date | null } {
  const { index } = parseObject(ical)
  return { firstStart: index.firstStart, lastEnd: index.lastEnd }
}

type Timing = Pick<Appointment, 'all_day' | 'starts_at' | 'ends_at' | 'start_date' | 'end_date' | 'timezone'>

function timing (a: Timing): { start: When | null; end: When | null } {
  if (a.all_day) {
    return {
      start: a.start_date === null ? null : { kind: 'date', date: a.start_date },
      end: a.end_date === null ? null : { kind: 'date', date: a.end_date }
    }
  }
  const at = (d: Date | null): When | null => d === null ? null : a.timezone === null || a.timezone === 'UTC' ? { kind: 'utc', utc: d } : { kind: 'zoned', utc: d, tzid: a.timezone }
  return { start: at(a.starts_at), end: at(a.ends_at) }
}

function baseEventFields (a: Omit<Appointment, 'id' | 'created_at' | 'updated_at' | 'version' | 'span_start' | 'span_end'>): ItemFields {
  return {
    summary: a.title,
    description: a.description,
    location: a.location,
    ...timing(a),
    rrule: a.rrule,
    exdates: a.exdates,
    status: a.status.toUpperCase(),
    classification: a.private ? 'PRIVATE' : 'PUBLIC',
    transparency: a.busy ? 'OPAQUE' : 'TRANSPARENT',
    x: {}
  }
}

/** The UTC span of all instances of an appointment, the same way CalDAV indexes it. */
export function spanOfFields (a: Parameters<typeof baseEventFields>[0]): { firstStart: Date | null; lastEnd: Date | null } {
  return spanOf(buildObject('VEVENT', baseEventFields(a)))
}

async function names (tx: Db, caseId: number | null, typeId: number | null) {
  const c = caseId === null ? undefined : await tx.selectFrom('cases').select('title').where('id', '=', caseId).executeTakeFirst()
  const t = typeId === null ? undefined : await tx.selectFrom('item_types').select('name').where('id', '=', typeId).executeTakeFirst()
  return { caseTitle: c?.title ?? null, typeName: t?.name ?? null }
}

export async function appointmentFields (tx: Db, a: Appointment): Promise<ItemFields> {
  const { caseTitle, typeName } = await names(tx, a.case_id, a.type_id)
  const f = baseEventFields(a)
  f.categories = typeName === null ? [] : [typeName]
  f.x = { 'X-KALENDS-ID': `appointment:${a.id}`, 'X-KALENDS-CASE': caseTitle, 'X-KALENDS-TYPE': typeName }
  return f
}

export async function taskFields (tx: Db, t: Task): Promise<ItemFields> {
  const { caseTitle, typeName } = await names(tx, t.case_id, t.type_id)
  const utc = (d: Date | null): When | null => d === null ? null : { kind: 'utc', utc: d }
  return {
    summary: t.title,
    description: t.description,
    start: utc(t.planned_start),
    due: utc(t.due_at ?? t.planned_end),
    status: TASK_STATUS_TO_ICAL[t.status],
    completed: t.status === 'done' ? (t.actual_end ?? t.updated_at) : null,
    percentComplete: t.status === 'done' ? 100 : null,
    categories: typeName === null ? [] : [typeName],
    x: {
      'X-KALENDS-ID': `task:${t.id}`,
      'X-KALENDS-STATUS': t.status,
      'X-KALENDS-CASE': caseTitle,
      'X-KALENDS-TYPE': typeName,
      'X-KALENDS-PLANNED-END': t.planned_end?.toISOString() ?? null,
      'X-KALENDS-ACTUAL-START': t.actual_start?.toISOString() ?? null
    }
  }
}
