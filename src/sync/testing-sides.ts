import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import type { Appointment, Task } from '../db/schema.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import { dateIn } from './items.ts'
import type { TestServer } from '../testing/harness.ts'
import { childrenOf, NS, textOf, type XmlElement } from './microsoft/ews-xml.ts'
import { toMsSeries } from './microsoft/series.ts'
import { syncDb, type Connection } from './tables.ts'
import type { EwsWorld } from './testing-ews.ts'
import type { GraphWorld } from './testing-graph.ts'
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

export async function crmAppointments (w: { s: TestServer }, login: string): Promise<Appointment[]> {
  const id = w.s.users[login]!.id
  return w.s.k.db.selectFrom('appointments').selectAll()
    .where(eb => eb.or([eb('owner_id', '=', id), eb('id', 'in', eb.selectFrom('appointment_participants').select('appointment_id').where('user_id', '=', id))]))
    .orderBy('id').execute()
}

export async function crmTasks (w: { s: TestServer }, login: string): Promise<Task[]> {
  return w.s.k.db.selectFrom('tasks').selectAll().where('assignee_id', '=', w.s.users[login]!.id).orderBy('id').execute()
}

/** A live item outside as compareSides reads it: its id and its data. */
export type RemoteSide = { id: string; side: Side }
/** The user's calendar and task list outside, read from the emulator's store (no API call, so nothing is counted). */
export type Snapshot = { appointments: RemoteSide[]; tasks: RemoteSide[] }

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

export function googleSnapshot (w: SyncWorld, login: string): Snapshot {
  const g = googleSide(w, login)
  return {
    appointments: g.masters.map(ev => ({ id: ev.id ?? '', side: sides.event(ev, g.cancelledInstances) })),
    tasks: g.tasks.map(x => ({ id: x.id ?? '', side: sides.googleTask(x) }))
  }
}

/**
 * For Microsoft: a series' EXDATEs that fall on one of its occurrences. RFC 5545 ignores the others
 * (left in the CRM when a series is moved), Microsoft cannot hold them, and an Exchange master may
 * still list an occurrence deleted before the move: either way the same occurrences.
 */
function onOccurrences (s: Side, zone: string): Side {
  if (s.rrule == null || s.start === undefined || s.exdates === undefined) return s
  const r = toMsSeries({ start: s.start, timezone: s.allDay === true ? null : zone, allDay: s.allDay === true, rrule: s.rrule, exdates: s.exdates, overrides: [] })
  return r.ok ? { ...s, exdates: r.series.deleted } : s
}

/**
 * A repeat rule by what it repeats (frequency, interval, count or end),
 * not by how it is spelt: Exchange names the weekday a weekly rule falls on
 * (BYDAY) where the CRM may not.
 */
export function ruleOf (rrule: string | null): string | null {
  if (rrule === null) return null
  const p = Object.fromEntries(rrule.split(';').map(kv => kv.split('=') as [string, string]))
  return [`FREQ=${p.FREQ}`, `INTERVAL=${p.INTERVAL ?? '1'}`, p.COUNT === undefined ? null : `COUNT=${p.COUNT}`, p.UNTIL === undefined ? null : `UNTIL=${p.UNTIL.slice(0, 8)}`].filter(x => x !== null).join(';')
}

/** An EWS Recurrence element (types.xsd RecurrenceType) in ruleOf's terms, read without the provider's mapping. */
function ewsRule (r: XmlElement | undefined): string | null {
  if (r === undefined) return null
  const [pattern, range] = childrenOf(r, NS.t)
  const freq = { DailyRecurrence: 'DAILY', WeeklyRecurrence: 'WEEKLY', AbsoluteMonthlyRecurrence: 'MONTHLY', RelativeMonthlyRecurrence: 'MONTHLY', AbsoluteYearlyRecurrence: 'YEARLY', RelativeYearlyRecurrence: 'YEARLY' }[pattern?.name ?? ''] ?? pattern?.name
  const count = textOf(range, NS.t, 'NumberOfOccurrences')
  const end = textOf(range, NS.t, 'EndDate')
  return [`FREQ=${freq}`, `INTERVAL=${textOf(pattern, NS.t, 'Interval') ?? '1'}`, count === null ? null : `COUNT=${count}`, end === null ? null : `UNTIL=${end.replace(/-/g, '').slice(0, 8)}`].filter(x => x !== null).join(';')
}

