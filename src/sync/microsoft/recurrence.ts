import { wallToUtc } from '../../domain/ical-mapping.ts'
import { wallClock } from '../../domain/values.ts'
import { formatUtc } from '../../ical/time.ts'
import { firstOccurrence } from './occurrences.ts'

/**
 * The recurrence both Microsoft APIs share, in Graph's shape
 * (patternedRecurrence: https://learn.microsoft.com/graph/api/resources/patternedrecurrence),
 * which EWS's Recurrence element carries too
 * (office-developer-exchange-docs: exchange-web-services/recurrence-patterns-and-ews.md),
 * and the mapping to and from an RFC 5545 RRULE. What Microsoft cannot say
 * comes back as NotExpressible with a reason: the provider keeps such a
 * series whole in the CRM and logs it, it never flattens it.
 */

export const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const
export type DayOfWeek = typeof DAYS[number]
export const INDEXES = ['first', 'second', 'third', 'fourth', 'last'] as const
export type WeekIndex = typeof INDEXES[number]

export type Pattern =
  | { type: 'daily'; interval: number }
  | { type: 'weekly'; interval: number; daysOfWeek: DayOfWeek[]; firstDayOfWeek: DayOfWeek }
  | { type: 'absoluteMonthly'; interval: number; dayOfMonth: number }
  | { type: 'relativeMonthly'; interval: number; daysOfWeek: DayOfWeek[]; index: WeekIndex }
  | { type: 'absoluteYearly'; interval: number; dayOfMonth: number; month: number }
  | { type: 'relativeYearly'; interval: number; daysOfWeek: DayOfWeek[]; index: WeekIndex; month: number }

/** Dates are wall dates (YYYY-MM-DD) in the series' zone; endDate is inclusive. */
export type Range =
  | { type: 'noEnd'; startDate: string }
  | { type: 'endDate'; startDate: string; endDate: string }
  | { type: 'numbered'; startDate: string; numberOfOccurrences: number }

export type MsRecurrence = { pattern: Pattern; range: Range }

/** The series' first start: an ISO instant with its IANA zone, or a date when all-day. */
export type SeriesStart = { start: string; timezone: string | null; allDay: boolean }

export type NotExpressible = { ok: false; reason: string }
export type Expressible = { ok: true; recurrence: MsRecurrence }

const RFC_DAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA']

/** The day sets a relative pattern may name: one day, or EWS's Day / Weekday / WeekendDay (web-service-reference/daysofweek-dayofweektype.md). */
export const DAY_SETS: Record<'Day' | 'Weekday' | 'WeekendDay', DayOfWeek[]> = {
  Day: [...DAYS],
  Weekday: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
  WeekendDay: ['sunday', 'saturday']
}

const sameSet = (a: DayOfWeek[], b: DayOfWeek[]) => a.length === b.length && a.every(d => b.includes(d))
export const isRelativeSet = (days: DayOfWeek[]): boolean => days.length === 1 || Object.values(DAY_SETS).some(s => sameSet(s, days))

/** The wall date and time of the series start in its zone. */
export function wallStart (s: SeriesStart): { date: string; time: string } {
  if (s.allDay) return { date: s.start.slice(0, 10), time: '00:00:00' }
  return wallClock(new Date(s.start), s.timezone ?? 'UTC')
}

const no = (reason: string): NotExpressible => ({ ok: false, reason })

function parseParts (rrule: string): Map<string, string> | string {
  const parts = new Map<string, string>()
  for (const p of rrule.replace(/^RRULE:/i, '').split(';')) {
    if (p === '') continue
    const eq = p.indexOf('=')
    if (eq < 1) return `"${p}" is not a NAME=VALUE part`
    parts.set(p.slice(0, eq).toUpperCase(), p.slice(eq + 1).toUpperCase())
  }
  return parts
}

const UNSUPPORTED: Record<string, string> = {
  BYSECOND: 'BYSECOND (several times a day)',
  BYMINUTE: 'BYMINUTE (several times a day)',
  BYHOUR: 'BYHOUR (several times a day)',
  BYWEEKNO: 'BYWEEKNO (weeks of the year)',
  BYYEARDAY: 'BYYEARDAY (days of the year)'
}
const KNOWN = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYSETPOS', 'WKST', ...Object.keys(UNSUPPORTED)])

const dayOf = (rfc: string): DayOfWeek | null => DAYS[RFC_DAYS.indexOf(rfc)] ?? null

