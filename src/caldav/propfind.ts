import type { FastifyReply } from 'fastify'
import { MultistatusWriter, caldav, carddav, dav, parsePropfind, type MultistatusResponse } from '../dav/xml/index.ts'
import { DavError, notFoundError } from './errors.ts'
import { propertiesOf, type PropSelection } from './properties.ts'
import { depthOf, propResponse } from './respond.ts'
import { answerKey, keptAnswer, sendAndKeep, sendAnswer } from './answer-cache.ts'
import { ADDRESSBOOKS, CALENDARS, PRINCIPALS, abHomePath, homePath, principalPath } from './paths.ts'
import { writeMemberRows } from './calendar-data.ts'
import { columnsFor, memberPlan, type MemberPlan } from './member-xml.ts'
import type { DavCalendar } from './backend.ts'
import { addressBookHref, addressBooksOf, calendarHref, calendarsOf, cardHref, cardPages, memberPages, objectHref, objectPages, preloadVersions, resolve, type Ctx, type Resource } from './resources.ts'

/**
 * The members of a collection, for Depth: 1, a page at a time (a calendar's
 * objects by listing.page, or listing.pageWithoutBodies). Objects come without bodies unless calendar-data is asked for.
 */
export async function * childPages (ctx: Ctx, res: Resource, withBody: boolean): AsyncGenerator<Resource[]> {
  switch (res.kind) {
    case 'root': yield [{ kind: 'principals', path: PRINCIPALS }, { kind: 'calendars', path: CALENDARS }, { kind: 'addressbooks', path: ADDRESSBOOKS }]; return
    case 'addressbooks': yield [{ kind: 'abhome', path: abHomePath(ctx.user.login), owner: ctx.user }]; return
    case 'abhome': yield (await addressBooksOf(ctx)).map(book => ({ kind: 'addressbook', path: addressBookHref(ctx, book), book })); return
    case 'addressbook': {
      for await (const rows of cardPages(ctx, res.book, withBody)) {
        yield rows.map(card => ({ kind: 'card', path: cardHref(ctx, res.book, card.name), book: res.book, card }))
      }
      return
    }
    case 'principals': yield [{ kind: 'principal', path: principalPath(ctx.user.login), principal: ctx.user }]; return
    case 'calendars': yield [{ kind: 'home', path: homePath(ctx.user.login), owner: ctx.user }]; return
    case 'home': {
      await preloadVersions(ctx)
      yield (await calendarsOf(ctx)).map(cal => ({ kind: 'calendar', path: calendarHref(ctx, cal), cal }))
      return
    }
    case 'calendar': {
      for await (const rows of objectPages(ctx, res.cal, { withBody })) {
        yield rows.map(obj => ({ kind: 'object', path: objectHref(ctx, res.cal, obj.name), cal: res.cal, obj }))
      }
      return
    }
    default:
  }
}

export async function responsesFor (ctx: Ctx, resources: Resource[], sel: PropSelection): Promise<MultistatusResponse[]> {
  const out: MultistatusResponse[] = []
  for (const r of resources) out.push(await responseOf(ctx, r, sel))
  return out
}

async function responseOf (ctx: Ctx, r: Resource, sel: PropSelection): Promise<MultistatusResponse> {
  const { found, missing } = await propertiesOf(ctx, r, sel)
  return propResponse(r.path, found, missing)
}

export async function propfind (ctx: Ctx, path: string, body: string | undefined, reply: FastifyReply) {
  const depth = depthOf(ctx.request.headers.depth, '0')
  if (depth === 'infinity') throw new DavError(403, 'PROPFIND with Depth: infinity is not supported; use Depth: 0 or 1', dav('propfind-finite-depth'))
  const key = answerKey(ctx, path, body)
  const kept = keptAnswer(key)
  if (kept !== undefined) return sendAnswer(reply, kept)
  const sel = parsePropfind(body)
  const withBody = sel.kind === 'prop' && (sel.props.includes(caldav('calendar-data')) || sel.props.includes(carddav('address-data')))
  const res = await resolve(ctx, path, { withBody })
  if (res === null || res.kind === 'missing') throw notFoundError(`nothing at ${path}`)
  // each member is written as it comes: a calendar of any size is held a page of rows at a time
  const w = new MultistatusWriter()
  w.add(await responseOf(ctx, res, sel))
  if (depth === '1') {
    // a calendar's objects are written straight as text when every property asked for comes off the row
    const plan = res.kind === 'calendar' ? memberPlan(sel) : null
    if (res.kind === 'calendar' && plan !== null) await writeMembers(ctx, w, res.cal, plan, sel, withBody)
    else for await (const page of childPages(ctx, res, withBody)) for (const r of page) w.add(await responseOf(ctx, r, sel))
  }
  return sendAndKeep(reply, w, key, res.kind === 'calendar' ? res.cal : undefined)
}

/** Every object of the calendar as text, read with only the columns the text needs (backend.members). */
async function writeMembers (ctx: Ctx, w: MultistatusWriter, cal: DavCalendar, plan: MemberPlan, sel: PropSelection, withBody: boolean) {
  for await (const rows of memberPages(ctx, cal, columnsFor(plan, withBody))) {
    await writeMemberRows(w, ctx, cal, rows, plan, undefined, withBody, async obj => { w.add(await responseOf(ctx, { kind: 'object', path: objectHref(ctx, cal, obj.name), cal, obj }, sel)) })
  }
}
