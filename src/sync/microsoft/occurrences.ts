import { wallToUtc } from '../../domain/ical-mapping.ts'
import { addDays, DAYS, type DayOfWeek, type MsRecurrence, type SeriesStart, wallStart } from './recurrence.ts'

/**
 * The occurrences of a Microsoft recurrence, computed the way Exchange
 * does (office-developer-exchange-docs: exchange-web-services/recurrence-patterns-and-ews.md):
 * the first occurrence is the first day at or after the range's start date
 * that the pattern gives; an absolute day past the month's end falls on
 * its last day (web-service-reference/dayofmonth.md); "last" of a relative
 * pattern is the last such day of the month. Wall-clock times in the
 * series' zone, so 09:00 stays 09:00 across daylight-saving changes.
 */

const weekday = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay()
const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate()
const ymd = (y: number, m: number, d: number): string => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`

/** The index-th day of the month among `days` (1-4, or -1 for the last). */
function relativeDay (y: number, m: number, days: DayOfWeek[], index: string): string | null {
  const matching: string[] = []
  for (let d = 1; d <= daysIn(y, m); d++) {
    const date = ymd(y, m, d)
    if (days.includes(DAYS[weekday(date)] as DayOfWeek)) matching.push(date)
  }
  const at = index === 'last' ? matching.length - 1 : ['first', 'second', 'third', 'fourth'].indexOf(index)
  return matching[at] ?? null
}

/** The candidate days of the k-th period (day, week, month or year) of the pattern. */
function period (r: MsRecurrence, k: number): string[] {
  const p = r.pattern
  const start = r.range.startDate
  const [y, m] = start.split('-').map(Number) as [number, number]
  const monthAt = (months: number) => ({ y: y + Math.floor((m - 1 + months) / 12), m: ((m - 1 + months) % 12) + 1 })
  switch (p.type) {
    case 'daily': return [addDays(start, k * p.interval)]
    case 'weekly': {
      const weekStart = addDays(start, -((weekday(start) - DAYS.indexOf(p.firstDayOfWeek) + 7) % 7) + 7 * p.interval * k)
      return [0, 1, 2, 3, 4, 5, 6].map(i => addDays(weekStart, i)).filter(d => p.daysOfWeek.includes(DAYS[weekday(d)] as DayOfWeek))
    }
    case 'absoluteMonthly': {
      const at = monthAt(k * p.interval)
      return [ymd(at.y, at.m, Math.min(p.dayOfMonth, daysIn(at.y, at.m)))]
    }
    case 'relativeMonthly': {
      const at = monthAt(k * p.interval)
      return [relativeDay(at.y, at.m, p.daysOfWeek, p.index)].filter(d => d !== null)
    }
    case 'absoluteYearly': {
      const year = y + k * p.interval
      return [ymd(year, p.month, Math.min(p.dayOfMonth, daysIn(year, p.month)))]
    }
    case 'relativeYearly':
      return [relativeDay(y + k * p.interval, p.month, p.daysOfWeek, p.index)].filter(d => d !== null)
  }
}

const MAX_PERIODS = 100_000

/** The occurrence dates in order, up to `max` of them and not after `through` (a date). */
export function occurrenceDates (r: MsRecurrence, opts: { max?: number; through?: string } = {}): string[] {
  const out: string[] = []
  const max = Math.min(opts.max ?? 10_000, r.range.type === 'numbered' ? r.range.numberOfOccurrences : Infinity)
  const last = [opts.through, r.range.type === 'endDate' ? r.range.endDate : undefined].filter(d => d !== undefined).sort()[0]
  for (let k = 0; k < MAX_PERIODS && out.length < max; k++) {
    for (const date of period(r, k)) {
      if (date < r.range.startDate) continue
      if (last !== undefined && date > last) return out
      out.push(date)
      if (out.length >= max) return out
    }
  }
  return out
}

export const firstOccurrence = (r: MsRecurrence): string | null => occurrenceDates(r, { max: 1 })[0] ?? null

/** Occurrence starts of a series: ISO instants (wall time of the first start, in its zone), or dates when all-day. */
export function occurrences (r: MsRecurrence, s: SeriesStart, opts: { max?: number; through?: string } = {}): string[] {
  const dates = occurrenceDates(r, opts)
  if (s.allDay) return dates
  const { time } = wallStart(s)
  return dates.map(d => wallToUtc(`${d}T${time}`, s.timezone ?? 'UTC').toISOString())
}

/**
 * The 1-based position of an occurrence in the series, as EWS's
 * OccurrenceItemId InstanceIndex counts (web-service-reference/occurrenceitemid.md),
 * or null when no occurrence starts then.
 */
export function instanceIndex (r: MsRecurrence, s: SeriesStart, originalStart: string): number | null {
  const through = s.allDay ? originalStart.slice(0, 10) : addDays(new Date(originalStart).toISOString().slice(0, 10), 1)
  const all = occurrences(r, s, { through })
  const at = all.findIndex(o => s.allDay ? o === originalStart.slice(0, 10) : Date.parse(o) === Date.parse(originalStart))
  return at === -1 ? null : at + 1
}
