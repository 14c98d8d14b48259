import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import type { Appointment, Task } from '../db/schema.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import { dateIn } from './items.ts'
import { syncDb } from './tables.ts'
import type { SyncWorld } from './testing.ts'

/**
 * Both sides of a user's sync as tests compare them, read independently of
 * the engine's own mapping: the CRM's rows, and what the emulator stores
 * (no API call, so nothing is counted).
 */
export type Side = { title: string; allDay?: boolean; start?: string; end?: string; rrule?: string | null; exdates?: string[]; due?: string | null; done?: boolean }

const exdate = (x: string) => x.includes('T') ? new Date(x).toISOString() : x

/** EXDATE lines as Google keeps them: UTC, dates, or wall times with TZID. */
function googleExdates (lines: string[]): string[] {
  const out: string[] = []
  for (const line of lines) {
    const m = /^EXDATE(;[^:]*)?:(.*)$/i.exec(line)
    if (m === null) continue
    const tzid = /TZID=([^;:]+)/.exec(m[1] ?? '')?.[1]
    for (const v of (m[2] ?? '').split(',')) {
      const d = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(v.trim())
      if (d === null) continue
      if (d[4] === undefined) { out.push(`${d[1]}-${d[2]}-${d[3]}`); continue }
      const local = `${d[1]}-${d[2]}-${d[3]}T${d[4]}:${d[5]}:${d[6]}`
      out.push(d[7] === 'Z' || tzid === undefined ? new Date(`${local}Z`).toISOString() : wallToUtc(local, tzid).toISOString())
    }
  }
  return out
}

export const sides = {
  appointment: (a: Appointment): Side => ({
    title: a.title,
    allDay: a.all_day,
    start: a.all_day ? String(a.start_date) : (a.starts_at as Date).toISOString(),
    end: a.all_day ? String(a.end_date) : (a.ends_at as Date).toISOString(),
    rrule: a.rrule,
    exdates: a.rrule === null ? [] : [...new Set(a.exdates.map(exdate))].sort()
  }),
  /** a master or single event; cancelled instances of a series count as its EXDATEs */
  event (ev: calendar_v3.Schema$Event, cancelled: calendar_v3.Schema$Event[]): Side {
    const allDay = ev.start?.date != null
    const rrule = (ev.recurrence ?? []).find(l => l.startsWith('RRULE:'))?.slice(6) ?? null
    const exceptions = cancelled.filter(c => c.recurringEventId === ev.id).map(c => c.originalStartTime?.date ?? new Date(c.originalStartTime?.dateTime ?? '').toISOString())
    return {
      title: ev.summary ?? '',
      allDay,
      start: allDay ? String(ev.start?.date) : new Date(ev.start?.dateTime ?? '').toISOString(),
      end: allDay ? String(ev.end?.date) : new Date(ev.end?.dateTime ?? '').toISOString(),
      rrule,
      exdates: rrule === null ? [] : [...new Set([...googleExdates(ev.recurrence ?? []), ...exceptions])].sort()
    }
  },
  task: (x: Task, zone: string): Side => ({ title: x.title, due: x.due_at === null ? null : dateIn(x.due_at, zone), done: x.status === 'done' }),
  googleTask: (x: tasks_v1.Schema$Task): Side => ({ title: x.title ?? '', due: x.due == null ? null : x.due.slice(0, 10), done: x.status === 'completed' })
}

export async function crmAppointments (w: SyncWorld, login: string): Promise<Appointment[]> {
  const id = w.s.users[login]!.id
  return w.s.k.db.selectFrom('appointments').selectAll()
    .where(eb => eb.or([eb('owner_id', '=', id), eb('id', 'in', eb.selectFrom('appointment_participants').select('appointment_id').where('user_id', '=', id))]))
    .orderBy('id').execute()
}

export async function crmTasks (w: SyncWorld, login: string): Promise<Task[]> {
  return w.s.k.db.selectFrom('tasks').selectAll().where('assignee_id', '=', w.s.users[login]!.id).orderBy('id').execute()
}

/** The user's primary calendar and default task list as the emulator stores them. */
export function googleSide (w: SyncWorld, login: string) {
  const dump = w.g.dump(w.email(login))
  const events = dump.calendars[w.email(login)] ?? []
  const tasks = Object.values(dump.taskLists)[0] ?? []
  return {
    masters: events.filter(e => e.status !== 'cancelled' && e.recurringEventId == null),
    cancelledInstances: events.filter(e => e.status === 'cancelled' && e.recurringEventId != null),
    tasks: tasks.filter(x => x.deleted !== true)
  }
}

export type Mismatch = { login: string; kind: string; id: number; crm: Side; google: Side }

/**
 * Each CRM item the user owns, takes part in or is assigned has exactly one
 * link to exactly one live Google item, holding the same data, and every
 * live Google item is the copy of exactly one CRM item: no duplicate, no
 * orphan, nothing lost on either side.
 */
export async function compareSides (w: SyncWorld, login: string, zone = 'Europe/Warsaw') {
  const conn = await w.connection(login)
  const links = await syncDb(w.s.k.db).selectFrom('sync_links').selectAll().where('connection_id', '=', conn.id).execute()
  const g = googleSide(w, login)
  const problems: string[] = []
  const mismatches: Mismatch[] = []
  let compared = 0
  const check = <C extends { id: number; title: string }, G extends { id?: string | null }>(kind: 'appointment' | 'task', crmRows: C[], remote: G[], a: (c: C) => Side, b: (r: G) => Side) => {
    const byRemote = new Map(remote.map(r => [r.id ?? '', r]))
    const linkOf = new Map<number, string[]>()
    for (const l of links) if (l.item_kind === kind && l.remote_id !== null) linkOf.set(Number(l.item_id), [...(linkOf.get(Number(l.item_id)) ?? []), l.remote_id])
    const used = new Map<string, number>()
    for (const c of crmRows) {
      const r = linkOf.get(c.id) ?? []
      if (r.length !== 1) { problems.push(`${kind} ${c.id} "${c.title}" has ${r.length} links`); continue }
      const remoteItem = byRemote.get(r[0]!)
      if (remoteItem === undefined) { problems.push(`${kind} ${c.id} "${c.title}" is linked to ${r[0]}, which is not live in Google`); continue }
      used.set(r[0]!, (used.get(r[0]!) ?? 0) + 1)
      const crm = a(c)
      const google = b(remoteItem)
      if (JSON.stringify(crm) !== JSON.stringify(google)) mismatches.push({ login, kind, id: c.id, crm, google })
      compared++
    }
    for (const r of remote) if (used.get(r.id ?? '') !== 1) problems.push(`Google ${kind} ${r.id} is the copy of ${used.get(r.id ?? '') ?? 0} CRM items: ${JSON.stringify(b(r))}`)
  }
  const appointments = await crmAppointments(w, login)
  const tasks = await crmTasks(w, login)
  check('appointment', appointments, g.masters, sides.appointment, ev => sides.event(ev, g.cancelledInstances))
  check('task', tasks, g.tasks, x => sides.task(x, zone), sides.googleTask)
  return { problems, mismatches, compared, appointments, tasks, google: g }
}
