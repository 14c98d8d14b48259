import type { PGlite } from '@electric-sql/pglite'

/**
 * PGlite is one connection. Kysely's PostgresDialect wants a pg-style pool, so
 * this pool hands that one connection out to one borrower at a time: a
 * transaction keeps it until it is released, and everyone else waits.
 */
export class PGlitePool {
  readonly #db: PGlite
  #queue: Promise<void> = Promise.resolve()

  constructor (db: PGlite) {
    this.#db = db
  }

  async connect () {
    let release!: () => void
    const mine = new Promise<void>(resolve => { release = resolve })
    const before = this.#queue
    this.#queue = before.then(() => mine)
    await before
    const db = this.#db
    return {
      async query (sql: string, params: readonly unknown[]) {
        const result = await db.query<Record<string, unknown>>(sql, params as unknown[])
        return { rows: result.rows, rowCount: result.affectedRows ?? 0, command: commandOf(sql) }
      },
      release () { release() }
    }
  }

  #ended: Promise<void> | undefined

  /** Closes PGlite once the current borrower is done; later calls wait for the same close. */
  end (): Promise<void> {
    this.#ended ??= this.#queue.then(() => this.#db.close())
    return this.#ended
  }
}

function commandOf (sql: string): string {
  const m = /^\s*(?:with\b[\s\S]*?\)\s*)?(insert|update|delete|merge|select)\b/i.exec(sql)
  return (m?.[1] ?? 'SELECT').toUpperCase()
}