/** BYDAY entries as ordinal (0 = none) and day. */
function byDay (v: string | undefined): { n: number; day: DayOfWeek }[] | string {
  if (v === undefined) return []
  const out: { n: number; day: DayOfWeek }[] = []
  for (const item of v.split(',')) {
    const m = /^([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$/.exec(item)
    const day = m === null ? null : dayOf(m[2] as string)
    if (m === null || day === null) return `BYDAY=${v} is not valid`
    out.push({ n: m[1] === undefined ? 0 : Number(m[1]), day })
  }
  return out
}

/** Microsoft's index of a BYDAY ordinal or BYSETPOS: 1-4 or -1 (there is no "fifth" or "second to last"). */
function indexOf (n: number): WeekIndex | null {
  if (n === -1) return 'last'
  return n >= 1 && n <= 4 ? INDEXES[n - 1] as WeekIndex : null
}

/**
 * EWS bounds (web-service-reference/dailyrecurrence.md: 1-999 days;
 * weeklyrecurrence.md, absolutemonthlyrecurrence.md, relativemonthlyrecurrence.md:
 * 1-99). EWS yearly patterns have no interval: every n years is written as
 * every 12n months, so n stops at 8.
 */
export const MAX_INTERVAL: Record<Pattern['type'], number> = { daily: 999, weekly: 99, absoluteMonthly: 99, relativeMonthly: 99, absoluteYearly: 8, relativeYearly: 8 }

const MIN_MONTH_LENGTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** The relative part (BYDAY with an ordinal, or a day set with BYSETPOS) of a monthly or yearly rule. */
function relative (parts: Map<string, string>, days: { n: number; day: DayOfWeek }[]): { daysOfWeek: DayOfWeek[]; index: WeekIndex } | string {
  const setpos = parts.get('BYSETPOS')
  if (setpos !== undefined) {
    if (setpos.includes(',')) return `BYSETPOS=${setpos} picks several occurrences per period`
    if (days.some(d => d.n !== 0)) return 'BYSETPOS with BYDAY ordinals'
    const index = indexOf(Number(setpos))
    if (index === null) return `BYSETPOS=${setpos}: Microsoft knows first to fourth and last only`
    const set = days.map(d => d.day)
    if (!isRelativeSet(set)) return `BYDAY=${parts.get('BYDAY') ?? ''} with BYSETPOS: Microsoft takes one day, every day, weekdays or weekend days only`
    return { daysOfWeek: set, index }
  }
  if (days.length !== 1) return `BYDAY=${parts.get('BYDAY') ?? ''}: several days in a ${parts.get('FREQ')?.toLowerCase()} rule without BYSETPOS`
  const only = days[0] as { n: number; day: DayOfWeek }
  if (only.n === 0) return `BYDAY=${parts.get('BYDAY') ?? ''} without an ordinal: every such day of the ${parts.get('FREQ') === 'YEARLY' ? 'year' : 'month'}`
  const index = indexOf(only.n)
  if (index === null) return `BYDAY=${parts.get('BYDAY') ?? ''}: Microsoft knows first to fourth and last only`
  return { daysOfWeek: [only.day], index }
}

function patternOf (parts: Map<string, string>, start: { date: string }): Pattern | string {
  const freq = parts.get('FREQ')
  const interval = Number(parts.get('INTERVAL') ?? '1')
  if (!Number.isInteger(interval) || interval < 1) return `INTERVAL=${parts.get('INTERVAL')} is not a positive number`
  const days = byDay(parts.get('BYDAY'))
  if (typeof days === 'string') return days
  const monthDays = parts.get('BYMONTHDAY')
  const months = parts.get('BYMONTH')
  const [y, m, d] = start.date.split('-').map(Number) as [number, number, number]
  void y
  const wkst = parts.get('WKST')
  const firstDayOfWeek = wkst === undefined ? 'monday' : dayOf(wkst)
  if (firstDayOfWeek === null) return `WKST=${wkst} is not a day`
  if (monthDays?.includes(',')) return `BYMONTHDAY=${monthDays}: several days of the month`
  if (months?.includes(',')) return `BYMONTH=${months}: several months`
  switch (freq) {
    case 'DAILY':
      if (monthDays !== undefined || months !== undefined || parts.has('BYSETPOS')) return 'a daily rule with BYMONTHDAY, BYMONTH or BYSETPOS'
      if (days.length === 0) return { type: 'daily', interval }
      if (interval !== 1 || days.some(x => x.n !== 0)) return 'a daily rule with BYDAY and an interval or ordinals'
      return { type: 'weekly', interval: 1, daysOfWeek: days.map(x => x.day), firstDayOfWeek }
    case 'WEEKLY':
      if (monthDays !== undefined || months !== undefined || parts.has('BYSETPOS')) return 'a weekly rule with BYMONTHDAY, BYMONTH or BYSETPOS'
      if (days.some(x => x.n !== 0)) return 'BYDAY ordinals in a weekly rule'
      return { type: 'weekly', interval, daysOfWeek: days.length === 0 ? [DAYS[new Date(`${start.date}T00:00:00Z`).getUTCDay()] as DayOfWeek] : days.map(x => x.day), firstDayOfWeek }
    case 'MONTHLY': {
      if (months !== undefined) return 'a monthly rule limited to some months (BYMONTH)'
      if (monthDays !== undefined) {
        if (days.length > 0 || parts.has('BYSETPOS')) return 'BYMONTHDAY together with BYDAY or BYSETPOS'
        const n = Number(monthDays)
        if (n === -1) return { type: 'relativeMonthly', interval, daysOfWeek: [...DAYS], index: 'last' }
        return absoluteDay(n, 28) ?? { type: 'absoluteMonthly', interval, dayOfMonth: n }
      }
      if (days.length === 0) return absoluteDay(d, 28) ?? { type: 'absoluteMonthly', interval, dayOfMonth: d }
      const rel = relative(parts, days)
      return typeof rel === 'string' ? rel : { type: 'relativeMonthly', interval, ...rel }
    }
    case 'YEARLY': {
      const month = months === undefined ? m : Number(months)
      if (!Number.isInteger(month) || month < 1 || month > 12) return `BYMONTH=${months} is not a month`
      if (days.length === 0 && !parts.has('BYSETPOS')) {
        const n = monthDays === undefined ? d : Number(monthDays)
        return absoluteDay(n, MIN_MONTH_LENGTH[month - 1] as number) ?? { type: 'absoluteYearly', interval, dayOfMonth: n, month }
      }
      if (monthDays !== undefined) return 'BYMONTHDAY together with BYDAY or BYSETPOS'
      if (months === undefined) return 'a yearly BYDAY rule without BYMONTH: days of the whole year'
      const rel = relative(parts, days)
      return typeof rel === 'string' ? rel : { type: 'relativeYearly', interval, ...rel, month }
    }
  }
  return `FREQ=${freq ?? '(none)'}: Microsoft repeats daily, weekly, monthly or yearly only`
}

/**
 * A day of the month both sides read alike: Microsoft moves a day the month
 * lacks to the month's last day (web-service-reference/dayofmonth.md),
 * RFC 5545 skips that month, so only days every such month has are safe.
 */
function absoluteDay (n: number, safe: number): string | null {
  if (!Number.isInteger(n) || n < 1 || n > 31) return `BYMONTHDAY=${n}: Microsoft counts days of the month from the start only (except the last day)`
  return n > safe ? `day ${n} of the month: Microsoft moves it to the last day of shorter months, RFC 5545 skips those months` : null
}

/** UNTIL as the inclusive last date in the series' zone: the date of UNTIL, or the day before when UNTIL falls before that day's occurrence. */
function untilDate (until: string, s: SeriesStart, time: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(until)
  if (m === null) return null
  const date = `${m[1]}-${m[2]}-${m[3]}`
  if (m[4] === undefined || s.allDay) return date
  const zone = s.timezone ?? 'UTC'
  const local = `${date}T${m[4]}:${m[5]}:${m[6]}`
  const instant = m[7] === 'Z' ? Date.parse(`${local}Z`) : wallToUtc(local, zone).getTime()
  const day = wallClock(new Date(instant), zone).date
  return wallToUtc(`${day}T${time}`, zone).getTime() <= instant ? day : addDays(day, -1)
}

export function addDays (date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

/** An RRULE (without RDATE/EXRULE: those are never expressible) as Microsoft's recurrence, or why it cannot be. */
export function fromRRule (rrule: string, s: SeriesStart, extra: { rdates?: string[]; exrule?: string | null } = {}): Expressible | NotExpressible {
  if ((extra.rdates?.length ?? 0) > 0) return no('RDATE: extra dates outside the rule')
  if (extra.exrule != null) return no('EXRULE: a rule of exceptions')
  const parts = parseParts(rrule)
  if (typeof parts === 'string') return no(parts)
  for (const name of parts.keys()) {
    if (UNSUPPORTED[name] !== undefined) return no(UNSUPPORTED[name])
    if (!KNOWN.has(name)) return no(`${name} is not an RRULE part Microsoft knows`)
  }
  const start = wallStart(s)
  const pattern = patternOf(parts, start)
  if (typeof pattern === 'string') return no(pattern)
  if (pattern.interval > MAX_INTERVAL[pattern.type]) return no(`INTERVAL=${pattern.interval}: too large for a ${pattern.type} pattern (EWS allows ${MAX_INTERVAL[pattern.type]})`)
  const count = parts.get('COUNT')
  const until = parts.get('UNTIL')
  let range: Range
  if (count !== undefined && until !== undefined) return no('COUNT and UNTIL together (RFC 5545 forbids it)')
  if (count !== undefined) {
    const n = Number(count)
    if (!Number.isInteger(n) || n < 1) return no(`COUNT=${count} is not a positive number`)
    range = { type: 'numbered', startDate: start.date, numberOfOccurrences: n }
  } else if (until !== undefined) {
    const endDate = untilDate(until, s, start.time)
    if (endDate === null) return no(`UNTIL=${until} is not a date or date-time`)
    range = { type: 'endDate', startDate: start.date, endDate }
  } else {
    range = { type: 'noEnd', startDate: start.date }
  }
  const recurrence = { pattern, range }
  // RFC 5545 counts DTSTART as the first instance even off the rule; Microsoft starts at the first day the pattern gives.
  if (firstOccurrence(recurrence) !== start.date) return no('the series starts on a day its rule does not produce')
  return { ok: true, recurrence }
}

const rfcDay = (d: DayOfWeek): string => RFC_DAYS[DAYS.indexOf(d)] as string
const ordinal = (i: WeekIndex): number => i === 'last' ? -1 : INDEXES.indexOf(i) + 1
/** Days in the RFC's usual Monday-first order, so a rule reads the way people write it. */
const mondayFirst = (days: DayOfWeek[]) => [...days].sort((a, b) => (DAYS.indexOf(a) + 6) % 7 - (DAYS.indexOf(b) + 6) % 7).map(rfcDay).join(',')

function relativeRule (days: DayOfWeek[], index: WeekIndex): string {
  if (days.length === 1) return `BYDAY=${ordinal(index)}${rfcDay(days[0] as DayOfWeek)}`
  if (sameSet(days, DAY_SETS.Day)) return `BYMONTHDAY=${ordinal(index)}`
  return `BYDAY=${mondayFirst(days)};BYSETPOS=${ordinal(index)}`
}

/**
 * Microsoft's recurrence as an RRULE for a series starting at `s`. What the
 * start already says (a weekly series on the start's weekday, a monthly one
 * on its day of the month, a yearly one on its date) is left out, as the CRM
 * writes such rules: a rule that named the day would keep it when the series
 * is later moved in the CRM, so the moved series would start on a day its
 * rule does not produce, which no Microsoft series can hold (issue 11).
 */
export function toRRule (r: MsRecurrence, s: SeriesStart): string {
  const p = r.pattern
  const parts: string[] = []
  const interval = p.interval > 1 ? [`INTERVAL=${p.interval}`] : []
  const date = wallStart(s).date
  const [, month, day] = date.split('-').map(Number) as [number, number, number]
  switch (p.type) {
    case 'daily': parts.push('FREQ=DAILY', ...interval); break
    case 'weekly': {
      const onStartDay = p.daysOfWeek.length === 1 && p.daysOfWeek[0] === DAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]
      parts.push('FREQ=WEEKLY', ...interval, ...(onStartDay ? [] : [`BYDAY=${mondayFirst(p.daysOfWeek)}`]))
      // the week start only moves occurrences when weeks are skipped
      if (p.interval > 1 && p.firstDayOfWeek !== 'monday') parts.push(`WKST=${rfcDay(p.firstDayOfWeek)}`)
      break
    }
    case 'absoluteMonthly': parts.push('FREQ=MONTHLY', ...interval, ...(p.dayOfMonth === day ? [] : [`BYMONTHDAY=${p.dayOfMonth}`])); break
    case 'relativeMonthly': parts.push('FREQ=MONTHLY', ...interval, relativeRule(p.daysOfWeek, p.index)); break
    case 'absoluteYearly': parts.push('FREQ=YEARLY', ...interval, ...(p.month === month && p.dayOfMonth === day ? [] : [`BYMONTH=${p.month}`, `BYMONTHDAY=${p.dayOfMonth}`])); break
    case 'relativeYearly': parts.push('FREQ=YEARLY', ...interval, `BYMONTH=${p.month}`, relativeRule(p.daysOfWeek, p.index)); break
  }
  if (r.range.type === 'numbered') parts.push(`COUNT=${r.range.numberOfOccurrences}`)
  if (r.range.type === 'endDate') {
    if (s.allDay) parts.push(`UNTIL=${r.range.endDate.replace(/-/g, '')}`)
    else parts.push(`UNTIL=${formatUtc(wallToUtc(`${r.range.endDate}T${wallStart(s).time}`, s.timezone ?? 'UTC').getTime())}`)
  }
  return parts.join(';')
}
