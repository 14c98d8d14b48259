import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { DbHandle } from './connect.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
// any constant works; it only has to be the same in every process
const MIGRATION_LOCK = 4_711_001

export type MigrationReport = { applied: string[]; alreadyApplied: number }

/**
 * Applies the pending migrations/*.sql in name order, each with its record in
 * one transaction, under an advisory lock so that processes starting together
 * take turns instead of colliding.
 */
export async function migrate (handle: DbHandle, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const files = readdirSync(dir).filter(f => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
  return handle.session(async query => {
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
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
    } finally {
      await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
    }
  })
}
