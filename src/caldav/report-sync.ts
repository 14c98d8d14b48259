import type { FastifyReply } from 'fastify'
import { MultistatusWriter, carddav, dav, type SyncCollectionReport } from '../dav/xml/index.ts'
import { cardResponse } from './address-data.ts'
import { DomainError } from '../domain/errors.ts'
import { DavError } from './errors.ts'
import { SYNC_PREFIX, addressBookToken, calendarToken, homeToken } from './properties.ts'
import { writeMemberRows, writeObject } from './calendar-data.ts'
import { columnsFor, memberPlan } from './member-xml.ts'
import { responsesFor } from './propfind.ts'
import { sendMultistatus, sendWritten } from './respond.ts'
import { calendarHref, calendarsOf, cardHref, objectHref, versionOf, type Ctx, type Resource } from './resources.ts'
import { sendAndKeep, type AnswerKey } from './answer-cache.ts'


const invalidToken = (reason: string) => new DavError(403, reason, dav('valid-sync-token'))

function parseCalendarToken (token: string, calendarId: number, kind = ''): number {
  if (token === '') return 0
  const m = new RegExp(`^${SYNC_PREFIX.replaceAll('.', '\\.')}${kind}(\\d+)-(\\d+)$`).exec(token)
  if (m === null || Number(m[1]) !== calendarId) throw invalidToken('the sync token was not handed out for this collection; sync again from scratch')
  const seq = Number(m[2])
  if (!Number.isSafeInteger(seq)) throw invalidToken('the sync token is unknown; sync again from scratch')
  return seq
}

/**
 * RFC 6578 sync-collection, sync-level 1: changed members with their
 * properties, deleted ones as 404 without propstat, and the new token. With
 * a limit (the client's or the server's page) a 507 on the collection says
 * more follow from the token given.
 */
export async function syncCollection (ctx: Ctx, target: Resource, req: SyncCollectionReport, reply: FastifyReply, key?: AnswerKey) {
  if (req.syncLevel === 'infinite') throw new DavError(403, 'only sync-level 1 is supported: calendars have no sub-collections', dav('sync-traversal-supported'))
  if (target.kind === 'home') return homeSync(ctx, target, req, reply)
  if (target.kind === 'addressbook') return addressBookSync(ctx, target, req, reply)
  if (target.kind !== 'calendar') throw new DavError(403, 'sync-collection applies to calendars, address books and the calendar home', dav('supported-report'))
  const cal = target.cal
  const since = parseCalendarToken(req.syncToken, cal.id)
  const limit = Math.min(req.limit ?? ctx.syncPage, ctx.syncPage)
  const withBody = req.props.kind === 'prop' && req.props.props.some(p => p.endsWith('}calendar-data'))
  const along = ctx.along
  const at = along !== undefined && along.calendar === cal && along.object === undefined ? along.version : undefined
  const opts = { limit, ...(at === undefined ? {} : { at }) }
  const w = new MultistatusWriter()
  const plan = memberPlan(req.props)
  let changes
  if (plan !== null) {
    // written as text: only the columns the text needs are read (backend.memberChanges)
    changes = await knownToken(ctx.backend.memberChanges(ctx.user, cal, since, columnsFor(plan, withBody), opts))
    await writeMemberRows(w, ctx, cal, changes.changed, plan, req.calendarData, withBody, obj => writeObject(w, ctx, cal, obj, req.props, req.calendarData, null))
  } else {
    changes = await knownToken(ctx.backend.changes(ctx.user, cal, since, { ...opts, withBody }))
    for (const row of changes.changed) await writeObject(w, ctx, cal, row, req.props, req.calendarData, null)
  }
  changesWritten(target.path, w, changes.deleted.map(name => objectHref(ctx, cal, name)), changes.truncated)
  // a client's periodic sync from its last token, when nothing changed, is then one statement
  return sendAndKeep(reply, w, key, cal, calendarToken(cal.id, changes.seq))
}

/** The journal's changes, a token it never handed out refused as RFC 6578 says. */
async function knownToken<T> (changes: Promise<T>): Promise<T> {
  try {
    return await changes
  } catch (err) {
    if (err instanceof DomainError && err.rule === 'valid-sync-token') throw invalidToken('the sync token is unknown; sync again from scratch')
    throw err
  }
}

/** The rest of a sync-collection's answer: deleted members as 404, and a 507 when more follow. */
function changesWritten (path: string, w: MultistatusWriter, deleted: string[], truncated: boolean) {
  for (const href of deleted) w.add({ href, status: 404 })
  if (truncated) {
    w.add({ href: path, status: 507, error: undefined, responseDescription: 'more changes follow: repeat the request with the sync-token of this answer' })
  }
}

/** The address book's sync-collection: the same journal-based tokens as a calendar's. */
async function addressBookSync (ctx: Ctx, target: Extract<Resource, { kind: 'addressbook' }>, req: SyncCollectionReport, reply: FastifyReply) {
  const book = target.book
  const since = parseCalendarToken(req.syncToken, book.id, 'ab')
  const limit = Math.min(req.limit ?? ctx.syncPage, ctx.syncPage)
  const withBody = req.props.kind === 'prop' && req.props.props.includes(carddav('address-data'))
  const changes = await knownToken(ctx.backend.cardChanges(book, since, { limit, withBody }))
  const w = new MultistatusWriter()
  for (const card of changes.changed) w.add(await cardResponse(ctx, book, card, req.props, req.addressData))
  changesWritten(target.path, w, changes.deleted.map(name => cardHref(ctx, book, name)), changes.truncated)
  return sendWritten(reply, w, addressBookToken(book.id, changes.seq))
}

/**
 * sync-collection on the home (iCal looks for it there): the calendars whose
 * contents or properties changed since the token; every one on a fresh sync.
 */
async function homeSync (ctx: Ctx, target: Extract<Resource, { kind: 'home' }>, req: SyncCollectionReport, reply: FastifyReply) {
  const token = await homeToken(ctx)
  let since = 0
  if (req.syncToken !== '') {
    const m = /^urn:kalends:sync:home-(\d+)-([0-9a-z]+)$/.exec(req.syncToken)
    if (m === null) throw invalidToken('the sync token is unknown; sync again from scratch')
    since = Number(m[1])
    if (req.syncToken.split('-').at(-1) !== token.split('-').at(-1)) since = 0
  }
  const members: Resource[] = []
  for (const cal of await calendarsOf(ctx)) {
    if (since === 0 || await versionOf(ctx, cal) > since) members.push({ kind: 'calendar', path: calendarHref(ctx, cal), cal })
  }
  return sendMultistatus(reply, await responsesFor(ctx, members, req.props), token)
}
