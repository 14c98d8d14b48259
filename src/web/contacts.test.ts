import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { createContact, getContact } from '../domain/contacts.ts'
import { WebClient, visible } from './test-client.ts'

// The contacts pages over HTTP: list, search, add, edit (a phone's lines kept), refusals shown in the form.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())

t.test('add, find, edit and delete a contact in the web pages', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  const empty = await c.get('/contacts')
  t.equal(empty.status, 200)
  t.match(visible(empty.text), 'No contacts found.')
  t.match(empty.text, /href="\/contacts" aria-current="page"/, 'in the navigation')
  const form = await c.get('/contacts/new')
  t.match(form.text, /<label for="givenName">First name<\/label>/)
  const book = /<select id="addressBookId" name="addressBookId"><option value="(\d+)"/.exec(form.text)![1]!
  const made = await c.post('/contacts', { addressBookId: book, kind: 'person', givenName: 'Jan', familyName: 'Kowalski', emails: 'jan@acme.example\njan.k@home.example', phones: '+48 600 100 200', street: 'Prosta 1', locality: 'Warszawa' })
  t.equal(made.status, 303)
  t.equal(made.location, '/contacts?done=saved')
  const list = await c.get('/contacts?q=kowal')
  t.match(visible(list.text), 'Jan Kowalski')
  t.match(visible(list.text), 'jan@acme.example')
  t.notMatch(visible((await c.get('/contacts?q=nobody')).text), 'Jan Kowalski', 'the search filters')
  const id = /href="\/contacts\/(\d+)\/edit"/.exec(list.text)![1]!
  const bad = await c.post(`/contacts/${id}`, { kind: 'person', givenName: 'Jan', familyName: 'Kowalski', emails: 'not-an-address', birthday: '' })
  t.equal(bad.status, 400)
  t.match(visible(bad.text), 'E-mail addresses (one per line): must be an e-mail address')
  t.match(bad.text, /id="emails" name="emails" aria-invalid="true"/)
  const edit = await c.get(`/contacts/${id}/edit`)
  const version = /name="version" value="(\d+)"/.exec(edit.text)![1]!
  const saved = await c.post(`/contacts/${id}`, { version, kind: 'person', givenName: 'Jan', familyName: 'Kowalski', jobTitle: 'CFO', emails: 'jan@acme.example', phones: '+48 600 100 200', street: 'Prosta 1', locality: 'Warszawa' })
  t.equal(saved.status, 303)
  const after = await getContact(s.k.db, s.users.alice!, Number(id))
  t.equal(after.jobTitle, 'CFO')
  t.same(after.emails.map(e => e.value), ['jan@acme.example'])
  t.equal(after.addresses[0]?.locality, 'Warszawa')
  const stale = await c.post(`/contacts/${id}`, { version, kind: 'person', givenName: 'Jan', familyName: 'K' })
  t.equal(stale.status, 412, 'an edit from an old page is refused')
  t.equal((await c.post(`/contacts/${id}/delete`, {})).status, 303)
  t.equal((await c.get(`/contacts/${id}/edit`)).status, 404)
})

t.test('an edit in the web page keeps what a phone wrote', async t => {
  const vcard = ['BEGIN:VCARD', 'VERSION:3.0', 'UID:web-1', 'N:Nowak;Anna;;;', 'FN:Anna Nowak', 'item1.TEL;type=CELL:+48 600 300 400', 'item1.X-ABLabel:mobile', 'X-SOCIAL:anna', 'END:VCARD', ''].join('\r\n')
  const made = await createContact(s.k.db, { user: s.users.alice!, origin: 'caldav' }, {}, { clientBody: { name: 'web-1.vcf', vcard } })
  const c = new WebClient(s)
  await c.signIn('alice')
  const edit = await c.get(`/contacts/${made.id}/edit`)
  const version = /name="version" value="(\d+)"/.exec(edit.text)![1]!
  t.match(edit.text, /\+48 600 300 400/)
  const saved = await c.post(`/contacts/${made.id}`, { version, kind: 'person', givenName: 'Anna', familyName: 'Nowak', jobTitle: 'Lawyer', phones: '+48 600 300 400' })
  t.equal(saved.status, 303)
  const row = await s.k.db.selectFrom('contacts').select('vcard').where('id', '=', made.id).executeTakeFirstOrThrow()
  t.match(row.vcard, /item1\.TEL;type=CELL:\+48 600 300 400/)
  t.match(row.vcard, /X-SOCIAL:anna/)
  t.match(row.vcard, /TITLE:Lawyer/)
  const bob = new WebClient(s)
  await bob.signIn('bob')
  t.equal((await bob.get(`/contacts/${made.id}/edit`)).status, 404, 'not bob\'s to see')
})
