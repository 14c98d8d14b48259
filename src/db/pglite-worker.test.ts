import t from 'tap'
import { sql } from 'kysely'
import { messages } from '@electric-sql/pglite'
import { openDatabase, type DbHandle } from './connect.ts'
import { asDomainError, DomainError } from '../domain/errors.ts'
import { startServer } from '../testing/harness.ts'
import { davClient, members, vevent } from '../caldav/test-client.ts'

/**
 * The embedded database on its worker thread (what `kalends serve` runs on a
 * data folder) behaves as it does on the main thread: the same rows, the
 * same errors with every field the domain reads, transactions alone on the
 * one connection, and a server that answers CalDAV over HTTP with it.
 */

const opened: DbHandle[] = []
t.teardown(async () => { for (const h of opened) await h.close() })
async function open (thread: 'main' | 'worker'): Promise<DbHandle> {
  const h = await openDatabase({ memory: true, thread })
  opened.push(h)
  await sql`CREATE TABLE things (id int PRIMARY KEY, day date, at timestamptz, doc jsonb, raw bytea, big bigint, note text)`.execute(h.db)
  return h
}
const worker = await open('worker')
const main = await open('main')

t.test('rows come back as on the main thread: dates, instants, JSON, bytes, numbers', async t => {
  const insert = (h: DbHandle) => sql`INSERT INTO things VALUES (1, '2026-03-29', '2026-03-29T01:30:00Z', '{"a":[1,"b"]}', '\\x00ff', 42, NULL)`.execute(h.db)
  await insert(worker)
  await insert(main)
  const [fromWorker] = (await sql`SELECT * FROM things`.execute(worker.db)).rows
  const [fromMain] = (await sql`SELECT * FROM things`.execute(main.db)).rows
  t.same(fromWorker, fromMain)
  t.equal((fromWorker as { day: unknown }).day, '2026-03-29', 'a date stays a calendar day')
  t.ok((fromWorker as { at: unknown }).at instanceof Date, 'an instant is a Date')
  t.same((fromWorker as { doc: unknown }).doc, { a: [1, 'b'] })
  t.same([...(fromWorker as { raw: Uint8Array }).raw], [0, 255])
  const changed = await worker.db.updateTable('things' as never).set({ note: 'seen' } as never).where('id' as never, '=', 1 as never).executeTakeFirst()
  t.equal(changed.numUpdatedRows, 1n, 'Kysely reads the changed rows from the command')
})

t.test('errors cross with what the domain reads: a duplicate key is a 409, not a 500', async t => {
  const err = await sql`INSERT INTO things (id) VALUES (1)`.execute(worker.db).catch((e: unknown) => e) as messages.DatabaseError
  t.ok(err instanceof messages.DatabaseError, 'PostgreSQL\'s own error class')
  t.match(err, { code: '23505', constraint: 'things_pkey', table: 'things', detail: 'Key (id)=(1) already exists.', severity: 'ERROR', message: /duplicate key value violates unique constraint "things_pkey"/ })
  const domain = asDomainError(err)
  t.ok(domain instanceof DomainError && domain.status === 409 && domain.rule === 'concurrent-write')
  const syntax = await sql`SELEC 1`.execute(worker.db).catch((e: unknown) => e) as messages.DatabaseError
  t.match(syntax, { code: '42601', position: '1' })
  t.match(syntax.stack, /worker thread/, 'its stack says where it came from')
  t.same((await sql`SELECT count(*)::int AS n FROM things`.execute(worker.db)).rows, [{ n: 1 }], 'the connection goes on')
})

t.test('a transaction rolls back whole, and one an error aborted fails at COMMIT', async t => {
  await t.rejects(worker.db.transaction().execute(async tx => {
    await sql`INSERT INTO things (id) VALUES (2)`.execute(tx)
    throw new Error('the domain refused')
  }), /the domain refused/)
  await t.rejects(worker.db.transaction().execute(async tx => {
    await sql`INSERT INTO things (id) VALUES (3)`.execute(tx)
    await sql`INSERT INTO things (id) VALUES (1)`.execute(tx).catch(() => {})
  }), { name: 'AbortedTransactionError' })
  t.same((await sql`SELECT id FROM things ORDER BY id`.execute(worker.db)).rows, [{ id: 1 }], 'nothing of either was written')
})

