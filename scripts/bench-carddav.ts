// CardDAV benchmark: the same address book in Kalends and in Radicale, one run.
//
//   node scripts/bench-carddav.ts [size=10000] [--reps=5]
//
// Generates `size` vCards 3.0 (name, organisation, two e-mails, two phones,
// an address, a note) and loads them into
//   - Radicale (Debian package) on a loopback port, auth none, filesystem
//     storage in a temporary folder, written before it starts: one .vcf file
//     per card, as Radicale's own PUT leaves them (a bulk PUT of 10,000 cards
//     takes many minutes under load);
//   - Kalends on an embedded PGlite folder, through the domain layer
//     (putCard: what a CardDAV PUT calls, so access and the journal apply),
//     then served by `bin/kalends serve` as its own process.
// Then, interleaved (Radicale, Kalends, Radicale, …) over HTTP on 127.0.0.1
// with one keep-alive client: PROPFIND Depth:1 of the address book (getetag,
// getcontenttype), addressbook-multiget of 50 with address-data,
// sync-collection from a token taken before 10 edits, and PUT of a new card.
// Medians in ms, and the ratio Radicale / Kalends.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, freePort, hrefsOf, interleaved, memory, radicaleCollection, req, stop, waitFor, type Result, type Target } from './bench-lib.ts'

const { openKalends } = await import('../src/app.ts')
const { readConfig } = await import('../src/config.ts')
const { createOrg, createUser } = await import('../src/domain/users.ts')
const { defaultAddressBookOf } = await import('../src/domain/contacts.ts')
const { putCard } = await import('../src/domain/address-book-cards.ts')

const args = process.argv.slice(2)
const N = Number(args.find(a => !a.startsWith('--')) ?? 10_000)
const REPS = Number(args.find(a => a.startsWith('--reps='))?.split('=')[1] ?? 5)
const ROOT = new URL('..', import.meta.url).pathname
const PASSWORD = 'bench password 1'
const VCARD = { 'content-type': 'text/vcard; charset=utf-8' }

console.log(`# CardDAV benchmark: ${N} contacts, Kalends (PGlite) vs Radicale, reps ${REPS}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)

function vcard (i: number, note = `Client since ${2000 + (i % 25)}`): string {
  return ['BEGIN:VCARD', 'VERSION:3.0', `UID:bench-${i}`, `N:Family${i};Given${i};;;`, `FN:Given${i} Family${i}`, `ORG:Company ${i % 500}`, 'TITLE:Manager',
    `EMAIL;TYPE=work:given${i}@company${i % 500}.example`, `EMAIL;TYPE=home:g${i}@home.example`, `TEL;TYPE=cell:+48 600 ${String(i).padStart(6, '0')}`,
    `TEL;TYPE=work:+48 22 ${String(i).padStart(7, '0')}`, `ADR;TYPE=work:;;Street ${i};Warszawa;;00-${String(i % 1000).padStart(3, '0')};Polska`, `NOTE:${note}`, 'END:VCARD', ''].join('\r\n')
}

type Server = { t: Target; result: Result; hrefs: Map<string, string>; token?: string; stop: () => Promise<void> }

const PROPFIND = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/></d:prop></d:propfind>'
const TOKEN = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'
const multiget = (hrefs: string[]) => `<?xml version="1.0" encoding="utf-8"?><card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</card:addressbook-multiget>`
const sync = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
const href = (s: Server, i: number) => s.hrefs.get(`bench-${i}.vcf`) ?? (() => { throw new Error(`${s.t.name}: no href for bench-${i}`) })()

async function radicale (): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-radicale-card-'))
  const port = await freePort()
  writeFileSync(join(dir, 'config'), ['[server]', `hosts = 127.0.0.1:${port}`, 'max_content_length = 1000000000', 'timeout = 600', '[auth]', 'type = none',
    '[rights]', 'type = owner_only', '[storage]', `filesystem_folder = ${join(dir, 'collections')}`, '[web]', 'type = none', '[logging]', 'level = warning'].join('\n') + '\n')
  let err = ''
  radicaleFiles(dir)
  const child = spawn('radicale', ['--config', join(dir, 'config')], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
  const stopIt = async () => { await stop(child); rmSync(dir, { recursive: true, force: true }) }
  try {
    const t: Target = { name: 'Radicale', base: `http://127.0.0.1:${port}`, calendar: '/bench/contacts/', auth: `Basic ${Buffer.from('bench:x').toString('base64')}`, pid: child.pid! }
    await waitFor(`${t.base}/.well-known/carddav`, child, () => err)
    return { t, result: {}, hrefs: new Map(), stop: stopIt }
  } catch (e) { await stopIt(); throw e }
}

/** Radicale's storage written directly (one file per card, as its own PUT leaves it): a bulk PUT of 10,000 takes many minutes. */
function radicaleFiles (dir: string): void {
  const took = radicaleCollection(dir, '/bench/contacts/', 'VADDRESSBOOK', Array.from({ length: N }, (_, i) => [`bench-${i}.vcf`, vcard(i)]))
  console.log(`  Radicale load: ${N} files written in ${took.toFixed(1)} s`)
}

