import { sql } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { ResolvedFeed } from '../domain/feeds.ts'
import { canonicalTzid, escapeText, foldLine, timezoneFromBlock, vtimezoneFor } from '../ical/index.ts'
import { formatUtc, type Timezone } from '../ical/time.ts'
import { BUSY_KEEP, busyLine, busyUid } from './busy.ts'

/**
 * Renders a feed from the stored calendar object bodies, line by line, so
 * whatever a client or the CRM wrote (X- properties, alarms, overridden
 * instances, the client's own VTIMEZONE for odd TZIDs) comes through as it
 * was, and only what the busy-only and private rules forbid is taken out.
 */

export type FeedOptions = {
  /** VTODOs too (`?tasks=1`) */
  tasks: boolean
  /** busy-only even on a full feed (`?busy=1`; a busy-only feed is always busy-only) */
  busy: boolean
  /** prefix each title with its calendar's name (favourites feeds; `?prefix=0` turns it off) */
  prefix: boolean
  /** window on the objects' UTC span (`?from=&to=`), null = open */
  from: Date | null
  to: Date | null
}

export type FeedSettings = {
  /** REFRESH-INTERVAL and X-PUBLISHED-TTL */
  refresh: string
  /** HMAC key of busy-only UIDs, derived from the server's secret key */
  busyUidKey: Buffer
}

export type ObjectRow = {
  calendar_id: number
  item_kind: 'appointment' | 'task'
  uid: string
  component: 'VEVENT' | 'VTODO'
  ical: string
  updated_at: Date
  owner_id: number | null
  private: boolean | null
  assignee_id: number | null
  created_by: number | null
}

export async function loadObjects (db: Db, calendarIds: number[], opts: Pick<FeedOptions, 'tasks' | 'from' | 'to'>): Promise<ObjectRow[]> {
  if (calendarIds.length === 0) return []
  let q = db.selectFrom('calendar_objects as o')
    .leftJoin('appointments as a', join => join.onRef('a.id', '=', 'o.item_id').on('o.item_kind', '=', 'appointment'))
    .select(['o.calendar_id', 'o.item_kind', 'o.uid', 'o.component', 'o.ical', 'o.updated_at', 'a.owner_id', 'a.private'])
    // the tasks join only when tasks are asked for: on 10,000 events it is a tenth of the load
    .$if(opts.tasks, qb => qb.leftJoin('tasks as t', join => join.onRef('t.id', '=', 'o.item_id').on('o.item_kind', '=', 'task')).select(['t.assignee_id', 't.created_by']))
    .where('o.calendar_id', 'in', calendarIds)
  if (!opts.tasks) q = q.where('o.component', '=', 'VEVENT')
  const { from, to } = opts
  if (to !== null) q = q.where(eb => eb.or([eb('o.first_start', 'is', null), eb('o.first_start', '<', to)]))
  if (from !== null) q = q.where(eb => eb.or([eb('o.last_end', 'is', null), eb('o.last_end', '>', from)]))
  const rows = await q.orderBy(sql`o.first_start asc nulls last`).orderBy('o.id').execute()
  return rows.map(r => ({ assignee_id: null, created_by: null, ...r }) as ObjectRow)
}

/** The name of a content line, upper-cased: what comes before the first ';' or ':'. */
function nameOf (line: string): string {
  let i = 0
  while (i < line.length) {
    const c = line.charCodeAt(i)
    if (c === 58 /* : */ || c === 59 /* ; */) break
    i++
  }
  return line.slice(0, i).toUpperCase()
}

/** Index of the ':' that starts the value, skipping quoted parameter values. */
function valueStart (line: string): number {
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c === 34) quoted = !quoted
    else if (c === 58 && !quoted) return i
  }
  return -1
}

const TZID_PARAM = /;TZID=("[^"]*"|[^;:]*)/i

