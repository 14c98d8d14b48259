import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql, type Transaction } from 'kysely'
import type { DbHandle, RawQuery } from './connect.ts'
import type { Database } from './schema.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
// any constant works; it only has to be the same in every process
const START_LOCK = 4_711_001

export type MigrationReport = { applied: string[]; alreadyApplied: number }

/** Runs fn on one connection that holds the start lock meanwhile: processes starting together take turns. */
function holdingStartLock<T> (handle: DbHandle, fn: (query: RawQuery) => Promise<T>): Promise<T> {
  return handle.session(async query => {
    await query('SELECT pg_advisory_lock($1)', [START_LOCK])
    try {
      return await fn(query)
    } finally {
      await query('SELECT pg_advisory_unlock($1)', [START_LOCK])
    }
  })
}

/**
 * Applies the pending migrations/*.sql in name order, each with its record in
 * one transaction, under the start lock so that processes starting together
 * take turns instead of colliding.
 */
export async function migrate (handle: DbHandle, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const files = readdirSync(dir).filter(f => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
  return holdingStartLock(handle, async query => {
    await query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    const done = new Set((await query('SELECT name FROM schema_migrations')).map(r => String(r.name)))
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file)) continue
      const script = readFileSync(`${dir}/${file}`, 'utf8')
      await query('BEGIN')
      try {
        await query(script)
        await query('INSERT INTO schema_migrations (name) VALUES ($1)', [file])
        await query('COMMIT')
      } catch (err) {
        await query('ROLLBACK')
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(file)
    }
    return { applied, alreadyApplied: done.size }
  })
}

/**
 * Runs fn, which works through the handle's other connections, while this
 * process holds the start lock: first-start work beside the migrations (the
 * job queue creating or upgrading its own tables) that two processes must not
 * do at once. An embedded database is open in one process only
 * (data-dir-lock.ts) and has one connection, which fn needs: there it just runs.
 */
export async function inStartTurn<T> (handle: DbHandle, fn: () => Promise<T>): Promise<T> {
  if (handle.kind === 'pglite') return fn()
  return holdingStartLock(handle, () => fn())
}

/** Takes the start lock until tx ends, for first-start writes made in one transaction (the first administrator). */
export async function takeStartTurn (tx: Transaction<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${START_LOCK})`.execute(tx)
}
