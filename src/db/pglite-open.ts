import { PGlite } from '@electric-sql/pglite'

/** A date column is a calendar day: it stays 'YYYY-MM-DD' (as schema.ts declares it), never a Date at midnight. */
export const DATE_OID = 1082

/**
 * Opens (or creates) the embedded database in dir, in memory without one: the
 * one place that says how, for the main thread and the worker alike.
 */
export function openLite (dir: string | undefined): Promise<PGlite> {
  // PostgreSQL's default 128 MB of shared buffers lives inside PGlite's WASM
  // memory on top of the OS page cache: 32 MB keeps an idle server near 300 MB
  return PGlite.create(dir, { postgresqlconf: ['shared_buffers = 32MB'], parsers: { [DATE_OID]: (v: string) => v } })
}