function tzidOf (line: string): string | null {
  const m = TZID_PARAM.exec(line)
  if (m === null) return null
  const v = m[1]!
  return v.startsWith('"') ? v.slice(1, -1) : v
}

type Split = { components: string[][]; zones: Map<string, string[]> }

/** The top-level components of a stored body as unfolded lines, and its VTIMEZONEs by TZID. */
export function splitBody (body: string): Split {
  const lines = body.replace(/\r?\n[ \t]/g, '').split(/\r?\n/)
  const components: string[][] = []
  const zones = new Map<string, string[]>()
  let depth = 0
  let current: string[] | null = null
  let kind = ''
  for (const line of lines) {
    if (line === '') continue
    const head = line.length > 4 ? line.slice(0, 4).toUpperCase() : ''
    if (head === 'BEGI' && /^BEGIN:/i.test(line)) {
      depth++
      if (depth === 2) { current = [line]; kind = line.slice(6).trim().toUpperCase() } else if (depth > 2) current?.push(line)
      continue
    }
    if (head === 'END:') {
      if (depth === 2 && current !== null) {
        current.push(line)
        if (kind === 'VEVENT' || kind === 'VTODO') components.push(current)
        else if (kind === 'VTIMEZONE') {
          const tz = current.find(l => nameOf(l) === 'TZID')
          if (tz !== undefined) zones.set(tz.slice(valueStart(tz) + 1), current)
        }
        current = null
      } else if (depth > 2) current?.push(line)
      depth--
      continue
    }
    if (depth >= 2) current?.push(line)
  }
  return { components, zones }
}

/** CLASS other than PUBLIC (RFC 5545 §3.8.1.3: unknown values count as PRIVATE) on any component. */
export function isPrivateBody (components: string[][]): boolean {
  for (const comp of components) {
    let depth = 0
    for (const line of comp) {
      const name = nameOf(line)
      if (name === 'BEGIN') depth++
      else if (name === 'END') depth--
      else if (depth === 1 && name === 'CLASS' && line.slice(valueStart(line) + 1).trim().toUpperCase() !== 'PUBLIC') return true
    }
  }
  return false
}

type Mark = { summaryPrefix: string; category: string } | null
/** Busy-only: the UID key, and the zone a body's own VTIMEZONE defines for a TZID */
type Busy = { uidKey: Buffer; zoneOf (tzid: string): Timezone | null } | null

/**
 * One component for the feed. Full: as stored, with the calendar's mark when
 * asked. Busy: the times only (busy.ts), "Busy" for a title, no alarms or
 * other subcomponents, and a UID that does not give the original away.
 */
function transform (comp: string[], busy: Busy, mark: Mark, dtstamp: string, tzids: Set<string>, chunks: string[]): void {
  const out: string[] = []
  let depth = 0
  let hasStamp = false
  let hasSummary = false
  for (const line of comp) {
    const name = nameOf(line)
    if (name === 'BEGIN') {
      depth++
      if (depth === 1 || !busy) out.push(line)
      continue
    }
    if (name === 'END') {
      if (depth === 1) {
        if (!hasStamp) out.push(`DTSTAMP:${dtstamp}`)
        if (busy) out.push(`SUMMARY:${mark?.summaryPrefix ?? ''}Busy`)
        else if (!hasSummary && mark !== null) out.push(`SUMMARY:${mark.summaryPrefix.trimEnd()}`)
        if (mark !== null && !busy) out.push(`CATEGORIES:${mark.category}`)
        out.push(line)
      } else if (!busy) out.push(line)
      depth--
      continue
    }
    if (depth !== 1) {
      if (!busy) {
        out.push(line)
        const tz = tzidOf(line)
        if (tz !== null) tzids.add(tz)
      }
      continue
    }
    if (busy) {
      const at = valueStart(line)
      if (name === 'UID') out.push(`UID:${busyUid(line.slice(at + 1), busy.uidKey)}`)
      else if (BUSY_KEEP.has(name) && at > 0) {
        const kept = busyLine(name, line.slice(name.length, at), line.slice(at + 1), busy.zoneOf, tzids)
        if (kept !== null) out.push(kept)
        if (kept !== null && name === 'DTSTAMP') hasStamp = true
      }
      continue
    }
    if (name === 'DTSTAMP') hasStamp = true
    if (name === 'SUMMARY') {
      hasSummary = true
      if (mark !== null) {
        const at = valueStart(line) + 1
        out.push(line.slice(0, at) + mark.summaryPrefix + line.slice(at))
        continue
      }
    }
    out.push(line)
    const tz = tzidOf(line)
    if (tz !== null) tzids.add(tz)
  }
  for (const line of out) chunks.push(foldFast(line) + '\r\n')
}

