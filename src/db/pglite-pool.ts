import { parse, protocol, type PGlite } from '@electric-sql/pglite'
import { createRequire } from 'node:module'

export type LiteResult = { rows: Record<string, unknown>[]; rowCount: number; command: string }

/** A turn on the embedded database's one connection, shaped like a pg client for Kysely. */
export type LiteConnection = {
  query (sql: string, params: readonly unknown[]): Promise<LiteResult>
  /** statements without parameters (several allowed): the rows of each */
  exec (sql: string): Promise<Record<string, unknown>[][]>
  /** discard: the borrower gives the connection back broken, so its transaction is rolled back first */
  release (discard?: unknown): void
}

/** The pool Kysely's PostgresDialect and connect.ts borrow from, PGlite on this thread or in a worker. */
export type LitePool = {
  connect (): Promise<LiteConnection>
  end (): Promise<void>
}

const { serialize } = protocol
// node-postgres's conversion of a parameter to what it sends (its lib/utils.js, which has no types)
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue (value: unknown): string | Buffer | null }

/**
 * One statement as node-postgres sends it to PostgreSQL: Parse, Bind,
 * Describe, Execute and Sync in one message, the parameters as pg turns them
 * into text, so both databases read the same values. PGlite's own query()
 * makes six calls into PostgreSQL for this (it asks for the parameters'
 * types first): 0.32 ms a statement against 0.18, and a whole CalDAV PUT
 * about 14% less CPU (docs/performance.md, "Fifth pass").
 * The server's own command tag is reported, as pg does: a COMMIT of a
 * transaction an error aborted completes as ROLLBACK, and Kysely fails the
 * transaction only when it sees that.
 */
export async function runQuery (db: PGlite, sql: string, params: readonly unknown[]): Promise<LiteResult> {
  const message = Buffer.concat([
    serialize.parse({ text: sql }),
    serialize.bind({ values: params.map(v => prepareValue(v)) }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync()
  ])
  // in PGlite's queue, as its query() and exec() are; an error response throws PostgreSQL's DatabaseError
  const { messages } = await db._runExclusiveQuery(() => db.execProtocol(message))
  const result = parse.parseResults(messages, db.parsers)[0]
  if (result === undefined) return { rows: [], rowCount: 0, command: '' } // an empty statement
  return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? result.affectedRows ?? 0, command: result.command ?? '' }
}

export async function runExec (db: PGlite, sql: string): Promise<Record<string, unknown>[][]> {
  return (await db.exec(sql)).map(r => r.rows as Record<string, unknown>[])
}

/**
 * PGlite on this thread is one connection. Kysely's PostgresDialect wants a
 * pg-style pool, so this pool hands that one connection out to one borrower
 * at a time: a transaction keeps it until it is released, and everyone else waits.
 */
export class PGlitePool implements LitePool {
  readonly #db: PGlite
  #queue: Promise<void> = Promise.resolve()

  constructor (db: PGlite) {
    this.#db = db
  }

  async connect (): Promise<LiteConnection> {
    let release!: () => void
    const mine = new Promise<void>(resolve => { release = resolve })
    const before = this.#queue
    this.#queue = before.then(() => mine)
    await before
    const db = this.#db
    return {
      query: (sql, params) => runQuery(db, sql, params),
      exec: sql => runExec(db, sql),
      // pg.Pool destroys a client released with an error (Kysely does so after a failed
      // ROLLBACK), and its open transaction dies with it. The one PGlite session stays, so
      // its transaction is ended here, or the next borrower would run inside it.
      release (discard?: unknown) {
        if (discard === undefined || discard === false) return release()
        db.exec('ROLLBACK').catch(() => {}).finally(release)
      }
    }
  }

  #ended: Promise<void> | undefined

  /** Closes PGlite once the current borrower is done; later calls wait for the same close. */
  end (): Promise<void> {
    this.#ended ??= this.#queue.then(() => this.#db.close())
    return this.#ended
  }
}
