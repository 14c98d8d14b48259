import { MultistatusWriter, type CalendarDataRequest, type MultistatusResponse, type PropfindRequest, type RenderedResponse } from '../dav/xml/index.ts'
import type { ObjectRow } from '../domain/calendar-objects.ts'
import type { DavCalendar } from './backend.ts'
import { ByteLru } from './byte-lru.ts'
import { objectHref, type Ctx } from './resources.ts'

/**
 * calendar-query responses of calendar objects, as the text the multistatus
 * carries, by everything that text is made of: the request's properties and
 * calendar-data shape (an expand's window included), the viewer, the
 * calendar as the viewer sees it (access decides redaction and privileges,
 * its zone the floating times of an expansion, its owner DAV:owner), the href,
 * and the object's stored version (its ETag is a hash of the body) with the
 * row fields the live properties show. Any change to one of them is another
 * key, so an entry is never stale; clients ask for the same window again and
 * again (a week view after each change), and only objects changed since are
 * read, parsed and written again. Least recently used dropped first.
 */
const entries = new ByteLru<RenderedResponse>({ maxBytes: 16 * 1024 * 1024, maxEntry: 256 * 1024, sizeOf: r => r.text.length * 2 })

/** Short stand-ins for the long shared part of keys; a number is never handed out twice. */
const tokens = new Map<string, string>()
let nextToken = 0

/** What every response of one report shares in its key. */
export function requestKey (ctx: Ctx, cal: DavCalendar, props: PropfindRequest, cd: CalendarDataRequest | undefined): string {
  const long = JSON.stringify([props, cd ?? null, ctx.user.login, cal.id, cal.segment, cal.access, cal.timezone, cal.ownerLogin])
  let token = tokens.get(long)
  if (token === undefined) {
    if (tokens.size >= 10_000) tokens.clear()
    token = String(nextToken++)
    tokens.set(long, token)
  }
  return token
}

export function responseKey (ctx: Ctx, cal: DavCalendar, request: string, row: ObjectRow): string {
  return `${request}\0${objectHref(ctx, cal, row.name)}\0${row.etag}\0${row.component}\0${row.size}\0${new Date(row.updated_at).getTime()}`
}

export function cachedResponse (key: string): RenderedResponse | undefined {
  return entries.get(key)
}

/** Adds the response to the writer, and keeps its text under `key` when it stands alone. */
export function addAndRemember (w: MultistatusWriter, key: string, r: MultistatusResponse): void {
  const rendered = MultistatusWriter.render(r)
  if (rendered === null) { w.add(r); return }
  w.addRendered(rendered)
  entries.set(key, rendered)
}