const COMPONENT_START = /\r\nBEGIN:(VEVENT|VTODO)\r\n/g
const TZIDS = /;TZID=("[^"]*"|[^;:\r\n]*)/g
const BARE_BREAK = /(?:^|[^\r])\n|\r(?!\n)/

/**
 * The common case without a line-by-line pass: a full rendering of a body
 * already in canonical form (CRLF, folded at 75 octets, DTSTAMP present) is
 * copied component by component. False when the body needs the slow path.
 */
function copyComponents (body: string, tzids: Set<string>, chunks: string[]): boolean {
  if (BARE_BREAK.test(body)) return false
  const found: string[] = []
  COMPONENT_START.lastIndex = 0
  for (let m = COMPONENT_START.exec(body); m !== null; m = COMPONENT_START.exec(body)) {
    const start = m.index + 2
    const endMark = `\r\nEND:${m[1]}\r\n`
    const end = body.indexOf(endMark, start)
    if (end < 0) return false
    const seg = body.slice(start, end + endMark.length)
    if (!seg.includes('\r\nDTSTAMP')) return false
    for (let i = 0; i < seg.length;) {
      const next = seg.indexOf('\r\n', i)
      const len = next - i
      if (len > 75 || (len > 18 && Buffer.byteLength(seg.slice(i, next)) > 75)) return false
      i = next + 2
    }
    found.push(seg)
    COMPONENT_START.lastIndex = end
  }
  if (found.length === 0) return false
  for (const seg of found) {
    if (seg.includes('TZID=')) {
      const flat = seg.includes('\r\n ') || seg.includes('\r\n\t') ? seg.replace(/\r\n[ \t]/g, '') : seg
      for (const m of flat.matchAll(TZIDS)) tzids.add(m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : m[1]!)
    }
    chunks.push(seg)
  }
  return true
}

const CLASS_LINE = /\r\nCLASS([:;])([^\r]*)\r\n/g

/** CLASS other than PUBLIC anywhere in the body, without splitting it when it can be helped. */
function privateBody (body: string): boolean {
  if (!body.includes('CLASS')) return false
  CLASS_LINE.lastIndex = 0
  let plain = true
  for (const m of body.matchAll(CLASS_LINE)) {
    if (m[1] === ';') { plain = false; break }
    if (m[2]!.trim().toUpperCase() !== 'PUBLIC') return true
  }
  // property names are case-insensitive: only a lower- or mixed-case CLASS needs the full split
  if (plain && !/\n(?!CLASS)[cC][lL][aA][sS][sS][;:]/.test(body)) return false
  return isPrivateBody(splitBody(body).components)
}

/** A VTIMEZONE for a TZID used: the library's for IANA names, else the client's own, else the library's under that name. */
function vtimezone (tzid: string, fromBodies: () => Map<string, string[]>): string | null {
  const canonical = canonicalTzid(tzid)
  if (canonical === 'UTC') return null
  if (canonical === tzid) return vtimezoneFor(tzid)
  const own = fromBodies().get(tzid)
  if (own !== undefined) return own.map(l => foldLine(l) + '\r\n').join('')
  const block = canonical === null ? null : vtimezoneFor(canonical)
  return block === null ? null : block.replace(/^TZID:.*$/m, foldLine(`TZID:${tzid}`))
}

