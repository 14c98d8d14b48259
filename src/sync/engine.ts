import type { SecretBox } from '../auth/secrets.ts'
import type { Db } from '../db/connect.ts'
import type { ItemKind, User } from '../db/schema.ts'
import { committedSeq } from '../domain/calendar-objects.ts'
import { contactChangesSince } from '../domain/contacts.ts'
import type { ContactSource } from './contacts-source.ts'
import { applyInbound } from './inbound.ts'
import { linkCount, logSync } from './links.ts'
import { optionsOf, windowOf, type SyncOptions } from './options.ts'
import { NOTICE_MS, providerTitle, recordPushHealth, type PushEvidence } from './push-health.ts'
import { applyInitialOutbound, applyOutbound, initialCandidates, journalCandidates, type Candidate } from './outbound.ts'
import { AuthFailed, CursorExpired, SyncStopped, Transient, type ChangePage, type Provider, type ProviderContext, type RemoteCollection, type RemoteItem, type Window } from './provider.ts'
import { progressRecorder, type ProgressRecorder } from './progress.ts'
import { runContext, type RunContext } from './run-context.ts'
import { syncDb, type Connection } from './tables.ts'

export type EngineDeps = {
  db: Db
  secrets: SecretBox
  providers: Map<string, Provider>
  publicUrl: string
  /** progress lines for the process log */
  log?: (msg: string, fields?: Record<string, unknown>) => void
  /** the CRM contacts a connection's contacts push covers (absent: no contacts store wired, the option does nothing) */
  contacts?: ContactSource
  /** the time push health is judged by (tests move it past the grace periods instead of waiting) */
  now?: () => number
}

export type RunResult = { state: 'ok' | 'error' | 'skipped'; in: number; out: number; rerun: boolean; reason?: string }

/** A run deletes at most this share of linked items from one incremental page without asking. */
const MASS_DELETE = { min: 20, share: 0.5 }

const cursorKey = (kind: ItemKind) => kind === 'task' ? 'tasks' : 'events'

/** The connection's credentials for a provider; what it saves (a rotated token) is what its later calls in the run see. */
export function providerContext (deps: EngineDeps, conn: Connection): ProviderContext {
  const ctx: ProviderContext = {
    credentials: conn.credentials_sealed === null ? null : deps.secrets.open(conn.credentials_sealed),
    async saveCredentials (plain) {
      ctx.credentials = plain
      await syncDb(deps.db).updateTable('sync_connections').set({ credentials_sealed: deps.secrets.seal(plain) }).where('id', '=', conn.id).execute()
    },
    access: conn.access_sealed === null || conn.access_expires_at === null ? null : { token: deps.secrets.open(conn.access_sealed), expiresAt: conn.access_expires_at.getTime() },
    async saveAccess (access) {
      ctx.access = access
      await syncDb(deps.db).updateTable('sync_connections').set({ access_sealed: deps.secrets.seal(access.token), access_expires_at: new Date(access.expiresAt) }).where('id', '=', conn.id).execute()
    }
  }
  return ctx
}

/**
 * One sync run of one connection: remote changes in (per collection), then
 * CRM changes out (from the journal), then the cursors. The job queue makes
 * sure no two runs of a connection overlap, in this process or any other.
 */
export type RunOptions = {
  /** list every collection now, polled ones too (a user's "sync now") */
  force?: boolean
}

