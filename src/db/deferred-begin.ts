import type pg from 'pg'
import { wrapPoolClients, type ClientQuery } from './pool-clients.ts'

/**
 * A pool whose clients send a transaction's BEGIN together with its first
 * statement, in one round trip, when that statement has no parameters:
 * PostgreSQL's simple protocol takes several statements in one message. On a
 * small write a round trip costs more than the statement (both processes
 * wake, write and read a socket), and a CalDAV PUT opens its transaction with
 * a lock that needs no parameters (calendar-objects.ts).
 *
 * Only what Kysely sends is changed: its `begin` is held back and goes with
 * the next statement (or on its own before one with parameters); a
 * transaction that ends before any statement sends nothing. The answers are
 * the same as without: a statement's rows, or the error that aborted the
 * transaction, which Kysely then rolls back.
 */
export const deferringBegin = (pool: pg.Pool): pg.Pool => wrapPoolClients(pool, deferring)

const noRows = (command: string) => ({ command, rowCount: null, oid: 0, rows: [], fields: [] })

function deferring (client: pg.PoolClient): ClientQuery {
  let pending = false
  async function query (text: unknown, values?: unknown) {
    if (typeof text !== 'string') {
      // a query object (a cursor, a prepared statement): the held-back BEGIN goes first, on its own
      if (pending) { pending = false; await client.query('BEGIN') }
      return client.query(text as string, values as unknown[])
    }
    if (Array.isArray(values) && values.length > 0 && !pending) return client.query(text, values)
    const plain = (values === undefined || (Array.isArray(values) && values.length === 0))
    const word = text.trim().toLowerCase()
    if (plain && word === 'begin' && !pending) {
      pending = true
      return noRows('BEGIN')
    }
    if (!pending) return client.query(text, values as unknown[])
    pending = false
    // nothing was sent since BEGIN: there is nothing to end
    if (plain && (word === 'commit' || word === 'rollback')) return noRows(word.toUpperCase())
    if (!plain) {
      await client.query('BEGIN')
      return client.query(text, values as unknown[])
    }
    const results = await client.query(`BEGIN; ${text}`) as unknown as pg.QueryResult[]
    const after = Array.isArray(results) ? results.slice(1) : [results]
    return after.length === 1 ? after[0] : after
  }
  return { query, released: () => { pending = false } }
}
