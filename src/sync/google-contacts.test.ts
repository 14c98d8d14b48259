// Google Contacts push (issue 13) over a running server and the Google
// emulator's People API: batched first push, edit, delete, scope, reconnect,
// an edit in Google overwritten and logged, quota errors retried.
// The test plays the CRM's contacts store through the engine's ContactSource.
import t from 'tap'
import type { PushContact } from './contacts-source.ts'
import { google } from 'googleapis'
import { personOf } from './google/contacts-push.ts'
import { syncDb } from './tables.ts'
import { startSyncWorld, type SyncWorld } from './testing.ts'

const contact = (id: number, over: Partial<PushContact> = {}): PushContact => ({
  id,
  givenName: `Anna${id}`,
  familyName: `Nowak${id}`,
  displayName: `Anna${id} Nowak${id}`,
  company: id % 2 === 0 ? 'Acme' : null,
  jobTitle: null,
  emails: [{ value: `anna${id}@example.org`, type: 'work' }],
  phones: [{ value: `+48 600 ${String(id).padStart(6, '0')}`, type: 'mobile' }],
  addresses: [],
  urls: [],
  birthday: id === 1 ? '1980-02-29' : null,
  notes: null,
  ...over
})

async function world (t: { teardown (fn: () => Promise<void>): void }, crm: Map<number, PushContact>): Promise<SyncWorld> {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  w.s.k.sync.engine.contacts = async () => [...crm.values()]
  return w
}

