import t from 'tap'
import pg from 'pg'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { testDatabase } from '../testing/harness.ts'
import { NAME_AFTER, preparingStatements, StatementNames } from './prepared-statements.ts'

// A statement sent again and again is prepared once per connection: what each
// case below shows is that the answers stay those of an unnamed statement.
const { target, drop } = await testDatabase()
if (!('url' in target)) {
  t.pass('PGlite has no statements to prepare: the pool is PostgreSQL\'s (set KALENDS_TEST_DATABASE_URL)')
} else {
  // one connection, so a statement named on it is the one used next
  const raw = new pg.Pool({ connectionString: target.url, max: 1 })
  const names = new StatementNames()
  const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: preparingStatements(raw, names) }) })
  const other = new pg.Client({ connectionString: target.url })
  await other.connect()
  t.teardown(async () => { await other.end(); await db.destroy(); await drop() })

  // what went on the wire: each statement's text and name
  const sent: { text: string; name?: string }[] = []
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0]
    sent.push(typeof q === 'string' ? { text: q } : { text: String((q as pg.QueryConfig).text), name: (q as pg.QueryConfig).name })
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query
  t.teardown(() => { pg.Client.prototype.query = query })

  await sql`CREATE TABLE prepared_t (id int PRIMARY KEY, v text)`.execute(db)
  await sql`INSERT INTO prepared_t VALUES (1, 'one'), (2, 'two')`.execute(db)
  const read = async (id: number) => (await sql<Record<string, unknown>>`SELECT * FROM prepared_t WHERE id = ${id}`.execute(db)).rows

  t.test('a text sent often is named from its third time on, with the same answers', async t => {
    sent.length = 0
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await read(1 + i % 2))
    t.same(answers, [1, 2, 1, 2, 1, 2].map(id => [{ id, v: id === 1 ? 'one' : 'two' }]))
    const named = sent.map(s => s.name)
    t.same(named.slice(0, NAME_AFTER - 1), Array(NAME_AFTER - 1).fill(undefined), 'the first sends are unnamed')
    t.ok(named.slice(NAME_AFTER - 1).every(n => n !== undefined && n === named.at(-1)), 'then one name, every time')
  })

  t.test('a statement without parameters is never named: it may share a message with BEGIN', async t => {
    sent.length = 0
    for (let i = 0; i < 5; i++) await sql`SELECT count(*) AS n FROM prepared_t`.execute(db)
    t.ok(sent.every(s => s.name === undefined))
  })

  t.test('a table changed by another process under a named SELECT *: one refusal, then the new shape', async t => {
    for (let i = 0; i < 4; i++) await read(1)
    await other.query('ALTER TABLE prepared_t ADD COLUMN w text DEFAULT \'new\'')
    // PostgreSQL will not change a prepared statement's result type (0A000)
    await t.rejects(read(1), { code: '0A000' })
    t.same(await read(1), [{ id: 1, v: 'one', w: 'new' }], 'named anew, parsed again')
    t.same(await read(2), [{ id: 2, v: 'two', w: 'new' }])
  })

  t.test('statements dropped under us (a pooler in transaction mode): one refusal, then none are named', async t => {
    for (let i = 0; i < 4; i++) await read(2)
    await sql`DEALLOCATE ALL`.execute(db)
    await t.rejects(read(2), { code: '26000' })
    sent.length = 0
    t.same(await read(2), [{ id: 2, v: 'two', w: 'new' }])
    for (let i = 0; i < 4; i++) await read(1)
    t.ok(sent.every(s => s.name === undefined), 'unnamed from then on')
  })

  t.test('the names are bounded, and texts seen once are not named', async t => {
    const fresh = new StatementNames()
    const pool = new pg.Pool({ connectionString: target.url, max: 1 })
    const kdb = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: preparingStatements(pool, fresh) }) })
    t.teardown(() => kdb.destroy())
    for (let i = 0; i < 50; i++) await sql`SELECT ${i}::int + ${sql.raw(String(i))} AS n`.execute(kdb)
    t.equal(fresh.named, 0)
    for (let i = 0; i < NAME_AFTER; i++) await sql`SELECT ${i}::int AS n`.execute(kdb)
    t.equal(fresh.named, 1)
  })
}
