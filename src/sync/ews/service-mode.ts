import { sql } from 'kysely'
import type { Db } from '../../db/connect.ts'
import type { User } from '../../db/schema.ts'
import { disconnect, saveConnection, type SyncQueue } from '../connections.ts'
import type { EngineDeps } from '../engine.ts'
import { logSync } from '../links.ts'
import { AuthFailed, Transient } from '../provider.ts'
import { syncDb, type Connection } from '../tables.ts'
import { EwsMailboxRefused } from './client.ts'
import { openCalendar } from './connect.ts'
import { loadExchangeIntegration, type ExchangeIntegration } from './integration.ts'
import { clientFor, ewsUrlFor, type ExchangeDeps } from './provider.ts'

/**
 * Service-account mode as the organisation sees it: every active user with
 * an e-mail address has an Exchange connection through the service account
 * (auth_kind 'delegation'), made and scheduled without asking them. A
 * rollout brings the connections in line with the users and the set-up:
 * it makes the missing ones, tries each mailbox through impersonation (a
 * mailbox that does not exist or may not be impersonated goes red with
 * that reason, the others are queued), and stops those of users disabled,
 * without an address any more, or of an organisation that left the mode.
 * A user's own-login connection is left alone. Its progress is kept in the
 * integration's settings for the admin's card.
 */
export type RolloutStatus = {
  state: 'running' | 'done' | 'failed'
  /** mailboxes to go through, how many were, how many were opened, how many refused */
  total: number
  done: number
  on: number
  refused: number
  stopped: number
  reason: string | null
  startedAt: string
  finishedAt: string | null
}

export type RolloutDeps = { engine: EngineDeps; exchange: ExchangeDeps; jobs: SyncQueue }

/** Items between two writes of the status: a big organisation costs dozens of updates, never one a user. */
const STEP = 10

export const serviceModeOn = (x: ExchangeIntegration | null): x is ExchangeIntegration & { serviceAccount: NonNullable<ExchangeIntegration['serviceAccount']> } =>
  x !== null && x.enabled && x.mode === 'service' && x.serviceAccount !== null

export async function rolloutStatus (db: Db, orgId: number): Promise<RolloutStatus | null> {
  const row = await syncDb(db).selectFrom('integrations').select('settings').where('org_id', '=', orgId).where('provider', '=', 'exchange').executeTakeFirst()
  return (row?.settings as { rollout?: RolloutStatus } | undefined)?.rollout ?? null
}

async function recordStatus (db: Db, orgId: number, status: RolloutStatus): Promise<void> {
  await syncDb(db).updateTable('integrations')
    .set({ settings: sql`settings || jsonb_build_object('rollout', ${JSON.stringify(status)}::jsonb)` })
    .where('org_id', '=', orgId).where('provider', '=', 'exchange').execute()
}

const stopWhy = (reason: string) => `stopped: ${reason}`

/** The red a refused mailbox shows until the next rollout or the admin's fix, as a run's refusal would. */
async function markRefused (deps: RolloutDeps, conn: Connection, reason: string): Promise<void> {
  await syncDb(deps.engine.db).updateTable('sync_connections')
    .set({ auth_failed_at: new Date(), state: 'error', state_reason: reason, state_at: new Date() })
    .where('id', '=', conn.id).execute()
  await logSync(deps.engine.db, conn.id, { direction: 'none', action: 'error', message: reason })
}

/**
 * Brings the organisation's service-account connections in line; `only`
 * limits it to some users (those whose record changed). Returns the final
 * status (also stored, with progress on the way, for a full rollout).
 */
