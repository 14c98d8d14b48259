import { wallClock } from '../domain/values.ts'
import { escapeText, parseObject } from '../ical/index.ts'
import { joinLines } from '../ical/serialize.ts'
import { formatUtc, isoDate, toUtcMs, wallMs, type Time } from '../ical/time.ts'
import type { Component } from '../ical/parse.ts'

/**
 * One occurrence of a series edited on its own (moved, renamed): in the CRM a
 * RECURRENCE-ID component in the stored body, in Google an exception event
 * with originalStartTime. Times are ISO instants, or dates when all-day.
 */
export type Override = {
  recurrenceId: string
  title: string
  start: string
  end: string
  location: string
  description: string
}

const valueOf = (c: Component, name: string): unknown => (c as unknown as { getFirstPropertyValue (n: string): unknown }).getFirstPropertyValue(name)

function timeOf (t: Time): string {
  return t.isDate ? isoDate(wallMs(t)) : new Date(toUtcMs(t)).toISOString()
}

/** The single-occurrence edits of a stored iCalendar body. */
export function overridesOf (ical: string): Override[] {
  let parsed
  try {
    parsed = parseObject(ical)
  } catch {
    return []
  }
  const out: Override[] = []
  for (const c of parsed.overrides) {
    const rid = valueOf(c, 'recurrence-id') as Time | null
    const start = valueOf(c, 'dtstart') as Time | null
    if (rid === null || start === null) continue
    const end = (valueOf(c, 'dtend') as Time | null) ?? start
    out.push({
      recurrenceId: timeOf(rid),
      title: String(valueOf(c, 'summary') ?? ''),
      start: timeOf(start),
      end: timeOf(end),
      location: String(valueOf(c, 'location') ?? ''),
      description: String(valueOf(c, 'description') ?? '')
    })
  }
  return out.sort((a, b) => a.recurrenceId.localeCompare(b.recurrenceId))
}

/** A wall-clock stamp (YYYYMMDDTHHMMSS) of an instant in an IANA zone. */
function wallIn (iso: string, zone: string): string {
  const { date, time } = wallClock(new Date(iso), zone)
  return `${date}T${time}`.replace(/[-:]/g, '')
}

function prop (name: string, value: string, zone: string | null): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${name};VALUE=DATE:${value.replace(/-/g, '')}`
  if (zone === null || zone === 'UTC') return `${name}:${formatUtc(Date.parse(value))}`
  return `${name};TZID=${zone}:${wallIn(value, zone)}`
}

/**
 * The overrides as RECURRENCE-ID components of a VCALENDAR, for the domain
 * to put in place of the stored ones in every copy. RECURRENCE-ID is written
 * in the series' own zone, as RFC 5545 wants it to match DTSTART's form.
 */
export function overridesIcal (uid: string, zone: string | null, overrides: Override[]): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Kalends//sync//EN']
  const stamp = formatUtc(Date.now())
  for (const o of overrides) {
    lines.push('BEGIN:VEVENT', `UID:${uid}`, `DTSTAMP:${stamp}`, prop('RECURRENCE-ID', o.recurrenceId, zone), prop('DTSTART', o.start, zone), prop('DTEND', o.end, zone), `SUMMARY:${escapeText(o.title)}`)
    if (o.location !== '') lines.push(`LOCATION:${escapeText(o.location)}`)
    if (o.description !== '') lines.push(`DESCRIPTION:${escapeText(o.description)}`)
    lines.push('END:VEVENT')
  }
  lines.push('END:VCALENDAR')
  return joinLines(lines)
}
