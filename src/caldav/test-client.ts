import { parseXml, type XmlElement } from '../dav/xml/index.ts'
import type { TestServer } from '../testing/harness.ts'

/** A tiny DAV client for tests: raw requests, multistatus answers as plain data. */
export type DavReply = { status: number; headers: Headers; text: string; xml: XmlElement | null }
export type DavRequest = (method: string, path: string, opts?: { body?: string | Uint8Array; headers?: Record<string, string>; redirect?: 'follow' | 'manual' | 'error' }) => Promise<DavReply>

export function davClient (s: TestServer, login: string | null, password = s.password): DavRequest {
  return async (method, path, opts = {}) => {
    const headers = new Headers(opts.headers)
    if (login !== null && !headers.has('authorization')) headers.set('authorization', `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`)
    if (opts.body !== undefined && !headers.has('content-type')) headers.set('content-type', /^\s*</.test(Buffer.from(opts.body.slice(0, 64)).toString('latin1')) ? 'application/xml; charset=utf-8' : 'text/calendar; charset=utf-8')
    const res = await fetch(s.url + path, { method, headers, body: opts.body, redirect: opts.redirect ?? 'manual' })
    const text = await res.text()
    let xml: XmlElement | null = null
    if (/xml/.test(res.headers.get('content-type') ?? '') && text !== '') xml = parseXml(text)
    return { status: res.status, headers: res.headers, text, xml }
  }
}

export type Member = { href: string; status?: number; props: Map<string, XmlElement>; missing: Set<string>; propstatus: Map<string, number> }

const q = (e: XmlElement) => `{${e.ns}}${e.name}`

/** The responses of a multistatus, by href (decoded), with found and missing properties. */
export function members (xml: XmlElement | null): Member[] {
  if (xml === null) throw new Error('no XML body')
  const out: Member[] = []
  for (const r of xml.children.filter(c => c.name === 'response')) {
    const href = decodeURIComponent(r.children.find(c => c.name === 'href')!.text)
    const m: Member = { href, props: new Map(), missing: new Set(), propstatus: new Map() }
    const status = r.children.find(c => c.name === 'status')
    if (status !== undefined) m.status = Number(status.text.split(' ')[1])
    for (const ps of r.children.filter(c => c.name === 'propstat')) {
      const code = Number(ps.children.find(c => c.name === 'status')!.text.split(' ')[1])
      for (const p of ps.children.find(c => c.name === 'prop')!.children) {
        m.propstatus.set(q(p), code)
        if (code === 200) m.props.set(q(p), p); else m.missing.add(q(p))
      }
    }
    out.push(m)
  }
  return out
}

export function syncTokenOf (xml: XmlElement | null): string | undefined {
  return xml?.children.find(c => c.name === 'sync-token')?.text
}

/** The text of a property, or the hrefs inside it joined by a space. */
export function propText (m: Member | undefined, name: string): string | undefined {
  const p = m?.props.get(name)
  if (p === undefined) return undefined
  const hrefs = p.children.filter(c => c.name === 'href')
  return hrefs.length > 0 ? hrefs.map(h => decodeURIComponent(h.text)).join(' ') : p.text
}

export const DAV_NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/"'

export function propfindBody (...props: string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?><d:propfind ${DAV_NS}><d:prop>${props.map(p => `<${p}/>`).join('')}</d:prop></d:propfind>`
}

export function vevent (uid: string, extra: string[] = [], opts: { start?: string; end?: string; summary?: string } = {}): string {
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Test//EN',
    'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z',
    `DTSTART:${opts.start ?? '20260610T090000Z'}`, `DTEND:${opts.end ?? '20260610T100000Z'}`,
    `SUMMARY:${opts.summary ?? 'Meeting'}`, ...extra,
    'END:VEVENT', 'END:VCALENDAR', ''
  ].join('\r\n')
}

export function vtodo (uid: string, extra: string[] = []): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//Test//EN', 'BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...extra, 'END:VTODO', 'END:VCALENDAR', ''].join('\r\n')
}
