import t from 'tap'
import { sql } from 'kysely'
import { openDatabase, type DbHandle } from './connect.ts'

/**
 * A statement with parameters goes to the embedded database in one message,
 * its values converted as node-postgres converts them for PostgreSQL
 * (pglite-pool.ts runQuery): the same JavaScript values mean the same on both
 * databases, on the main thread and on the worker alike.
 */

const opened: DbHandle[] = []
t.teardown(async () => { for (const h of opened) await h.close() })

for (const thread of ['main', 'worker'] as const) {
  t.test(`parameters and answers (${thread} thread)`, async t => {
    const h = await openDatabase({ memory: true, thread })
    opened.push(h)
    await sql`CREATE TABLE p (id int PRIMARY KEY, at timestamptz, day date, doc jsonb, tags text[], ok boolean, big bigint, raw bytea, note text)`.execute(h.db)
    const at = new Date('2026-03-29T01:30:00.123Z')
    const inserted = await sql<{ id: number }>`INSERT INTO p VALUES (${1}, ${at}, ${'2026-03-29'}, ${JSON.stringify({ a: [1, 'b'] })}, ${['x', 'y "z"']}, ${true}, ${12345678901234n}, ${Buffer.from([0, 255])}, ${null}) RETURNING id`.execute(h.db)
    t.same(inserted.rows, [{ id: 1 }])
    t.equal(inserted.numAffectedRows, 1n, 'the command\'s row count')
    const [row] = (await sql<Record<string, unknown>>`SELECT * FROM p WHERE id = ${1} AND ok = ${true} AND ${'y "z"'} = ANY(tags) AND doc @> ${{ a: [1] }}`.execute(h.db)).rows
    t.ok(row, 'found by a boolean, an array element and a JSON object as parameters')
    t.equal((row!.at as Date).toISOString(), at.toISOString(), 'an instant keeps its milliseconds')
    t.equal(row!.day, '2026-03-29')
    t.same(row!.doc, { a: [1, 'b'] })
    t.same(row!.tags, ['x', 'y "z"'])
    t.equal(String(row!.big), '12345678901234', 'a bigint goes in whole')
    t.same([...(row!.raw as Uint8Array)], [0, 255], 'bytes go in as bytes')
    t.equal(row!.note, null)
    const updated = await sql`UPDATE p SET note = ${'seen'} WHERE id = ANY(${[1, 2]}::int[])`.execute(h.db)
    t.equal(updated.numAffectedRows, 1n)
    const none = await sql`SELECT * FROM p WHERE id = ${99}`.execute(h.db)
    t.same(none.rows, [])
    await t.rejects(sql`SELECT ${1}::int / ${0}::int`.execute(h.db), { code: '22012' }, 'an error carries PostgreSQL\'s code')
    t.same((await sql`SELECT ${'still'} AS v`.execute(h.db)).rows, [{ v: 'still' }], 'and the connection goes on')
  })
}
