import t from 'tap'
import { sql } from 'kysely'
import { openDatabase } from './connect.ts'
import { openLite } from './pglite-open.ts'
import { PGlitePool, type LitePool } from './pglite-pool.ts'
import { PGliteWorkerPool } from './pglite-worker-pool.ts'
import { testDatabase } from '../testing/harness.ts'

/** Transactions on either database end the way the database ended them. */

const target = await testDatabase()
const handle = await openDatabase(target.target)
t.teardown(async () => { await handle.close(); await target.drop() })

t.test('a transaction an error aborted fails at COMMIT instead of reading as committed', async t => {
  await sql`CREATE TABLE marks (n int)`.execute(handle.db)
  // a statement error swallowed inside the transaction: PostgreSQL completes the COMMIT as ROLLBACK
  const outcome = handle.db.transaction().execute(async tx => {
    await sql`INSERT INTO marks VALUES (1)`.execute(tx)
    await sql`SELECT 1 / 0`.execute(tx).catch(() => {})
    return 'committed'
  })
  await t.rejects(outcome, { name: 'AbortedTransactionError' })
  t.same((await sql<{ n: number }>`SELECT n FROM marks`.execute(handle.db)).rows, [], 'nothing was written')
  await handle.db.transaction().execute(tx => sql`INSERT INTO marks VALUES (2)`.execute(tx))
  t.same((await sql<{ n: number }>`SELECT n FROM marks`.execute(handle.db)).rows, [{ n: 2 }], 'the next transaction commits')
})

// the PGlite pool itself: the PostgreSQL run has no use for it
const onPostgres = 'url' in target.target

const pools: Record<string, () => Promise<LitePool>> = {
  'main thread': async () => new PGlitePool(await openLite(undefined)),
  'worker thread': () => PGliteWorkerPool.open(undefined)
}

for (const [where, open] of Object.entries(pools)) {
  t.test(`PGlite on the ${where}: a connection released as broken leaves no transaction open for the next borrower`, { skip: onPostgres && 'PGlite only' }, async t => {
    const pool = await open()
    t.teardown(() => pool.end())
    const first = await pool.connect()
    await first.query('CREATE TABLE marks (n int)', [])
    await first.query('BEGIN', [])
    await first.query('INSERT INTO marks VALUES (1)', [])
    first.release(new Error('rollback failed'))
    const next = await pool.connect()
    t.same((await next.query('SELECT txid_current_if_assigned() AS xid', [])).rows, [{ xid: null }], 'the next borrower starts outside any transaction')
    t.same((await next.query('SELECT n FROM marks', [])).rows, [], 'and sees nothing of the one released')
    next.release()
  })
}