export async function rollOut (deps: RolloutDeps, orgId: number, only?: readonly number[]): Promise<RolloutStatus> {
  const db = deps.engine.db
  const integration = await loadExchangeIntegration(db, deps.exchange.secrets, orgId)
  const full = only === undefined
  let users = await db.selectFrom('users').selectAll().where('org_id', '=', orgId).orderBy('id').execute() as User[]
  if (!full) users = users.filter(u => only.includes(Number(u.id)))
  const ids = users.map(u => u.id)
  const conns = ids.length === 0
    ? []
    : await syncDb(db).selectFrom('sync_connections').selectAll().where('provider', '=', 'exchange').where('user_id', 'in', ids).orderBy('id').execute()
  const on = serviceModeOn(integration)
  const wanted = on ? users.filter(u => !u.disabled && (u.email ?? '').includes('@')) : []
  const status: RolloutStatus = { state: 'running', total: wanted.length, done: 0, on: 0, refused: 0, stopped: 0, reason: null, startedAt: new Date().toISOString(), finishedAt: null }
  const progress = async (force = false) => {
    if (!full) return
    if (force || status.done % STEP === 0) {
      await recordStatus(db, orgId, status)
      deps.engine.log?.('exchange: service-account rollout', { org: orgId, ...status })
    }
  }
  await progress(true)

  // stopped first: the users no longer wanted, or an organisation out of the mode
  const wantedAccount = new Map(wanted.map(u => [u.id, u.email!.trim().toLowerCase()]))
  const why = !on ? 'the organisation no longer syncs mailboxes through an Exchange service account' : null
  for (const c of conns) {
    if (c.auth_kind !== 'delegation' || c.disconnected_at !== null) continue
    if (wantedAccount.get(c.user_id) === c.account.toLowerCase()) continue
    const owner = users.find(u => u.id === c.user_id)!
    const reason = why ?? (owner.disabled ? 'the user was disabled' : 'the user\'s e-mail address changed or was removed')
    await disconnect(deps.engine, owner, c.id, { why: stopWhy(reason) })
    status.stopped++
  }

  let loginRefused: string | null = null
  for (const user of wanted) {
    const account = wantedAccount.get(user.id)!
    const mine = conns.filter(c => c.user_id === user.id && c.account.toLowerCase() === account)
    const own = mine.find(c => c.disconnected_at === null && c.auth_kind !== 'delegation')
    if (own !== undefined) {
      // the user connected with their own login: theirs to keep
      status.done++
      status.on++
      await progress()
      continue
    }
    const existing = mine[0]
    let conn: Connection
    if (existing === undefined || existing.disconnected_at !== null || existing.auth_kind !== 'delegation') {
      conn = (await saveConnection(db, user, 'exchange', account, 'delegation', null, existing)).connection
    } else if (existing.auth_failed_at !== null || full) {
      // tried again: the admin may have fixed the right or the account since
      conn = await syncDb(db).updateTable('sync_connections').set({ auth_failed_at: null, ...(existing.auth_failed_at === null ? {} : { state: 'pending', state_reason: 'tried again with the organisation\'s Exchange set-up', state_at: new Date() }) })
        .where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow()
    } else {
      conn = existing
    }
    if (loginRefused !== null) {
      await markRefused(deps, conn, loginRefused)
      status.refused++
    } else {
      try {
        await openCalendar(clientFor(deps.exchange, await ewsUrlFor(deps.exchange, integration!, account, null), account, null))
        status.on++
        await deps.jobs.request(conn.id)
      } catch (err) {
        if (err instanceof EwsMailboxRefused) {
          await markRefused(deps, conn, (err as Error).message)
          status.refused++
        } else if (err instanceof AuthFailed) {
          // the service account's own login: every mailbox would say the same
          loginRefused = `Exchange refused the service account's login: ${(err as Error).message}`
          status.reason = loginRefused
          await markRefused(deps, conn, loginRefused)
          status.refused++
        } else {
          // unreachable for now: the run retries it as for any connection
          if (!(err instanceof Transient)) deps.engine.log?.('exchange: rollout could not try a mailbox', { account, err: (err as Error).message })
          await deps.jobs.request(conn.id)
        }
      }
    }
    status.done++
    await progress()
  }
  status.state = loginRefused === null ? 'done' : 'failed'
  status.finishedAt = new Date().toISOString()
  await progress(true)
  return status
}

/** One rollout of an organisation at a time in this process; a request during one runs once more after it. */
export class Rollouts {
  readonly #running = new Map<number, Promise<RolloutStatus | null>>()
  readonly #deps: RolloutDeps

  constructor (deps: RolloutDeps) {
    this.#deps = deps
  }

  /** Starts a full rollout (after the admin saved the set-up); resolves when it has finished. */
  start (orgId: number): Promise<RolloutStatus | null> {
    const before = this.#running.get(orgId) ?? Promise.resolve(null)
    const next = before.catch(() => null).then(() => rollOut(this.#deps, orgId)).catch(err => {
      this.#deps.engine.log?.('exchange: service-account rollout failed', { org: orgId, err: (err as Error).message })
      return null
    })
    this.#running.set(orgId, next)
    void next.finally(() => { if (this.#running.get(orgId) === next) this.#running.delete(orgId) })
    return next
  }

  /** Users created or changed (the journal's 'user' changes): their connections only, in organisations in the mode. */
  async usersChanged (changes: readonly { orgId: number; userId: number }[]): Promise<void> {
    const byOrg = new Map<number, number[]>()
    for (const c of changes) byOrg.set(c.orgId, [...byOrg.get(c.orgId) ?? [], c.userId])
    for (const [orgId, userIds] of byOrg) {
      const x = await loadExchangeIntegration(this.#deps.engine.db, this.#deps.exchange.secrets, orgId)
      if (x === null) continue
      await (this.#running.get(orgId) ?? Promise.resolve()).catch(() => {})
      await rollOut(this.#deps, orgId, userIds)
    }
  }
}
