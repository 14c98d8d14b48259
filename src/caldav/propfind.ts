import type { FastifyReply } from 'fastify'
import { caldav, dav, parsePropfind, type MultistatusResponse } from '../dav/xml/index.ts'
import { DavError, notFoundError } from './errors.ts'
import { propertiesOf, type PropSelection } from './properties.ts'
import { depthOf, propResponse, sendMultistatus } from './respond.ts'
import { CALENDARS, PRINCIPALS, homePath, principalPath } from './paths.ts'
import { calendarHref, calendarsOf, objectHref, preloadVersions, resolve, type Ctx, type Resource } from './resources.ts'

/** The members of a collection, for Depth: 1. Objects come without bodies unless calendar-data is asked for. */
export async function childrenOf (ctx: Ctx, res: Resource, withBody: boolean): Promise<Resource[]> {
  switch (res.kind) {
    case 'root': return [{ kind: 'principals', path: PRINCIPALS }, { kind: 'calendars', path: CALENDARS }]
    case 'principals': return [{ kind: 'principal', path: principalPath(ctx.user.login), principal: ctx.user }]
    case 'calendars': return [{ kind: 'home', path: homePath(ctx.user.login), owner: ctx.user }]
    case 'home': {
      await preloadVersions(ctx)
      return (await calendarsOf(ctx)).map(cal => ({ kind: 'calendar', path: calendarHref(ctx, cal), cal }))
    }
    case 'calendar': {
      const rows = await ctx.backend.list(ctx.user, res.cal.id, { withBody })
      return rows.map(obj => ({ kind: 'object', path: objectHref(ctx, res.cal, obj.name), cal: res.cal, obj }))
    }
    default: return []
  }
}

export async function responsesFor (ctx: Ctx, resources: Resource[], sel: PropSelection): Promise<MultistatusResponse[]> {
  const out: MultistatusResponse[] = []
  for (const r of resources) {
    const { found, missing } = await propertiesOf(ctx, r, sel)
    out.push(propResponse(r.path, found, missing))
  }
  return out
}

export async function propfind (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const depth = depthOf(ctx.request.headers.depth, '0')
  if (depth === 'infinity') throw new DavError(403, 'PROPFIND with Depth: infinity is not supported; use Depth: 0 or 1', dav('propfind-finite-depth'))
  const sel = parsePropfind(body)
  const withBody = sel.kind === 'prop' && sel.props.includes(caldav('calendar-data'))
  const res = await resolve(ctx, path, { withBody })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  const targets = depth === '1' ? [res, ...await childrenOf(ctx, res, withBody)] : [res]
  return sendMultistatus(reply, await responsesFor(ctx, targets, sel))
}