const copies = (w: SyncWorld) => w.g.dumpPeople(w.email('alice')).people
const kalendsGroup = (w: SyncWorld) => w.g.dumpPeople(w.email('alice')).groups.find(g => g.name === 'Kalends')
const idOf = (p: { clientData?: { key?: string | null; value?: string | null }[] | null }) => Number(p.clientData?.find(d => d.key === 'kalends.contactId')?.value)
const peopleCalls = (w: SyncWorld) => Object.entries(w.g.calls().byRoute).filter(([k]) => k.includes(' /v1/')).reduce((n, [, c]) => n + c, 0)
async function log (w: SyncWorld): Promise<string[]> {
  const conn = await w.connection('alice')
  return (await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', conn.id).orderBy('id').execute()).map(l => l.message)
}

t.test('first push of 2,000 contacts in batches, then an edit, a delete and a contact out of scope', async t => {
  const crm = new Map(Array.from({ length: 2000 }, (_, i) => [i + 1, contact(i + 1)]))
  const w = await world(t, crm)
  await w.connect('alice', { tasks: false, contacts: 'company' })
  w.g.resetCalls()
  t.equal((await w.run('alice')).state, 'ok')
  const all = copies(w)
  t.equal(all.length, 2000, 'every contact copied once')
  t.equal(new Set(all.map(idOf)).size, 2000)
  const group = kalendsGroup(w)!
  t.equal(group.memberResourceNames!.length, 2000, 'all in the Kalends group')
  const calls = w.g.calls().byRoute
  t.equal(calls['POST /v1/people:batchCreateContacts'], 10, '2,000 contacts in 10 batches of 200')
  t.ok(peopleCalls(w) <= 14, `People API requests within the bound: ${peopleCalls(w)}`)
  const one = all.find(p => idOf(p) === 1)!
  t.same(one.birthdays![0]!.date, { year: 1980, month: 2, day: 29 })
  t.equal(one.phoneNumbers![0]!.value, '+48 600 000001')

  w.g.resetCalls()
  t.equal((await w.run('alice')).state, 'ok')
  t.equal(peopleCalls(w), 0, 'nothing changed: not one People API request')

  crm.set(7, contact(7, { familyName: 'Kowalska', jobTitle: 'Counsel' }))
  crm.delete(8)
  crm.delete(9) // left the scope (e.g. no longer in the user's cases): same effect on the copies
  w.g.resetCalls()
  await w.run('alice')
  const after = copies(w)
  t.equal(after.length, 1998)
  t.notOk(after.some(p => idOf(p) === 8 || idOf(p) === 9), 'the deleted and the out-of-scope contact are gone from Google')
  const seven = after.find(p => idOf(p) === 7)!
  t.equal(seven.names![0]!.familyName, 'Kowalska')
  t.equal(seven.organizations![0]!.title, 'Counsel')
  t.equal(w.g.calls().byRoute['POST /v1/people:batchUpdateContacts'], 1)
  t.equal(w.g.calls().byRoute['POST /v1/people:batchDeleteContacts'], 1)
})

t.test('an edit made in Google is overwritten at the next change of that contact, and the log says so', async t => {
  const crm = new Map([1, 2, 3].map(i => [i, contact(i)]))
  const w = await world(t, crm)
  await w.connect('alice', { tasks: false, contacts: 'company' })
  await w.run('alice')
  const two = copies(w).find(p => idOf(p) === 2)!
  w.g.editPerson(w.email('alice'), two.resourceName!, { names: [{ givenName: 'Changed', familyName: 'InGoogle' }] })
  await w.run('alice')
  t.equal(copies(w).find(p => idOf(p) === 2)!.names![0]!.givenName, 'Changed', 'never read back: the edit stays until the CRM changes the contact')
  crm.set(2, contact(2, { givenName: 'Anna-Maria' }))
  t.equal((await w.run('alice')).state, 'ok')
  const now = copies(w).find(p => idOf(p) === 2)!
  t.equal(now.names![0]!.givenName, 'Anna-Maria')
  t.equal(now.names![0]!.familyName, 'Nowak2')
  t.ok((await log(w)).some(m => /contact 2 was edited in Google; the CRM's version is written over it/.test(m)))
  t.equal(copies(w).length, 3)
})

t.test('reconnect makes no second copy; disconnect keeps or removes the copies', async t => {
  const crm = new Map(Array.from({ length: 250 }, (_, i) => [i + 1, contact(i + 1)]))
  const w = await world(t, crm)
  const conn = await w.connect('alice', { tasks: false, contacts: 'company' })
  await w.run('alice')
  t.equal(copies(w).length, 250)
  const { disconnect } = await import('./connections.ts')
  await disconnect(w.s.k.sync.engine, w.s.users.alice!, conn.id)
  t.equal(copies(w).length, 250, 'disconnect leaves the copies')
  crm.set(251, contact(251))
  await w.connect('alice')
  w.g.resetCalls()
  await w.run('alice')
  t.equal(copies(w).length, 251, 'reconnect matched the 250 by their CRM id and made only the new one')
  t.equal(w.g.calls().byRoute['POST /v1/people:batchCreateContacts'], 1)
  t.ok((await log(w)).some(m => /250 contacts already in Google matched/.test(m)))
  await disconnect(w.s.k.sync.engine, w.s.users.alice!, conn.id, { removeContacts: true })
  t.equal(copies(w).length, 0, 'disconnect with "remove the copies" deletes them')
})

t.test('an interrupted push resumes, and a create whose answer was lost is matched, not made twice', async t => {
  const crm = new Map(Array.from({ length: 300 }, (_, i) => [i + 1, contact(i + 1)]))
  const w = await world(t, crm)
  const conn = await w.connect('alice', { tasks: false, contacts: 'company' })
  w.g.fault({ kind: 'timeout', delayMs: 50, match: { method: 'POST', pathIncludes: ':batchCreateContacts' }, times: 1 })
  await t.rejects(w.run('alice'), { message: /no answer from Google to create contacts/ }, 'no answer: the run is retried later')
  t.equal(copies(w).length, 0)
  const links = () => syncDb(w.s.k.db).withTables<{ google_contact_links: { connection_id: number; contact_id: number; resource_name: string | null } }>()
    .selectFrom('google_contact_links').selectAll().where('connection_id', '=', conn.id).execute()
  t.equal((await links()).filter(l => l.resource_name === null).length, 200, 'the batch in flight is remembered as such')
  // as if Google had made that batch and only its answer was lost
  const people = google.people({ version: 'v1', rootUrl: `${w.g.url}/`, retry: false, headers: { authorization: `Bearer ${w.g.issueAccessToken(w.email('alice'), ['https://www.googleapis.com/auth/contacts'])}` } })
  const group = kalendsGroup(w)!.resourceName!
  await people.people.batchCreateContacts({ requestBody: { contacts: [...crm.values()].slice(0, 200).map(c => ({ contactPerson: personOf(c, group) })), readMask: 'clientData' } })
  t.equal((await w.run('alice')).state, 'ok')
  t.equal(copies(w).length, 300, 'the 200 made by the lost call are matched; the other 100 made')
  t.equal(new Set(copies(w).map(idOf)).size, 300)
  t.equal((await links()).filter(l => l.resource_name === null).length, 0)
})

t.test('quota errors (429 RESOURCE_EXHAUSTED) are retried and the push finishes without duplicates', async t => {
  const crm = new Map(Array.from({ length: 450 }, (_, i) => [i + 1, contact(i + 1)]))
  const w = await world(t, crm)
  await w.connect('alice', { tasks: false, contacts: 'company' })
  w.g.peopleQuota({ writesPerMinute: 2 })
  await t.rejects(w.run('alice'), { message: /Google answered 429 to create contacts/ }, 'over the write quota: the run stops to be retried with back-off')
  t.equal(copies(w).length, 200, 'what was done is kept (one batch; the group creation was the other write)')
  w.g.peopleQuota({ writesPerMinute: 0 })
  w.g.fault({ kind: '429', match: { pathIncludes: ':batchCreateContacts' }, times: 1 })
  await t.rejects(w.run('alice'), { message: /429/ })
  t.equal((await w.run('alice')).state, 'ok')
  t.equal(copies(w).length, 450)
  t.equal(new Set(copies(w).map(idOf)).size, 450, 'no contact twice')
})

t.test('the CRM contacts store drives the push: company scope, then an edit and a delete through the domain layer', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const { companyAddressBook, createContact, updateContact, deleteContact } = await import('../domain/contacts.ts')
  const admin = { user: w.s.users.admin!, origin: 'api' as const }
  const book = await companyAddressBook(w.s.k.db, w.s.users.admin!.org_id)
  const jan = await createContact(w.s.k.db, admin, { addressBookId: book.id, givenName: 'Jan', familyName: 'Kowalski', jobTitle: 'CFO', organization: 'Acme', emails: [{ type: 'work', value: 'jan@acme.example' }], birthday: '--04-12' })
  const ewa = await createContact(w.s.k.db, admin, { addressBookId: book.id, givenName: 'Ewa', familyName: 'Nowak', phones: [{ type: 'cell', value: '+48 600 100 200' }] })
  await w.connect('alice', { tasks: false, contacts: 'company' })
  t.equal((await w.run('alice')).state, 'ok')
  const byId = () => new Map(copies(w).map(p => [idOf(p), p]))
  t.equal(byId().size, 2)
  t.same(byId().get(jan.id)!.birthdays![0]!.date, { month: 4, day: 12 }, 'a birthday without a year')
  t.equal(byId().get(jan.id)!.organizations![0]!.title, 'CFO')
  await updateContact(w.s.k.db, admin, jan.id, { familyName: 'Kowalski-Nowak' })
  await deleteContact(w.s.k.db, admin, ewa.id)
  await w.run('alice')
  t.equal(byId().size, 1)
  t.equal(byId().get(jan.id)!.names![0]!.familyName, 'Kowalski-Nowak')
  t.equal(kalendsGroup(w)!.memberResourceNames!.length, 1)
})
