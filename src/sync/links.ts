import type { ItemKind } from '../db/schema.ts'
import type { Db } from '../db/connect.ts'
import { inWindow } from './crm-side.ts'
import { hashOf } from './items.ts'
import type { RemoteItem, Window } from './provider.ts'
import { syncDb, type Link, type LogAction } from './tables.ts'

export async function linkByItem (db: Db, connectionId: number, kind: ItemKind, itemId: number): Promise<Link | undefined> {
  return syncDb(db).selectFrom('sync_links').selectAll()
    .where('connection_id', '=', connectionId).where('item_kind', '=', kind).where('item_id', '=', itemId).executeTakeFirst()
}

export async function linkByRemote (db: Db, connectionId: number, kind: ItemKind, remoteId: string): Promise<Link | undefined> {
  return syncDb(db).selectFrom('sync_links').selectAll()
    .where('connection_id', '=', connectionId).where('item_kind', '=', kind).where('remote_id', '=', remoteId).executeTakeFirst()
}

export type LinkValues = Pick<Link, 'remote_id' | 'remote_etag' | 'written_hash' | 'crm_hash'>

/**
 * A series is written in steps: its master, then its deleted and edited
 * occurrences; and a new pattern or start makes Exchange drop the old ones
 * first (MS-OXOCAL 3.1.4.7.3.5). A run that fails between the steps leaves a
 * half-written copy that looks like a newer external edit, which the next
 * run would take into the CRM, losing its exceptions. While such a write is
 * under way the link's written_hash says so (the hash before it, prefixed):
 * the next run writes the CRM's version again instead.
 */
const UNFINISHED = 'unfinished:'

export const unfinishedWrite = (link: Pick<Link, 'written_hash'>): boolean => link.written_hash?.startsWith(UNFINISHED) === true

export async function markUnfinished (db: Db, link: Link): Promise<void> {
  if (unfinishedWrite(link)) return
  await saveLink(db, link.connection_id, link.item_kind, link.item_id, { remote_id: link.remote_id, remote_etag: link.remote_etag, written_hash: `${UNFINISHED}${link.written_hash ?? ''}`, crm_hash: link.crm_hash })
}

export async function saveLink (db: Db, connectionId: number, kind: ItemKind, itemId: number, v: LinkValues): Promise<Link> {
  return syncDb(db).insertInto('sync_links')
    .values({ connection_id: connectionId, item_kind: kind, item_id: itemId, ...v, updated_at: new Date() })
    .onConflict(oc => oc.columns(['connection_id', 'item_kind', 'item_id']).doUpdateSet({ ...v, updated_at: new Date() }))
    .returningAll().executeTakeFirstOrThrow()
}

/** After a write to the remote side: the link remembers what was written (its etag and hash) and the CRM state it came from. */
export async function linkWritten (db: Db, connectionId: number, kind: ItemKind, itemId: number, written: RemoteItem, crmHash: string): Promise<void> {
  await saveLink(db, connectionId, kind, itemId, { remote_id: written.remoteId, remote_etag: written.etag, written_hash: written.data === null ? null : hashOf(written.data), crm_hash: crmHash })
}

export async function dropLink (db: Db, connectionId: number, kind: ItemKind, itemId: number): Promise<void> {
  await syncDb(db).deleteFrom('sync_links')
    .where('connection_id', '=', connectionId).where('item_kind', '=', kind).where('item_id', '=', itemId).execute()
}

/** Linked items of a kind; with a window, only appointments that touch it (tasks have no span). */
export async function linkCount (db: Db, connectionId: number, kind: ItemKind, w?: Window): Promise<number> {
  let q = syncDb(db).selectFrom('sync_links').where('connection_id', '=', connectionId).where('item_kind', '=', kind)
    .where('remote_id', 'is not', null)
  if (w !== undefined && kind === 'appointment' && (w.from !== null || w.to !== null)) {
    q = q.where('item_id', 'in', eb => eb.selectFrom('appointments').select('id').where(inWindow(w)))
  }
  const row = await q.select(eb => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

export type LogEntry = {
  direction: 'in' | 'out' | 'none'
  action: LogAction
  kind?: ItemKind
  itemId?: number | null
  remoteId?: string | null
  message: string
}

/** One line of the connection's log: what was created, changed, deleted or reverted, and why. */
export async function logSync (db: Db, connectionId: number, e: LogEntry): Promise<void> {
  await syncDb(db).insertInto('sync_log').values({
    connection_id: connectionId, at: new Date(), direction: e.direction, action: e.action,
    item_kind: e.kind ?? null, item_id: e.itemId ?? null, remote_id: e.remoteId ?? null, message: e.message.slice(0, 2000)
  }).execute()
}