export async function syncConnection (deps: EngineDeps, connectionId: number, opts: RunOptions = {}): Promise<RunResult> {
  const sdb = syncDb(deps.db)
  const conn = await sdb.selectFrom('sync_connections').selectAll().where('id', '=', connectionId).executeTakeFirst()
  if (conn === undefined || conn.auth_failed_at !== null || conn.disconnected_at !== null) return { state: 'skipped', in: 0, out: 0, rerun: false }
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', conn.user_id).executeTakeFirst()
  if (user === undefined || user.disabled) return { state: 'skipped', in: 0, out: 0, rerun: false }
  const provider = deps.providers.get(conn.provider)
  if (provider === undefined) return markRed(deps, conn, `the ${conn.provider} integration is not available in this server`)
  const options = optionsOf(conn.options)
  const rc = runContext(deps.db, conn, user, options, deps.publicUrl)
  const progress = progressRecorder(rc)
  try {
    const ctx = providerContext(deps, conn)
    const session = await provider.open(conn, ctx)
    const initial = new Set<ItemKind>()
    const cursors: Record<string, string> = { ...conn.cursors }
    const since = typeof conn.cursors.since === 'string' ? conn.cursors.since : null
    const push: PushEvidence = {}
    for (const coll of session.collections) {
      const key = cursorKey(coll.kind)
      if (cursors[key] === undefined) initial.add(coll.kind)
      const listedAt = Date.parse(cursors[`${key}.listedAt`] ?? '')
      const pollDue = !(Date.now() - listedAt < options.pollMinutes * 60_000 - 5_000)
      if (coll.polled === true && cursors[key] !== undefined && !opts.force && !pollDue) continue
      const listing = deps.now?.() ?? Date.now()
      const pulled = await pullChanges(rc, coll, cursors[key] ?? null, since, Number.isNaN(listedAt) ? null : new Date(listedAt), progress)
      cursors[key] = pulled.cursor
      cursors[`${key}.listedAt`] = new Date().toISOString()
      if (coll.polled !== true) push.unannounced = unannounced(conn.channel, pulled.changedAt, listing) ?? push.unannounced
    }
    delete cursors.since
    let seq = conn.journal_seq
    // where the journal is complete, read before the first pass: anything committing later is in the journal after it
    if (initial.size > 0 && seq === 0) seq = await committedSeq(deps.db)
    const firstPass: { coll: RemoteCollection; candidates: Candidate[] }[] = []
    for (const coll of session.collections) {
      if (initial.has(coll.kind)) firstPass.push({ coll, candidates: await initialCandidates(rc, coll.kind, windowOf(options, new Date(), since)) })
    }
    // every kind's items are counted before the first is written, so "left" falls steadily over the whole pass
    let left = firstPass.reduce((n, p) => n + p.candidates.length, 0)
    if (left > 0) await progress(left, { force: true })
    for (const { coll, candidates } of firstPass) {
      deps.log?.('sync: first pass', { connection: conn.id, kind: coll.kind, items: candidates.length })
      let logged = 0
      const before = left
      await applyInitialOutbound(rc, coll, candidates, async done => {
        left = before - done
        await progress(left)
        if (done - logged < 500) return
        logged = done - (done % 500)
        deps.log?.('sync: first pass progress', { connection: conn.id, kind: coll.kind, done, of: candidates.length })
      })
    }
    const byKind = new Map(session.collections.map(c => [c.kind, c]))
    for (;;) {
      const page = await journalCandidates(rc, seq)
      if (page.candidates.length > 0) await progress(page.candidates.length, { force: true })
      for (const [i, c] of page.candidates.entries()) {
        const coll = byKind.get(c.kind)
        if (coll !== undefined) await applyOutbound(rc, coll, c)
        await progress(page.candidates.length - i - 1)
      }
      seq = page.nextSeq
      if (!page.more) break
    }
    if (options.contacts !== 'off' && provider.pushContacts !== undefined && deps.contacts !== undefined) {
      try {
        await pushContacts(deps, provider, conn, ctx, user, options, cursors, opts)
      } catch (err) {
        // retried (rate limits, outages) or a refused account as for the rest; a refusal of contacts alone leaves calendars and tasks syncing
        if (err instanceof Transient || err instanceof AuthFailed) throw err
        const message = `contacts push stopped: ${(err as Error).message}`
        // said once, not at every run until someone acts
        const last = await syncDb(deps.db).selectFrom('sync_log').select('message').where('connection_id', '=', conn.id).orderBy('id', 'desc').limit(1).executeTakeFirst()
        if (last?.message !== message) await logSync(deps.db, conn.id, { direction: 'out', action: 'error', message })
      }
    }
    const channel = await renewChannel(deps, provider, conn, ctx, push)
    await keepResets(deps.db, conn, session.collections.map(c => cursorKey(c.kind)), cursors)
    await sdb.updateTable('sync_connections').set({
      cursors: JSON.stringify(cursors), journal_seq: seq, state: 'ok', state_reason: null, state_at: new Date(),
      last_success_at: new Date(), items_in: conn.items_in + rc.counts.in, items_out: conn.items_out + rc.counts.out,
      channel: JSON.stringify(channel), progress: null
    }).where('id', '=', conn.id).execute()
    if (provider.watch !== undefined) await recordPushHealth(deps.db, conn, channel, push, options.pollMinutes, deps.now?.() ?? Date.now())
    return { state: 'ok', in: rc.counts.in, out: rc.counts.out, rerun: rc.rerun }
  } catch (err) {
    await saveCounts(deps, conn, rc)
    if (err instanceof AuthFailed) {
      await sdb.updateTable('sync_connections').set({ auth_failed_at: new Date() }).where('id', '=', conn.id).execute()
      return markRed(deps, conn, err.message)
    }
    if (err instanceof SyncStopped) return markRed(deps, conn, err.message)
    if (err instanceof Transient) {
      await sdb.updateTable('sync_connections').set({ state_reason: `retrying: ${err.message}`, state_at: new Date() }).where('id', '=', conn.id).execute()
      throw err
    }
    await markRed(deps, conn, `sync failed: ${(err as Error).message}`)
    throw err
  }
}

