import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Kalends } from '../app.ts'
import { sha256 } from '../auth/api-tokens.ts'
import { recordFeedAccess, type FeedAccess } from '../domain/feeds.ts'
import { dateOnly, instant } from '../domain/values.ts'
import { FeedCache, type Entry } from './cache.ts'
import { RateLimiter } from './limits.ts'
import type { FeedOptions } from './render.ts'

/**
 * GET/HEAD /feeds/<secret>.ics: what Outlook, Google Calendar and Apple
 * Calendar subscribe to. Anything that does not lead to a feed — unknown,
 * rotated or revoked secret, export switched off — is the same bare 404.
 */

export type FeedHttpSettings = {
  refresh: string
  recheckMs: number
  headTtlMs: number
  maxBytes: number
  perTokenPerMinute: number
  perAddressPerMinute: number
  accessFlushMs: number
}

const DURATION = /^P(?:\d+W|\d+D|(?:\d+D)?T(?:\d+H)?(?:\d+M)?(?:\d+S)?)$/

function num (env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of at least 0, got "${raw}"`)
  return n
}

export function feedSettingsFromEnv (env: Record<string, string | undefined> = process.env): FeedHttpSettings {
  const refresh = env.KALENDS_FEED_REFRESH || 'PT1H'
  if (!DURATION.test(refresh) || refresh === 'PT') throw new Error(`KALENDS_FEED_REFRESH must be an ISO 8601 duration such as PT1H, got "${refresh}"`)
  return {
    refresh,
    recheckMs: num(env, 'KALENDS_FEED_RECHECK_SECONDS', 30) * 1000,
    headTtlMs: num(env, 'KALENDS_FEED_HEAD_TTL_MS', 500),
    maxBytes: num(env, 'KALENDS_FEED_CACHE_MB', 256) * 1024 * 1024,
    perTokenPerMinute: num(env, 'KALENDS_FEED_RATE_PER_TOKEN', 60),
    perAddressPerMinute: num(env, 'KALENDS_FEED_RATE_PER_ADDRESS', 1200),
    accessFlushMs: num(env, 'KALENDS_FEED_ACCESS_FLUSH_MS', 5000)
  }
}

/** The link as shown to the user: https:// (or http://, per KALENDS_PUBLIC_URL) and webcal://. */
export function feedUrls (publicUrl: string, token: string) {
  const url = `${publicUrl}/feeds/${token}.ics`
  return { url, webcal: url.replace(/^https?:/, 'webcal:') }
}

declare module 'fastify' {
  interface FastifyInstance { feedCache?: FeedCache }
}

/** Methods that change data (REST, CalDAV, web forms); reads such as PROPFIND and REPORT do not. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'MOVE', 'COPY', 'MKCALENDAR', 'MKCOL', 'PROPPATCH'])

const SECRET = /^([A-Za-z0-9_-]{43})(?:\.ics)?$/

class BadOption extends Error {}

function flag (v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback
  if (v === '1' || v === 'true' || v === 'yes' || v === '') return true
  if (v === '0' || v === 'false' || v === 'no') return false
  throw new BadOption('flags are 1 or 0')
}

function when (name: string, v: unknown): Date | null {
  if (v === undefined || v === '') return null
  if (typeof v !== 'string') throw new BadOption(`${name} is a date or date-time`)
  try {
    return /T/.test(v) ? instant(name, v) : new Date(`${dateOnly(name, v)}T00:00:00Z`)
  } catch {
    throw new BadOption(`${name} must be a date (2026-03-29) or a date-time with an offset (2026-03-29T09:00:00Z)`)
  }
}

export function feedOptions (query: Record<string, unknown>): FeedOptions {
  const opts: FeedOptions = {
    tasks: flag(query.tasks, false),
    busy: flag(query.busy, false),
    prefix: flag(query.prefix, true),
    from: when('from', query.from),
    to: when('to', query.to)
  }
  if (opts.from !== null && opts.to !== null && opts.to <= opts.from) throw new BadOption('to must be after from')
  return opts
}

/** The codings the client takes, best first; identity otherwise. */
export function pickCoding (header: string | undefined): 'br' | 'gzip' | null {
  if (header === undefined || header === '') return null
  const ok = new Set<string>()
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    const q = params.map(p => p.trim()).find(p => p.startsWith('q='))
    if (q !== undefined && Number(q.slice(2)) === 0) continue
    if (name !== undefined) ok.add(name.trim())
  }
  if (ok.has('br')) return 'br'
  if (ok.has('gzip') || ok.has('x-gzip')) return 'gzip'
  return null
}

const SUFFIX = { br: '-br', gzip: '-gz' } as const

/** If-None-Match against the entry: any coding of the same body matches (a weak comparison, RFC 9110 §13.1.2). */
function noneMatch (header: string, tag: string): boolean {
  if (header.trim() === '*') return true
  for (const raw of header.split(',')) {
    const t = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '').replace(/-(br|gz)$/, '')
    if (t === tag) return true
  }
  return false
}

function notModified (request: FastifyRequest, entry: Entry): boolean {
  const inm = request.headers['if-none-match']
  if (inm !== undefined) return noneMatch(inm, entry.tag)
  const ims = request.headers['if-modified-since']
  if (ims === undefined) return false
  const since = Date.parse(ims)
  return !Number.isNaN(since) && entry.lastModified.getTime() <= since
}

const NOT_FOUND = 'Not found\n'

function sendNotFound (reply: FastifyReply) {
  return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(NOT_FOUND)
}

/** Who polled, gathered in memory and written every few seconds. */
class AccessLog {
  readonly #pending = new Map<string, FeedAccess>()
  readonly #flush: (entries: FeedAccess[]) => Promise<void>
  #timer: NodeJS.Timeout | null = null
  #writing: Promise<void> = Promise.resolve()
  readonly #delay: number

  constructor (delayMs: number, flush: (entries: FeedAccess[]) => Promise<void>) {
    this.#delay = delayMs
    this.#flush = flush
  }

  note (feedId: number, userAgent: string): void {
    const key = `${feedId}\n${userAgent}`
    const e = this.#pending.get(key)
    if (e === undefined) this.#pending.set(key, { feedId, userAgent, at: new Date(), fetches: 1 })
    else { e.at = new Date(); e.fetches++ }
    this.#timer ??= setTimeout(() => { void this.flush() }, this.#delay)
    this.#timer.unref?.()
  }

  flush (): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const entries = [...this.#pending.values()]
    this.#pending.clear()
    this.#writing = this.#writing.then(() => this.#flush(entries)).catch(() => { /* telemetry: lost on a database error */ })
    return this.#writing
  }
}

export async function feedRoutes (app: FastifyInstance, k: Kalends, settings = feedSettingsFromEnv()): Promise<FeedCache> {
  const cache = new FeedCache(k.db, { ...settings, busyUidKey: k.secrets.derive('busy-uid') })
  if (!app.hasDecorator('feedCache')) app.decorate('feedCache', cache)
  const perToken = new RateLimiter(settings.perTokenPerMinute)
  const perAddress = new RateLimiter(settings.perAddressPerMinute)
  const access = new AccessLog(settings.accessFlushMs, entries => recordFeedAccess(k.db, entries))
  const pruner = setInterval(() => { perToken.prune(); perAddress.prune() }, 60_000)
  pruner.unref()
  // writes through this process (API, CalDAV) show in the very next poll
  app.addHook('onResponse', async (request, reply) => {
    if (WRITES.has(request.method) && reply.statusCode < 400) cache.written()
  })
  app.addHook('onClose', async () => {
    clearInterval(pruner)
    await access.flush()
  })

  const common = (reply: FastifyReply, entry: Entry, coding: 'br' | 'gzip' | null) => reply
    .header('etag', `"${entry.tag}${coding === null ? '' : SUFFIX[coding]}"`)
    .header('last-modified', entry.lastModified.toUTCString())
    .header('cache-control', 'private, no-cache')
    .header('vary', 'Accept-Encoding')

  app.route({
    method: ['GET', 'HEAD'],
    url: '/feeds/:file',
    exposeHeadRoute: false,
    // the URL holds the secret: keep it out of the request log
    logLevel: 'warn',
    schema: { hide: true },
    handler: async (request, reply) => {
      const wait = perAddress.take(request.ip)
      if (wait > 0) return reply.code(429).header('retry-after', String(wait)).type('text/plain; charset=utf-8').send('Too many requests\n')
      let opts: FeedOptions
      try {
        opts = feedOptions(request.query as Record<string, unknown>)
      } catch (err) {
        if (err instanceof BadOption) return reply.code(400).type('text/plain; charset=utf-8').send(`${err.message}\n`)
        throw err
      }
      const m = SECRET.exec((request.params as { file: string }).file)
      if (m === null) return sendNotFound(reply)
      const tokenHash = sha256(m[1]!)
      const tokenWait = perToken.take(tokenHash)
      if (tokenWait > 0) return reply.code(429).header('retry-after', String(tokenWait)).type('text/plain; charset=utf-8').send('Too many requests\n')
      const r = await cache.resolve(tokenHash)
      if (r.resolved === null) return sendNotFound(reply)
      access.note(r.resolved.feed.id, request.headers['user-agent'] ?? '')
      const entry = await cache.entry({ ...r, resolved: r.resolved }, opts)
      const coding = pickCoding(request.headers['accept-encoding'])
      if (notModified(request, entry)) return common(reply.code(304), entry, coding).send()
      const body = coding === null ? entry.body : await cache.encoded(entry, coding)
      common(reply, entry, coding)
        .header('content-type', 'text/calendar; charset=utf-8')
        .header('content-length', String(body.length))
        .header('content-disposition', 'inline; filename="calendar.ics"')
        .header('x-robots-tag', 'noindex')
        .header('referrer-policy', 'no-referrer')
      if (coding !== null) reply.header('content-encoding', coding)
      // for HEAD, Node's http writes the headers (Content-Length included) and drops the body
      return reply.send(body)
    }
  })
  return cache
}

/**
 * As a Fastify plugin: `app.register(import('./feeds/http.ts'), { k })`. Not
 * encapsulated (what fastify-plugin does), so its onResponse hook sees the
 * writes of the routes registered after it.
 */
export default async function feedsPlugin (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  await feedRoutes(app, opts.k)
}
Object.assign(feedsPlugin, { [Symbol.for('skip-override')]: true })