async function kalends (): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kalends-card-'))
  let child: ChildProcess | null = null
  const stopIt = async () => { if (child !== null) await stop(child); rmSync(dir, { recursive: true, force: true }) }
  try {
    const env = { NODE_ENV: 'production', LOG_LEVEL: 'warn', KALENDS_SECRET_KEY: randomBytes(32).toString('base64'), KALENDS_DATA_DIR: join(dir, 'data') }
    const t0 = performance.now()
    const k = await openKalends(readConfig({ ...env, PORT: '0', LOG_LEVEL: 'silent' }), { dataDir: join(dir, 'data') })
    const org = await createOrg(k.db, 'Bench', 'system')
    const user = await createUser(k.db, null, org.id, { login: 'bench', name: 'Bench', password: PASSWORD, role: 'admin', timezone: 'Europe/Warsaw' })
    const book = await defaultAddressBookOf(k.db, user)
    for (let i = 0; i < N; i++) await putCard(k.db, { user, origin: 'caldav' }, book.id, `bench-${i}.vcf`, vcard(i), { ifNoneMatch: '*' })
    await k.close()
    console.log(`  Kalends load: ${N} putCard calls in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const port = await freePort()
    let err = ''
    child = spawn(join(ROOT, 'bin/kalends'), ['serve'], { cwd: dir, env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr!.on('data', d => { err = (err + d).slice(-4000) })
    const t: Target = { name: 'Kalends PGlite', base: `http://127.0.0.1:${port}`, calendar: '/dav/addressbooks/bench/contacts/', auth: `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`, pid: child.pid! }
    await waitFor(`${t.base}/dav/`, child, () => err)
    return { t, result: {}, hrefs: new Map(), stop: stopIt }
  } catch (e) { await stopIt(); throw e }
}

const servers: Server[] = []
try {
  servers.push(await radicale(), await kalends())
  await interleaved(servers, 'propfind-depth1', () => Math.min(3, REPS), async s => {
    const r = await req(s.t, 'PROPFIND', s.t.calendar, PROPFIND, { depth: '1' })
    expect('PROPFIND', r.status === 207, `${r.status} ${r.text.slice(0, 300)}`)
    const hrefs = hrefsOf(r.text).filter(h => h.endsWith('.vcf'))
    expect('PROPFIND', hrefs.length === N, `${hrefs.length} cards listed, expected ${N}`)
    s.hrefs = new Map(hrefs.map(h => [decodeURIComponent(h.split('/').pop()!), h]))
    return hrefs.length
  })
  await interleaved(servers, 'multiget-50', () => REPS, async s => {
    const r = await req(s.t, 'REPORT', s.t.calendar, multiget(Array.from({ length: 50 }, (_, k) => href(s, (Math.floor(k * N / 50) + 1) % N))), { depth: '1' })
    expect('multiget', r.status === 207 && (r.text.match(/BEGIN:VCARD/g) ?? []).length === 50, `${r.status} ${r.text.slice(0, 300)}`)
    return 50
  })
  for (const s of servers) {
    s.token = /sync-token>([^<]+)</.exec((await req(s.t, 'PROPFIND', s.t.calendar, TOKEN, { depth: '0' })).text)?.[1]
    for (let k = 0; k < 10; k++) {
      const i = (Math.floor(k * N / 10) + 3) % N
      const r = await req(s.t, 'PUT', href(s, i), vcard(i, 'edited'), VCARD)
      expect('edit', r.status === 204 || r.status === 201, `${r.status} ${r.text.slice(0, 300)}`)
    }
  }
  await interleaved(servers, 'sync-after-10', () => REPS, async s => {
    const r = await req(s.t, 'REPORT', s.t.calendar, sync(s.token!), { depth: '1' })
    const changed = hrefsOf(r.text).filter(h => h.endsWith('.vcf')).length
    expect(`${s.t.name}: sync-collection`, r.status === 207 && changed === 10, `${r.status}, ${changed} changes`)
    return changed
  })
  await interleaved(servers, 'put-new', () => 20, async (s, i) => {
    const r = await req(s.t, 'PUT', `${s.t.calendar}new-${i}.vcf`, vcard(N + 1000 + i).replace(`UID:bench-${N + 1000 + i}`, `UID:new-${i}`), { ...VCARD, 'if-none-match': '*' })
    expect('PUT', r.status === 201, `${r.status} ${r.text.slice(0, 300)}`)
    return 1
  })
  console.log(`\n| operation | contacts | Radicale ms | Kalends ms | ratio |\n|---|---|---|---|---|`)
  for (const op of ['propfind-depth1', 'multiget-50', 'sync-after-10', 'put-new']) {
    const [rad, kal] = servers.map(s => s.result[op]!.median)
    console.log(`| ${op} | ${N} | ${rad!.toFixed(1)} | ${kal!.toFixed(1)} | ${(rad! / kal!).toFixed(1)} |`)
  }
  for (const s of servers) { const m = memory(s.t.pid); console.log(`  ${s.t.name} RSS ${m.rss.toFixed(0)} MB (peak ${m.hwm.toFixed(0)} MB)`) }
} finally {
  for (const s of servers) await s.stop()
}
