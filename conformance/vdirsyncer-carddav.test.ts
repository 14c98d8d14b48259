import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startServer } from '../src/testing/harness.ts'
import { run } from './run.ts'

// vdirsyncer 0.19 (Debian) with a `carddav` storage syncing alice's own
// address book both ways with a local vdir of .vcf files, then khard (Debian
// package) reading what vdirsyncer wrote, as an address-book user would.
// Rounds: create on both sides, modify on both sides, delete on both sides,
// then an idle sync that must do nothing. After each: vdirsyncer's own
// report of what it copied or deleted, both sides read back (the server with
// an addressbook-query, the directory file by file), and khard's listing of
// names, e-mails and phones. What vdirsyncer uploaded (with a client's X-
// property and an Apple label group) must be on the server byte for byte. A
// contact changed in the CRM (REST) must reach the vdir with the X- lines of
// the card kept. Prints `N passed, N failed` as vdirsyncer and khard print
// nothing of the kind.

// Checks that fail because of a server bug: name → the bug.
const KNOWN_BUGS: Record<string, string> = {}

const s = await startServer({ users: ['alice'] })
const dir = await mkdtemp(join(tmpdir(), 'kalends-vdirsyncer-carddav-'))
t.teardown(async () => { await s.close(); await rm(dir, { recursive: true, force: true }) })
const alice = s.as('alice')
const REMOTE = '/dav/addressbooks/alice/contacts/'
const local = join(dir, 'local', 'contacts')
const config = join(dir, 'config')
await writeFile(config, `[general]
status_path = ${JSON.stringify(join(dir, 'status') + '/')}

[pair kalends]
a = "local"
b = "remote"
collections = ["contacts"]

[storage local]
type = "filesystem"
path = ${JSON.stringify(join(dir, 'local') + '/')}
fileext = ".vcf"

[storage remote]
type = "carddav"
url = ${JSON.stringify(s.url + '/')}
username = "alice"
password = ${JSON.stringify(s.password)}
`)
const khardConfig = join(dir, 'khard.conf')
await writeFile(khardConfig, `[addressbooks]
[[kalends]]
path = ${local}/

[general]
debug = no
default_action = list
editor = /bin/true
merge_editor = /bin/true

[contact table]
display = formatted_name
group_by_addressbook = no
reverse = no
show_nicknames = no
show_uids = yes
sort = last_name
localize_dates = yes
preferred_phone_number_type = pref, cell, home
preferred_email_address_type = pref, work, home

[vcard]
private_objects = Jabber,
preferred_version = 3.0
search_in_source_files = no
skip_unparsable = no
`)

function card (uid: string, given: string, family: string, email: string, phone: string) {
  return ['BEGIN:VCARD', 'VERSION:3.0', 'PRODID:-//Kalends conformance//vdirsyncer//EN', `UID:${uid}`, `N:${family};${given};;;`, `FN:${given} ${family}`,
    `EMAIL;TYPE=work:${email}`, `item1.TEL;TYPE=cell:${phone}`, 'item1.X-ABLabel:mobile', 'X-CONFORMANCE-CLIENT;X-PARAM=kept:vdirsyncer', 'END:VCARD', ''].join('\r\n')
}
const uidOf = (v: string) => /^UID:(.*?)\r?$/m.exec(v)?.[1]
const fnOf = (v: string) => /^FN:(.*?)\r?$/m.exec(v)?.[1]
const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : 1))

