import t, { type Test } from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, syncTokenOf, vevent, type DavRequest } from './test-client.ts'

// A paged sync-collection (RFC 6578 §3.6) whose collection keeps changing
// between its pages: members updated, deleted, re-created under the same
// name, moved out and back in. Whatever order the server reads changed and
// deleted members in, the client that follows the 507s must end with exactly
// the server's members, be told of every deletion, and never be told a name
// is gone while it exists (or hear one name twice in a page).
const PAGE = 3
const s = await startServer({ users: ['alice'], env: { KALENDS_SYNC_PAGE_SIZE: String(PAGE) } })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const admin = davClient(s, 'admin')
const CAL = '/dav/calendars/alice/calendar/'
const SECOND = '/dav/calendars/alice/second/'
const BOOK = '/dav/addressbooks/admin/contacts/'
const dest = (path: string) => `${s.url}${path}`

const syncBody = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
const isMember = (href: string) => /\.(ics|vcf)$/.test(href)

/** The collection's members as they are now: href → ETag. */
async function serverState (client: DavRequest, coll: string): Promise<Map<string, string>> {
  const r = await client('PROPFIND', coll, { headers: { depth: '1' }, body: `<d:propfind ${DAV_NS}><d:prop><d:getetag/></d:prop></d:propfind>` })
  return new Map(members(r.xml).filter(m => isMember(m.href)).map(m => [m.href, propText(m, '{DAV:}getetag')!]))
}

/** `reported`: names this sync reported since the test last changed them (a name is reported once, in its newest state) */
type Client = { state: Map<string, string>; deleted: Set<string>; reported: Set<string>; token: string; pages: number }
const newClient = (): Client => ({ state: new Map(), deleted: new Set(), reported: new Set(), token: '', pages: 0 })

/** Follows the 507s from the client's token, checking each page against the server, and calling `between` after each truncated page. */
async function follow (t: Test, who: DavRequest, coll: string, c: Client, between: (page: number) => Promise<void> = async () => {}) {
  for (;;) {
    const r = await who('REPORT', coll, { headers: { depth: '1' }, body: syncBody(c.token) })
    t.equal(r.status, 207)
    const ms = members(r.xml)
    const page = ms.filter(m => isMember(m.href))
    t.ok(page.length <= PAGE, `page ${c.pages + 1}: at most a page of members`)
    t.equal(new Set(page.map(m => m.href)).size, page.length, `page ${c.pages + 1}: each name once`)
    const server = await serverState(who, coll)
    for (const m of page) {
      t.notOk(c.reported.has(m.href), `${m.href} reported once since it last changed`)
      c.reported.add(m.href)
      if (m.status === 404) {
        t.notOk(server.has(m.href), `${m.href} reported gone is gone`)
        c.state.delete(m.href)
        c.deleted.add(m.href)
      } else {
        const etag = propText(m, '{DAV:}getetag')!
        t.equal(etag, server.get(m.href), `${m.href} reported as it is now`)
        c.state.set(m.href, etag)
      }
    }
    c.token = syncTokenOf(r.xml)!
    c.pages++
    if (!ms.some(m => m.status === 507)) return
    if (c.pages > 20) return t.fail('a page that never ends the sync')
    await between(c.pages)
  }
}

/** A later sync from the client's token, its pages and reported names counted afresh. */
async function followLater (t: Test, who: DavRequest, coll: string, c: Client, between: (page: number) => Promise<void>) {
  c.pages = 0
  c.reported.clear()
  await follow(t, who, coll, c, between)
}

/** The client ends with the server's members, was told of each one it had that is gone, and a sync from its token has nothing more. */
async function agrees (t: Test, who: DavRequest, coll: string, c: Client, had: Set<string>) {
  const server = await serverState(who, coll)
  t.same(Object.fromEntries([...c.state].sort()), Object.fromEntries([...server].sort()), 'the client has exactly the server\'s members')
  for (const href of had) if (!server.has(href)) t.ok(c.deleted.has(href), `the deletion of ${href} was reported`)
  const again = await who('REPORT', coll, { headers: { depth: '1' }, body: syncBody(c.token) })
  t.same(members(again.xml).filter(m => isMember(m.href)).map(m => m.href), [], 'nothing more since the last token')
}

const ok = (t: Test, status: number, want: number[], what: string) => t.ok(want.includes(status), `${what}: ${status}`)

