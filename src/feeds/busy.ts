import { createHmac } from 'node:crypto'
import { canonicalTzid } from '../ical/index.ts'
import { formatUtc, zonedWallToUtc, type Timezone } from '../ical/time.ts'

/**
 * What a busy-only rendering keeps of a component: when it is, how often,
 * and whether it blocks time, and nothing a client could write text into.
 * Each kept property is written anew from its checked value: only the
 * VALUE, RANGE and TZID parameters survive, a TZID only as the IANA name it
 * stands for, and a time in a zone of the client's own making (its TZID and
 * VTIMEZONE are free text) is converted to UTC with that zone's rules.
 */

export const BUSY_KEEP = new Set(['DTSTART', 'DTEND', 'DURATION', 'DUE', 'RRULE', 'RDATE', 'EXDATE', 'EXRULE', 'RECURRENCE-ID', 'SEQUENCE', 'STATUS', 'TRANSP', 'DTSTAMP'])

/**
 * A UID that does not give the original away and cannot be tested against a
 * guess (a plain SHA-256 could): HMAC-SHA256 under a key derived from the
 * server's secret key, the same for every instance of a series.
 */
export function busyUid (uid: string, key: Buffer): string {
  return `${createHmac('sha256', key).update(uid).digest('hex').slice(0, 32)}@busy.kalends`
}

const TIMES = new Set(['DTSTART', 'DTEND', 'DUE', 'RECURRENCE-ID', 'RDATE', 'EXDATE'])
const DATE = /^\d{8}$/
const DATE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/
const DURATION = /^[+-]?P(?:\d+W|(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$/
const STATUS = new Set(['TENTATIVE', 'CONFIRMED', 'CANCELLED', 'NEEDS-ACTION', 'COMPLETED', 'IN-PROCESS'])
// RFC 5545 §3.3.10 and RFC 7529 (RSCALE, SKIP)
const RECUR_PARTS = new Set(['FREQ', 'UNTIL', 'COUNT', 'INTERVAL', 'BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYDAY', 'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYMONTH', 'BYSETPOS', 'WKST', 'RSCALE', 'SKIP'])
const PARAM = /;([A-Za-z0-9-]+)=("[^"]*"|[^;]*)/g

function paramsOf (text: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const m of text.matchAll(PARAM)) params.set(m[1]!.toUpperCase(), m[2]!.startsWith('"') ? m[2]!.slice(1, -1) : m[2]!)
  return params
}

/**
 * A kept property's content line as busy-only writes it, or null to leave
 * it out (a value that is not what its type allows). `params` is the text
 * between the name and the ':', `zoneOf` the body's own zone for a TZID.
 */
export function busyLine (name: string, params: string, value: string, zoneOf: (tzid: string) => Timezone | null, tzids: Set<string>): string | null {
  switch (name) {
    case 'DTSTAMP': return DATE_TIME.test(value) && value.endsWith('Z') ? `DTSTAMP:${value}` : null
    case 'SEQUENCE': return /^\d{1,9}$/.test(value) ? `SEQUENCE:${value}` : null
    case 'STATUS': return STATUS.has(value.toUpperCase()) ? `STATUS:${value.toUpperCase()}` : null
    case 'TRANSP': return /^(OPAQUE|TRANSPARENT)$/i.test(value) ? `TRANSP:${value.toUpperCase()}` : null
    case 'DURATION': return DURATION.test(value) ? `DURATION:${value}` : null
    case 'RRULE':
    case 'EXRULE': {
      const parts = value.split(';').filter(part => {
        const [key = '', v = ''] = part.split('=', 2)
        return RECUR_PARTS.has(key.toUpperCase()) && (key.toUpperCase() === 'UNTIL' ? DATE.test(v) || DATE_TIME.test(v) : /^[A-Za-z0-9,+-]+$/.test(v))
      })
      return parts.some(p => /^FREQ=/i.test(p)) ? `${name}:${parts.join(';')}` : null
    }
  }
  return TIMES.has(name) ? timeLine(name, paramsOf(params), value, zoneOf, tzids) : null
}

function timeLine (name: string, params: Map<string, string>, value: string, zoneOf: (tzid: string) => Timezone | null, tzids: Set<string>): string | null {
  const type = (params.get('VALUE') ?? 'DATE-TIME').toUpperCase()
  if (type !== 'DATE-TIME' && type !== 'DATE' && !(type === 'PERIOD' && name === 'RDATE')) return null
  const kept: string[] = type === 'DATE-TIME' ? [] : [`VALUE=${type}`]
  if (name === 'RECURRENCE-ID' && params.get('RANGE')?.toUpperCase() === 'THISANDFUTURE') kept.push('RANGE=THISANDFUTURE')
  const tzid = params.get('TZID')
  // an IANA name (or one that stands for one: Outlook's, vendor-prefixed) is written as that name;
  // a zone of the client's own making becomes UTC by its own rules, or floating if it has none
  let toUtc: ((wall: number) => number) | null = null
  if (tzid !== undefined && type !== 'DATE') {
    const canonical = canonicalTzid(tzid)
    if (canonical === 'UTC') toUtc = wall => wall
    else if (canonical !== null) {
      kept.push(`TZID=${canonical}`)
      tzids.add(canonical)
    } else {
      const zone = zoneOf(tzid)
      if (zone !== null) toUtc = wall => zonedWallToUtc(zone, wall)
    }
  }
  const time = (v: string): string | null => {
    if (DATE.test(v)) return type === 'DATE' ? v : null
    const m = DATE_TIME.exec(v)
    if (m === null || type === 'DATE') return null
    if (m[7] === 'Z' || toUtc === null) return v
    return formatUtc(toUtc(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)))
  }
  const values: string[] = []
  for (const v of value.split(',')) {
    const [start = '', end] = v.split('/', 2)
    const from = time(start)
    if (from === null) return null
    if (end === undefined) { values.push(from); continue }
    const to = DURATION.test(end) ? end : time(end)
    if (to === null || type !== 'PERIOD') return null
    values.push(`${from}/${to}`)
  }
  return `${name}${kept.map(p => `;${p}`).join('')}:${values.join(',')}`
}
