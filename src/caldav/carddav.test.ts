import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { shareAddressBook, updateContact, listContacts } from '../domain/contacts.ts'
import { davClient, members, propText, syncTokenOf, type DavRequest } from './test-client.ts'

// CardDAV (RFC 6352) over HTTP: discovery, PUT/GET/DELETE with ETags, version negotiation,
// reports, sync, read-only shares, refusals; then the request sequences of iOS, DAVx5 and Thunderbird.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const bob = davClient(s, 'bob')
const admin = davClient(s, 'admin')
const NS = 'xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"'
const HOME = '/dav/addressbooks/alice/'
const BOOK = '/dav/addressbooks/alice/contacts/'
const COMPANY = '/dav/addressbooks/alice/company~company/'
const CARD = 'urn:ietf:params:xml:ns:carddav'

const propfind = (...props: string[]) => `<?xml version="1.0" encoding="utf-8"?><d:propfind ${NS}><d:prop>${props.map(p => `<${p}/>`).join('')}</d:prop></d:propfind>`
const vcard = (uid: string, lines: string[] = [], version = '3.0') => ['BEGIN:VCARD', `VERSION:${version}`, `UID:${uid}`, ...lines, 'END:VCARD', ''].join('\r\n')
const putCard = (who: DavRequest, path: string, body: string, headers: Record<string, string> = {}) => who('PUT', path, { body, headers: { 'content-type': 'text/vcard; charset=utf-8', ...headers } })
const multiget = (hrefs: string[], data = '<card:address-data/>') => `<?xml version="1.0" encoding="utf-8"?><card:addressbook-multiget ${NS}><d:prop><d:getetag/>${data}</d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</card:addressbook-multiget>`
const sync = (token: string, props = '<d:getetag/>') => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop>${props}</d:prop></d:sync-collection>`
const query = (filter: string, props = '<d:getetag/>') => `<?xml version="1.0" encoding="utf-8"?><card:addressbook-query ${NS}><d:prop>${props}</d:prop><card:filter${filter}</card:filter></card:addressbook-query>`
const count = async () => Number((await s.k.db.selectFrom('contacts').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)

t.test('discovery: /.well-known/carddav, addressbook-home-set on the same principal, the company and own address books', async t => {
  const wk = await alice('PROPFIND', '/.well-known/carddav', { headers: { depth: '0' }, body: propfind('d:current-user-principal') })
  t.equal(wk.status, 301)
  t.equal(wk.headers.get('location'), '/dav/')
  const root = await alice('PROPFIND', '/dav/', { headers: { depth: '0' }, body: propfind('d:current-user-principal') })
  const principal = propText(members(root.xml)[0], '{DAV:}current-user-principal')
  t.equal(principal, '/dav/principals/alice/')
  const p = await alice('PROPFIND', principal!, { headers: { depth: '0' }, body: propfind('card:addressbook-home-set', 'd:displayname') })
  t.equal(propText(members(p.xml)[0], `{${CARD}}addressbook-home-set`), HOME)
  const home = await alice('PROPFIND', HOME, { headers: { depth: '1' }, body: propfind('d:resourcetype', 'd:displayname', 'cs:getctag', 'd:sync-token', 'd:current-user-privilege-set', 'card:supported-address-data', 'card:max-resource-size') })
  t.equal(home.status, 207)
  const books = members(home.xml).filter(m => m.href !== HOME)
  t.same(books.map(b => b.href).sort(), [COMPANY, BOOK].sort(), 'the company address book and her own')
  for (const b of books) {
    t.ok(b.props.get('{DAV:}resourcetype')!.children.some(c => c.name === 'addressbook' && c.ns === CARD), 'an addressbook collection')
    t.match(propText(b, '{http://calendarserver.org/ns/}getctag'), /^urn:kalends:sync:ab\d+-\d+$/)
    const versions = b.props.get(`{${CARD}}supported-address-data`)!.children.map(c => c.attrs.version)
    t.same(versions, ['3.0', '4.0'])
    t.equal(propText(b, `{${CARD}}max-resource-size`), '1000000')
  }
  const company = books.find(b => b.href === COMPANY)!
  const privs = company.props.get('{DAV:}current-user-privilege-set')!.children.map(c => c.children[0]!.name)
  t.notOk(privs.includes('write-content'), 'the company book is read-only to a user')
  const dav = await alice('OPTIONS', BOOK)
  t.match(dav.headers.get('dav'), /addressbook/)
  t.equal((await bob('PROPFIND', HOME, { headers: { depth: '0' }, body: propfind('d:resourcetype') })).status, 404, 'another user\'s home is not there for bob')
})

t.test('PUT, GET and DELETE with strong ETags and preconditions; vCard 3.0 and 4.0 by Accept', async t => {
  const body = vcard('anna', ['N:Nowak;Anna;;;', 'FN:Anna Nowak', 'item1.TEL;type=CELL:+48 600 100 200', 'item1.X-ABLabel:mobile', 'PHOTO;ENCODING=b;TYPE=JPEG:QUJD', 'X-PHONETIC-FIRST-NAME:Ana'])
  const created = await putCard(alice, `${BOOK}anna.vcf`, body, { 'if-none-match': '*' })
  t.equal(created.status, 201)
  const etag = created.headers.get('etag')!
  t.match(etag, /^"[^"]+"$/)
  t.equal((await putCard(alice, `${BOOK}anna.vcf`, body, { 'if-none-match': '*' })).status, 412, 'If-None-Match: * on an existing card')
  const got = await alice('GET', `${BOOK}anna.vcf`)
  t.equal(got.text, body, 'the exact body back')
  t.equal(got.headers.get('etag'), etag)
  t.match(got.headers.get('content-type'), /^text\/vcard/)
  const v4 = await alice('GET', `${BOOK}anna.vcf`, { headers: { accept: 'text/vcard; version=4.0' } })
  t.match(v4.text, /VERSION:4\.0/)
  t.match(v4.text, /PHOTO:data:image\/jpeg;base64,QUJD/)
  t.match(v4.text, /X-PHONETIC-FIRST-NAME:Ana/)
  t.not(v4.headers.get('etag'), etag, 'another representation, another strong ETag')
  t.equal((await alice('GET', `${BOOK}anna.vcf`, { headers: { 'if-none-match': etag } })).status, 304)
  t.equal((await putCard(alice, `${BOOK}anna.vcf`, body.replace('Anna Nowak', 'Anna N.'), { 'if-match': '"stale"' })).status, 412, 'a stale If-Match')
  const edited = await putCard(alice, `${BOOK}anna.vcf`, body.replace('FN:Anna Nowak', 'FN:Anna N.'), { 'if-match': v4.headers.get('etag')! })
  t.equal(edited.status, 204, 'the 4.0 representation\'s ETag names the card too')
  const sameUid = await putCard(alice, `${BOOK}other.vcf`, body)
  t.equal(sameUid.status, 403)
  t.match(sameUid.text, /no-uid-conflict/)
  t.equal((await alice('DELETE', `${BOOK}anna.vcf`, { headers: { 'if-match': etag } })).status, 412, 'DELETE with an old ETag')
  t.equal((await alice('DELETE', `${BOOK}anna.vcf`, { headers: { 'if-match': edited.headers.get('etag')! } })).status, 204)
  t.equal((await alice('GET', `${BOOK}anna.vcf`)).status, 404)
})

t.test('bad vCards are refused with CARDDAV:valid-address-data and nothing is stored', async t => {
  const before = await count()
  for (const [label, body] of [
    ['not a vCard', 'hello'],
    ['a calendar', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'],
    ['two vCards', vcard('a', ['FN:A']) + vcard('b', ['FN:B'])],
    ['no name', vcard('c', ['EMAIL:c@example.com'])],
    ['a broken line', vcard('d', ['FN:D', 'this line has no colon'])]
  ]) {
    const res = await putCard(alice, `${BOOK}bad.vcf`, body!)
    t.equal(res.status, 403, label!)
    t.match(res.text, /valid-address-data/, `${label!}: the precondition`)
  }
  const v21 = await putCard(alice, `${BOOK}bad.vcf`, ['BEGIN:VCARD', 'VERSION:2.1', 'FN:Old', 'END:VCARD', ''].join('\r\n'))
  t.equal(v21.status, 403)
  t.match(v21.text, /supported-address-data/)
  const big = await putCard(alice, `${BOOK}big.vcf`, vcard('big', ['FN:Big', `NOTE:${'x'.repeat(1_100_000)}`]))
  t.equal(big.status, 413)
  t.match(big.text, /max-resource-size/)
  t.equal(await count(), before, 'nothing stored')
})

t.test('addressbook-query with prop-filter/text-match, multiget with address-data versions', async t => {
  await putCard(alice, `${BOOK}q1.vcf`, vcard('q1', ['N:Kowalski;Jan;;;', 'FN:Jan Kowalski', 'EMAIL;TYPE=work:jan@acme.example', 'ORG:Acme']))
  await putCard(alice, `${BOOK}q2.vcf`, vcard('q2', ['N:Zielińska;Ewa;;;', 'FN:Ewa Zielińska', 'EMAIL;TYPE=home:ewa@home.example']))
  await putCard(alice, `${BOOK}q3.vcf`, vcard('q3', ['FN:Acme Sp. z o.o.', 'X-ADDRESSBOOKSERVER-KIND:org']))
  const hrefs = async (filter: string) => members((await alice('REPORT', BOOK, { headers: { depth: '1' }, body: query(filter) })).xml).map(m => m.href.split('/').at(-1)).sort()
  t.same(await hrefs('><card:prop-filter name="EMAIL"><card:text-match collation="i;unicode-casemap" match-type="ends-with">ACME.EXAMPLE</card:text-match></card:prop-filter>'), ['q1.vcf'])
  t.same(await hrefs('><card:prop-filter name="FN"><card:text-match>zielińska</card:text-match></card:prop-filter>'), ['q2.vcf'], 'unicode case-insensitive contains by default')
  t.same(await hrefs(' test="anyof"><card:prop-filter name="FN"><card:text-match match-type="starts-with">acme</card:text-match></card:prop-filter><card:prop-filter name="ORG"><card:text-match>acme</card:text-match></card:prop-filter>'), ['q1.vcf', 'q3.vcf'])
  t.same(await hrefs(' test="allof"><card:prop-filter name="EMAIL"/><card:prop-filter name="ORG"><card:is-not-defined/></card:prop-filter>'), ['q2.vcf'])
  t.same(await hrefs('><card:prop-filter name="EMAIL"><card:param-filter name="TYPE"><card:text-match match-type="equals">home</card:text-match></card:param-filter></card:prop-filter>'), ['q2.vcf'])
  const bad = await alice('REPORT', BOOK, { body: query('><card:prop-filter name="FN"><card:text-match collation="i;klingon">x</card:text-match></card:prop-filter>') })
  t.equal(bad.status, 403)
  t.match(bad.text, /supported-collation/)
  const limited = await alice('REPORT', BOOK, { body: query('>').replace('</card:addressbook-query>', '<card:limit><card:nresults>1</card:nresults></card:limit></card:addressbook-query>') })
  t.ok(members(limited.xml).some(m => m.status === 507), 'a limit ends with 507')

  const got = members((await alice('REPORT', BOOK, { body: multiget([`${BOOK}q1.vcf`, `${BOOK}q2.vcf`, `${BOOK}none.vcf`], '<card:address-data content-type="text/vcard" version="4.0"/>') })).xml)
  t.equal(got.length, 3)
  t.match(propText(got[0], `{${CARD}}address-data`), /VERSION:4\.0/)
  t.equal(got[2]!.status, 404)
  const some = members((await alice('REPORT', BOOK, { body: multiget([`${BOOK}q1.vcf`], '<card:address-data><card:prop name="EMAIL"/></card:address-data>') })).xml)
  const text = propText(some[0], `{${CARD}}address-data`)!
  t.match(text, /EMAIL/)
  t.notMatch(text, /FN:/, 'only the properties asked for')
  const refused = await alice('REPORT', BOOK, { body: multiget([`${BOOK}q1.vcf`], '<card:address-data content-type="text/vcard" version="2.1"/>') })
  t.equal(refused.status, 403)
  t.match(refused.text, /supported-address-data-conversion/)
})

t.test('sync-collection and getctag follow every change, from CardDAV and from the CRM; X- lines survive a CRM edit', async t => {
  const first = await alice('REPORT', BOOK, { body: sync('') })
  t.equal(first.status, 207)
  const token = syncTokenOf(first.xml)!
  const ctag = async () => propText(members((await alice('PROPFIND', BOOK, { headers: { depth: '0' }, body: propfind('cs:getctag') })).xml)[0], '{http://calendarserver.org/ns/}getctag')
  const ctag0 = await ctag()
  t.same(members((await alice('REPORT', BOOK, { body: sync(token) })).xml), [], 'nothing new')
  await putCard(alice, `${BOOK}s1.vcf`, vcard('s1', ['FN:Sync One', 'X-CUSTOM-THING;X-PARAM=1:kept', 'item2.TEL:+1 555 0100', 'item2.X-ABLabel:desk']))
  await alice('DELETE', `${BOOK}q3.vcf`)
  const [s1] = (await listContacts(s.k.db, s.users.alice!, { q: 'sync one' })).items
  await updateContact(s.k.db, { user: s.users.alice!, origin: 'api' }, s1!.id, { jobTitle: 'Engineer' })
  const next = await alice('REPORT', BOOK, { body: sync(token, '<d:getetag/><card:address-data/>') })
  const ms = members(next.xml)
  t.same(ms.map(m => [m.href.split('/').at(-1), m.status ?? 200]).sort(), [['q3.vcf', 404], ['s1.vcf', 200]])
  const data = propText(ms.find(m => m.href.endsWith('s1.vcf')), `{${CARD}}address-data`)!
  t.match(data, /TITLE:Engineer/, 'the CRM edit reached the card')
  t.match(data, /X-CUSTOM-THING;X-PARAM=1:kept/, 'the client\'s X- line survives')
  t.match(data, /item2\.X-ABLabel:desk/)
  t.not(await ctag(), ctag0, 'the ctag moved')
  const wrong = await alice('REPORT', BOOK, { body: sync('urn:kalends:sync:ab99999-1') })
  t.equal(wrong.status, 403)
  t.match(wrong.text, /valid-sync-token/)
})

t.test('read-only where the share is read-only: DAV:need-privileges, nothing written', async t => {
  const company = await admin('PUT', '/dav/addressbooks/admin/company~company/acme.vcf', { body: vcard('acme', ['FN:Acme']), headers: { 'content-type': 'text/vcard' } })
  t.equal(company.status, 201, 'an administrator writes the company address book')
  const refused = await putCard(alice, `${COMPANY}mine.vcf`, vcard('mine', ['FN:Mine']))
  t.equal(refused.status, 403)
  t.match(refused.text, /need-privileges/)
  t.equal((await alice('DELETE', `${COMPANY}acme.vcf`)).status, 403)
  t.equal((await alice('GET', `${COMPANY}acme.vcf`)).status, 200, 'but she reads it')
  const books = members((await bob('PROPFIND', '/dav/addressbooks/bob/', { headers: { depth: '1' }, body: propfind('d:displayname') })).xml)
  t.notOk(books.some(b => b.href.includes('shared~alice')), 'not shared yet')
  const aliceBook = (await listContacts(s.k.db, s.users.alice!, {})).items.find(c => c.resourceName === 's1.vcf')!.addressBookId
  await shareAddressBook(s.k.db, { user: s.users.alice!, origin: 'api' }, aliceBook, s.users.bob!.id, 'read')
  const shared = '/dav/addressbooks/bob/shared~alice~contacts/'
  const list = members((await bob('PROPFIND', shared, { headers: { depth: '1' }, body: propfind('d:getetag', 'd:current-user-privilege-set', 'cs:read-only') })).xml)
  t.ok(list.length > 1, 'bob lists alice\'s shared book')
  t.ok(list[0]!.props.has('{http://calendarserver.org/ns/}read-only'))
  const put = await putCard(bob, `${shared}x.vcf`, vcard('x', ['FN:X']))
  t.equal(put.status, 403)
  t.match(put.text, /need-privileges/)
  t.equal((await bob('DELETE', `${shared}s1.vcf`)).status, 403)
})

t.test('iOS Contacts: discovery from the bare address, home Depth 1, sync-collection then multiget, vCard 3.0 create and edit', async t => {
  const ios = davClient(s, 'bob')
  const start = await ios('PROPFIND', '/', { headers: { depth: '0' }, body: propfind('d:current-user-principal', 'd:principal-URL', 'd:resourcetype') })
  t.equal(start.status, 207)
  const principal = propText(members(start.xml)[0], '{DAV:}current-user-principal')!
  const p = await ios('PROPFIND', principal, { headers: { depth: '0' }, body: propfind('card:addressbook-home-set', 'cs:email-address-set', 'd:displayname', 'd:principal-URL') })
  const home = propText(members(p.xml)[0], `{${CARD}}addressbook-home-set`)!
  const h = await ios('PROPFIND', home, { headers: { depth: '1' }, body: propfind('d:resourcetype', 'd:displayname', 'cs:getctag', 'd:sync-token', 'd:current-user-privilege-set', 'd:supported-report-set') })
  const own = members(h.xml).find(m => m.href === `${home}contacts/`)!
  t.ok(own, 'bob\'s own book')
  const reports = own.props.get('{DAV:}supported-report-set')!.children.map(r => r.children[0]!.children[0]!.name)
  t.ok(reports.includes('sync-collection') && reports.includes('addressbook-multiget'))
  const body = vcard('ios-1', ['PRODID:-//Apple Inc.//iPhone OS 18.1//EN', 'N:Appleseed;Johnny;;;', 'FN:Johnny Appleseed', 'item1.EMAIL;type=INTERNET;type=pref:johnny@example.com', 'item1.X-ABLabel:_$!<Other>!$_', 'TEL;type=CELL;type=VOICE;type=pref:+1 555 0101', 'X-ABUID:5AD380FD-B2DE-4261-BA99-DE1D1DB52FBE:ABPerson'])
  const created = await putCard(ios, `${home}contacts/ios-1.vcf`, body, { 'if-none-match': '*' })
  t.equal(created.status, 201)
  const first = await ios('REPORT', `${home}contacts/`, { body: sync('') })
  const hrefs = members(first.xml).map(m => m.href)
  t.ok(hrefs.includes(`${home}contacts/ios-1.vcf`))
  const got = members((await ios('REPORT', `${home}contacts/`, { body: multiget(hrefs) })).xml)
  t.equal(propText(got[0], `{${CARD}}address-data`), body, 'iOS gets back exactly what it stored')
  const edited = await putCard(ios, `${home}contacts/ios-1.vcf`, body.replace('FN:Johnny Appleseed', 'FN:John Appleseed'), { 'if-match': created.headers.get('etag')! })
  t.equal(edited.status, 204)
  const again = members((await ios('REPORT', `${home}contacts/`, { body: sync(syncTokenOf(first.xml)!) })).xml)
  t.same(again.map(m => m.href), [`${home}contacts/ios-1.vcf`])
  const [c] = (await listContacts(s.k.db, s.users.bob!, { q: 'appleseed' })).items
  t.equal(c!.displayName, 'John Appleseed', 'the CRM sees the edit')
  t.same(c!.phones, [{ type: 'cell', value: '+1 555 0101' }])
})

t.test('DAVx5: supported-address-data says 4.0, so it asks for 4.0 in reports and GET, writes 4.0, deletes with If-Match', async t => {
  const davx5 = davClient(s, 'bob')
  const home = '/dav/addressbooks/bob/'
  const h = await davx5('PROPFIND', home, { headers: { depth: '1' }, body: propfind('d:resourcetype', 'd:displayname', 'card:addressbook-description', 'd:current-user-privilege-set', 'cs:getctag', 'd:sync-token', 'card:supported-address-data') })
  const book = members(h.xml).find(m => m.href === `${home}contacts/`)!
  t.ok(book.props.get(`{${CARD}}supported-address-data`)!.children.some(c => c.attrs.version === '4.0'))
  const body = vcard('davx5-1', ['PRODID:DAVx5/4.4 ez-vcard/0.12', 'FN:Dana Scully', 'N:Scully;Dana;;;', 'TEL;TYPE=work;PREF=1:+1 555 0199', 'EMAIL:dana@fbi.example', 'X-DAVDROID-UNKNOWN:kept'], '4.0')
  const created = await putCard(davx5, `${home}contacts/davx5-1.vcf`, body, { 'if-none-match': '*', 'content-type': 'text/vcard; version=4.0; charset=utf-8' })
  t.equal(created.status, 201)
  const s0 = members((await davx5('REPORT', `${home}contacts/`, { body: sync('', '<d:getetag/>') })).xml)
  const hrefs = s0.map(m => m.href)
  const got = members((await davx5('REPORT', `${home}contacts/`, { body: multiget(hrefs, '<card:address-data content-type="text/vcard" version="4.0"/>') })).xml)
  for (const m of got) t.match(propText(m, `{${CARD}}address-data`), /VERSION:4\.0/, `${m.href} in 4.0`)
  const one = await davx5('GET', `${home}contacts/ios-1.vcf`, { headers: { accept: 'text/vcard;version=4.0, text/vcard;charset=utf-8;q=0.8' } })
  t.match(one.text, /VERSION:4\.0/)
  t.match(one.text, /X-ABUID:/, 'Apple\'s lines come through the conversion')
  const [dana] = (await listContacts(s.k.db, s.users.bob!, { q: 'scully' })).items
  t.same(dana!.phones, [{ type: 'work', value: '+1 555 0199' }])
  t.equal((await davx5('DELETE', `${home}contacts/davx5-1.vcf`, { headers: { 'if-match': created.headers.get('etag')! } })).status, 204)
})

t.test('Thunderbird: PROPFIND Depth 1 for ETags (CardBook) or sync-collection (built-in), multiget, a 4.0 card made in Thunderbird', async t => {
  const tb = davClient(s, 'alice')
  const wk = await tb('PROPFIND', '/.well-known/carddav', { headers: { depth: '0' }, body: propfind('d:current-user-principal'), redirect: 'follow' })
  t.equal(wk.status, 207, 'the redirect followed lands on a multistatus')
  const etags = members((await tb('PROPFIND', BOOK, { headers: { depth: '1' }, body: propfind('d:getetag', 'd:getcontenttype') })).xml).filter(m => m.href !== BOOK)
  t.ok(etags.length > 0)
  for (const m of etags) {
    t.match(propText(m, '{DAV:}getetag'), /^"/)
    t.match(propText(m, '{DAV:}getcontenttype'), /^text\/vcard/)
  }
  const uid = '9a5a7e43-1f4e-4b79-bd6d-1f2c4a51c001'
  const body = ['BEGIN:VCARD', 'VERSION:4.0', 'PRODID:-//Thunderbird//EN', 'FN:Fox Mulder', 'N:Mulder;Fox;;;', 'EMAIL;PREF=1:fox@fbi.example', `UID:${uid}`, 'END:VCARD', ''].join('\r\n')
  const created = await putCard(tb, `${BOOK}${uid}.vcf`, body, { 'if-none-match': '*' })
  t.equal(created.status, 201)
  const got = members((await tb('REPORT', BOOK, { headers: { depth: '1' }, body: multiget([`${BOOK}${uid}.vcf`]) })).xml)
  t.equal(propText(got[0], `{${CARD}}address-data`), body)
  t.equal(propText(got[0], '{DAV:}getetag'), created.headers.get('etag'))
})