/**
 * One way: the CRM's contacts in scope written into the account's contact
 * group, never read back. The contacts journal says when: a contact of the
 * organisation changed since the last push, or (cases scope) anything did
 * (a case gained or lost the user), or the scope changed; the reconciliation
 * interval and "sync now" compare everything anyway. The comparison is by
 * hash against what was written, so an unchanged contact costs no request.
 */
async function pushContacts (deps: EngineDeps, provider: Provider, conn: Connection, ctx: ProviderContext, user: User, options: SyncOptions, cursors: Record<string, string>, opts: RunOptions): Promise<void> {
  if (options.contacts === 'off' || provider.pushContacts === undefined || deps.contacts === undefined) return
  const head = await committedSeq(deps.db)
  const last = Number(cursors['contacts.seq'] ?? -1)
  const pushedAt = Date.parse(cursors['contacts.pushedAt'] ?? '')
  const due = last < 0 || opts.force === true || cursors['contacts.scope'] !== options.contacts ||
    !(Date.now() - pushedAt < options.pollMinutes * 60_000 - 5_000) ||
    (options.contacts === 'cases' ? head > last : (await contactChangesSince(deps.db, user.org_id, last, 1)).length > 0)
  if (!due) return
  const desired = await deps.contacts(deps.db, user, options.contacts)
  cursors['contacts.group'] = await provider.pushContacts(conn, ctx, desired, cursors['contacts.group'] ?? null)
  Object.assign(cursors, { 'contacts.seq': String(head), 'contacts.scope': options.contacts, 'contacts.pushedAt': new Date().toISOString() })
}

/**
 * Push is a hint on top of polling: a channel that cannot be made is logged
 * (recordPushHealth), not fatal. A new channel is stored before the provider
 * asks for it, so that its first notification, which may come before the
 * answer, finds it; if the provider then fails, the previous one is put back.
 */
async function renewChannel (deps: EngineDeps, provider: Provider, conn: Connection, ctx: ProviderContext, push: PushEvidence): Promise<Record<string, unknown> | null> {
  if (provider.watch === undefined) return null
  const store = async (channel: Record<string, unknown> | null) => {
    await syncDb(deps.db).updateTable('sync_connections').set({ channel: JSON.stringify(channel) }).where('id', '=', conn.id).execute()
  }
  try {
    const channel = await provider.watch(conn, ctx, conn.channel, store)
    if (channel !== null && channel.id !== conn.channel?.id) {
      await logSync(deps.db, conn.id, { direction: 'none', action: 'info', message: `push notifications set up; waiting for ${providerTitle(conn.provider)}'s first notification` })
    }
    return channel
  } catch (err) {
    await store(conn.channel)
    if (err instanceof AuthFailed) throw err
    push.refused = (err as Error).message
    return conn.channel
  }
}

