import { transact } from '../db/connect.ts'
import type { ItemKind } from '../db/schema.ts'
import { committedSeq } from '../domain/calendar-objects.ts'
import { crmItem, inWindow, involvedItem, takesPart, type CrmItem } from './crm-side.ts'
import { hashOf } from './items.ts'
import { dropLink, linkByItem, linkWritten, logSync, markUnfinished, saveLink, unfinishedWrite } from './links.ts'
import type { Link } from './tables.ts'
import { RemoteConflict, Transient, Unrepresentable, type RemoteCollection, type RemoteItem, type Window } from './provider.ts'
import type { RunContext } from './run-context.ts'
import { syncDb } from './tables.ts'

export type Candidate = { kind: ItemKind; id: number }

/**
 * Brings one CRM item's remote copy in line: created, updated, or removed when
 * the user no longer takes part in it (deleted, left, reassigned). Skipped
 * when the CRM side hashes the same as when it was last synced.
 */
export async function applyOutbound (rc: RunContext, coll: RemoteCollection, c: Candidate): Promise<void> {
  const { db, conn, user } = rc
  const row = await involvedItem(db, user, c.kind, c.id)
  const link = await linkByItem(db, conn.id, c.kind, c.id)
  if (row === null) {
    if (link === undefined) return
    if (link.remote_id !== null) await coll.remove(link.remote_id, link.remote_etag)
    await transact(db, async tx => {
      await dropLink(tx, conn.id, c.kind, c.id)
      await logSync(tx, conn.id, { direction: 'out', action: 'deleted', kind: c.kind, itemId: c.id, remoteId: link.remote_id, message: `removed from the external calendar (deleted, left or reassigned in the CRM)` })
    })
    rc.counts.out++
    return
  }
  const crm = await crmItem(db, user, c.kind, row, rc.options, rc.publicUrl)
  // the same hash without a remote id: a version the provider could not hold (Unrepresentable), already logged
  if (link !== undefined && link.crm_hash === crm.hash) return
  try {
    await writeOut(rc, coll, c, row.title, crm, link)
  } catch (err) {
    if (!(err instanceof Unrepresentable)) throw err
    await transact(db, async tx => {
      await saveLink(tx, conn.id, c.kind, c.id, { remote_id: link?.remote_id ?? null, remote_etag: link?.remote_etag ?? null, written_hash: link?.written_hash ?? null, crm_hash: crm.hash })
      await logSync(tx, conn.id, { direction: 'out', action: 'error', kind: c.kind, itemId: c.id, remoteId: link?.remote_id ?? null, message: `"${row.title}" kept in the CRM only, as it is: ${err.message}` })
    })
  }
}

/** How many new items a first pass hands to a collection's createMany at once (Graph's $batch takes 20). */
const CREATE_GROUP = 20

/**
 * The first pass: items never linked go out in groups through the
 * collection's createMany when it has one; everything else (series, meetings
 * with participants, items linked before) one by one as applyOutbound does.
 * Each group's links are stored empty first, as writeOut does, so a crash
 * leaves the next run looking for the copies instead of making them twice.
 */
export async function applyInitialOutbound (rc: RunContext, coll: RemoteCollection, candidates: Candidate[], progress: (done: number) => void | Promise<void> = () => {}): Promise<void> {
  const { db, conn, user } = rc
  const size = coll.createMany === undefined ? 1 : CREATE_GROUP
  for (let at = 0; at < candidates.length; at += size) {
    const group = candidates.slice(at, at + size)
    const fresh: { c: Candidate; title: string; crm: CrmItem }[] = []
    for (const c of group) {
      if (coll.createMany === undefined) break
      const row = await involvedItem(db, user, c.kind, c.id)
      if (row === null || (await linkByItem(db, conn.id, c.kind, c.id)) !== undefined) continue
      if (c.kind === 'appointment' && ((row as { rrule?: string | null }).rrule != null || (await db.selectFrom('appointment_participants').select('user_id').where('appointment_id', '=', c.id).executeTakeFirst()) !== undefined)) continue
      fresh.push({ c, title: row.title, crm: await crmItem(db, user, c.kind, row, rc.options, rc.publicUrl) })
    }
    if (fresh.length > 0 && coll.createMany !== undefined) {
      for (const f of fresh) await saveLink(db, conn.id, f.c.kind, f.c.id, { remote_id: null, remote_etag: null, written_hash: null, crm_hash: null })
      const made = await coll.createMany(fresh.map(f => ({ data: f.crm.data, ref: f.crm.ref, extras: f.crm.extras })))
      let failure: Error | null = null
      for (const [i, f] of fresh.entries()) {
        const result = made[i]
        if (result instanceof Unrepresentable) {
          await transact(db, async tx => {
            await saveLink(tx, conn.id, f.c.kind, f.c.id, { remote_id: null, remote_etag: null, written_hash: null, crm_hash: f.crm.hash })
            await logSync(tx, conn.id, { direction: 'out', action: 'error', kind: f.c.kind, itemId: f.c.id, remoteId: null, message: `"${f.title}" kept in the CRM only, as it is: ${result.message}` })
          })
        } else if (result === undefined || result instanceof Error) {
          failure ??= result ?? new Transient('no answer for a created item')
        } else {
          await transact(db, async tx => {
            await linkWritten(tx, conn.id, f.c.kind, f.c.id, result, f.crm.hash)
            await logSync(tx, conn.id, { direction: 'out', action: 'created', kind: f.c.kind, itemId: f.c.id, remoteId: result.remoteId, message: `"${f.title}" created in the external calendar` })
          })
          rc.counts.out++
        }
      }
      if (failure !== null) throw failure
    }
    const batched = new Set(fresh.map(f => f.c.id))
    for (const c of group) if (!batched.has(c.id)) await applyOutbound(rc, coll, c)
    await progress(Math.min(at + size, candidates.length))
  }
}

