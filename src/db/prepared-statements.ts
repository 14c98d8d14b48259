import { createHash } from 'node:crypto'
import type pg from 'pg'
import { wrapPoolClients, type ClientQuery } from './pool-clients.ts'

/**
 * How often a statement's text is sent before it is named, and how many
 * texts are named at most: what a request sends again and again (the sign-in
 * check, a PUT's statements) is a few dozen texts; texts that differ each
 * time (an IN list of another length) stay unnamed and bounded.
 */
export const NAME_AFTER = 3
export const MAX_NAMED = 400
const MAX_COUNTED = 10_000

/**
 * Names a statement's text once this process has sent it a few times, so
 * each connection has PostgreSQL parse and plan it once (a named prepared
 * statement; pg then sends only Bind and Execute) instead of every time:
 * Kysely sends unnamed statements, and for a small statement the planning is
 * most of PostgreSQL's work (the sign-in check of every CalDAV request).
 *
 * Off with KALENDS_DB_PREPARE=off, for a connection pooler in transaction
 * mode that does not keep a session's prepared statements (PgBouncer before
 * 1.21). Statements without parameters are never named: deferred-begin.ts
 * sends those in one message with a BEGIN, which only the simple protocol takes.
 */
export function preparingStatements (pool: pg.Pool, registry = new StatementNames()): pg.Pool {
  return wrapPoolClients(pool, client => registry.naming(client))
}

export class StatementNames {
  readonly #seen = new Map<string, number>()
  readonly #names = new Map<string, string>()
  /** Part of every name: a new generation names every text anew, on connections that have the old names too. */
  #generation = 0
  #off = false

  naming (client: pg.PoolClient): ClientQuery {
    return {
      query: async (text: unknown, values?: unknown) => {
        if (this.#off || typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return client.query(text as string, values as unknown[])
        const name = this.#nameOf(text)
        if (name === undefined) return client.query(text, values)
        try {
          return await client.query({ name, text, values })
        } catch (err) {
          this.#failed(err)
          throw err
        }
      }
    }
  }

  /** How many texts have a name (for tests and the benchmark's notes). */
  get named (): number { return this.#names.size }

  #nameOf (text: string): string | undefined {
    const name = this.#names.get(text)
    if (name !== undefined) return name
    const count = (this.#seen.get(text) ?? 0) + 1
    if (count < NAME_AFTER || this.#names.size >= MAX_NAMED) {
      if (this.#seen.size >= MAX_COUNTED) this.#seen.clear()
      this.#seen.set(text, count)
      return undefined
    }
    this.#seen.delete(text)
    const named = `k${this.#generation}_${createHash('sha1').update(text).digest('base64url')}`
    this.#names.set(text, named)
    return named
  }

  #failed (err: unknown) {
    const code = (err as { code?: string }).code
    // 0A000 "cached plan must not change result type": another process changed a table
    // a named statement reads (a migration); PostgreSQL plans it again only when the
    // result keeps its shape. Named anew, each connection parses the new text again.
    if (code === '0A000') {
      this.#generation++
      this.#names.clear()
    }
    // 26000 "prepared statement does not exist": something between us and PostgreSQL
    // (a pooler in transaction mode) dropped it; naming cannot work there
    if (code === '26000') this.#off = true
  }
}
