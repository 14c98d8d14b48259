import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import type { Actor } from '../domain/actor.ts'
import type { SyncOptions } from './options.ts'
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
    rerun: false
  }
}
