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
        // the server's own command tag, as pg reports it: a COMMIT of a transaction an error
        // aborted completes as ROLLBACK, and Kysely fails the transaction only when it sees that
        return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? 0, command: result.command ?? '' }
      },
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
