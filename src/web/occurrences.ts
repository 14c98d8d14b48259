import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { visibleCalendars, type VisibleCalendar } from '../domain/access.ts'
import type { AppointmentView } from '../domain/appointments.ts'
import { listAppointments } from '../domain/lists.ts'
import { instancesBetween, parseObject } from '../ical/index.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'

/**
 * The appointments a user sees between two instants, one entry per
 * occurrence: the stored calendar object of each appointment is expanded by
 * the iCalendar instances code (RRULE, EXDATE, overridden instances), so the
 * views show what calendar apps show. A private appointment in a calendar
 * shared read-only shows only as busy, as over CalDAV and in feeds.
 */
export type Occurrence = {
  appointment: AppointmentView
  calendar: VisibleCalendar | undefined
  start: Date
  end: Date
  allDay: boolean
  title: string
  hidden: boolean
  recurring: boolean
  /** the occurrence's original start (ISO instant, or a date when all-day): how the series names it */
  occurrence: string
}

/** An iCalendar RECURRENCE-ID value as the domain names an occurrence. */
function occurrenceKey (rid: string, zone: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(rid)
  if (m === null) return rid
  const date = `${m[1]}-${m[2]}-${m[3]}`
  if (m[4] === undefined) return date
  const time = `${m[4]}:${m[5]}:${m[6]}`
  return m[7] === 'Z' ? new Date(`${date}T${time}Z`).toISOString() : wallToUtc(`${date}T${time}`, zone).toISOString()
}

export async function occurrences (db: Db, user: User, from: Date, to: Date): Promise<Occurrence[]> {
  const calendars = new Map((await visibleCalendars(db, user)).map(c => [c.id, c]))
  const appointments: AppointmentView[] = []
  let cursor: string | undefined
  for (let i = 0; i < 10; i++) {
    const page = await listAppointments(db, user, { from: from.toISOString(), to: to.toISOString(), limit: 1000, cursor })
    appointments.push(...page.items)
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  if (appointments.length === 0) return []
  const bodies = await db.selectFrom('calendar_objects').select(['item_id', 'calendar_id', 'ical'])
    .where('item_kind', '=', 'appointment').where('item_id', 'in', appointments.map(a => a.id)).execute()
  const out: Occurrence[] = []
  for (const a of appointments) {
    const calendar = calendars.get(a.calendar_id)
    const hidden = a.private && a.owner_id !== user.id && !a.participant_ids.includes(user.id) && calendar?.access === 'read'
    const title = hidden ? 'Private' : a.title
    const mine = bodies.filter(b => b.item_id === a.id)
    const body = mine.find(b => b.calendar_id === a.calendar_id) ?? mine[0]
    const base = { appointment: a, calendar, title, hidden, recurring: a.rrule !== null }
    try {
      if (body === undefined) throw new Error('no body')
      const obj = parseObject(body.ical, { unknownTimezone: 'floating' })
      for (const i of instancesBetween(obj, from, to, { floatingTimezone: user.timezone, max: 500 })) {
        const own = i.override && !hidden ? i.component.getFirstPropertyValue('summary') : null
        out.push({ ...base, ...(typeof own === 'string' ? { title: own } : {}), start: i.start, end: i.end, allDay: i.allDay, occurrence: occurrenceKey(i.recurrenceId, user.timezone) })
      }
    } catch {
      // no readable body: the appointment's own fields, once
      const start = a.all_day ? new Date(`${a.start_date}T00:00:00Z`) : a.starts_at
      const end = a.all_day ? new Date(`${a.end_date}T00:00:00Z`) : a.ends_at
      if (start !== null && end !== null) out.push({ ...base, start, end, allDay: a.all_day, occurrence: a.all_day ? a.start_date! : start.toISOString() })
    }
  }
  return out.sort((x, y) => Number(y.allDay) - Number(x.allDay) || x.start.getTime() - y.start.getTime())
}

/** An appointment's page: one occurrence of a series opens as that occurrence. */
export const itemUrl = (o: Occurrence) => o.recurring ? `/appointments/${o.appointment.id}/occurrence?at=${encodeURIComponent(o.occurrence)}` : `/appointments/${o.appointment.id}/edit`
