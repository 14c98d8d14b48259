import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { providerContext, type EngineDeps } from './engine.ts'
import { logSync } from './links.ts'
import { AuthFailed, ChannelLost, type ChannelEvents } from './provider.ts'
import { syncDb, type Connection } from './tables.ts'

/**
 * The notification channels a worker holds open (providers with `listen`:
 * Exchange's streaming subscriptions). Each worker process looks every
 * TICK_MS for connections with such a channel; it listens on one only while
 * it holds the connection's lease (sync_connections.push_lease_owner/until),
 * which it renews on every tick, so across processes one stream per
 * connection is open, and a worker that dies is replaced once its lease runs
 * out — the heartbeat rule the job queue applies to runs (jobs.ts).
 *
 * A stream that ends is opened again at once; one that fails waits, longer
 * each time up to a minute. When the server has forgotten the channel, it is
 * cleared and a run is asked for, which makes a new one (engine.ts
 * renewChannel). A message marks push as arriving (push-health.ts); a change
 * asks for a run of that connection only.
 */
export const LEASE_MS = 30_000
const TICK_MS = 1000
const MAX_RETRY_MS = 60_000

type Held = { channelId: string; abort: AbortController; done: Promise<void> }

export class PushListeners {
  readonly owner = `${process.pid}-${randomUUID()}`
  readonly #deps: EngineDeps
  readonly #request: (connectionId: number) => Promise<void>
  readonly #held = new Map<number, Held>()
  #timer: NodeJS.Timeout | null = null
  #ticking = false

  constructor (deps: EngineDeps, request: (connectionId: number) => Promise<void>) {
    this.#deps = deps
    this.#request = request
  }

  start (): void {
    if (this.#timer !== null) return
    this.#timer = setInterval(() => { void this.tick() }, TICK_MS)
    this.#timer.unref()
    void this.tick()
  }

  /** The connections this process listens on now. */
  held (): number[] {
    return [...this.#held.keys()]
  }

  async tick (): Promise<void> {
    if (this.#ticking) return
    this.#ticking = true
    try {
      const listening = [...this.#deps.providers.values()].filter(p => p.listen !== undefined).map(p => p.name)
      if (listening.length === 0) return
      const sdb = syncDb(this.#deps.db)
      const wanted = await sdb.selectFrom('sync_connections').selectAll()
        .where('provider', 'in', listening).where('channel', 'is not', null)
        .where('disconnected_at', 'is', null).where('auth_failed_at', 'is', null)
        .execute()
      const byId = new Map(wanted.filter(c => typeof c.channel?.id === 'string').map(c => [c.id, c]))
      for (const [id, held] of this.#held) {
        if (byId.get(id)?.channel?.id !== held.channelId) await this.#drop(id)
      }
      for (const conn of byId.values()) {
        // taken, kept: the lease is ours for LEASE_MS more, or it is another live worker's
        const leased = await sdb.updateTable('sync_connections')
          .set({ push_lease_owner: this.owner, push_lease_until: sql<Date>`now() + ${`${LEASE_MS} milliseconds`}::interval` })
          .where('id', '=', conn.id)
          .where(eb => eb.or([eb('push_lease_owner', 'is', null), eb('push_lease_owner', '=', this.owner), eb('push_lease_until', '<', sql<Date>`now()`)]))
          .returning('id').executeTakeFirst()
        if (leased === undefined) {
          if (this.#held.has(conn.id)) await this.#drop(conn.id, false)
        } else if (!this.#held.has(conn.id)) {
          this.#listen(conn)
        }
      }
    } catch (err) {
      this.#deps.log?.('sync: push listeners failed to look', { err: (err as Error).message })
    } finally {
      this.#ticking = false
    }
  }

  #listen (conn: Connection): void {
    const provider = this.#deps.providers.get(conn.provider)
    const channel = conn.channel
    if (provider?.listen === undefined || channel === null) return
    const channelId = String(channel.id)
    const abort = new AbortController()
    const sdb = syncDb(this.#deps.db)
    const on: ChannelEvents = {
      alive: async () => {
        await sdb.updateTable('sync_connections').set({ push_seen_at: new Date(), push_seen_channel: channelId }).where('id', '=', conn.id).execute()
      },
      changed: async () => { await this.#request(conn.id) }
    }
    const loop = async () => {
      for (let failures = 0; !abort.signal.aborted;) {
        try {
          const opened = Date.now()
          await provider.listen!(conn, providerContext(this.#deps, conn), channel, abort.signal, on)
          failures = 0
          // a server that ends every connection at once is not asked again in a tight loop
          if (Date.now() - opened < 1000) await new Promise(resolve => setTimeout(resolve, 1000))
        } catch (err) {
          if (abort.signal.aborted) return
          if (err instanceof ChannelLost) {
            await this.#lost(conn, channelId, err.message)
            return
          }
          // a refused login: the next run turns the connection red, and the listener stops with it
          if (err instanceof AuthFailed) await this.#request(conn.id)
          failures++
          this.#deps.log?.('sync: push stream failed', { connection: conn.id, failures, err: (err as Error).message })
          const wait = Math.min(MAX_RETRY_MS, 1000 * 2 ** (failures - 1))
          await new Promise(resolve => { const t = setTimeout(resolve, wait); abort.signal.addEventListener('abort', () => { clearTimeout(t); resolve(undefined) }, { once: true }) })
        }
      }
    }
    const held: Held = { channelId, abort, done: Promise.resolve() }
    held.done = loop().catch(err => { this.#deps.log?.('sync: push listener stopped', { connection: conn.id, err: (err as Error).message }) })
      .finally(() => { if (this.#held.get(conn.id) === held) this.#held.delete(conn.id) })
    this.#held.set(conn.id, held)
  }

  /** The server forgot the channel: clear it (unless a run replaced it meanwhile) and ask for a run, which makes a new one. */
  async #lost (conn: Connection, channelId: string, why: string): Promise<void> {
    const cleared = await syncDb(this.#deps.db).updateTable('sync_connections').set({ channel: null })
      .where('id', '=', conn.id).where(eb => eb(eb.ref('channel', '->>').key('id' as never), '=', channelId))
      .returning('id').executeTakeFirst()
    if (cleared !== undefined) await logSync(this.#deps.db, conn.id, { direction: 'none', action: 'info', message: `${why}; a new one is made` })
    await this.#request(conn.id)
  }

  async #drop (id: number, release = true): Promise<void> {
    const held = this.#held.get(id)
    if (held === undefined) return
    this.#held.delete(id)
    held.abort.abort()
    await held.done
    if (release) {
      await syncDb(this.#deps.db).updateTable('sync_connections').set({ push_lease_owner: null, push_lease_until: null })
        .where('id', '=', id).where('push_lease_owner', '=', this.owner).execute()
    }
  }

  /** Closes every stream and gives the leases back, so another worker takes over at once. */
  async stop (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    while (this.#ticking) await new Promise(resolve => setTimeout(resolve, 20))
    await Promise.all([...this.#held.keys()].map(id => this.#drop(id).catch(() => {})))
  }
}
