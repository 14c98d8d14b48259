import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import type { Actor } from '../domain/actor.ts'
import type { SyncOptions } from './options.ts'
import { RemoteConflict, Transient, type RemoteCollection, type RemoteItem } from './provider.ts'
import type { Connection } from './tables.ts'

/** What one run of one connection works with. */
export type RunContext = {
  db: Db
  conn: Connection
  user: User
  /** every write of this run is journalled with origin google:<connection id> */
  actor: Actor
  options: SyncOptions
  publicUrl: string
  counts: { in: number; out: number }
  /** something is left for another pass (e.g. an external edit newer than ours) */
  rerun: boolean
  /** runs a conditional write; on a stale etag, once more against the fresh remote item */
  retryConflict (write: (etag?: string | null) => Promise<RemoteItem>, coll: RemoteCollection, remoteId: string): Promise<RemoteItem>
}

export function runContext (db: Db, conn: Connection, user: User, options: SyncOptions, publicUrl: string): RunContext {
  return {
    db,
    conn,
    user,
    actor: { user, origin: `${conn.provider}:${conn.id}` as Actor['origin'] },
    options,
    publicUrl,
    counts: { in: 0, out: 0 },
    rerun: false,
    async retryConflict (write, coll, remoteId) {
      try {
        return await write()
      } catch (err) {
        if (!(err instanceof RemoteConflict)) throw err
        const fresh = await coll.get(remoteId)
        if (fresh === null || fresh.deleted) throw err
        try {
          return await write(fresh.etag)
        } catch (again) {
          // a third writer keeps winning the race: try the whole run later
          if (again instanceof RemoteConflict) throw new Transient(`the external item ${remoteId} keeps changing; will retry`)
          throw again
        }
      }
    }
  }
}