/** The latest change a listing brought that the connection's channel lived through, long enough before the listing to have been announced. */
function unannounced (channel: Record<string, unknown> | null, changedAt: Date[], listing: number): Date | undefined {
  const made = typeof channel?.since === 'number' ? channel.since : null
  if (made === null) return undefined
  const due = changedAt.filter(d => d.getTime() > made && d.getTime() < listing - NOTICE_MS)
  return due.length === 0 ? undefined : new Date(Math.max(...due.map(d => d.getTime())))
}

/**
 * Stops the run instead of deleting when the remote side looks wiped: a full
 * listing with nothing live while items in its window are linked, or one page
 * deleting most linked items. Only deletions of linked items count: tombstones
 * of our own removals and of items never synced (Tasks lists every deletion of
 * the last minutes again) would stop the sync for nothing.
 */
async function guardMassDelete (rc: RunContext, coll: RemoteCollection, page: ChangePage, w: Window): Promise<void> {
  const what = coll.kind === 'task' ? 'task list' : 'calendar'
  if (page.full && !page.items.some(i => !i.deleted) && (await linkCount(rc.db, rc.conn.id, coll.kind, w)) > 0) {
    const linked = await linkCount(rc.db, rc.conn.id, coll.kind)
    throw new SyncStopped(`the external ${what} came back empty while ${linked} items are linked; sync stopped so nothing is deleted (check the account and calendar; "sync since date" copies the CRM's items back)`)
  }
  const gone = page.items.filter(i => i.deleted).map(i => i.remoteId)
  if (page.full || gone.length < MASS_DELETE.min) return
  const deletions = Number((await syncDb(rc.db).selectFrom('sync_links').select(eb => eb.fn.countAll<number>().as('n'))
    .where('connection_id', '=', rc.conn.id).where('item_kind', '=', coll.kind).where('remote_id', 'in', gone).executeTakeFirstOrThrow()).n)
  if (deletions < MASS_DELETE.min) return
  const linked = await linkCount(rc.db, rc.conn.id, coll.kind)
  if (deletions > linked * MASS_DELETE.share) {
    throw new SyncStopped(`${deletions} of ${linked} linked items were deleted outside at once; sync stopped so the CRM keeps them ("sync since date" copies them back; deleting them in the CRM too is a CRM action)`)
  }
}

/**
 * A full listing that names every live item (ChangePage.live) shows a
 * deletion made while the cursor was lost only as an absence: each linked
 * item missing from it is read once more and, when it is gone, deleted like a
 * listed deletion. Many at once stop the sync, as guardMassDelete does.
 */
async function absences (rc: RunContext, coll: RemoteCollection, live: string[], listed: RemoteItem[]): Promise<RemoteItem[]> {
  const seen = new Set([...live, ...listed.map(i => i.remoteId)])
  const links = await syncDb(rc.db).selectFrom('sync_links').select('remote_id')
    .where('connection_id', '=', rc.conn.id).where('item_kind', '=', coll.kind).where('remote_id', 'is not', null).execute()
  const gone: RemoteItem[] = []
  for (const { remote_id: id } of links) {
    if (id === null || seen.has(id)) continue
    const item = await coll.get(id)
    if (item === null || item.deleted) gone.push(tombstone(id))
  }
  if (gone.length >= MASS_DELETE.min && gone.length > links.length * MASS_DELETE.share) {
    throw new SyncStopped(`${gone.length} of ${links.length} linked items are missing from the external ${coll.kind === 'task' ? 'task list' : 'calendar'}; sync stopped so the CRM keeps them ("sync since date" copies them back; deleting them in the CRM too is a CRM action)`)
  }
  return gone
}

/**
 * For a collection whose listings fold changes (RemoteCollection.netListing):
 * the items linked since the last listing (our own writes after its cursor
 * was taken) that this listing does not name are read once more; those gone
 * were deleted outside before their creation was ever listed.
 */