t.test('a transaction has the connection to itself: statements sent meanwhile run after it, outside it', async t => {
  let inside!: () => void
  const started = new Promise<void>(resolve => { inside = resolve })
  let finish!: () => void
  const held = new Promise<void>(resolve => { finish = resolve })
  const tx = worker.db.transaction().execute(async tx => {
    await sql`INSERT INTO things (id) VALUES (10)`.execute(tx)
    inside()
    await held
    await sql`INSERT INTO things (id) VALUES (11)`.execute(tx)
  })
  await started
  const others = Array.from({ length: 5 }, () => sql<{ xid: unknown; n: number }>`SELECT txid_current_if_assigned() AS xid, (SELECT count(*)::int FROM things WHERE id >= 10) AS n`.execute(worker.db))
  await new Promise(resolve => setTimeout(resolve, 50))
  finish()
  await tx
  for (const other of await Promise.all(others)) t.same(other.rows, [{ xid: null, n: 2 }], 'after the commit, in no transaction')
  const failing = worker.executeSql('INSERT INTO things (id) VALUES (20); INSERT INTO things (id) VALUES (1)')
  await t.rejects(failing, { code: '23505' })
  t.same((await sql`SELECT count(*)::int AS n FROM things WHERE id = 20`.execute(worker.db)).rows, [{ n: 0 }], 'a failed block of the job queue\'s leaves nothing')
})

t.test('once a transaction commits, the next one goes on before the first borrower gives the connection back', async t => {
  const order: string[] = []
  await worker.session(async q => {
    await q('BEGIN')
    await q('INSERT INTO things (id) VALUES (30)')
    const waiting = worker.db.transaction().execute(async tx => {
      await sql`INSERT INTO things (id) VALUES (31)`.execute(tx)
      order.push('second transaction')
    })
    await new Promise(resolve => setTimeout(resolve, 20))
    t.same(order, [], 'the second transaction waits while the first is open')
    await q('COMMIT')
    await waiting // still holding the first turn: before, this waited forever
    order.push('first borrower again')
    t.same(await q('SELECT txid_current_if_assigned() AS xid, count(*)::int AS n FROM things WHERE id IN (30, 31)'), [{ xid: null, n: 2 }], 'its next statement runs after, in no transaction')
  })
  t.same(order, ['second transaction', 'first borrower again'])
})

t.test('many statements at once all get their own answers', async t => {
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => sql<{ i: number }>`SELECT ${i}::int AS i`.execute(worker.db)))
  t.same(answers.map(a => a.rows[0]!.i), Array.from({ length: 200 }, (_, i) => i))
})

t.test('closing waits for the transaction in progress; afterwards statements are refused', async t => {
  const h = await openDatabase({ memory: true, thread: 'worker' })
  await sql`CREATE TABLE marks (n int)`.execute(h.db)
  let inside!: () => void
  const started = new Promise<void>(resolve => { inside = resolve })
  const tx = h.db.transaction().execute(async tx => {
    inside()
    await new Promise(resolve => setTimeout(resolve, 50))
    await sql`INSERT INTO marks VALUES (1)`.execute(tx)
  })
  await started
  const closing = h.close()
  await tx
  await closing
  await t.rejects(h.session(q => q('SELECT 1')), 'a closed database answers nothing')
})

t.test('CalDAV over HTTP with the database on its worker', async t => {
  const s = await startServer({ users: ['alice'], thread: 'worker' })
  t.teardown(() => s.close())
  const alice = davClient(s, 'alice')
  const names = Array.from({ length: 12 }, (_, i) => `w-${i}`)
  const puts = await Promise.all(names.map(n => alice('PUT', `/dav/calendars/alice/calendar/${n}.ics`, { body: vevent(n, [], { summary: `Meeting ${n}` }) })))
  t.same(puts.map(r => r.status), names.map(() => 201), 'concurrent creates')
  const gets = await Promise.all(names.map(n => alice('GET', `/dav/calendars/alice/calendar/${n}.ics`)))
  t.ok(gets.every((r, i) => r.status === 200 && r.text.includes(`SUMMARY:Meeting ${names[i]}`)), 'concurrent reads')
  const multiget = await alice('REPORT', '/dav/calendars/alice/calendar/', {
    headers: { depth: '1' },
    body: `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>${names.map(n => `<d:href>/dav/calendars/alice/calendar/${n}.ics</d:href>`).join('')}</c:calendar-multiget>`
  })
  t.equal(members(multiget.xml).filter(m => m.props.size > 0).length, names.length)
  const again = await alice('PUT', '/dav/calendars/alice/calendar/w-0.ics', { body: vevent('w-0'), headers: { 'if-none-match': '*' } })
  t.equal(again.status, 412, 'If-None-Match: * on an existing name')
  const stale = await alice('PUT', '/dav/calendars/alice/calendar/w-1.ics', { body: vevent('w-1'), headers: { 'if-match': '"not-the-etag"' } })
  t.equal(stale.status, 412, 'a stale If-Match')
  const taken = await alice('PUT', '/dav/calendars/alice/calendar/other.ics', { body: vevent('w-2') })
  t.equal(taken.status, 403, 'a UID already in the calendar under another name')
  t.match(taken.text, /no-uid-conflict/)
  t.equal((await alice('DELETE', '/dav/calendars/alice/calendar/w-3.ics')).status, 204)
  t.equal((await alice('GET', '/dav/calendars/alice/calendar/w-3.ics')).status, 404)
})
