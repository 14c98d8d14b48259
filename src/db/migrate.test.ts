import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openDatabase, type DbHandle } from './connect.ts'
import { migrate } from './migrate.ts'
import { testDatabase } from '../testing/harness.ts'

/** Schema migrations on an empty database, re-runs, concurrent runs and a broken migration. */

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url))
const MIGRATIONS = readdirSync(fileURLToPath(new URL('../../migrations/', import.meta.url))).filter(f => /^\d{4}_[\w-]+\.sql$/.test(f)).sort()
const onPostgres = (process.env.KALENDS_TEST_DATABASE_URL ?? '') !== ''

/** A fresh, empty database (PGlite in memory, or a new PostgreSQL database) and a handle on it. */
async function emptyDatabase (t: Test): Promise<{ handle: DbHandle; url: string | null }> {
  const db = await testDatabase()
  const handle = await openDatabase(db.target)
  t.teardown(async () => { await handle.close(); await db.drop() })
  return { handle, url: 'url' in db.target ? db.target.url : null }
}

const tables = (h: DbHandle) => h.session(async q => (await q("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).map(r => String(r.tablename)))
const records = (h: DbHandle) => h.session(async q => (await q('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name')).map(r => [String(r.name), Number(r.n)]))

t.test('the migrations directory holds 0001 and on', async t => {
  t.equal(MIGRATIONS[0]?.slice(0, 5), '0001_')
  MIGRATIONS.forEach((name, i) => t.equal(name.slice(0, 4), String(i + 1).padStart(4, '0'), `${name} is numbered in sequence`))
})

t.test('on an empty database every migration is applied and the tables exist', async t => {
  const { handle } = await emptyDatabase(t)
  t.same(await tables(handle), [], 'the database starts empty')
  const report = await migrate(handle)
  t.same(report, { applied: MIGRATIONS, alreadyApplied: 0 })
  const names = await tables(handle)
  for (const table of ['schema_migrations', 'orgs', 'users', 'app_passwords', 'api_tokens', 'login_failures', 'cases', 'item_types', 'calendars', 'calendar_shares', 'appointments', 'appointment_participants', 'tasks', 'calendar_objects', 'changes']) {
    t.ok(names.includes(table), `table ${table}`)
  }
  t.same(await records(handle), MIGRATIONS.map(m => [m, 1]), 'each migration recorded once')
  // the schema is usable: Kysely can write and read it
  const org = await handle.db.insertInto('orgs').values({ name: 'Acme', settings: '{}' }).returning('id').executeTakeFirstOrThrow()
  t.match(await handle.db.selectFrom('orgs').selectAll().where('id', '=', org.id).executeTakeFirst(), { name: 'Acme', settings: {} })

  const again = await migrate(handle)
  t.same(again, { applied: [], alreadyApplied: MIGRATIONS.length }, 'a re-run applies nothing')
  t.same(await records(handle), MIGRATIONS.map(m => [m, 1]))
  t.equal((await handle.db.selectFrom('orgs').select('name').execute()).length, 1, 'and leaves the data alone')
})

t.test('two migrations at the same moment take turns', async t => {
  const { handle, url } = await emptyDatabase(t)
  if (url !== null) {
    // two processes, as when two servers start together against one PostgreSQL
    const run = () => new Promise<{ code: number | null; out: string }>(resolve => {
      const child = spawn(process.execPath, [CLI, 'migrate'], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let out = ''
      child.stdout.on('data', c => { out += c })
      child.stderr.on('data', c => { out += c })
      child.on('close', code => resolve({ code, out }))
    })
    const [a, b] = await Promise.all([run(), run()])
    t.equal(a.code, 0, a.out)
    t.equal(b.code, 0, b.out)
    const outs = [a.out, b.out].sort()
    t.same(outs, [`applied ${MIGRATIONS.join(', ')}\n`, 'database is up to date\n'].sort(), 'one applied everything, the other found nothing to do')
  } else {
    // PGlite is one connection in one process: two callers on the same handle
    const [a, b] = await Promise.all([migrate(handle), migrate(handle)])
    t.same([a, b].map(r => r.applied.length).sort(), [0, MIGRATIONS.length], 'one applied everything, the other nothing')
  }
  t.same(await records(handle), MIGRATIONS.map(m => [m, 1]), 'schema_migrations holds each migration exactly once')
})

t.test('PostgreSQL: two handles in one process migrating at once', { skip: onPostgres ? false : 'needs PostgreSQL' }, async t => {
  const { handle, url } = await emptyDatabase(t)
  const other = await openDatabase({ url: url! })
  t.teardown(() => other.close())
  const reports = await Promise.all([migrate(handle), migrate(other), migrate(handle)])
  t.same(reports.map(r => r.applied.length).sort(), [0, 0, MIGRATIONS.length])
  t.same(await records(other), MIGRATIONS.map(m => [m, 1]))
})

t.test('a broken migration rolls back entirely and names its file', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kalends-migrations-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE first_table (id int PRIMARY KEY);\nINSERT INTO first_table VALUES (1);\n')
  writeFileSync(join(dir, '0002_broken.sql'), [
    'CREATE TABLE second_table (id int PRIMARY KEY);',
    'INSERT INTO first_table VALUES (2);',
    'ALTER TABLE first_table ADD COLUMN note text;',
    'INSERT INTO second_table VALUES (1), (1);', // duplicate key: fails after the statements above ran
    'CREATE TABLE never_made (id int);'
  ].join('\n'))
  writeFileSync(join(dir, '0003_after.sql'), 'CREATE TABLE third_table (id int);\n')
  writeFileSync(join(dir, 'README.md'), 'not a migration')
  writeFileSync(join(dir, '4_bad_name.sql'), 'SELECT nonsense FROM nowhere;')

  const { handle } = await emptyDatabase(t)
  await t.rejects(migrate(handle, dir), { message: /^migration 0002_broken\.sql failed: .*duplicate key/ })
  t.same(await tables(handle), ['first_table', 'schema_migrations'], '0001 stays; nothing of 0002 (or after it) exists')
  t.same(await records(handle), [['0001_first.sql', 1]], 'only 0001 is recorded')
  const rows = await handle.session(q => q('SELECT * FROM first_table ORDER BY id'))
  t.same(rows, [{ id: 1 }], "0002's insert and new column were rolled back")

  // the lock was released and the database is usable: fix the file and go on
  writeFileSync(join(dir, '0002_broken.sql'), 'CREATE TABLE second_table (id int PRIMARY KEY);\n')
  const report = await migrate(handle, dir)
  t.same(report, { applied: ['0002_broken.sql', '0003_after.sql'], alreadyApplied: 1 }, 'files not named NNNN_name.sql are ignored')
  t.same(await tables(handle), ['first_table', 'schema_migrations', 'second_table', 'third_table'])
})

t.test('a migration with a syntax error reports the file and the database error', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'kalends-migrations-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '0001_typo.sql'), 'CREATE TABLE ok_table (id int);\nCREAT TABLE oops (id int);\n')
  const { handle } = await emptyDatabase(t)
  await t.rejects(migrate(handle, dir), { message: /^migration 0001_typo\.sql failed: syntax error/ })
  t.same(await tables(handle), ['schema_migrations'])
  t.same(await records(handle), [])
})
