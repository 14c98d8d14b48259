import { createHash } from 'node:crypto'
import { brotliCompress, constants as zlib, gzip } from 'node:zlib'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import type { Db } from '../db/connect.ts'
import { resolveFeed, type ResolvedFeed } from '../domain/feeds.ts'
import { loadObjects, renderFeed, type FeedOptions, type FeedSettings } from './render.ts'

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

/**
 * Rendered feeds kept in memory, keyed by (feed, options, what the feed's
 * calendars look like in the change journal). A poll costs one indexed query
 * — the journal's newest sequence number — and while it stands still every
 * answer comes from memory. When it moves, the feed is re-resolved (secret,
 * user, access, export switches, per-calendar journal positions) and is
 * rendered again only if its own calendars changed.
 */

export type Entry = {
  body: Buffer
  /** hash of the body: the strong validator, the same in every process */
  tag: string
  lastModified: Date
  encoded: { br?: Promise<Buffer>; gzip?: Promise<Buffer> }
  bytes: number
  /** still counted in the cache's size */
  live: boolean
}

type Resolution = {
  seq: number
  checkedAt: number
  resolved: ResolvedFeed | null
  /** what the content depends on besides the options */
  key: string
  lastModified: Date
}

export type CacheSettings = FeedSettings & {
  /** re-resolve at least this often even when the journal head stands still (ms) */
  recheckMs: number
  /** reuse a journal head read this recently (ms); 0 reads it for every request */
  headTtlMs: number
  maxBytes: number
}

/**
 * Reads the journal head: at most one query at a time (callers that come while
 * one runs share the next), and a value read less than `ttlMs` ago is reused.
 * Writes through this process call invalidate(), so they show at once; those
 * of other processes within ttlMs.
 */
class HeadReader {
  readonly #query: () => Promise<number>
  readonly #ttlMs: number
  #inFlight: Promise<number> | null = null
  #queued: Promise<number> | null = null
  #last: { seq: number; startedAt: number } | null = null
  /** a query that started before this may have missed a write: its answer is not kept */
  #invalidatedAt = -Infinity

  constructor (query: () => Promise<number>, ttlMs: number) {
    this.#query = query
    this.#ttlMs = ttlMs
  }

  read (): Promise<number> {
    if (this.#last !== null && performance.now() - this.#last.startedAt < this.#ttlMs) return Promise.resolve(this.#last.seq)
    if (this.#inFlight === null) return this.#start()
    // a query already running may have started before this caller's request: wait for a fresh one
    this.#queued ??= this.#inFlight.catch(() => 0).then(() => {
      this.#queued = null
      return this.#start()
    })
    return this.#queued
  }

  invalidate (): void {
    this.#last = null
    this.#invalidatedAt = performance.now()
  }

