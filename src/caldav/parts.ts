import type { CompSelection } from '../dav/xml/index.ts'
import type { DavCalendar } from './backend.ts'

/**
 * RFC 4791 §9.6.1 partial retrieval: only the components and properties the
 * <C:comp> tree names. Works on the content lines, so what is kept is kept
 * byte for byte (folding included).
 */
export function selectParts (text: string, root: CompSelection): string {
  const lines = text.split(/\r?\n/)
  const logical: string[] = []
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && logical.length > 0) logical[logical.length - 1] += `\r\n${line}`
    else if (line !== '') logical.push(line)
  }
  const ALL: CompSelection = { name: '*', allProps: true, props: [], allComps: true, comps: [] }
  const stack: (CompSelection | null)[] = []
  const out: string[] = []
  let skipping = 0
  for (const line of logical) {
    const m = /^(BEGIN|END):([A-Za-z0-9-]+)\s*$/i.exec(line)
    if (skipping > 0) {
      if (m !== null) skipping += m[1]!.toUpperCase() === 'BEGIN' ? 1 : -1
      continue
    }
    if (m !== null && m[1]!.toUpperCase() === 'BEGIN') {
      const name = m[2]!.toUpperCase()
      const parent = stack.at(-1)
      const sel = parent === undefined ? (root.name === name ? root : null) : parent === null || parent.allComps ? ALL : parent.comps.find(c => c.name === name) ?? null
      if (sel === null) { skipping = 1; continue }
      stack.push(sel)
      out.push(line)
      continue
    }
    if (m !== null) { stack.pop(); out.push(line); continue }
    const sel = stack.at(-1)
    if (sel === undefined || sel === null || sel.allProps) { out.push(line); continue }
    const name = /^[A-Za-z0-9-]+/.exec(line)?.[0]?.toUpperCase()
    const want = sel.props.find(p => p.name === name)
    if (want === undefined) continue
    out.push(want.novalue ? line.slice(0, colonOf(line) + 1) : line)
  }
  return `${out.join('\r\n')}\r\n`
}

/** Index of the ':' that ends name and parameters (quoted parameter values may hold ':'). */
function colonOf (line: string): number {
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted
    else if (line[i] === ':' && !quoted) return i
  }
  return line.length - 1
}

const CLASS_LINE = /^CLASS(?:;[^:\r\n]*)?:([^\r\n]*)$/gim

/** CLASS other than PUBLIC on any component (unknown values count as PRIVATE, RFC 5545 §3.8.1.3). */
export function isPrivate (ical: string): boolean {
  if (!/CLASS/i.test(ical)) return false
  for (const m of ical.matchAll(CLASS_LINE)) if (m[1]!.trim().toUpperCase() !== 'PUBLIC') return true
  return false
}

const KEEP = ['UID', 'DTSTAMP', 'DTSTART', 'DTEND', 'DURATION', 'DUE', 'RRULE', 'RDATE', 'EXDATE', 'RECURRENCE-ID', 'TRANSP', 'STATUS', 'CLASS', 'SEQUENCE', 'COMPLETED']
const item = (name: string): CompSelection => ({ name, allProps: false, props: [...KEEP.map(p => ({ name: p, novalue: false })), { name: 'SUMMARY', novalue: true }], allComps: false, comps: [] })
const REDACTED: CompSelection = {
  name: 'VCALENDAR',
  allProps: false,
  props: ['VERSION', 'PRODID', 'CALSCALE'].map(name => ({ name, novalue: false })),
  allComps: false,
  comps: [{ name: 'VTIMEZONE', allProps: true, props: [], allComps: true, comps: [] }, item('VEVENT'), item('VTODO')]
}

/**
 * The body a user sees: a private item in a calendar shared with them
 * read-only shows only when it is (busy time), as the feeds do; everything
 * else as stored. Deterministic, so the stored ETag still names it.
 */
export function visibleBody (cal: DavCalendar, ical: string): string {
  if (cal.access !== 'read' || !isPrivate(ical)) return ical
  return selectParts(ical, REDACTED).replace(/^SUMMARY:\r$/gm, 'SUMMARY:Private\r')
}