/** The user's Exchange calendar and tasks folder as the EWS emulator stores them. */
export function exchangeSnapshot (x: EwsWorld, login: string, zone = 'Europe/Warsaw'): Snapshot {
  const stored = (folder: string) => x.em.items(x.email(login), folder).map(id => x.em.store.items.get(id)!)
  const text = (it: { props: Map<string, XmlElement> }, name: string) => it.props.get(name)?.text
  return {
    appointments: stored('calendar').map(it => {
      const allDay = text(it, 'IsAllDayEvent') === 'true'
      const at = (v: string | undefined) => allDay ? dateIn(new Date(v ?? ''), zone) : new Date(v ?? '').toISOString()
      const rrule = ewsRule(it.props.get('Recurrence'))
      return {
        id: it.id,
        side: {
          title: text(it, 'Subject') ?? '',
          allDay,
          start: at(text(it, 'Start')),
          end: at(text(it, 'End')),
          rrule,
          exdates: rrule === null ? [] : [...new Set(it.deletedOccurrences.map(at))].sort()
        }
      }
    }),
    tasks: stored('tasks').map(it => {
      const due = text(it, 'DueDate')
      // Outlook's due date is the day's midnight in the user's zone, in UTC
      return { id: it.id, side: { title: text(it, 'Subject') ?? '', due: due === undefined ? null : new Date(Date.parse(due) + 12 * 3_600_000).toISOString().slice(0, 10), done: text(it, 'Status') === 'Completed' } }
    })
  }
}

/** A Graph patternedRecurrence (resources/patternedrecurrence.md) in ruleOf's terms, read without the provider's mapping. */
function graphRule (r: { pattern?: { type?: string; interval?: number }; range?: { type?: string; numberOfOccurrences?: number; endDate?: string } } | null | undefined): string | null {
  if (r == null) return null
  const type = r.pattern?.type ?? ''
  const freq = { daily: 'DAILY', weekly: 'WEEKLY', absoluteMonthly: 'MONTHLY', relativeMonthly: 'MONTHLY', absoluteYearly: 'YEARLY', relativeYearly: 'YEARLY' }[type] ?? type
  const count = r.range?.type === 'numbered' ? `COUNT=${r.range.numberOfOccurrences}` : null
  const end = r.range?.type === 'endDate' ? `UNTIL=${(r.range.endDate ?? '').replace(/-/g, '')}` : null
  return [`FREQ=${freq}`, `INTERVAL=${r.pattern?.interval ?? 1}`, count, end].filter(x => x !== null).join(';')
}

/**
 * The user's Outlook calendar (singles and series masters) and default To Do
 * list, read through Graph as the user (GraphWorld.api: not calls of a sync
 * run). Times come in UTC; an all-day event's midnights are its dates; a
 * cancelled occurrence is named by its date (event.md cancelledOccurrences),
 * at the series' time of day.
 */