async function localCards (): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of (await readdir(local)).filter(f => f.endsWith('.vcf'))) {
    const v = await readFile(join(local, f), 'utf8')
    out[uidOf(v) ?? f] = v
  }
  return out
}
async function serverCards (): Promise<Record<string, string>> {
  const res = await alice(REMOTE, {
    method: 'REPORT', headers: { depth: '1', 'content-type': 'application/xml' },
    body: '<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><card:address-data/></d:prop><card:filter/></card:addressbook-query>'
  })
  const body = String(res.body_).replace(/&#13;/g, '\r').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  const out: Record<string, string> = {}
  for (const m of body.matchAll(/BEGIN:VCARD[\s\S]*?END:VCARD\r?\n?/g)) out[uidOf(m[0]) ?? '?'] = m[0]
  return out
}
const names = (cards: Record<string, string>) => sorted(Object.fromEntries(Object.entries(cards).map(([k, v]) => [k, fnOf(v) ?? ''])))
async function fileOf (uid: string) {
  for (const f of await readdir(local)) if (uidOf(await readFile(join(local, f), 'utf8')) === uid) return join(local, f)
  return join(local, 'missing.vcf')
}

t.test('vdirsyncer carddav two-way sync, khard reading it', async t => {
  let passed = 0
  let failed = 0
  function check (name: string, ok: boolean, detail: string) {
    if (ok) passed++; else failed++
    const todo = KNOWN_BUGS[name]
    t.ok(ok, `${name}: ${detail}`, todo === undefined ? {} : { todo })
  }
  const same = (name: string, got: unknown, want: unknown) => check(name, JSON.stringify(got) === JSON.stringify(want), `${JSON.stringify(got)}, want ${JSON.stringify(want)}`)

  async function vdirsyncer (...args: string[]) {
    const r = await run('vdirsyncer', ['--config', config, ...args], { cwd: dir, input: 'y\n'.repeat(10), timeoutMs: 60_000 })
    const out = (r.stdout + r.stderr).trim()
    t.comment(`vdirsyncer ${args.join(' ')}:\n${out}`)
    const complaints = out.split('\n').filter(l => /^(error|critical|warning):/i.test(l) && l !== 'warning: Deleting an item with no etag.')
    return { ...r, out, complaints }
  }
  async function khard (...args: string[]) {
    const r = await run('khard', ['-c', khardConfig, ...args], { cwd: dir, timeoutMs: 30_000 })
    return r.stdout.split('\n').filter(l => l.includes('\t')).map(l => l.split('\t')).sort((a, b) => (a.join() < b.join() ? -1 : 1))
  }
  async function round (name: string, actions: string[], want: Record<string, string>) {
    const r = await vdirsyncer('sync')
    check(`${name}: sync`, r.code === 0 && !r.timedOut && r.complaints.length === 0, `exit ${r.code}${r.complaints.length > 0 ? `; ${r.complaints.join(' | ')}` : ''}`)
    same(`${name}: what vdirsyncer did`, r.out.split('\n').filter(l => /^(Copying|Deleting) /.test(l)).sort(), [...actions].sort())
    same(`${name}: local side`, names(await localCards()), want)
    same(`${name}: server side`, names(await serverCards()), want)
    same(`${name}: khard lists`, (await khard('list', '-p')).map(([uid, fn]) => [uid, fn]), Object.entries(want).map(([uid, fn]) => [uid, fn]).sort((a, b) => (a.join() < b.join() ? -1 : 1)))
  }

  const d = await vdirsyncer('discover')
  const made = await readdir(local).then(() => true, () => false)
  check('discover', d.code === 0 && /"contacts"/.test(d.out) && made, `exit ${d.code}; local collection ${made ? '' : 'not '}created`)

  const L = 'from-local@conformance.kalends'
  const S = 'from-server@conformance.kalends'
  await writeFile(join(local, 'from-local.vcf'), card(L, 'Lena', 'Local', 'lena@local.example', '+48 600 000 001'))
  const put = await alice(`${REMOTE}on-server.vcf`, { method: 'PUT', headers: { 'content-type': 'text/vcard; charset=utf-8', 'if-none-match': '*' }, body: card(S, 'Sam', 'Server', 'sam@server.example', '+48 600 000 002') })
  t.equal(put.status, 201, 'server-side PUT')
  await round('create', [`Copying (uploading) item ${L} to remote/contacts`, `Copying (uploading) item ${S} to local/contacts`], { [L]: 'Lena Local', [S]: 'Sam Server' })
  const up = (await serverCards())[L]
  const file = await readFile(await fileOf(L), 'utf8')
  check('create: upload kept exactly', up === file, up === file ? `${file.length} bytes, X- property and label group included` : `server ${JSON.stringify(up)}, uploaded ${JSON.stringify(file)}`)
  same('create: khard reads the e-mails', (await khard('email', '-p')).map(r => r.slice(0, 2)), [['lena@local.example', 'Lena Local'], ['sam@server.example', 'Sam Server']])
  same('create: khard reads the phones', (await khard('phone', '-p')).map(r => r.slice(0, 2)), [['+48 600 000 001', 'Lena Local'], ['+48 600 000 002', 'Sam Server']])

  await writeFile(await fileOf(L), card(L, 'Lena', 'Edited', 'lena@local.example', '+48 600 000 001'))
  const head = await alice(`${REMOTE}on-server.vcf`, { method: 'HEAD' })
  const edit = await alice(`${REMOTE}on-server.vcf`, { method: 'PUT', headers: { 'content-type': 'text/vcard; charset=utf-8', 'if-match': head.headers.get('etag') ?? '"none"' }, body: card(S, 'Sam', 'Edited', 'sam@server.example', '+48 600 000 002') })
  t.equal(edit.status, 204, 'server-side PUT with If-Match')
  await round('modify', [`Copying (updating) item ${L} to remote/contacts`, `Copying (updating) item ${S} to local/contacts`], { [L]: 'Lena Edited', [S]: 'Sam Edited' })

  // a change in the CRM (REST) reaches the vdir, the card's own lines kept
  const list = (await alice('/api/v1/contacts?q=lena')).body_ as { items: { id: number; version: number }[] }
  const crm = await alice(`/api/v1/contacts/${list.items[0]!.id}`, { method: 'PATCH', json: { jobTitle: 'Counsel' } })
  t.equal(crm.status, 200, 'CRM edit over REST')
  await round('CRM edit', [`Copying (updating) item ${L} to local/contacts`], { [L]: 'Lena Edited', [S]: 'Sam Edited' })
  const after = await readFile(await fileOf(L), 'utf8')
  check('CRM edit: job title and client lines in the vdir', /TITLE:Counsel/.test(after) && /X-CONFORMANCE-CLIENT;X-PARAM=kept:vdirsyncer/.test(after) && /item1\.X-ABLabel:mobile/.test(after), JSON.stringify(after))

  await unlink(await fileOf(L))
  t.equal((await alice(`${REMOTE}on-server.vcf`, { method: 'DELETE' })).status, 204, 'server-side DELETE')
  await round('delete', [`Deleting item ${L} from remote/contacts`, `Deleting item ${S} from local/contacts`], {})
  await round('idle', [], {})

  t.comment(`vdirsyncer carddav + khard: ${passed} passed, ${failed} failed`)
})
