// The contacts push as users reach it: the option over the REST API and the
// Connections page, a contact written in the CRM reaching Google through the
// journal and a worker, the cases scope, disconnect with "remove the copies".
import t from 'tap'
import { companyAddressBook, createContact } from '../domain/contacts.ts'
import { WebClient } from '../web/test-client.ts'
import { syncDb } from './tables.ts'
import { startSyncWorld, until } from './testing.ts'

const ID_KEY = 'kalends.contactId'
const idOf = (p: { clientData?: { key?: string | null; value?: string | null }[] | null }) => Number(p.clientData?.find(d => d.key === ID_KEY)?.value)

t.test('REST: the contacts option is validated and saved; a contact made in the CRM reaches Google through the journal; DELETE ?removeContacts=true removes the copies', async t => {
  const w = await startSyncWorld({ env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  const alice = w.s.as('alice')
  const conn = await w.connect('alice', { tasks: false })
  const bad = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { contacts: 'everyone' } })
  t.equal(bad.status, 400)
  t.equal((await w.connection('alice')).options.contacts, 'off', 'nothing saved')
  const ok = await alice(`/api/v1/connections/${conn.id}`, { method: 'PATCH', json: { contacts: 'company' } })
  t.equal(ok.status, 200)
  t.equal((ok.body_ as { options: { contacts: string } }).options.contacts, 'company')
  const admin = { user: w.s.users.admin!, origin: 'api' as const }
  const book = await companyAddressBook(w.s.k.db, w.s.users.admin!.org_id)
  const jan = await createContact(w.s.k.db, admin, { addressBookId: book.id, givenName: 'Jan', familyName: 'Kowalski', phones: [{ type: 'cell', value: '+48 600 100 200' }] })
  const copy = await until('the contact in Google', async () => w.g.dumpPeople(w.email('alice')).people.find(p => idOf(p) === jan.id))
  t.equal(copy.phoneNumbers![0]!.value, '+48 600 100 200')
  // written through the REST API, as the CRM does: the journal brings it to Google
  const edited = await w.s.as('admin')(`/api/v1/contacts/${jan.id}`, { method: 'PATCH', json: { familyName: 'Kowalski-Nowak' } })
  t.equal(edited.status, 200)
  await until('the edit in Google', async () => w.g.dumpPeople(w.email('alice')).people.find(p => idOf(p) === jan.id)?.names?.[0]?.familyName === 'Kowalski-Nowak')
  const ewa = await w.s.as('admin')('/api/v1/contacts', { method: 'POST', json: { addressBookId: book.id, givenName: 'Ewa', familyName: 'Nowak' } })
  t.equal(ewa.status, 201)
  const ewaId = (ewa.body_ as { id: number }).id
  await until('the new contact in Google', async () => w.g.dumpPeople(w.email('alice')).people.some(p => idOf(p) === ewaId))
  t.equal((await w.s.as('admin')(`/api/v1/contacts/${ewaId}`, { method: 'DELETE' })).status, 204)
  await until('the deletion in Google', async () => !w.g.dumpPeople(w.email('alice')).people.some(p => idOf(p) === ewaId))
  await until('a quiet connection', async () => (await w.connection('alice')).state === 'ok')
  const gone = await alice(`/api/v1/connections/${conn.id}?removeContacts=true`, { method: 'DELETE' })
  t.equal(gone.status, 204)
  t.equal(w.g.dumpPeople(w.email('alice')).people.length, 0, 'the copies are removed as asked')
  const log = await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', conn.id).execute()
  t.ok(log.some(l => /the 1 contacts pushed to Google were removed/.test(l.message)))
})

