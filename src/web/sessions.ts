import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { ColumnType, Kysely } from 'kysely'
import type { Db } from '../db/connect.ts'
import type { Database, User } from '../db/schema.ts'
import { sha256 } from '../auth/api-tokens.ts'

/**
 * Web sessions (migrations/0003_sessions.sql). The cookie value is 256 random
 * bits; the database keeps its SHA-256, so several processes share sessions
 * and the table alone signs nobody in. A new id is made at every sign-in, so
 * an id planted before it (session fixation) never becomes a session.
 */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface WebSessionsTable {
  id_sha256: string
  user_id: number
  csrf_token: string
  created_at: Stamp
  last_seen_at: Stamp
  expires_at: Stamp
}

type SessionDb = Kysely<Database & { web_sessions: WebSessionsTable }>
const sessionDb = (db: Db): SessionDb => db.withTables<{ web_sessions: WebSessionsTable }>() as unknown as SessionDb

export type Session = { idHash: string; user: User; csrf: string }

/** Idle sessions end after 12 hours, every session after 7 days. */
export const IDLE_MS = 12 * 3600_000
export const MAX_MS = 7 * 24 * 3600_000

const token = () => randomBytes(32).toString('base64url')

export async function createSession (db: Db, user: User): Promise<{ id: string; csrf: string }> {
  const id = token()
  const csrf = token()
  const now = Date.now()
  await sessionDb(db).insertInto('web_sessions').values({
    id_sha256: sha256(id), user_id: user.id, csrf_token: csrf, expires_at: new Date(now + MAX_MS)
  }).execute()
  // now and then, clear out what has run out
  if (Math.random() < 0.05) await sessionDb(db).deleteFrom('web_sessions').where('expires_at', '<', new Date(now)).execute()
  return { id, csrf }
}

/** The session a cookie value names, when it is live and its user may still sign in. */
export async function findSession (db: Db, id: string | undefined): Promise<Session | null> {
  if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null
  const sdb = sessionDb(db)
  const idHash = sha256(id)
  const row = await sdb.selectFrom('web_sessions').innerJoin('users', 'users.id', 'web_sessions.user_id')
    .selectAll('users').select(['web_sessions.csrf_token', 'web_sessions.last_seen_at', 'web_sessions.expires_at'])
    .where('web_sessions.id_sha256', '=', idHash).executeTakeFirst()
  if (row === undefined) return null
  const { csrf_token: csrf, last_seen_at: lastSeen, expires_at: expires, ...user } = row
  const now = Date.now()
  if (user.disabled || expires.getTime() <= now || lastSeen.getTime() + IDLE_MS <= now) {
    await sdb.deleteFrom('web_sessions').where('id_sha256', '=', idHash).execute()
    return null
  }
  if (now - lastSeen.getTime() > 60_000) await sdb.updateTable('web_sessions').set({ last_seen_at: new Date(now) }).where('id_sha256', '=', idHash).execute()
  return { idHash, user: user as User, csrf }
}

export async function destroySession (db: Db, idHash: string): Promise<void> {
  await sessionDb(db).deleteFrom('web_sessions').where('id_sha256', '=', idHash).execute()
}

/** Signs a user out everywhere (but `except`, a session's id hash): after a password change or when an admin disables them. */
export async function destroySessionsOf (db: Db, userId: number, opts: { except?: string } = {}): Promise<void> {
  let q = sessionDb(db).deleteFrom('web_sessions').where('user_id', '=', userId)
  if (opts.except !== undefined) q = q.where('id_sha256', '!=', opts.except)
  await q.execute()
}

export function sameToken (a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

export const newToken = token
