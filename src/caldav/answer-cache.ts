import type { FastifyReply } from 'fastify'
import type { MultistatusWriter } from '../dav/xml/index.ts'
import type { DavCalendar } from './backend.ts'
import { ByteLru } from './byte-lru.ts'
import { parsePath } from './paths.ts'
import { sendWritten, XML } from './respond.ts'
import type { Ctx } from './resources.ts'

/**
 * Whole answers of a calendar's REPORTs (calendar-query, calendar-multiget,
 * sync-collection) and PROPFINDs, as the bytes sent, by everything they are made of:
 *
 * - the calendar as access.ts decided it for this viewer (the object the
 *   backend keeps under the organisation's access version: any change to
 *   the user, the calendar, its shares or properties gives another object),
 *   so the viewer, their access, the redaction they see, the calendar's
 *   zone, owner and properties;
 * - the calendar's version, read exactly with the request's sign-in check
 *   (calendarVersionAlong: every journal entry up to it committed, none in
 *   flight), which moves with every change to its objects;
 * - the method, Depth, path and the request body as text.
 *
 * Nothing else goes into these answers (no clock, no other calendar: a
 * multiget is kept only when all its hrefs are in this calendar), so an
 * entry is never stale: a change is another key, from whichever process it
 * came. Clients poll the same collection and the same window again and again
 * (a ctag or ETag check, a week view after each sync); what did not change is
 * answered without reading the calendar. Least recently used dropped first.
 */
const answers = new ByteLru<Buffer>({ maxBytes: 16 * 1024 * 1024, maxEntry: 4 * 1024 * 1024, sizeOf: b => b.length })

/** A number per calendar object the backend handed out; a new decision is a new object, so a new number. */
const serials = new WeakMap<DavCalendar, number>()
let nextSerial = 0
function serialOf (cal: DavCalendar): number {
  let n = serials.get(cal)
  if (n === undefined) serials.set(cal, n = nextSerial++)
  return n
}

/**
 * The key of this request's answer, when the sign-in check read its
 * calendar's version exactly (ctx.along) and the path is that calendar in
 * the user's own home; else undefined (nothing is looked up or kept).
 */
export type AnswerKey = { key: string; calendar: DavCalendar }
export function answerKey (ctx: Ctx, path: string, body: string | undefined): AnswerKey | undefined {
  const along = ctx.along
  if (along === undefined || along.object !== undefined || along.version === undefined) return undefined
  const p = parsePath(path)
  if (p.kind !== 'calendar' || p.calendar !== along.calendar.segment || p.login.toLowerCase() !== ctx.user.login.toLowerCase()) return undefined
  const depth = ctx.request.headers.depth
  return { key: `${serialOf(along.calendar)}\0${along.version}\0${ctx.request.method}\0${Array.isArray(depth) ? depth.join(',') : depth ?? ''}\0${path}\0${body ?? ''}`, calendar: along.calendar }
}

/** The answer kept under `key`, if any. */
export function keptAnswer (key: { key: string } | undefined): Buffer | undefined {
  return key === undefined ? undefined : answers.get(key.key)
}

export function sendAnswer (reply: FastifyReply, bytes: Buffer) {
  return reply.code(207).header('content-type', XML).send(bytes)
}

/**
 * sendWritten, keeping the answer under `key` when it was built for the
 * calendar the key was made for (`calendar`, undefined when the answer
 * drew on anything else).
 */
export function sendAndKeep (reply: FastifyReply, w: MultistatusWriter, key: AnswerKey | undefined, calendar: DavCalendar | undefined, syncToken?: string) {
  if (key === undefined || calendar !== key.calendar) return sendWritten(reply, w, syncToken)
  const bytes = Buffer.from(w.finish(syncToken))
  answers.set(key.key, bytes)
  return sendAnswer(reply, bytes)
}