t.test('CalDAV: a paged sync while objects are updated, deleted, re-created, renamed and moved', async t => {
  t.equal((await alice('MKCALENDAR', SECOND)).status, 201)
  const c = newClient()
  const touch = (...hrefs: string[]) => { for (const h of hrefs) c.reported.delete(h) }
  const put = async (name: string, summary: string) => {
    touch(`${CAL}${name}.ics`)
    ok(t, (await alice('PUT', `${CAL}${name}.ics`, { body: vevent(name, [], { summary }) })).status, [201, 204], `PUT ${name}`)
  }
  const del = async (name: string) => {
    touch(`${CAL}${name}.ics`)
    t.equal((await alice('DELETE', `${CAL}${name}.ics`)).status, 204, `DELETE ${name}`)
  }
  const move = async (from: string, to: string, overwrite?: string) => {
    touch(from, to)
    ok(t, (await alice('MOVE', from, { headers: { destination: dest(to), ...(overwrite === undefined ? {} : { overwrite }) } })).status, [201, 204], `MOVE ${from} → ${to}`)
  }
  for (let i = 1; i <= 12; i++) await put(`e${String(i).padStart(2, '0')}`, 'first')
  await follow(t, alice, CAL, c)
  t.equal(c.state.size, 12)
  t.equal(c.pages, 4, 'the first sync: 12 objects in pages of 3')
  const had = new Set(c.state.keys())

  await put('e01', 'second')
  await del('e02')
  await del('e03')
  await put('e03', 're-created')
  await move(`${CAL}e04.ics`, `${SECOND}e04.ics`)
  await move(`${CAL}e05.ics`, `${CAL}e05-renamed.ics`)
  await put('n01', 'new')
  await put('n02', 'new')
  await move(`${CAL}e06.ics`, `${CAL}e07.ics`, 'T')
  await del('e12')
  await put('e12', 're-created')
  await del('e12')

  await followLater(t, alice, CAL, c, async page => {
    if (page === 1) {
      await put('e08', 'between pages')
      await del('e09')
      await del('n01')
      await put('e02', 'back again')
    } else if (page === 2) {
      await move(`${SECOND}e04.ics`, `${CAL}e04.ics`)
      await del('e03')
      await put('e01', 'third')
    } else if (page === 3) {
      await put('e10', 'between pages')
      await del('e11')
      await put('e11', 'back again')
      await move(`${CAL}e10.ics`, `${SECOND}e10.ics`)
    }
  })
  t.ok(c.pages >= 4, `the later sync took ${c.pages} pages`)
  await agrees(t, alice, CAL, c, had)
  t.ok(c.state.has(`${CAL}e02.ics`), 'e02: deleted and re-created, the client has it')
  t.ok(c.state.has(`${CAL}e04.ics`), 'e04: moved out and back in, the client has it')
  t.notOk(c.state.has(`${CAL}e03.ics`), 'e03: re-created and deleted again, gone')
})

t.test('CardDAV: a paged sync while cards are updated, deleted, re-created and moved to another address book', async t => {
  const vcard = (uid: string, fn: string) => ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${fn}`, 'END:VCARD', ''].join('\r\n')
  const c = newClient()
  const touch = (href: string) => { c.reported.delete(href) }
  const put = async (name: string, fn: string) => {
    touch(`${BOOK}${name}.vcf`)
    ok(t, (await admin('PUT', `${BOOK}${name}.vcf`, { body: vcard(name, fn), headers: { 'content-type': 'text/vcard; charset=utf-8' } })).status, [201, 204], `PUT ${name}`)
  }
  const del = async (name: string) => {
    touch(`${BOOK}${name}.vcf`)
    t.equal((await admin('DELETE', `${BOOK}${name}.vcf`)).status, 204, `DELETE ${name}`)
  }
  const api = s.as('admin')
  const company = ((await api('/api/v1/address-books')).body_ as { id: number; kind: string }[]).find(b => b.kind === 'company')!
  const moveToCompany = async (uid: string) => {
    touch(`${BOOK}${uid}.vcf`)
    const list = (await api('/api/v1/contacts?limit=1000')).body_ as { items: { id: number; uid: string }[] }
    const id = list.items.find(x => x.uid === uid)!.id
    t.equal((await api(`/api/v1/contacts/${id}`, { method: 'PATCH', json: { addressBookId: company.id } })).status, 200, `${uid} moved to the company book`)
  }
  for (let i = 1; i <= 8; i++) await put(`c0${i}`, `Person ${i}`)
  await follow(t, admin, BOOK, c)
  t.equal(c.state.size, 8)
  const had = new Set(c.state.keys())

  await put('c01', 'Renamed 1')
  await del('c02')
  await del('c03')
  await put('c03', 'Again 3')
  await moveToCompany('c04')
  await put('c09', 'Person 9')
  await del('c08')
  await put('c08', 'Again 8')
  await del('c08')

  await followLater(t, admin, BOOK, c, async page => {
    if (page === 1) {
      await del('c05')
      await put('c06', 'Renamed 6')
      await put('c02', 'Back 2')
    } else if (page === 2) {
      await del('c03')
      await moveToCompany('c07')
    }
  })
  t.ok(c.pages >= 2, `the later sync took ${c.pages} pages`)
  await agrees(t, admin, BOOK, c, had)
})
