import { sql } from 'kysely'
import { PgBoss } from 'pg-boss'
import type { DbHandle } from '../db/connect.ts'
import { inStartTurn } from '../db/migrate.ts'
import { committedSeq } from '../domain/calendar-objects.ts'
import { syncConnection, type EngineDeps } from './engine.ts'
import { PushListeners } from './listeners.ts'
import { DEFAULT_OPTIONS } from './options.ts'
import { syncDb } from './tables.ts'

const QUEUE = 'kalends-sync'

export type SyncJobsOptions = {
  /** sync runs this process works on at once; 0 = only enqueue (another process works) */
  concurrency: number
}

/** How often a process looks at the journal and the reconciliation schedule. */
const TICK_MS = 1000

/**
 * Sync work goes through pg-boss, so every app and worker process, on any
 * machine, coordinates through PostgreSQL alone. The queue's "stately" policy
 * keyed by connection allows one queued and one active job per connection:
 * two processes never sync the same connection at once, and a burst of
 * triggers collapses into one more run. Retries back off exponentially with
 * jitter; a worker that dies stops its heartbeat and the job is retried.
 */
export class SyncJobs {
  readonly #handle: DbHandle
  readonly #deps: EngineDeps
  readonly #opts: SyncJobsOptions
  #boss: PgBoss | null = null
  #starting: Promise<PgBoss> | null = null
  #timer: NodeJS.Timeout | null = null
  #seenSeq = -1
  #ticking = false
  /** the notification streams this process holds (workers only) */
  readonly listeners: PushListeners
  /** told of users created or changed (the journal's 'user' changes), for connections made without asking them (ews/service-mode.ts) */
  usersChanged: ((changes: { orgId: number; userId: number }[]) => Promise<void>) | null = null

  constructor (handle: DbHandle, deps: EngineDeps, opts: SyncJobsOptions) {
    this.#handle = handle
    this.#deps = deps
    this.#opts = opts
    this.listeners = new PushListeners(deps, async id => { await this.request(id) })
  }

