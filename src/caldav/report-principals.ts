import type { FastifyReply } from 'fastify'
import type { User } from '../db/schema.ts'
import {
  caldav, cs, dav, element, responseElement,
  type CalendarServerPrincipalSearchReport, type ExpandPropertyItem, type ExpandPropertyReport,
  type MultistatusResponse, type PrincipalMatchReport, type PrincipalPropertySearchReport, type QName, type XmlElement
} from '../dav/xml/index.ts'
import { principalPath } from './paths.ts'
import { propertiesOf } from './properties.ts'
import { propResponse, sendXml } from './respond.ts'
import { resolve, type Ctx, type Resource } from './resources.ts'

const principal = (u: User): Resource => ({ kind: 'principal', path: principalPath(u.login), principal: u })

/** The values a principal search looks at, per property. */
function searchable (u: User, prop: string): string[] {
  switch (prop) {
    case dav('displayname'): return [u.name]
    case caldav('calendar-user-address-set'): return [...(u.email === null ? [] : [`mailto:${u.email}`]), principalPath(u.login)]
    case cs('email-address-set'): return u.email === null ? [] : [u.email]
    case caldav('calendar-user-type'): return ['INDIVIDUAL']
    default: return []
  }
}

function test (values: string[], match: string, type: 'starts-with' | 'contains' | 'equals', caseless: boolean): boolean {
  const m = caseless ? match.toLowerCase() : match
  return values.some(raw => {
    const v = caseless ? raw.toLowerCase() : raw
    return type === 'equals' ? v === m : type === 'starts-with' ? v.startsWith(m) : v.includes(m)
  })
}

/** RFC 3744 §9.4, as clients use it to look up attendees: over the organisation's users. */
export async function principalPropertySearch (ctx: Ctx, req: PrincipalPropertySearchReport): Promise<MultistatusResponse[]> {
  const users = (await ctx.backend.users(ctx.user)).filter(u => !u.disabled)
  const hits = users.filter(u => {
    const results = req.searches.map(s => s.props.some(p => test(searchable(u, p), s.match, s.matchType, s.caseless)))
    return req.test === 'anyof' ? results.some(Boolean) : results.every(Boolean)
  })
  const out: MultistatusResponse[] = []
  for (const u of hits.slice(0, 100)) {
    const { found, missing } = await propertiesOf(ctx, principal(u), req.props)
    out.push(propResponse(principalPath(u.login), found, missing))
  }
  return out
}

export function principalSearchPropertySet (reply: FastifyReply) {
  const item = (name: XmlElement, description: string) => element(dav('principal-search-property'), [element(dav('prop'), [name]), element(dav('description'), description, { '{http://www.w3.org/XML/1998/namespace}lang': 'en' })])
  return sendXml(reply, 200, element(dav('principal-search-property-set'), [
    item(element(dav('displayname')), 'Name'),
    item(element(caldav('calendar-user-address-set')), 'Calendar address'),
    item(element(cs('email-address-set')), 'E-mail address')
  ]))
}

/** Apple's calendarserver-principal-search: every token must match the name, login or e-mail. */
export async function calendarServerPrincipalSearch (ctx: Ctx, req: CalendarServerPrincipalSearchReport): Promise<MultistatusResponse[]> {
  const users = (await ctx.backend.users(ctx.user)).filter(u => !u.disabled)
  const hits = users.filter(u => req.tokens.every(t => test([u.name, u.login, u.email ?? ''], t, 'contains', true)))
  const out: MultistatusResponse[] = []
  for (const u of hits.slice(0, req.limit ?? 100)) {
    const { found, missing } = await propertiesOf(ctx, principal(u), req.props)
    out.push(propResponse(principalPath(u.login), found, missing))
  }
  return out
}

export async function principalMatch (ctx: Ctx, req: PrincipalMatchReport): Promise<MultistatusResponse[]> {
  if (req.match.kind !== 'self') return []
  const { found, missing } = await propertiesOf(ctx, principal(ctx.user), req.props)
  return [propResponse(principalPath(ctx.user.login), found, missing)]
}

/**
 * RFC 3253 §3.8 expand-property: properties of the target; where one holds
 * hrefs and sub-properties are asked for, each href becomes a response with
 * those (recursively). Unknown or invisible hrefs answer 404.
 */
export async function expandProperty (ctx: Ctx, target: Resource, req: ExpandPropertyReport): Promise<MultistatusResponse[]> {
  return [await expandOn(ctx, target, req.properties, 0)]
}

async function expandOn (ctx: Ctx, res: Resource, items: ExpandPropertyItem[], depth: number): Promise<MultistatusResponse> {
  const { found, missing } = await propertiesOf(ctx, res, { kind: 'prop', props: items.map(i => i.name) })
  const expanded: XmlElement[] = []
  for (const prop of found) {
    const item = items.find(i => i.name === `{${prop.ns}}${prop.name}`)
    const hrefs = prop.children.filter(c => c.ns === 'DAV:' && c.name === 'href')
    if (item === undefined || item.properties.length === 0 || hrefs.length === 0 || depth > 2) { expanded.push(prop); continue }
    const responses: XmlElement[] = []
    for (const h of hrefs) {
      let inner: Resource | null = null
      try {
        const r = await resolve(ctx, h.text)
        inner = r === null || r.kind === 'missing' ? null : r
      } catch { inner = null }
      const response = inner === null ? { href: h.text, status: 404 } : await expandOn(ctx, inner, item.properties, depth + 1)
      responses.push(responseElement(response))
    }
    expanded.push(element(`{${prop.ns}}${prop.name}` as QName, responses))
  }
  return propResponse(res.path, expanded, missing)
}