t.test('Connections page: the contacts choice in five words, saved from the form; cases scope pushes only the contacts of the user\'s cases; disconnect keeps copies unless ticked', async t => {
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const conn = await w.connect('alice', { tasks: false })
  const c = new WebClient(w.s)
  await c.signIn('alice')
  const page = await c.get('/connections')
  t.match(page.text, /<select id="[^"]*contacts" name="contacts"/)
  t.match(page.text, /<option value="off" selected>None<\/option>/)
  t.notMatch(page.text, /name="removeContacts"/, 'no removal choice while nothing is pushed')
  const saved = await c.post(`/connections/${conn.id}/options`, { appointments: '1', calendarId: 'primary', taskListId: '@default', window: 'all', pollMinutes: '5', contacts: 'cases' })
  t.ok(saved.status < 400, `saved (${saved.status})`)
  t.equal((await w.connection('alice')).options.contacts, 'cases')
  t.match((await c.get('/connections')).text, /<option value="cases" selected>Only the contacts of my cases<\/option>/)

  const db = w.s.k.db
  const org = w.s.users.admin!.org_id
  const admin = { user: w.s.users.admin!, origin: 'api' as const }
  const book = await companyAddressBook(db, org)
  const kase = await db.insertInto('cases').values({ org_id: org, title: 'Alice v. Bob' }).returning('id').executeTakeFirstOrThrow()
  const other = await db.insertInto('cases').values({ org_id: org, title: 'Someone else\'s' }).returning('id').executeTakeFirstOrThrow()
  const mine = await createContact(db, admin, { addressBookId: book.id, givenName: 'In', familyName: 'Case', caseIds: [kase.id] })
  await createContact(db, admin, { addressBookId: book.id, givenName: 'Not', familyName: 'Mine', caseIds: [other.id] })
  await createContact(db, admin, { addressBookId: book.id, givenName: 'No', familyName: 'Case' })
  const alice = w.s.as('alice')
  const made = await alice('/api/v1/tasks', { method: 'POST', json: { title: 'Call the client', caseId: kase.id } })
  t.equal(made.status, 201, 'alice has a task in the case')
  await w.run('alice')
  t.same(w.g.dumpPeople(w.email('alice')).people.map(idOf), [mine.id], 'only the contact of her case')

  const disconnected = await c.post(`/connections/${conn.id}/disconnect`, {})
  t.ok(disconnected.status < 400)
  t.equal(w.g.dumpPeople(w.email('alice')).people.length, 1, 'disconnect without the tick leaves the copies')
})

t.test('Workspace: delegated connections push contacts only when the admin allowed the contacts scope; calendars go on either way', async t => {
  const { generateKeyPairSync } = await import('node:crypto')
  const { saveGoogleIntegration } = await import('./google/integration.ts')
  const { connectDelegated } = await import('./google/consent.ts')
  const { updateOptions } = await import('./connections.ts')
  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const key = { type: 'service_account', client_email: 'kalends-sync@project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
  w.g.registerServiceAccount({ clientEmail: key.client_email, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, domain: 'example.com' })
  const org = w.s.users.admin!.org_id
  await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, org, { clientId: 'kalends-test.apps.googleusercontent.com', delegationDomain: 'example.com', serviceAccountJson: JSON.stringify(key) })
  const { connection } = await connectDelegated(w.s.k.sync.google, w.s.users.alice!)
  t.equal(connection.auth_kind, 'delegation')
  await updateOptions(w.s.k.db, w.s.users.alice!, connection.id, { tasks: false, contacts: 'company' })
  const admin = { user: w.s.users.admin!, origin: 'api' as const }
  await createContact(w.s.k.db, admin, { addressBookId: (await companyAddressBook(w.s.k.db, org)).id, givenName: 'Jan', familyName: 'Kowalski' })
  t.equal((await w.run('alice')).state, 'ok', 'calendars sync')
  t.equal(w.g.dumpPeople(w.email('alice')).people.length, 0)
  const log = async () => (await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('connection_id', '=', connection.id).execute()).map(l => l.message)
  t.ok((await log()).some(m => /contacts push stopped: the Workspace set-up does not let the service account write contacts/.test(m)))
  await w.run('alice')
  t.equal((await log()).filter(m => /contacts push stopped/.test(m)).length, 1, 'said once, not at every run')
  await saveGoogleIntegration(w.s.k.db, w.s.k.secrets, org, { delegateContacts: true })
  t.equal((await w.run('alice')).state, 'ok')
  t.equal(w.g.dumpPeople(w.email('alice')).people.length, 1, 'allowed: the contact is pushed with a token that carries the contacts scope')
})
