import t from 'tap'
import { sql } from 'kysely'
import { testDatabase } from '../testing/harness.ts'
import { openDatabase } from './connect.ts'
import { runShaped } from './shaped.ts'

const { target, drop } = await testDatabase()
const { db, close } = await openDatabase(target)
t.teardown(async () => { await close(); await drop() })

const pick = (n: number, s: string) => runShaped(db, 'shaped-test:pick', [n, s],
  (a: number, b: string) => sql<{ n: number; s: string; twice: string }>`SELECT ${a}::int AS n, ${b}::text AS s, ${b}::text || ${b}::text AS twice, ${'constant'}::text AS c`)

t.test('a statement built once per shape answers each call with its own arguments', async t => {
  t.same(await pick(1, 'one'), [{ n: 1, s: 'one', twice: 'oneone', c: 'constant' }])
  t.same(await pick(2, 'two'), [{ n: 2, s: 'two', twice: 'twotwo', c: 'constant' }], 'the second call sends its own arguments, each where the first call\'s markers were')
  t.same(await pick(3, 'it\'s; DROP'), [{ n: 3, s: 'it\'s; DROP', twice: 'it\'s; DROPit\'s; DROP', c: 'constant' }], 'arguments stay parameters')
})

t.test('under tap, a builder that puts an argument into its text instead of a parameter fails at once', async t => {
  t.equal(process.env.TAP, '1', 'tap runs this, so every call is checked against a real build')
  const wrong = (s: string) => runShaped(db, 'shaped-test:wrong', [s], (b: string) => sql<{ s: string }>`SELECT ${sql.lit(b.startsWith('\u0000') ? 'x' : b)}::text AS s`)
  await t.rejects(wrong('real'), /statement shape "shaped-test:wrong" does not hold/)
  let real = 5
  const closing = () => runShaped(db, 'shaped-test:closure', [], () => sql<{ n: number }>`SELECT ${real}::int AS n`)
  t.same(await closing(), [{ n: 5 }])
  real = 6
  await t.rejects(closing(), /does not hold/, 'a value the builder closes over is one the shape would keep')
})