async function unlisted (rc: RunContext, coll: RemoteCollection, listed: RemoteItem[], since: Date): Promise<RemoteItem[]> {
  const seen = new Set(listed.map(i => i.remoteId))
  const links = await syncDb(rc.db).selectFrom('sync_links').select('remote_id')
    .where('connection_id', '=', rc.conn.id).where('item_kind', '=', coll.kind).where('remote_id', 'is not', null).where('updated_at', '>', since).execute()
  const gone: RemoteItem[] = []
  for (const { remote_id: id } of links) {
    if (id === null || seen.has(id)) continue
    const item = await coll.get(id)
    if (item === null || item.deleted) gone.push(tombstone(id))
  }
  return gone
}

const tombstone = (remoteId: string): RemoteItem => ({ remoteId, etag: null, deleted: true, data: null, ref: null, uid: null, attendees: [], updated: null })

/** Applies the remote changes since the cursor; returns the next cursor and when the listed items were changed. */
async function pullChanges (rc: RunContext, coll: RemoteCollection, cursor: string | null, since: string | null, listedBefore: Date | null, progress: ProgressRecorder): Promise<{ cursor: string; changedAt: Date[] }> {
  const w = windowOf(rc.options, new Date(), since)
  let page
  try {
    page = await coll.changes(cursor, w)
  } catch (err) {
    if (!(err instanceof CursorExpired)) throw err
    await logSync(rc.db, rc.conn.id, { direction: 'none', action: 'info', kind: coll.kind, message: 'the external sync token expired; listing everything again (links prevent duplicates)' })
    page = await coll.changes(null, w)
  }
  await guardMassDelete(rc, coll, page, w)
  const absent = page.full && page.live !== undefined
    ? await absences(rc, coll, page.live, page.items)
    : coll.netListing === true && !page.full && listedBefore !== null ? await unlisted(rc, coll, page.items, listedBefore) : []
  const incoming = [...page.items, ...absent]
  if (incoming.length > 0) await progress(incoming.length, { force: true })
  for (const [i, item] of incoming.entries()) {
    await applyInbound(rc, coll, item)
    await progress(incoming.length - i - 1)
  }
  return { cursor: page.cursor, changedAt: page.items.flatMap(i => i.updated === null ? [] : [i.updated]) }
}

/** What a run that stopped did, and its progress figure gone (a retry writes its own). */
async function saveCounts (deps: EngineDeps, conn: Connection, rc: RunContext): Promise<void> {
  await syncDb(deps.db).updateTable('sync_connections')
    .set({ items_in: conn.items_in + rc.counts.in, items_out: conn.items_out + rc.counts.out, progress: null })
    .where('id', '=', conn.id).execute()
}

async function markRed (deps: EngineDeps, conn: Connection, reason: string): Promise<RunResult> {
  await syncDb(deps.db).updateTable('sync_connections').set({ state: 'error', state_reason: reason, state_at: new Date() }).where('id', '=', conn.id).execute()
  await logSync(deps.db, conn.id, { direction: 'none', action: 'error', message: reason })
  deps.log?.('sync: connection failed', { connection: conn.id, reason })
  return { state: 'error', in: 0, out: 0, rerun: false, reason }
}

/**
 * A notification may forget a connection's listing cursors while a run runs
 * (Graph's `missed` lifecycle event: changes may be lost, list afresh); it
 * stamps cursors.resetAt. The run's cursors were listed before that, so they
 * do not overwrite the reset: the next run lists from the start.
 */
async function keepResets (db: Db, conn: Connection, keys: string[], cursors: Record<string, string>): Promise<void> {
  const stored = await syncDb(db).selectFrom('sync_connections').select('cursors').where('id', '=', conn.id).executeTakeFirst()
  const resetAt = stored?.cursors.resetAt
  if (resetAt === undefined || resetAt === conn.cursors.resetAt) return
  for (const key of keys) { delete cursors[key]; delete cursors[`${key}.listedAt`] }
  cursors.resetAt = resetAt
}