async function writeOut (rc: RunContext, coll: RemoteCollection, c: Candidate, title: string, crm: CrmItem, link: Link | undefined): Promise<void> {
  const { db, conn } = rc
  if (link === undefined || link.remote_id === null) {
    // a pending link first: if the process dies mid-create, the retry knows to look before creating again
    if (link === undefined) await saveLink(db, conn.id, c.kind, c.id, { remote_id: null, remote_etag: null, written_hash: null, crm_hash: null })
    const created = await coll.create(crm.data, crm.ref, crm.extras, {
      lookupUid: c.kind === 'appointment' && (await db.selectFrom('appointment_participants').select('user_id').where('appointment_id', '=', c.id).executeTakeFirst()) !== undefined,
      mayExist: link !== undefined
    })
    await transact(db, async tx => {
      await linkWritten(tx, conn.id, c.kind, c.id, created, crm.hash)
      await logSync(tx, conn.id, { direction: 'out', action: 'created', kind: c.kind, itemId: c.id, remoteId: created.remoteId, message: `"${title}" created in the external calendar` })
    })
    rc.counts.out++
    return
  }
  const remoteId = link.remote_id
  if ('rrule' in crm.data && crm.data.rrule !== null) await markUnfinished(db, link)
  let written
  try {
    written = await coll.update(remoteId, link.remote_etag, crm.data, crm.ref, crm.extras)
  } catch (err) {
    if (!(err instanceof RemoteConflict)) throw err
    const remote = await coll.get(remoteId)
    if (remote === null || remote.deleted) {
      // deleted outside while changed in the CRM: the deletion is applied by the next inbound pass
      await saveLink(db, conn.id, c.kind, c.id, { ...link, remote_etag: null })
      rc.rerun = true
      return
    }
    // newer outside, unless it is our own write that did not finish
    if (remote.data !== null && hashOf(remote.data) !== link.written_hash && !unfinishedWrite(link) && remote.updated !== null && remote.updated > crm.updatedAt) {
      await saveLink(db, conn.id, c.kind, c.id, link) // refused before anything was written: not unfinished
      rc.rerun = true // the external edit is newer: inbound takes it next
      return
    }
    written = await writeCrmVersion(coll, remoteId, remote.etag, crm)
  }
  const kept = keptCancellations(crm.data, written)
  // remembered as the CRM's version, not as read back: the next inbound pass sees the difference and takes the cancellation
  if (kept) rc.rerun = true
  await transact(db, async tx => {
    await linkWritten(tx, conn.id, c.kind, c.id, kept ? { ...written, data: crm.data } : written, crm.hash)
    await logSync(tx, conn.id, { direction: 'out', action: 'updated', kind: c.kind, itemId: c.id, remoteId, message: `"${title}" updated in the external calendar` })
  })
  rc.counts.out++
}

/**
 * Whether the series as written still has deleted occurrences the CRM's
 * version has not: Exchange and Outlook cannot bring back a deleted
 * occurrence short of a new pattern, so one deleted there while the CRM
 * edited something else of the series stays deleted (google+graph seed
 * 4243, kg39). The CRM then takes it, instead of the two sides staying apart.
 */
function keptCancellations (crm: CrmItem['data'], written: RemoteItem): boolean {
  if (!('rrule' in crm) || crm.rrule === null || written.data === null || !('exdates' in written.data)) return false
  const key = (x: string) => x.length === 10 ? x : String(Date.parse(x))
  const have = new Set(crm.exdates.map(key))
  return written.data.exdates.some(x => !have.has(key(x)))
}

