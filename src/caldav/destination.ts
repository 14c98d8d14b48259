import { dav } from '../dav/xml/index.ts'
import { DavError } from './errors.ts'
import { parsePath, ROOT, type DavPath } from './paths.ts'
import type { Ctx } from './resources.ts'

export type Target = { path: DavPath & { kind: 'calendar' | 'object' }; overwrite: boolean }

function header (ctx: Ctx, name: string): string | undefined {
  const v = ctx.request.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/**
 * Where a COPY or MOVE goes: the Destination header (RFC 4918 §10.3), a
 * calendar or object in the user's own home, and Overwrite (§10.6, T when
 * absent). Another server or URL space answers 502 (§9.8.5, §9.9.4);
 * another user's home 403, as anything not one's own is refused here.
 */
export function destinationOf (ctx: Ctx): Target {
  const raw = header(ctx, 'destination')
  if (raw === undefined || raw.trim() === '') throw new DavError(400, 'COPY and MOVE need a Destination header')
  const host = header(ctx, 'host') ?? 'localhost'
  let url: URL
  try {
    url = new URL(raw.trim(), `http://${host}`)
  } catch {
    throw new DavError(400, 'the Destination header is not a URL')
  }
  const hosts = [host.toLowerCase(), new URL(ctx.publicUrl).host.toLowerCase()]
  if (!hosts.includes(url.host.toLowerCase()) || !url.pathname.startsWith(ROOT)) {
    throw new DavError(502, 'the Destination is on another server or outside this CalDAV server')
  }
  const overwrite = (header(ctx, 'overwrite') ?? 'T').trim()
  if (overwrite !== 'T' && overwrite !== 'F') throw new DavError(400, 'Overwrite must be T or F')
  const path = parsePath(url.pathname)
  if ((path.kind === 'calendar' || path.kind === 'object') && path.login.toLowerCase() === ctx.user.login.toLowerCase()) {
    return { path, overwrite: overwrite === 'T' }
  }
  if (path.kind === 'unknown') throw new DavError(409, 'the Destination\'s parent collection does not exist')
  throw new DavError(403, 'objects and calendars can only be copied or moved into your own calendar home', dav('need-privileges'))
}