  /** Starts the queue (creating its tables on first use) and, with concurrency > 0, the workers. */
  async start (): Promise<PgBoss> {
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start (): Promise<PgBoss> {
    const boss = new PgBoss({
      db: this.#handle,
      schema: 'pgboss',
      ...(this.#handle.kind === 'pglite' ? { backend: 'pglite' as const } : {}),
      superviseIntervalSeconds: 5,
      monitorIntervalSeconds: 10
    })
    boss.on('error', err => this.#deps.log?.('sync: job queue error', { err: err.message }))
    // Servers and workers starting together on an empty database collided
    // creating pg-boss's schema (duplicate key in pg_namespace) in spite of
    // its own install lock: they take the turn the migrations take (issue 17)
    await inStartTurn(this.#handle, async () => {
      await boss.start()
      await boss.createQueue(QUEUE, {
        policy: 'stately',
        retryLimit: 10,
        retryDelay: 5,
        retryBackoff: true,
        retryDelayMax: 900,
        heartbeatSeconds: 10,
        expireInSeconds: 3600
      }).catch(async err => {
        if (!/already exists/i.test((err as Error).message)) throw err
      })
    })
    this.#boss = boss
    if (this.#opts.concurrency > 0) {
      await boss.work<{ connectionId: number; force?: boolean }>(QUEUE, { localConcurrency: this.#opts.concurrency, pollingIntervalSeconds: 0.5, batchSize: 1 }, async jobs => {
        for (const job of jobs) {
          const result = await syncConnection(this.#deps, job.data.connectionId, { force: job.data.force === true })
          this.#deps.log?.('sync: run finished', { connection: job.data.connectionId, ...result })
          if (result.rerun) await this.request(job.data.connectionId)
        }
      })
      this.#timer = setInterval(() => { void this.tick() }, TICK_MS)
      this.#timer.unref()
      this.listeners.start()
    }
    return boss
  }

  /**
   * Asks for a run of the connection soon; a run already waiting absorbs the
   * request. force: list polled collections too (a user's "sync now").
   */
  async request (connectionId: number, opts: { force?: boolean } = {}): Promise<void> {
    const boss = await this.start()
    await boss.send(QUEUE, { connectionId, ...(opts.force === true ? { force: true } : {}) }, { singletonKey: String(connectionId) })
  }

  /**
   * What makes runs happen without a push: journal changes touching a
   * connection's user, and the reconciliation poll when a connection has not
   * run for its interval. Every process may do this; the queue dedupes.
   */
  async tick (): Promise<void> {
    if (this.#ticking) return
    this.#ticking = true
    try {
      const db = this.#handle.db
      const sdb = syncDb(db)
      const head = await committedSeq(db)
      const due = new Set<number>()
      if (this.#seenSeq < 0) {
        // from where the laggiest connection stopped: changes made while no worker ran count too
        const low = await sdb.selectFrom('sync_connections').select(eb => eb.fn.min('journal_seq').as('seq')).where('disconnected_at', 'is', null).executeTakeFirst()
        this.#seenSeq = low?.seq == null ? head : Number(low.seq)
      }
      if (head > this.#seenSeq) {
        const since = this.#seenSeq
        // a connection's own writes do not call for another run of it (a run asks for a follow-up itself when it needs one)
        const notOwn = sql<boolean>`changes.origin IS DISTINCT FROM sync_connections.provider || ':' || sync_connections.id`
        const touched = await sdb.selectFrom('sync_connections').select('sync_connections.id')
          .where('auth_failed_at', 'is', null).where('disconnected_at', 'is', null)
          .where(eb => eb.or([
            eb('user_id', 'in', eb.selectFrom('changes').innerJoin('appointments', 'appointments.id', 'changes.entity_id').select('appointments.owner_id').where('changes.seq', '>', since).where('changes.seq', '<=', head).where('changes.entity', '=', 'appointment').where(notOwn)),
            eb('user_id', 'in', eb.selectFrom('changes').innerJoin('appointment_participants', 'appointment_participants.appointment_id', 'changes.entity_id').select('appointment_participants.user_id').where('changes.seq', '>', since).where('changes.seq', '<=', head).where('changes.entity', '=', 'appointment').where(notOwn)),
            eb('user_id', 'in', eb.selectFrom('changes').innerJoin('tasks', 'tasks.id', 'changes.entity_id').select('tasks.assignee_id').where('changes.seq', '>', since).where('changes.seq', '<=', head).where('changes.entity', '=', 'task').where(notOwn)),
            // deleted, left or reassigned: the connections that hold a link to it
            eb('sync_connections.id', 'in', eb.selectFrom('changes').innerJoin('sync_links', join => join.onRef('sync_links.item_id', '=', 'changes.entity_id').onRef('sync_links.item_kind', '=', 'changes.entity')).select('sync_links.connection_id').where('changes.seq', '>', since).where('changes.seq', '<=', head).where(notOwn)),
            // a contact changed: every connection pushing contacts compares its copies (the run writes only what differs)
            eb.and([
              sql<boolean>`sync_connections.options->>'contacts' IN ('company', 'cases')`,
              eb.exists(eb.selectFrom('changes').innerJoin('users', 'users.org_id', 'changes.org_id').select('changes.seq')
                .whereRef('users.id', '=', 'sync_connections.user_id').where('changes.seq', '>', since).where('changes.seq', '<=', head).where('changes.entity', '=', 'contact'))
            ])
          ]))
          .execute()
        for (const c of touched) due.add(c.id)
        if (this.usersChanged !== null) {
          const users = await db.selectFrom('changes').select(['org_id', 'entity_id']).distinct()
            .where('entity', '=', 'user').where('seq', '>', since).where('seq', '<=', head).execute()
          if (users.length > 0) await this.usersChanged(users.map(u => ({ orgId: Number(u.org_id), userId: Number(u.entity_id) })))
        }
      }
      this.#seenSeq = head
      // the reconciliation poll: pending ones, and those whose last success (or failure) is older than their interval
      const polled = await sdb.selectFrom('sync_connections').select('id')
        .where('auth_failed_at', 'is', null).where('disconnected_at', 'is', null)
        .where(sql<boolean>`state = 'pending' OR greatest(coalesce(last_success_at, 'epoch'), CASE WHEN state = 'error' THEN state_at ELSE 'epoch' END)
          <= now() - coalesce((options->>'pollMinutes')::int, ${DEFAULT_OPTIONS.pollMinutes}) * interval '1 minute'`)
        .execute()
      for (const c of polled) due.add(c.id)
      for (const id of due) await this.request(id)
    } catch (err) {
      this.#deps.log?.('sync: scheduling failed', { err: (err as Error).message })
    } finally {
      this.#ticking = false
    }
  }

  async stop (): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    await this.listeners.stop()
    if (this.#starting === null) return
    const boss = await this.#starting.catch(() => null)
    await boss?.stop({ graceful: true, timeout: 20_000 })
  }
}
