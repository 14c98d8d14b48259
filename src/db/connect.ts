import { existsSync } from 'node:fs'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './schema.ts'
import { deferringBegin } from './deferred-begin.ts'
import { preparingStatements } from './prepared-statements.ts'
import { DATE_OID, openLite } from './pglite-open.ts'
import { PGlitePool, type LitePool } from './pglite-pool.ts'
import { createInWorker, PGliteWorkerPool } from './pglite-worker-pool.ts'
import { lockDataDir } from './data-dir-lock.ts'
import { makeDataDirPrivate } from './data-dir-mode.ts'

export type Db = Kysely<Database>

export type DbHandle = {
  db: Db
  kind: 'postgres' | 'pglite'
  /** what opening it had to put right, for the server to log (a data folder open to other users) */
  warnings: string[]
  /**
   * One connection for raw SQL outside Kysely (migrations under a lock). A call
   * without parameters may hold several statements.
   */
  session<T> (fn: (query: RawQuery) => Promise<T>): Promise<T>
  /**
   * pg-boss's database contract: one statement with parameters, or several
   * without, the rows of all of them. The job queue shares this handle, so on
   * PGlite it takes turns with every other query instead of slipping into one
   * of their transactions.
   */
  executeSql (text: string, values?: unknown[]): Promise<{ rows: unknown[] }>
  close (): Promise<void>
}

// bigint ids and counts come back as numbers: they stay far below 2^53 here.
pg.types.setTypeParser(20, v => Number(v))
// A date column is a calendar day, not an instant (pglite-open.ts: the same there)
pg.types.setTypeParser(DATE_OID, v => v)

export type RawQuery = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>

/**
 * Where the embedded database (PGlite) runs. 'worker': on a thread of its
 * own, so that the server parses HTTP and writes XML while PostgreSQL works
 * (a data folder's default: what `kalends serve` runs). 'main': on this
 * thread, each statement blocking the event loop; it starts faster, which is
 * why a test's database in memory uses it unless told otherwise.
 */
export type PGliteThread = 'main' | 'worker'

export type DbTarget = { url: string } | { dataDir: string; thread?: PGliteThread } | { memory: true; thread?: PGliteThread }

export async function openDatabase (target: DbTarget): Promise<DbHandle> {
  if ('url' in target) return openPostgres(target.url)
  if ('memory' in target) return openPGlite(undefined, target.thread ?? 'main')
  return openPGlite(target.dataDir, target.thread ?? 'worker')
}

function openPostgres (url: string): DbHandle {
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env.KALENDS_DB_POOL ?? 10) })
  pool.on('error', () => { /* an idle client died; the pool replaces it */ })
  const sent = process.env.KALENDS_DB_PREPARE === 'off' ? pool : preparingStatements(pool)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: deferringBegin(sent) }) })
  return {
    db,
    kind: 'postgres',
    warnings: [],
    async session (fn) {
      const client = await pool.connect()
      try {
        return await fn(async (sql, params) => {
          const result = await client.query(sql, params)
          const last = Array.isArray(result) ? result.at(-1) : result
          return last?.rows ?? []
        })
      } finally { client.release() }
    },
    async executeSql (text, values) {
      const result = await pool.query(text, values as unknown[])
      return { rows: (Array.isArray(result) ? result : [result]).flatMap((r: pg.QueryResult) => r.rows ?? []) }
    },
    // Kysely ends the pool only if it ever used it; a process that ran
    // session() alone (migrate) would otherwise keep its idle connection.
    async close () {
      await db.destroy()
      if (!pool.ending && !pool.ended) await pool.end()
    }
  }
}

const embeddedDir = (dataDir: string) => `${dataDir}/pg`

/** Whether dataDir holds an embedded database (opening it would otherwise create one). */
export const hasEmbeddedDatabase = (dataDir: string): boolean => existsSync(`${embeddedDir(dataDir)}/PG_VERSION`)

async function openPGlite (dataDir: string | undefined, thread: PGliteThread): Promise<DbHandle> {
  let unlock = () => {}
  let madePrivate = (): string | null => null
  if (dataDir !== undefined) {
    madePrivate = makeDataDirPrivate(dataDir)
    unlock = lockDataDir(dataDir)
  }
  let pool: LitePool
  try {
    const dir = dataDir === undefined ? undefined : embeddedDir(dataDir)
    // initdb's WebAssembly memory stays with the thread that ran it: a thread that exits takes it along
    if (dataDir !== undefined && !hasEmbeddedDatabase(dataDir)) await createInWorker(dir!)
    pool = thread === 'worker' ? await PGliteWorkerPool.open(dir) : new PGlitePool(await openLite(dir))
  } catch (err) {
    unlock()
    throw err
  }
  const warnings = [madePrivate()].filter(w => w !== null)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool as never }) })
  return {
    db,
    kind: 'pglite',
    warnings,
    async session (fn) {
      const conn = await pool.connect()
      try {
        return await fn(async (sql, params) => {
          if (params === undefined || params.length === 0) return (await conn.exec(sql)).at(-1) ?? []
          return (await conn.query(sql, params)).rows
        })
      } finally { conn.release() }
    },
    async executeSql (text, values) {
      const conn = await pool.connect()
      try {
        if (values !== undefined && values.length > 0) return { rows: (await conn.query(text, values)).rows }
        return { rows: (await conn.exec(text)).flat() }
      } catch (err) {
        // a failed statement block must not leave the one connection in an aborted transaction
        await conn.exec('ROLLBACK').catch(() => {})
        throw err
      } finally { conn.release() }
    },
    // as above: without this, a handle only used through session() never closed PGlite
    async close () {
      await db.destroy()
      await pool.end()
      unlock()
    }
  }
}

/**
 * Runs fn in a transaction, or inside the caller's when db already is one, so
 * a domain operation and what the caller records beside it (a sync link, its
 * log line) commit or roll back together.
 */
export async function transact<T> (db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db)
  return db.transaction().execute(fn)
}