function foldFast (line: string): string {
  return line.length <= 75 && Buffer.byteLength(line) <= 75 ? line : foldLine(line)
}

export type Rendered = { body: string; objects: number }

export function renderFeed (resolved: ResolvedFeed, rows: ObjectRow[], opts: FeedOptions, settings: FeedSettings): Rendered {
  const { feed, user, calendars } = resolved
  const busyFeed = feed.busy_only || opts.busy
  const byId = new Map(calendars.map(c => [c.id, c]))
  const favourites = feed.scope === 'favourites'
  const marks = new Map<number, Mark>(calendars.map(c => [c.id, favourites
    // Outlook's category names cannot hold commas, and some parsers split on escaped ones
    ? { summaryPrefix: opts.prefix ? `[${escapeText(c.name)}] ` : '', category: escapeText(c.name.replace(/\s*,\s*/g, ' ')) }
    : null]))
  const tzids = new Set<string>()
  /** a body that used each TZID, for its own VTIMEZONE when the TZID is not an IANA name */
  const zoneSource = new Map<string, string>()
  const chunks: string[] = []
  const seen = new Set<string>()
  let objects = 0
  for (const row of rows) {
    // one appointment can sit in several favourite calendars (its participants'): show it once
    if (seen.has(row.uid)) continue
    seen.add(row.uid)
    const isOwner = row.item_kind === 'appointment'
      ? row.owner_id === user.id
      : row.assignee_id === user.id || row.created_by === user.id
    const busy = busyFeed || (!isOwner && (row.private === true || privateBody(row.ical)))
    const mark = marks.get(row.calendar_id) ?? null
    const used = new Set<string>()
    if (busy || mark !== null || !copyComponents(row.ical, used, chunks)) {
      const stamp = formatUtc(row.updated_at.getTime())
      const { components, zones } = splitBody(row.ical)
      const zoneOf = (tzid: string) => {
        const block = zones.get(tzid)
        return block === undefined ? null : timezoneFromBlock(block.join('\r\n'), tzid)
      }
      for (const comp of components) transform(comp, busy ? { uidKey: settings.busyUidKey, zoneOf } : null, mark, stamp, used, chunks)
    }
    for (const tz of used) {
      if (tzids.has(tz)) continue
      tzids.add(tz)
      zoneSource.set(tz, row.ical)
    }
    objects++
  }

  const only = feed.scope === 'calendar' ? byId.get(feed.calendar_id!) : undefined
  const baseName = feed.name !== '' ? feed.name : only?.name ?? `${user.name}: favourites`
  const calName = busyFeed ? `${baseName} (busy)` : baseName
  const zone = only?.timezone ?? user.timezone
  const head = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Kalends//Kalends feeds//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `NAME:${escapeText(calName)}`,
    `X-WR-CALNAME:${escapeText(calName)}`,
    ...(!busyFeed && only !== undefined && only.description !== '' ? [`X-WR-CALDESC:${escapeText(only.description)}`] : []),
    ...(canonicalTzid(zone) !== null ? [`X-WR-TIMEZONE:${canonicalTzid(zone)}`] : []),
    `REFRESH-INTERVAL;VALUE=DURATION:${settings.refresh}`,
    `X-PUBLISHED-TTL:${settings.refresh}`,
    ...(only?.color != null ? [`X-APPLE-CALENDAR-COLOR:${only.color.slice(0, 7)}`] : [])
  ]
  let body = head.map(l => foldFast(l) + '\r\n').join('')
  for (const tzid of [...tzids].sort()) body += vtimezone(tzid, () => splitBody(zoneSource.get(tzid) ?? '').zones) ?? ''
  body += chunks.join('') + 'END:VCALENDAR\r\n'
  return { body, objects }
}
