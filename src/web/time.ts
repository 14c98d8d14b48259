import { wallToUtc } from '../domain/ical-mapping.ts'
import { addDays, wallClock } from '../domain/values.ts'
import { firstDayOfWeek, intlLocale } from './locale.ts'

/** Wall-clock dates and times in a user's zone, for the calendar views and forms. */
export function localParts (d: Date, zone: string): { date: string; time: string } {
  const { date, time } = wallClock(d, zone)
  return { date, time: time.slice(0, 5) }
}

export const todayIn = (zone: string) => localParts(new Date(), zone).date

/** The instant a wall-clock date (and time) begins in the zone. */
export const instantOf = (date: string, time: string, zone: string) => wallToUtc(`${date}T${time.length === 5 ? `${time}:00` : time}`, zone)

/** The first day of the week of a date, as the request's language counts weeks (1 = Monday … 7 = Sunday). */
export function weekStartOf (date: string, firstDay = firstDayOfWeek()): string {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay() || 7
  return addDays(date, -((dow - firstDay + 7) % 7))
}

/** Monday of the ISO week of a date. */
export const mondayOf = (date: string) => weekStartOf(date, 1)

export function validDate (value: unknown): string | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null
  const d = new Date(`${value}T00:00:00Z`)
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value ? null : value
}

/** Dates and times in the words of the request's language (Intl). */
export function dayLabel (date: string, style: 'long' | 'short' = 'long'): string {
  return new Intl.DateTimeFormat(intlLocale(), { timeZone: 'UTC', weekday: style, day: 'numeric', month: style === 'long' ? 'long' : 'short' }).format(new Date(`${date}T00:00:00Z`))
}

export function monthLabel (date: string): string {
  return new Intl.DateTimeFormat(intlLocale(), { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(`${date}T00:00:00Z`))
}

export const weekdayShort = (date: string) => new Intl.DateTimeFormat(intlLocale(), { timeZone: 'UTC', weekday: 'short' }).format(new Date(`${date}T00:00:00Z`))

/** A time of day ("09:00") in the zone, written as the language writes it. */
export const timeLabel = (d: Date, zone: string) => new Intl.DateTimeFormat(intlLocale(), { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)

/** "2026-03-29T09:00" for a datetime-local input, in the zone; '' for none. */
export function localInput (d: Date | null, zone: string): string {
  if (d === null) return ''
  const p = localParts(d, zone)
  return `${p.date}T${p.time}`
}

/** A datetime-local value read in the zone, as an ISO instant; null when empty. */
export function fromLocalInput (value: unknown, zone: string): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/.exec(value.trim())
  if (m === null) return value // the domain names the field and refuses it
  return instantOf(m[1]!, m[2]!, zone).toISOString()
}

export { addDays }
