import { transact, type Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { DomainError, notFound } from '../domain/errors.ts'
import { typeInOrg } from '../domain/references.ts'
import { dateOnly } from '../domain/values.ts'
import { providerContext, type EngineDeps } from './engine.ts'
import { logSync } from './links.ts'
import { DEFAULT_OPTIONS, optionsOf, parseOptions, type SyncOptions } from './options.ts'
import { pushSentence, pushStatus, type PushState } from './push-health.ts'
import { syncDb, type Connection, type Provider } from './tables.ts'

/**
 * Connections as users and admins see them: state (green/red with reason and
 * time), last success, counts, options, the log. Only the owner (or an admin
 * of the same organisation) reaches a connection; anyone else gets 404.
 */
export type ConnectionView = {
  id: number
  provider: Provider
  account: string
  authKind: Connection['auth_kind']
  state: Connection['state']
  /** green when syncing well, red with the reason when not */
  healthy: boolean
  reason: string | null
  stateAt: Date
  needsReconnect: boolean
  lastSuccessAt: Date | null
  itemsIn: number
  itemsOut: number
  /** push notifications arrive (or the channel was just made): changes come within seconds */
  push: boolean
  /** off (polling only), starting, on, or failing (set up but not arriving) */
  pushState: PushState
  /** why push is failing, when it is */
  pushReason: string | null
  /** how the page says it, e.g. "push not arriving — polling every 5 min: <why>" */
  pushText: string
  options: SyncOptions
  createdAt: Date
}

export function viewOf (c: Connection): ConnectionView {
  const options = optionsOf(c.options)
  const push = pushStatus(c)
  return {
    id: c.id,
    provider: c.provider,
    account: c.account,
    authKind: c.auth_kind,
    state: c.state,
    healthy: c.state === 'ok',
    reason: c.state_reason,
    stateAt: c.state_at,
    needsReconnect: c.auth_failed_at !== null,
    lastSuccessAt: c.last_success_at,
    itemsIn: c.items_in,
    itemsOut: c.items_out,
    push: push.state === 'on' || push.state === 'starting',
    pushState: push.state,
    pushReason: push.reason,
    pushText: pushSentence(push, options.pollMinutes, c.provider),
    options,
    createdAt: c.created_at
  }
}

export async function listConnections (db: Db, user: User): Promise<ConnectionView[]> {
  return (await userConnections(db, user)).map(viewOf)
}

/** The user's own connections as stored, for a page that needs more than the views. */
export async function userConnections (db: Db, user: User): Promise<Connection[]> {
  return syncDb(db).selectFrom('sync_connections').selectAll().where('user_id', '=', user.id).where('disconnected_at', 'is', null).orderBy('id').execute()
}

/** Every connection of the organisation, for the admin page. */
export async function orgConnections (db: Db, admin: User) {
  return syncDb(db).selectFrom('sync_connections').innerJoin('users', 'users.id', 'sync_connections.user_id')
    .selectAll('sync_connections').select(['users.login', 'users.name'])
    .where('users.org_id', '=', admin.org_id).where('sync_connections.disconnected_at', 'is', null).orderBy('sync_connections.id').execute()
}

export async function connectionOf (db: Db, user: User, id: number): Promise<Connection> {
  const c = await syncDb(db).selectFrom('sync_connections').innerJoin('users', 'users.id', 'sync_connections.user_id')
    .selectAll('sync_connections').select('users.org_id')
    .where('sync_connections.id', '=', id).executeTakeFirst()
  if (c === undefined || c.disconnected_at !== null) throw notFound('connection')
  const mine = c.user_id === user.id || (user.role === 'admin' && c.org_id === user.org_id)
  if (!mine) throw notFound('connection')
  const { org_id: _o, ...conn } = c
  return conn
}

/**
 * A connection made (or made again) once the provider accepted the account:
 * a reconnect keeps its links and cursors, clears the refusal and resumes.
 */
/** An access token the provider handed over with the credentials, kept sealed for the first runs. */
export type KeptAccess = { access_sealed: string | null; access_expires_at: Date | null }

/**
 * The new connection, or the user's earlier one to the same account: after a
 * refusal (resuming where it stopped) or a disconnect (with its options and
 * log; its links and cursors went, so both sides are matched again).
 */
export async function saveConnection (db: Db, user: User, provider: Provider, account: string, authKind: Connection['auth_kind'], sealed: string | null, existing: Connection | undefined, access: KeptAccess = { access_sealed: null, access_expires_at: null }) {
  const sdb = syncDb(db)
  if (existing !== undefined) {
    const again = existing.disconnected_at !== null
    const connection = await sdb.updateTable('sync_connections')
      .set({
        credentials_sealed: sealed, ...access, auth_kind: authKind, auth_failed_at: null, disconnected_at: null, state: 'pending', state_at: new Date(),
        state_reason: again ? 'connected again with its earlier settings' : 'reconnected; resuming where it stopped'
      })
      .where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow()
    await logSync(db, existing.id, { direction: 'none', action: 'info', message: again ? `connected again to ${account}; options and log kept` : `reconnected to ${account}` })
    return { connection, reconnected: true }
  }
  const connection = await sdb.insertInto('sync_connections').values({
    user_id: user.id, provider, account, auth_kind: authKind, credentials_sealed: sealed, ...access,
    options: JSON.stringify(DEFAULT_OPTIONS), state_at: new Date(), cursors: JSON.stringify({}), channel: null
  }).returningAll().executeTakeFirstOrThrow()
  await logSync(db, connection.id, { direction: 'none', action: 'info', message: `connected to ${account}` })
  return { connection, reconnected: false }
}

/** What queues sync runs (src/sync/jobs.ts). */
export type SyncQueue = { request (connectionId: number, opts?: { force?: boolean }): Promise<void> }

/**
 * "Sync now", for the pages and the API alike: a run is queued unless the
 * account's access was refused, which a run would skip until the user
 * reconnects (409).
 */
export async function requestSync (db: Db, jobs: SyncQueue, user: User, id: number): Promise<Connection> {
  const conn = await connectionOf(db, user, id)
  if (conn.auth_failed_at !== null) {
    throw new DomainError('conflict', `${conn.provider === 'google' ? 'Google' : conn.provider} no longer accepts this connection’s access. Reconnect it first; then it syncs again.`, { rule: 'reconnect-first' })
  }
  await jobs.request(conn.id, { force: true })
  return conn
}

/** New options, saved (updateOptions) and put to work by a run, for the pages and the API alike. */
export async function saveOptions (db: Db, jobs: SyncQueue, user: User, id: number, input: Record<string, unknown>): Promise<ConnectionView> {
  const updated = await updateOptions(db, user, id, input)
  await jobs.request(updated.id)
  return updated
}

export async function updateOptions (db: Db, user: User, id: number, input: Record<string, unknown>): Promise<ConnectionView> {
  const conn = await connectionOf(db, user, id)
  const before = optionsOf(conn.options)
  const next = parseOptions(input, before)
  // checked now rather than failing every run later: a type of this organisation, for the right kind of item
  if (next.appointmentTypeId !== null && next.appointmentTypeId !== before.appointmentTypeId) await typeInOrg(db, user, next.appointmentTypeId, 'appointment', 'appointmentTypeId')
  if (next.taskTypeId !== null && next.taskTypeId !== before.taskTypeId) await typeInOrg(db, user, next.taskTypeId, 'task', 'taskTypeId')
  const cursors = { ...conn.cursors }
  // another calendar or task list is another collection: start it afresh (links keep duplicates away)
  if (next.calendarId !== before.calendarId) delete cursors.events
  if (next.taskListId !== before.taskListId) delete cursors.tasks
  if (next.appointments && !before.appointments) delete cursors.events
  if (next.tasks && !before.tasks) delete cursors.tasks
  // links point into the old calendar or list: the new one is matched afresh (the old keeps its copies)
  // one transaction: links are never gone while the old calendar or list is still the chosen one
  return transact(db, async tx => {
    const sdb = syncDb(tx)
    if (next.calendarId !== before.calendarId) await sdb.deleteFrom('sync_links').where('connection_id', '=', id).where('item_kind', '=', 'appointment').execute()
    if (next.taskListId !== before.taskListId) await sdb.deleteFrom('sync_links').where('connection_id', '=', id).where('item_kind', '=', 'task').execute()
    const row = await sdb.updateTable('sync_connections')
      .set({ options: JSON.stringify(next), cursors: JSON.stringify(cursors), ...(next.calendarId !== before.calendarId ? { channel: null } : {}) })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await logSync(tx, id, { direction: 'none', action: 'info', message: `options changed by ${user.name}` })
    return viewOf(row)
  })
}

/**
 * "Sync since date" after an outage: what sync knew about items from that
 * date on is forgotten and both sides are matched again, from the remote
 * listing since the date and the CRM's items since the date. Nothing is
 * deleted: an item missing on one side is copied from the other, and hidden
 * CRM ids and deterministic ids keep the rest from being copied twice.
 */
export async function syncSince (db: Db, user: User, id: number, date: unknown): Promise<void> {
  const conn = await connectionOf(db, user, id)
  const since = dateOnly('since', date)
  const from = new Date(`${since}T00:00:00Z`)
  await transact(db, async tx => {
    const sdb = syncDb(tx)
    await sdb.deleteFrom('sync_links').where('connection_id', '=', id).where('item_kind', '=', 'task').execute()
    await sdb.deleteFrom('sync_links').where('connection_id', '=', id).where('item_kind', '=', 'appointment')
      .where('item_id', 'in', eb => eb.selectFrom('appointments').select('id').where(x => x.or([x('span_end', 'is', null), x('span_end', '>=', from)])))
      .execute()
    await sdb.updateTable('sync_connections')
      .set({ cursors: JSON.stringify({ since }), state: 'pending', state_reason: `sync since ${since} requested`, state_at: new Date() })
      .where('id', '=', id).execute()
    await logSync(tx, id, { direction: 'none', action: 'info', message: `${user.name} asked to match everything since ${since} again` })
  })
  if (conn.auth_failed_at !== null) await logSync(db, id, { direction: 'none', action: 'info', message: 'reconnect the account first: its access was refused' })
}

/**
 * Disconnect: the push channel is stopped, the access, the links and the
 * cursors go; nothing is deleted on either side. The connection itself is
 * kept out of sight with its options and log: connecting the same account
 * again (consent.ts) brings them back, and matches the same items by their
 * hidden CRM ids instead of copying them twice.
 */
export async function disconnect (engine: EngineDeps, user: User, id: number, opts: { removeContacts?: boolean; why?: string } = {}): Promise<Connection> {
  const conn = await connectionOf(engine.db, user, id)
  const provider = engine.providers.get(conn.provider)
  // pushed contacts stay in the account unless the user asks for them to go (a failure here stops the disconnect: nothing half done)
  const removed = opts.removeContacts === true && provider?.removeContacts !== undefined && conn.auth_failed_at === null
    ? await provider.removeContacts(conn, providerContext(engine, conn))
    : null
  if (conn.channel !== null && provider?.unwatch !== undefined) {
    await provider.unwatch(conn, providerContext(engine, conn), conn.channel).catch(err => {
      engine.log?.('sync: could not stop the push channel (it expires by itself)', { connection: id, err: (err as Error).message })
    })
  }
  await transact(engine.db, async tx => {
    const sdb = syncDb(tx)
    await sdb.deleteFrom('sync_links').where('connection_id', '=', id).execute()
    await tx.withTables<{ google_contact_links: { connection_id: number } }>().deleteFrom('google_contact_links').where('connection_id', '=', id).execute()
    await sdb.updateTable('sync_connections').set({
      disconnected_at: new Date(), credentials_sealed: null, access_sealed: null, access_expires_at: null, auth_failed_at: null,
      channel: null, cursors: JSON.stringify({}), journal_seq: 0, push_seen_at: null, push_seen_channel: null, push_problem: null, push_problem_at: null,
      state: 'pending', state_reason: opts.why ?? 'disconnected', state_at: new Date()
    }).where('id', '=', id).execute()
    const by = opts.why ?? `disconnected by ${user.name}`
    await logSync(tx, id, { direction: 'none', action: 'info', message: removed === null ? `${by}; nothing deleted on either side` : `disconnected by ${user.name}; the ${removed} contacts pushed to Google were removed from it, nothing else deleted` })
  })
  return conn
}

export async function connectionLog (db: Db, user: User, id: number, limit = 100) {
  return logOf(db, await connectionOf(db, user, id), limit)
}

/** The last lines of the log of a connection already read for its user (connectionOf, userConnections). */
export async function logOf (db: Db, conn: Connection, limit = 100) {
  return syncDb(db).selectFrom('sync_log').selectAll().where('connection_id', '=', conn.id).orderBy('id', 'desc').limit(Math.min(limit, 1000)).execute()
}
