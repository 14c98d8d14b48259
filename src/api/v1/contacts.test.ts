import t from 'tap'
import { startServer } from '../../testing/harness.ts'

// /api/v1/contacts over HTTP: create, filters, cursor pages, If-Match, problem+json, access, OpenAPI.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = s.as('alice')
const bob = s.as('bob')
const admin = s.as('admin')
type C = { id: number; displayName: string; organization: string; companyId: number | null; caseIds: number[]; version: number; addressBookId: number }

t.test('create, read, edit with If-Match, delete', async t => {
  const made = await alice('/api/v1/contacts', { method: 'POST', json: { givenName: 'Jan', familyName: 'Kowalski', emails: [{ type: 'work', value: 'jan@acme.example' }], phones: [{ type: 'cell', value: '+48 600 100 200' }], addresses: [{ type: 'work', street: 'Prosta 1', locality: 'Warszawa', postalCode: '00-001', country: 'Polska' }], birthday: '1980-04-12' } })
  t.equal(made.status, 201)
  const c = made.body_ as C
  t.equal(c.displayName, 'Jan Kowalski')
  t.equal(made.headers.get('etag'), '"v1"')
  t.match(made.body_, { addresses: [{ street: 'Prosta 1', region: '', poBox: '' }], birthday: '1980-04-12', resourceName: /\.vcf$/ })
  const stale = await alice(`/api/v1/contacts/${c.id}`, { method: 'PATCH', json: { jobTitle: 'CFO' }, headers: { 'if-match': '"v9"' } })
  t.equal(stale.status, 412)
  t.match(stale.headers.get('content-type'), /problem\+json/)
  const edited = await alice(`/api/v1/contacts/${c.id}`, { method: 'PATCH', json: { jobTitle: 'CFO' }, headers: { 'if-match': '"v1"' } })
  t.equal(edited.status, 200)
  t.equal(edited.headers.get('etag'), '"v2"')
  t.equal((await bob(`/api/v1/contacts/${c.id}`)).status, 404, 'her own address book is hers')
  t.equal((await alice(`/api/v1/contacts/${c.id}`, { method: 'DELETE' })).status, 204)
  t.equal((await alice(`/api/v1/contacts/${c.id}`)).status, 404)
})

t.test('bad input: problem+json naming the field, nothing written', async t => {
  const before = ((await alice('/api/v1/contacts')).body_ as { items: C[] }).items.length
  for (const [json, field] of [
    [{ emails: [{ value: 'not-an-address' }], givenName: 'X' }, 'emails[0].value'],
    [{ givenName: 'X', birthday: '1980-02-30' }, 'birthday'],
    [{}, 'displayName'],
    [{ givenName: 'X', caseIds: [999999] }, 'caseIds[0]'],
    [{ givenName: 'X', photo: 'javascript:alert(1)' }, 'photo']
  ] as const) {
    const res = await alice('/api/v1/contacts', { method: 'POST', json })
    t.equal(res.status, 400, JSON.stringify(json))
    t.match(res.headers.get('content-type'), /problem\+json/)
    t.match(res.body_, { field })
  }
  t.equal((await alice('/api/v1/contacts', { method: 'POST', json: { givenName: 'X', colour: 'red' } })).status, 400, 'unknown fields are refused')
  t.equal(((await alice('/api/v1/contacts')).body_ as { items: C[] }).items.length, before)
})

t.test('filters by case, company and text; cursor pages; the company book by access', async t => {
  const books = (await alice('/api/v1/address-books')).body_ as { id: number; kind: string; access: string }[]
  const company = books.find(b => b.kind === 'company')!
  t.equal(company.access, 'read')
  t.equal((await alice('/api/v1/contacts', { method: 'POST', json: { addressBookId: company.id, givenName: 'No' } })).status, 403, 'a user may not write the company book')
  const acme = (await admin('/api/v1/contacts', { method: 'POST', json: { addressBookId: company.id, kind: 'company', organization: 'Acme Sp. z o.o.' } })).body_ as C
  const kase = (await alice('/api/v1/cases', { method: 'POST', json: { title: 'Acme v. Beta' } })).body_ as { id: number }
  const ids: number[] = []
  for (let i = 0; i < 7; i++) {
    const r = await alice('/api/v1/contacts', { method: 'POST', json: { givenName: `Person${i}`, familyName: 'Zed', companyId: i < 3 ? acme.id : null, caseIds: i % 2 === 0 ? [kase.id] : [] } })
    t.equal(r.status, 201)
    ids.push((r.body_ as C).id)
  }
  t.equal(((await alice(`/api/v1/contacts/${ids[0]}`)).body_ as C).organization, 'Acme Sp. z o.o.', 'a person at a company takes its name')
  const byCase = (await alice(`/api/v1/contacts?caseId=${kase.id}`)).body_ as { items: C[] }
  t.same(byCase.items.map(c => c.id).sort((a, b) => a - b), [ids[0], ids[2], ids[4], ids[6]])
  const byCompany = (await alice(`/api/v1/contacts?companyId=${acme.id}&kind=person`)).body_ as { items: C[] }
  t.same(byCompany.items.map(c => c.id).sort((a, b) => a - b), ids.slice(0, 3))
  const text = (await alice('/api/v1/contacts?q=person3')).body_ as { items: C[] }
  t.same(text.items.map(c => c.id), [ids[3]])
  const seen: number[] = []
  let cursor: string | null = null
  do {
    const page = (await alice(`/api/v1/contacts?q=zed&limit=3${cursor === null ? '' : `&cursor=${cursor}`}`)).body_ as { items: C[]; nextCursor: string | null }
    t.ok(page.items.length <= 3)
    seen.push(...page.items.map(c => c.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.same(seen.sort((a, b) => a - b), ids, 'every contact once over the pages')
  t.equal((await alice('/api/v1/contacts?cursor=garbage')).status, 400)
})

t.test('the OpenAPI document describes the contacts API', async t => {
  const doc = (await alice('/api/v1/openapi.json')).body_ as { paths: Record<string, Record<string, unknown>> }
  t.ok(doc.paths['/api/v1/contacts']?.get, 'list')
  t.ok(doc.paths['/api/v1/contacts']?.post, 'create')
  t.ok(doc.paths['/api/v1/contacts/{id}']?.patch, 'edit')
  t.ok(doc.paths['/api/v1/address-books'], 'address books')
})