export async function graphSnapshot (w: GraphWorld, login: string): Promise<Snapshot> {
  const utc = (v: { dateTime?: string } | undefined) => new Date(`${(v?.dateTime ?? '').replace(/Z$/, '')}Z`).toISOString()
  return {
    appointments: (await w.events(login)).map(ev => {
      const allDay = ev.isAllDay === true
      const rrule = graphRule(ev.recurrence)
      const start = allDay ? String(ev.start?.dateTime).slice(0, 10) : utc(ev.start)
      const cancelled = ((ev.cancelledOccurrences ?? []) as string[]).map(c => /(\d{4}-\d{2}-\d{2})$/.exec(c)?.[1] ?? c)
      return {
        id: String(ev.id),
        side: {
          title: ev.subject ?? '',
          allDay,
          start,
          end: allDay ? String(ev.end?.dateTime).slice(0, 10) : utc(ev.end),
          rrule,
          exdates: rrule === null ? [] : [...new Set(cancelled.map(d => allDay ? d : `${d}${start.slice(10)}`))].sort()
        }
      }
    }),
    tasks: (await w.todo(login)).map(x => ({ id: String(x.id), side: { title: x.title ?? '', due: x.dueDateTime == null ? null : String(x.dueDateTime.dateTime).slice(0, 10), done: x.status === 'completed' } }))
  }
}

export type Mismatch = { login: string; kind: string; id: number; crm: Side; remote: Side }

/**
 * Each CRM item the user owns, takes part in or is assigned has exactly one
 * link (of this connection) to exactly one live item outside, holding the
 * same data, and every live item outside is the copy of exactly one CRM
 * item: no duplicate, no orphan, nothing lost on either side.
 * `rules` compares repeat rules by ruleOf (for a provider that spells them its own way) and
 * EXDATEs by the occurrences they delete (onOccurrences).
 */
export async function compareWith (w: { s: TestServer }, conn: Connection, login: string, remote: Snapshot, opts: { zone?: string; rules?: boolean } = {}) {
  const zone = opts.zone ?? 'Europe/Warsaw'
  const links = await syncDb(w.s.k.db).selectFrom('sync_links').selectAll().where('connection_id', '=', conn.id).execute()
  const problems: string[] = []
  const mismatches: Mismatch[] = []
  let compared = 0
  const check = <C extends { id: number; title: string }>(kind: 'appointment' | 'task', crmRows: C[], items: RemoteSide[], a: (c: C) => Side) => {
    const byRemote = new Map(items.map(r => [r.id, r]))
    const linkOf = new Map<number, string[]>()
    for (const l of links) if (l.item_kind === kind && l.remote_id !== null) linkOf.set(Number(l.item_id), [...(linkOf.get(Number(l.item_id)) ?? []), l.remote_id])
    const used = new Map<string, number>()
    for (const c of crmRows) {
      const r = linkOf.get(c.id) ?? []
      if (r.length !== 1) { problems.push(`${kind} ${c.id} "${c.title}" has ${r.length} links`); continue }
      const remoteItem = byRemote.get(r[0]!)
      if (remoteItem === undefined) { problems.push(`${kind} ${c.id} "${c.title}" is linked to ${r[0]}, which is not live in ${conn.provider}`); continue }
      used.set(r[0]!, (used.get(r[0]!) ?? 0) + 1)
      const crm = a(c)
      if (JSON.stringify(crm) !== JSON.stringify(remoteItem.side)) mismatches.push({ login, kind, id: c.id, crm, remote: remoteItem.side })
      compared++
    }
    for (const r of items) if (used.get(r.id) !== 1) problems.push(`${conn.provider} ${kind} ${r.id} is the copy of ${used.get(r.id) ?? 0} CRM items: ${JSON.stringify(r.side)}`)
  }
  const appointments = await crmAppointments(w, login)
  const tasks = await crmTasks(w, login)
  const remoteAppointments = opts.rules === true ? remote.appointments.map(r => ({ ...r, side: onOccurrences(r.side, zone) })) : remote.appointments
  check('appointment', appointments, remoteAppointments, opts.rules === true ? c => onOccurrences({ ...sides.appointment(c), rrule: ruleOf(c.rrule) }, zone) : sides.appointment)
  check('task', tasks, remote.tasks, x => sides.task(x, zone))
  return { problems, mismatches, compared, appointments, tasks, remote }
}

/** compareWith for the user's Google connection. */
export async function compareSides (w: SyncWorld, login: string, zone = 'Europe/Warsaw') {
  return compareWith(w, await w.connection(login), login, googleSnapshot(w, login), { zone })
}