/**
 * Writes the CRM's version over the remote item last seen with `etag`; on a
 * stale etag once more against the fresh item; a third writer winning that
 * race too sends the whole run to be retried later.
 */
export async function writeCrmVersion (coll: RemoteCollection, remoteId: string, etag: string | null, crm: CrmItem): Promise<RemoteItem> {
  try {
    return await coll.update(remoteId, etag, crm.data, crm.ref, crm.extras)
  } catch (err) {
    if (!(err instanceof RemoteConflict)) throw err
    const fresh = await coll.get(remoteId)
    if (fresh === null || fresh.deleted) throw err
    try {
      return await coll.update(remoteId, fresh.etag, crm.data, crm.ref, crm.extras)
    } catch (again) {
      if (again instanceof RemoteConflict) throw new Transient(`the external item ${remoteId} keeps changing; will retry`)
      throw again
    }
  }
}

/** Every item of the kind this user takes part in, within the first sync's window. */
export async function initialCandidates (rc: RunContext, kind: ItemKind, w: Window): Promise<Candidate[]> {
  const { db, user } = rc
  if (kind === 'task') {
    let q = db.selectFrom('tasks').select('id').where('assignee_id', '=', user.id)
    if (w.from !== null) {
      const from = w.from
      q = q.where(eb => eb.or([eb('status', '!=', 'done'), eb('updated_at', '>=', from), eb('due_at', '>=', from)]))
    }
    if (w.to !== null) q = q.where(eb => eb.or([eb('due_at', 'is', null), eb('due_at', '<=', w.to as Date)]))
    return (await q.orderBy('id').execute()).map(r => ({ kind, id: r.id }))
  }
  const rows = await db.selectFrom('appointments').select('id').where(takesPart(user.id)).where(inWindow(w)).orderBy('id').execute()
  return rows.map(r => ({ kind, id: r.id }))
}

/**
 * Items changed in the journal after `seq` by anyone but this connection, up
 * to the journal's committed horizon (the one CalDAV sync tokens use): a
 * transaction that took a lower number and has not committed yet is never
 * skipped. Re-reading an item is harmless (hashes).
 */
export async function journalCandidates (rc: RunContext, seq: number, limit = 2000): Promise<{ candidates: Candidate[]; nextSeq: number; more: boolean }> {
  const horizon = await committedSeq(rc.db)
  const rows = await rc.db.selectFrom('changes').select(['seq', 'entity', 'entity_id', 'origin'])
    .where('org_id', '=', rc.user.org_id).where('seq', '>', seq).where('seq', '<=', horizon).where('entity', 'in', ['appointment', 'task'])
    .orderBy('seq').limit(limit).execute()
  const more = rows.length === limit
  const seen = new Set<string>()
  const candidates: Candidate[] = []
  for (const r of rows) {
    if (r.origin === rc.actor.origin) continue
    const key = `${r.entity}:${r.entity_id}`
    if (seen.has(key)) continue
    seen.add(key)
    candidates.push({ kind: r.entity as ItemKind, id: r.entity_id })
  }
  return { candidates: await concerning(rc, candidates), nextSeq: more ? rows.at(-1)!.seq : Math.max(seq, horizon), more }
}

/**
 * Of the organisation's changed items, the ones this connection has to look
 * at: the user's own (owner, participant, assignee) and those it holds a link
 * to (deleted, left, reassigned). Three queries a page instead of three an
 * item: another user's bulk import no longer costs every connection a pass.
 */
async function concerning (rc: RunContext, candidates: Candidate[]): Promise<Candidate[]> {
  if (candidates.length === 0) return candidates
  const ids = (kind: ItemKind) => candidates.filter(c => c.kind === kind).map(c => c.id)
  const keep = new Set<string>()
  const appointments = ids('appointment')
  if (appointments.length > 0) {
    const mine = await rc.db.selectFrom('appointments').select('id').where('id', 'in', appointments).where(takesPart(rc.user.id)).execute()
    for (const r of mine) keep.add(`appointment:${Number(r.id)}`)
  }
  const tasks = ids('task')
  if (tasks.length > 0) {
    for (const r of await rc.db.selectFrom('tasks').select('id').where('id', 'in', tasks).where('assignee_id', '=', rc.user.id).execute()) keep.add(`task:${Number(r.id)}`)
  }
  const linked = await syncDb(rc.db).selectFrom('sync_links').select(['item_kind', 'item_id'])
    .where('connection_id', '=', rc.conn.id).where('item_id', 'in', candidates.map(c => c.id)).execute()
  for (const l of linked) keep.add(`${l.item_kind}:${Number(l.item_id)}`)
  return candidates.filter(c => keep.has(`${c.kind}:${c.id}`))
}
