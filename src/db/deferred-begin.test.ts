import t from 'tap'
import pg from 'pg'
import { sql } from 'kysely'
import { testDatabase } from '../testing/harness.ts'
import { openDatabase } from './connect.ts'

// The PostgreSQL pool sends a transaction's BEGIN with its first statement when
// that one has no parameters: each case below is what a transaction must still do.
const { target, drop } = await testDatabase()
if (!('url' in target)) {
  t.pass('PGlite has no round trips to save: the pool is PostgreSQL\'s (set KALENDS_TEST_DATABASE_URL)')
} else {
  const handle = await openDatabase(target)
  const db = handle.db
  t.teardown(async () => { await handle.close(); await drop() })

  // every statement the server receives, from this process
  const seen: string[] = []
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = args[0]
    seen.push(typeof text === 'string' ? text : String((text as { text?: string })?.text))
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query
  t.teardown(() => { pg.Client.prototype.query = query })

  await sql`CREATE TABLE deferred_t (id int PRIMARY KEY, v text)`.execute(db)
  const rows = async () => (await sql<{ id: number; v: string }>`SELECT id, v FROM deferred_t ORDER BY id`.execute(db)).rows

  t.test('a first statement without parameters goes with the BEGIN, answers its rows, and the transaction holds', async t => {
    seen.length = 0
    const out = await db.transaction().execute(async tx => {
      const first = await sql<{ n: number }>`SELECT 41 + 1 AS n`.execute(tx)
      await sql`INSERT INTO deferred_t VALUES (1, ${'one'})`.execute(tx)
      return first.rows
    })
    t.same(out, [{ n: 42 }])
    t.same(seen, ['BEGIN; SELECT 41 + 1 AS n', 'INSERT INTO deferred_t VALUES (1, $1)', 'commit'], 'three round trips, not four')
    t.same(await rows(), [{ id: 1, v: 'one' }])
  })

  t.test('a first statement with parameters: BEGIN goes alone before it', async t => {
    seen.length = 0
    await db.transaction().execute(async tx => {
      await sql`INSERT INTO deferred_t VALUES (2, ${'two'})`.execute(tx)
    })
    t.same(seen, ['BEGIN', 'INSERT INTO deferred_t VALUES (2, $1)', 'commit'])
    t.same((await rows()).map(r => r.id), [1, 2])
  })

  t.test('a failure rolls back everything, the merged statement included', async t => {
    await t.rejects(db.transaction().execute(async tx => {
      await sql`INSERT INTO deferred_t VALUES (3, 'three')`.execute(tx)
      await sql`INSERT INTO deferred_t VALUES (1, ${'again'})`.execute(tx)
    }), { code: '23505' })
    await t.rejects(db.transaction().execute(async tx => {
      await sql`INSERT INTO deferred_t VALUES (1, 'again')`.execute(tx)
    }), { code: '23505' }, 'the merged statement itself failing')
    t.same((await rows()).map(r => r.id), [1, 2])
    // the connections came back usable, outside any transaction
    const open = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`.execute(db)
    t.equal(open.rows[0]!.n, 0)
  })

  t.test('a transaction that sends nothing sends no BEGIN and no COMMIT', async t => {
    seen.length = 0
    t.equal(await db.transaction().execute(async () => 'nothing'), 'nothing')
    await t.rejects(db.transaction().execute(async () => { throw new Error('before any statement') }), /before any statement/)
    t.same(seen, [])
  })

  t.test('an advisory transaction lock taken with the BEGIN is held to its end', async t => {
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    const order: string[] = []
    const first = db.transaction().execute(async tx => {
      await sql`SELECT pg_advisory_xact_lock(7, 7)`.execute(tx)
      order.push('first has it')
      await held
      order.push('first ends')
    })
    await new Promise(resolve => setTimeout(resolve, 100))
    const second = db.transaction().execute(async tx => {
      await sql`SELECT pg_advisory_xact_lock(7, 7)`.execute(tx)
      order.push('second has it')
    })
    await new Promise(resolve => setTimeout(resolve, 300))
    release()
    await Promise.all([first, second])
    t.same(order, ['first has it', 'first ends', 'second has it'])
  })
}
