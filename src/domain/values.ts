import ICAL from 'ical.js'
import { invalid } from './errors.ts'

const zones = new Set(Intl.supportedValuesOf('timeZone'))
zones.add('UTC')

export function timeZone (field: string, value: unknown): string {
  if (typeof value !== 'string' || !(zones.has(value) || isZone(value))) throw invalid(field, `"${String(value)}" is not an IANA time zone such as Europe/Warsaw`)
  return value
}

function isZone (name: string): boolean {
  try { new Intl.DateTimeFormat('en', { timeZone: name }); return true } catch { return false }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/** An instant: ISO 8601 with a Z or an offset, so it cannot be misread in another zone. */
// Wide enough for any CRM date, narrow enough that every zone and recurrence engine handles it.
const YEARS = { min: 1900, max: 2500 }

export function instant (field: string, value: unknown): Date {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) throw invalid(field, 'must be a date-time with a time zone offset, e.g. 2026-03-29T09:00:00+02:00')
  dateOnly(field, value.slice(0, 10)) // Date would quietly turn 30 February into 2 March
  const [hh, mm, ss] = value.slice(11, 19).split(':').map(Number)
  if (hh! > 23 || mm! > 59 || (ss ?? 0) > 59) throw invalid(field, `"${value}" is not a valid time of day`)
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) throw invalid(field, `"${value}" is not a valid date-time`)
  return d
}

export function optionalInstant (field: string, value: unknown): Date | null {
  return value === null || value === undefined ? null : instant(field, value)
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

export function dateOnly (field: string, value: unknown): string {
  const m = typeof value === 'string' ? ISO_DATE.exec(value) : null
  if (m === null) throw invalid(field, 'must be a date like 2026-03-29')
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  if (d.toISOString().slice(0, 10) !== value) throw invalid(field, `"${String(value)}" is not a calendar date`)
  if (d.getUTCFullYear() < YEARS.min || d.getUTCFullYear() > YEARS.max) throw invalid(field, `must be between the years ${YEARS.min} and ${YEARS.max}`)
  return value as string
}

// C0 controls but tab, LF and CR: PostgreSQL cannot store NUL, iCalendar cannot carry the rest
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/

export function text (field: string, value: unknown, { max = 10_000, required = false, singleLine = false } = {}): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string')
  if (CONTROL.test(value) || (singleLine && /[\r\n]/.test(value))) throw invalid(field, `must not contain control characters${singleLine ? ' or line breaks' : ''}`)
  if (required && value.trim() === '') throw invalid(field, 'must not be empty')
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`)
  return value
}

const RRULE_PARTS = new Set(['FREQ', 'UNTIL', 'COUNT', 'INTERVAL', 'BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYDAY', 'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYMONTH', 'BYSETPOS', 'WKST'])

/** An RRULE value (without the "RRULE:" prefix), checked by ical.js, the engine that expands it. */
export function recurrenceRule (field: string, value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  if (typeof value !== 'string') throw invalid(field, 'must be an RRULE string such as FREQ=WEEKLY;BYDAY=MO')
  const rule = value.replace(/^RRULE:/i, '').trim().toUpperCase()
  const parts = rule.split(';').map(p => p.split('=')[0]!)
  const unknown = parts.find(p => !RRULE_PARTS.has(p))
  if (unknown !== undefined) throw invalid(field, `is not a valid RRULE: unknown part "${unknown}"`)
  if (!parts.includes('FREQ')) throw invalid(field, 'must contain FREQ, e.g. FREQ=WEEKLY;BYDAY=MO')
  if (parts.includes('UNTIL') && parts.includes('COUNT')) throw invalid(field, 'may have UNTIL or COUNT, not both')
  try {
    const recur = ICAL.Recur.fromString(rule)
    if (recur.interval < 1) throw new Error('INTERVAL must be at least 1')
  } catch (err) {
    throw invalid(field, `is not a valid RRULE: ${(err as Error).message}`)
  }
  return rule
}

export function addDays (date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** The wall clock of an instant in an IANA zone: its date (YYYY-MM-DD) and time (HH:MM:SS). */
export function wallClock (instant: Date, zone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(instant)
  const get = (type: string) => parts.find(p => p.type === type)?.value ?? '00'
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}:${get('second')}` }
}