  #start (): Promise<number> {
    const startedAt = performance.now()
    const p = this.#query().then(seq => {
      if (startedAt > this.#invalidatedAt && (this.#last === null || this.#last.startedAt < startedAt)) this.#last = { seq, startedAt }
      return seq
    }).finally(() => { if (this.#inFlight === p) this.#inFlight = null })
    this.#inFlight = p
    return p
  }
}

const hash = (s: string | Buffer) => createHash('sha256').update(s).digest('base64url')

export class FeedCache {
  readonly #db: Db
  readonly #settings: CacheSettings
  readonly #head: HeadReader
  readonly #resolutions = new Map<string, Resolution>()
  readonly #resolving = new Map<string, Promise<Resolution>>()
  readonly #entries = new Map<string, Entry>()
  readonly #rendering = new Map<string, Promise<Entry>>()
  /** the entry key last stored per feed and options, to drop superseded renders */
  readonly #latest = new Map<string, string>()
  #bytes = 0
  /** counters, for tests and metrics: feeds rendered, journal-head queries, re-resolutions */
  renders = 0
  headQueries = 0
  resolutions = 0

  constructor (db: Db, settings: CacheSettings) {
    this.#db = db
    this.#settings = settings
    this.#head = new HeadReader(async () => {
      this.headQueries++
      const { rows } = await sql<{ seq: number | null }>`SELECT max(seq) AS seq FROM changes`.execute(db)
      return Number(rows[0]?.seq ?? 0)
    }, settings.headTtlMs)
  }

  /** Something was written through this process: the next poll reads the journal head again. */
  written (): void {
    this.#head.invalidate()
  }

  /** The feed behind a secret's hash as of now, or null when the link shows nothing. */
  async resolve (tokenHash: string): Promise<Resolution> {
    const seq = await this.#head.read()
    const known = this.#resolutions.get(tokenHash)
    if (known !== undefined && known.seq === seq && Date.now() - known.checkedAt < this.#settings.recheckMs) return known
    const running = this.#resolving.get(tokenHash)
    if (running !== undefined) return running
    const p = this.#resolveNow(tokenHash, seq, known).finally(() => this.#resolving.delete(tokenHash))
    this.#resolving.set(tokenHash, p)
    return p
  }

  async #resolveNow (tokenHash: string, seq: number, before: Resolution | undefined): Promise<Resolution> {
    this.resolutions++
    const resolved = await resolveFeed(this.#db, tokenHash)
    let key = ''
    let lastModified = new Date(0)
    if (resolved !== null) {
      const ids = resolved.calendars.map(c => c.id)
      // per calendar: newest change, and how many (a late commit with a lower seq still moves the count)
      const positions = ids.length === 0 ? [] : (await sql<{ calendar_id: number; n: number; top: number; at: Date }>`
        SELECT x.calendar_id, x.n, x.top, c.at FROM (
          SELECT calendar_id, count(*) AS n, max(seq) AS top FROM changes
          WHERE calendar_id IN (${sql.join(ids)}) GROUP BY calendar_id
        ) x JOIN changes c ON c.seq = x.top ORDER BY x.calendar_id`.execute(this.#db)).rows
      const { feed, user, calendars } = resolved
      key = hash(JSON.stringify([
        feed.id, feed.scope, feed.busy_only, feed.name, user.id, user.name, user.timezone,
        calendars.map(c => [c.id, c.name, c.description, c.color, c.timezone]),
        positions.map(p => [p.calendar_id, Number(p.n), Number(p.top)])
      ]))
      const times = [feed.rotated_at ?? feed.created_at, ...positions.map(p => new Date(p.at))]
      // a change of which calendars a favourites feed shows leaves no journal time of its own: take the time it was seen
      if (before !== undefined && before.resolved !== null && before.key !== key) times.push(new Date())
      if (before !== undefined && before.key === key) times.push(before.lastModified)
      lastModified = new Date(Math.floor(Math.max(...times.map(t => t.getTime())) / 1000) * 1000)
    }
    const r: Resolution = { seq, checkedAt: Date.now(), resolved, key, lastModified }
    if (this.#resolutions.size >= 50_000) this.#resolutions.delete(this.#resolutions.keys().next().value!)
    this.#resolutions.delete(tokenHash)
    this.#resolutions.set(tokenHash, r)
    return r
  }

  /** The rendered feed for a resolution and options, from memory when it is there. */
  async entry (r: Resolution & { resolved: ResolvedFeed }, opts: FeedOptions): Promise<Entry> {
    const optKey = `${r.resolved.feed.id}|${Number(opts.tasks)}${Number(opts.busy)}${Number(opts.prefix)}|${opts.from?.getTime() ?? ''}|${opts.to?.getTime() ?? ''}`
    const key = `${optKey}|${r.key}`
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit
    }
    const running = this.#rendering.get(key)
    if (running !== undefined) return running
    const p = this.#render(r, opts).then(entry => {
      this.#store(optKey, key, entry, r.lastModified)
      // nearly every subscribing client asks for gzip: have it ready (on the zlib thread pool)
      this.encoded(entry, 'gzip').catch(() => {})
      return entry
    }).finally(() => this.#rendering.delete(key))
    this.#rendering.set(key, p)
    return p
  }

  async #render (r: Resolution & { resolved: ResolvedFeed }, opts: FeedOptions): Promise<Entry> {
    const rows = await loadObjects(this.#db, r.resolved.calendars.map(c => c.id), opts)
    const { body: text } = renderFeed(r.resolved, rows, opts, this.#settings)
    this.renders++
    const body = Buffer.from(text, 'utf8')
    return { body, tag: hash(body).slice(0, 32), lastModified: r.lastModified, encoded: {}, bytes: body.length, live: false }
  }

  #store (optKey: string, key: string, entry: Entry, lastModified: Date): void {
    entry.lastModified = lastModified
    const previous = this.#latest.get(optKey)
    if (previous !== undefined && previous !== key) this.#drop(previous)
    this.#latest.set(optKey, key)
    this.#entries.set(key, entry)
    entry.live = true
    this.#bytes += entry.bytes
    while (this.#bytes > this.#settings.maxBytes && this.#entries.size > 1) this.#drop(this.#entries.keys().next().value!)
  }

  #drop (key: string): void {
    const e = this.#entries.get(key)
    if (e === undefined) return
    this.#entries.delete(key)
    e.live = false
    this.#bytes -= e.bytes
  }

  /** The body compressed once per entry, on first demand. */
  encoded (entry: Entry, coding: 'br' | 'gzip'): Promise<Buffer> {
    let p = entry.encoded[coding]
    if (p === undefined) {
      p = coding === 'br'
        ? brotliAsync(entry.body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: entry.body.length } })
        : gzipAsync(entry.body, { level: 6 })
      p.then(b => {
        entry.bytes += b.length
        if (entry.live) this.#bytes += b.length
      }, () => { delete entry.encoded[coding] })
      entry.encoded[coding] = p
    }
    return p
  }
}
