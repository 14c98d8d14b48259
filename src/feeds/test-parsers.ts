import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import ICAL from 'ical.js'

/**
 * Two independent readers of a feed, for the tests: ical.js, and Python's
 * icalendar (Debian python3-icalendar). Both report the same shape: per
 * component its properties, and times as UTC instants or dates.
 */

export type When = { utc: string; tzid: string | null } | { date: string } | { floating: string } | null
export type Item = {
  type: 'VEVENT' | 'VTODO'
  uid: string
  summary: string | null
  props: string[]
  subcomponents: string[]
  dtstart: When
  dtend: When
  recurrenceId: When
  rrule: string | null
  exdates: When[]
  categories: string[]
}
export type Parsed = { calendar: Record<string, string>; timezones: string[]; items: Item[]; errors: string[] }

function whenOf (t: InstanceType<typeof ICAL.Time> | null, tzid: string | null): When {
  if (t === null) return null
  if (t.isDate) return { date: t.toString().replaceAll('-', '') }
  if (t.zone === null || t.zone?.tzid === 'floating') return { floating: t.toString() }
  return { utc: t.toJSDate().toISOString().replace('.000Z', 'Z'), tzid }
}

export function parseWithIcalJs (text: string): Parsed {
  const root = new ICAL.Component(ICAL.parse(text))
  // register the feed's own VTIMEZONEs, as a subscribing client does
  for (const vtz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(vtz))
  const calendar: Record<string, string> = {}
  for (const p of root.getAllProperties()) calendar[p.name.toUpperCase()] = String(p.getFirstValue())
  const items: Item[] = []
  for (const c of root.getAllSubcomponents()) {
    if (c.name !== 'vevent' && c.name !== 'vtodo') continue
    const time = (name: string) => {
      const p = c.getFirstProperty(name)
      return p === null ? null : whenOf(p.getFirstValue() as InstanceType<typeof ICAL.Time>, p.getParameter('tzid') as string | null ?? null)
    }
    items.push({
      type: c.name.toUpperCase() as Item['type'],
      uid: String(c.getFirstPropertyValue('uid')),
      summary: c.hasProperty('summary') ? String(c.getFirstPropertyValue('summary')) : null,
      props: [...new Set(c.getAllProperties().map(p => p.name.toUpperCase()))].sort(),
      subcomponents: c.getAllSubcomponents().map(s => s.name.toUpperCase()),
      dtstart: time('dtstart'),
      dtend: time('dtend'),
      recurrenceId: time('recurrence-id'),
      rrule: c.hasProperty('rrule') ? String(c.getFirstPropertyValue('rrule')) : null,
      exdates: c.getAllProperties('exdate').flatMap(p => p.getValues().map(v => whenOf(v as InstanceType<typeof ICAL.Time>, p.getParameter('tzid') as string | null ?? null))),
      categories: c.getAllProperties('categories').flatMap(p => p.getValues().map(String))
    })
  }
  return { calendar, timezones: root.getAllSubcomponents('vtimezone').map(z => String(z.getFirstPropertyValue('tzid'))), items, errors: [] }
}

const PYTHON_SCRIPT = String.raw`
import sys, json
from datetime import timezone
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
errors = []
def when(v):
    if v is None: return None
    d = v.dt
    if hasattr(d, 'hour'):
        if d.tzinfo is None: return {'floating': d.isoformat()}
        return {'utc': d.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), 'tzid': v.params.get('TZID')}
    return {'date': d.strftime('%Y%m%d')}
def many(v):
    if v is None: return []
    return v if isinstance(v, list) else [v]
out = {'calendar': {k: str(v.to_ical().decode() if hasattr(v, 'to_ical') else v) for k, v in cal.items()}, 'timezones': [], 'items': [], 'errors': errors}
for c in cal.walk():
    errors.extend(str(e) for e in getattr(c, 'errors', []))
    if c.name == 'VTIMEZONE':
        out['timezones'].append(str(c['TZID']))
    if c.name in ('VEVENT', 'VTODO'):
        cats = []
        for v in many(c.get('CATEGORIES')):
            cats.extend(x for x in (v.to_ical().decode() if hasattr(v, 'to_ical') else str(v)).replace('\\,', '\0').split(',') if x)
        out['items'].append({
            'type': c.name, 'uid': str(c.get('UID')),
            'summary': str(c.get('SUMMARY')) if c.get('SUMMARY') is not None else None,
            'props': sorted(set(c.keys())),
            'subcomponents': [s.name for s in c.subcomponents],
            'dtstart': when(c.get('DTSTART')), 'dtend': when(c.get('DTEND')), 'recurrenceId': when(c.get('RECURRENCE-ID')),
            'rrule': c.get('RRULE').to_ical().decode() if c.get('RRULE') is not None else None,
            'exdates': [when(d) for e in many(c.get('EXDATE')) for d in e.dts],
            'categories': [x.replace('\0', ',') for x in cats],
        })
print(json.dumps(out))
`

/** Debian's python3 (with python3-icalendar), also when another python3 comes first on PATH. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

export function parseWithPython (text: string): Parsed {
  const run = spawnSync(PYTHON, ['-c', PYTHON_SCRIPT], { input: text, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (run.status !== 0) throw new Error(`python icalendar failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as Parsed
}

/** Every physical line ends in CRLF and is at most 75 octets (RFC 5545 §3.1). */
export function lineProblems (text: string): string[] {
  const problems: string[] = []
  if (!text.endsWith('\r\n')) problems.push('does not end in CRLF')
  const lines = text.split('\r\n')
  lines.forEach((l, i) => {
    if (l.includes('\n') || l.includes('\r')) problems.push(`line ${i + 1}: bare LF or CR`)
    if (Buffer.byteLength(l) > 75) problems.push(`line ${i + 1}: ${Buffer.byteLength(l)} octets`)
  })
  return problems
}
