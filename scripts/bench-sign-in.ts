// The sign-in check every CalDAV request carries (SignIn.verify of a
// remembered app password: one statement), on PostgreSQL, with statements
// unnamed (KALENDS_DB_PREPARE=off: parsed and planned every time) and named
// (the default: src/db/prepared-statements.ts), in turn: off, on, on, off.
// Prints the PostgreSQL backend's CPU per check (utime+stime from /proc, so
// run it on the database's machine), this process's CPU and the wall time.
//
//   node scripts/bench-sign-in.ts [checks=4000]
//
// BENCH_PG_URL (postgres://kalends:kalends@127.0.0.1:5432/kalends) must be
// allowed to create a database; it makes one and drops it.
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { sql } from 'kysely'

const { openDatabase } = await import('../src/db/connect.ts')
const { migrate } = await import('../src/db/migrate.ts')
const { createOrg, createUser } = await import('../src/domain/users.ts')
const { createAppPassword } = await import('../src/auth/app-passwords.ts')
const { SignIn } = await import('../src/auth/sign-in.ts')
const { readConfig } = await import('../src/config.ts')

const CHECKS = Number(process.argv.slice(2).find(a => !a.startsWith('--')) ?? 4000)
const ADMIN = process.env.BENCH_PG_URL ?? 'postgres://kalends:kalends@127.0.0.1:5432/kalends'
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) * 10 // clock ticks of 10 ms
}

const name = `bench_signin_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({ connectionString: ADMIN })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(ADMIN)
url.pathname = `/${name}`
console.log(`# sign-in check, ${CHECKS} a turn, PostgreSQL ${name}, Node ${process.version}, load ${load()}`)
try {
  const setup = await openDatabase({ url: url.toString() })
  await migrate(setup)
  const org = await createOrg(setup.db, 'Bench', 'system')
  const user = await createUser(setup.db, null, org.id, { login: 'bench', name: 'Bench', password: 'bench password 1', role: 'admin', timezone: 'Europe/Warsaw' })
  const { password } = await createAppPassword(setup.db, { user, origin: 'system' }, 'Bench phone')
  await setup.close()

  const caller = { ip: '127.0.0.1', log: { info () {}, warn () {} } }
  console.log('| statements | backend CPU µs/check | this process CPU µs/check | wall µs/check |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const mode of ['off', 'on', 'on', 'off']) {
    process.env.KALENDS_DB_POOL = '1'
    process.env.KALENDS_DB_PREPARE = mode
    const handle = await openDatabase({ url: url.toString() })
    try {
      const signIn = new SignIn(handle.db, readConfig({}).loginFailureLimit)
      const check = async () => { if (await signIn.verify('bench', password, caller) === null) throw new Error('sign-in refused') }
      for (let i = 0; i < 200; i++) await check() // the first with argon2id, then remembered
      const pid = Number((await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(handle.db)).rows[0]!.pid)
      const backend0 = cpuMs(pid)
      const self0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < CHECKS; i++) await check()
      const wall = performance.now() - t0
      const self = process.cpuUsage(self0)
      const backend = cpuMs(pid) - backend0
      console.log(`| ${mode === 'on' ? 'named' : 'unnamed'} | ${(backend / CHECKS * 1000).toFixed(0)} | ${((self.user + self.system) / CHECKS).toFixed(0)} | ${(wall / CHECKS * 1000).toFixed(0)} |`)
    } finally { await handle.close() }
  }
  console.log(`# load at the end ${load()}`)
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
