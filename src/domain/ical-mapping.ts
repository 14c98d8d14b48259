import type { Db } from '../db/connect.ts'
import type { Appointment, Task } from '../db/schema.ts'
import { applyFields, buildObject, type Fields } from '../ical/patch.ts'
import { parseObject } from '../ical/parse.ts'

/**
 * The CRM ⇄ iCalendar mapping. CRM fields become standard properties where
 * one exists; the rest travel as X-KALENDS-* so clients keep and return them.
 */
export type ItemFields = Fields

export const TASK_STATUS_TO_ICAL = { open: 'NEEDS-ACTION', in_progress: 'IN-PROCESS', review: 'IN-PROCESS', done: 'COMPLETED' } as const

export function renderItem (component: 'VEVENT' | 'VTODO', uid: string, fields: ItemFields, existing?: string): string {
  return existing === undefined ? buildObject({ ...fields, uid, type: component }) : applyFields(existing, fields)
}

export function spanOf (ical: string): { firstStart: Date | null; lastEnd: Date | null } {
  const { index } = parseObject(ical)
  return { firstStart: index.firstStart, lastEnd: index.lastEnd }
}

function baseEventFields (a: Appointment): ItemFields {
  return {
    summary: a.title,
    description: a.description === '' ? null : a.description,
    location: a.location === '' ? null : a.location,
    allDay: a.all_day,
    start: (a.all_day ? a.start_date : a.starts_at) ?? undefined,
    end: a.all_day ? a.end_date : a.ends_at,
    timezone: a.all_day || a.timezone === 'UTC' ? null : a.timezone,
    rrule: a.rrule,
    exdates: a.exdates.map(d => d.includes('T') ? new Date(d) : d),
    status: a.status.toUpperCase(),
    classification: a.private ? 'PRIVATE' : 'PUBLIC',
    transparency: a.busy ? 'OPAQUE' : 'TRANSPARENT',
    x: {}
  }
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
  return {
    summary: t.title,
    description: t.description === '' ? null : t.description,
    start: t.planned_start,
    due: t.due_at ?? t.planned_end,
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

// ---------------------------------------------------------------------------
// Inbound: what a client's calendar object means for the CRM (CalDAV PUT).

type Index = ReturnType<typeof parseObject>['index']
type IndexTime = NonNullable<Index['start']>

/** ISO instant of a parsed time; dates and floating times are read in `zone` (the user's). */
function isoOf (t: IndexTime, zone: string): string {
  if (t.kind === 'utc' || t.kind === 'zoned') return t.utc.toISOString()
  const local = t.kind === 'date' ? `${t.date}T00:00:00` : t.local
  return wallToUtc(local, zone).toISOString()
}

/** A wall-clock time ("2026-03-29T09:00:00") in an IANA zone, as an instant. */
export function wallToUtc (local: string, zone: string): Date {
  const wall = Date.parse(`${local.slice(0, 19)}Z`)
  const offsetAt = (utc: number) => {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(utc))
    const get = (type: string) => Number(parts.find(p => p.type === type)?.value)
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(utc / 1000) * 1000
  }
  const guess = wall - offsetAt(wall)
  return new Date(wall - offsetAt(guess))
}

const zoneOk = (tz: string) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true } catch { return false } }

function recurrenceIdToIso (rid: string, zone: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(rid)
  if (m === null) return rid
  const date = `${m[1]}-${m[2]}-${m[3]}`
  if (m[4] === undefined) return date
  const local = `${date}T${m[4]}:${m[5]}:${m[6]}`
  return m[7] === 'Z' ? new Date(`${local}Z`).toISOString() : wallToUtc(local, zone).toISOString()
}

/** Appointment fields a VEVENT carries; `zone` reads floating times (the user's zone). */
export function appointmentInputFromIcal (index: Index, zone: string) {
  const start = index.start
  if (start === null) throw new Error('VEVENT without DTSTART')
  const end = index.end ?? start
  const allDay = start.kind === 'date'
  const timezone = start.kind === 'zoned' && zoneOk(start.tzid) ? start.tzid : start.kind === 'floating' || start.kind === 'date' ? zone : 'UTC'
  const status = index.status === 'TENTATIVE' ? 'tentative' as const : index.status === 'CANCELLED' ? 'cancelled' as const : 'confirmed' as const
  return {
    title: index.summary !== null && index.summary.trim() !== '' ? index.summary : 'Untitled',
    description: index.description ?? '',
    location: index.location ?? '',
    allDay,
    start: allDay ? (start as { date: string }).date : isoOf(start, zone),
    end: allDay ? (end.kind === 'date' ? end.date : (start as { date: string }).date) : isoOf(end, zone),
    timezone: allDay ? null : timezone,
    rrule: index.rrule,
    exdates: index.exdates.map(d => recurrenceIdToIso(d, zone)),
    status,
    private: index.classification !== 'PUBLIC',
    busy: index.transparency !== 'TRANSPARENT'
  }
}

/** Task fields a VTODO carries. STATUS maps to the CRM's status; COMPLETED is the actual end. */
export function taskInputFromIcal (index: Index, zone: string) {
  const status = index.status === 'COMPLETED' ? 'done' as const : index.status === 'IN-PROCESS' ? 'in_progress' as const : index.status === 'NEEDS-ACTION' || index.status === null ? 'open' as const : undefined
  return {
    title: index.summary !== null && index.summary.trim() !== '' ? index.summary : 'Untitled',
    description: index.description ?? '',
    due: index.due === null ? null : isoOf(index.due, zone),
    plannedStart: index.start === null ? null : isoOf(index.start, zone),
    ...(status === undefined ? {} : { status }),
    ...(status === 'done' && index.completed !== null ? { actualEnd: index.completed.toISOString() } : {})
  }
}
