import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { addressBooksFor, companyAddressBook, createContact, deleteContact, getContact, listContacts, shareAddressBook, updateContact } from './contacts.ts'
import { createCase } from './cases.ts'
import type { Actor } from './actor.ts'

// The contacts store through the domain layer: access like calendars, the journal in the same transaction, the vCard kept.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const db = s.k.db
const alice: Actor = { user: s.users.alice!, origin: 'api' }
const bob: Actor = { user: s.users.bob!, origin: 'api' }
const admin: Actor = { user: s.users.admin!, origin: 'api' }

/** The error a domain call threw (null if it did not). */
async function refusal (p: Promise<unknown>): Promise<unknown> {
  try { await p } catch (err) { return err }
  return null
}

const journal = async (entityId: number) => db.selectFrom('changes').selectAll().where('entity', '=', 'contact').where('entity_id', '=', entityId).orderBy('seq').execute()

t.test('a company and a person at it, linked to a case, journalled', async t => {
  const company = await companyAddressBook(db, s.orgId)
  const acme = await createContact(db, admin, { addressBookId: company.id, kind: 'company', organization: 'Acme Sp. z o.o.', phones: [{ type: 'work', value: '+48 22 123 45 67' }] })
  t.equal(acme.displayName, 'Acme Sp. z o.o.', 'a company is named by its organisation')
  const kase = await createCase(db, alice, { title: 'Acme v. Beta' })
  const jan = await createContact(db, alice, { givenName: 'Jan', familyName: 'Kowalski', companyId: acme.id, jobTitle: 'CFO', emails: [{ type: 'work', value: 'jan@acme.example' }], caseIds: [kase.id], birthday: '--04-12' })
  t.equal(jan.displayName, 'Jan Kowalski')
  t.equal(jan.organization, 'Acme Sp. z o.o.', 'takes the company\'s name')
  t.same(jan.caseIds, [kase.id])
  t.equal(jan.birthday, '--04-12')
  const changes = await journal(jan.id)
  t.equal(changes.length, 1)
  t.equal(changes[0]!.op, 'create')
  t.equal(changes[0]!.address_book_id, jan.addressBookId)
  t.equal(changes[0]!.object_name, jan.resourceName)
  const byCase = await listContacts(db, alice.user, { caseId: kase.id })
  t.same(byCase.items.map(c => c.id), [jan.id])
  t.same((await listContacts(db, alice.user, { companyId: acme.id })).items.map(c => c.id).sort(), [acme.id, jan.id].sort())
  t.same((await listContacts(db, alice.user, { q: 'kowal' })).items.map(c => c.id), [jan.id])
  t.same((await listContacts(db, alice.user, { q: '221234567' })).items.map(c => c.id), [acme.id], 'phone digits match however they were typed')
  t.match(await refusal(createContact(db, alice, { addressBookId: company.id, givenName: 'X' })), { kind: 'forbidden', rule: 'need-privileges' }, 'the company book is read-only to a user')
  await deleteContact(db, admin, acme.id)
  t.equal((await getContact(db, alice.user, jan.id)).companyId, null, 'the link goes with the company, the name stays')
  t.equal((await getContact(db, alice.user, jan.id)).organization, 'Acme Sp. z o.o.')
})

t.test('a CRM edit patches only its lines: X- properties and a phone\'s parameters survive', async t => {
  const vcard = ['BEGIN:VCARD', 'VERSION:3.0', 'UID:phone-1', 'N:Nowak;Anna;;;', 'FN:Anna Nowak', 'item1.TEL;type=CELL;type=pref:+48 600 100 200', 'item1.X-ABLabel:_$!<Mobile>!$_', 'X-SOCIALPROFILE;type=twitter:anna', 'EMAIL;type=INTERNET:anna@example.com', 'END:VCARD', ''].join('\r\n')
  const c = await createContact(db, alice, {}, { clientBody: { name: 'phone-1.vcf', vcard } })
  t.equal(c.displayName, 'Anna Nowak')
  t.same(c.phones, [{ type: 'cell', value: '+48 600 100 200' }])
  const row0 = await db.selectFrom('contacts').select('vcard').where('id', '=', c.id).executeTakeFirstOrThrow()
  t.equal(row0.vcard, vcard, 'the client\'s body is kept exactly')
  const edited = await updateContact(db, alice, c.id, { jobTitle: 'Lawyer', emails: [{ type: 'work', value: 'anna@firm.example' }] })
  const row = await db.selectFrom('contacts').select('vcard').where('id', '=', c.id).executeTakeFirstOrThrow()
  t.match(row.vcard, /item1\.TEL;type=CELL;type=pref:\+48 600 100 200/, 'the phone line is untouched')
  t.match(row.vcard, /item1\.X-ABLabel:_\$!<Mobile>!\$_/)
  t.match(row.vcard, /X-SOCIALPROFILE;type=twitter:anna/)
  t.match(row.vcard, /TITLE:Lawyer/)
  t.match(row.vcard, /EMAIL;TYPE=work:anna@firm\.example/)
  t.notMatch(row.vcard, /anna@example\.com/)
  t.not(edited.etag, c.etag)
  t.equal(edited.version, c.version + 1)
  const removedPhone = await updateContact(db, alice, c.id, { phones: [] })
  const row2 = await db.selectFrom('contacts').select('vcard').where('id', '=', c.id).executeTakeFirstOrThrow()
  t.notMatch(row2.vcard, /item1\./, 'the phone\'s label goes with it')
  t.same(removedPhone.phones, [])
  const changes = await journal(c.id)
  t.same(changes.map(x => x.op), ['create', 'update', 'update'])
  t.same((changes[1]!.detail as { fields: string[] }).fields.sort(), ['emails', 'jobTitle'])
})

t.test('bad input is refused and nothing is written', async t => {
  const before = await db.selectFrom('changes').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  t.match(await refusal(createContact(db, alice, { emails: [{ type: 'work', value: 'no-at' }], givenName: 'A' })), { kind: 'invalid', field: 'emails[0].value' })
  t.match(await refusal(createContact(db, alice, {})), { kind: 'invalid', field: 'displayName' })
  t.match(await refusal(createContact(db, alice, { givenName: 'A', birthday: '2026-02-30' })), { kind: 'invalid', field: 'birthday' })
  t.match(await refusal(createContact(db, alice, {}, { clientBody: { name: 'x.vcf', vcard: 'BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\nEND:VCARD\r\n' } })), { rule: 'supported-address-data' })
  t.match(await refusal(createContact(db, alice, {}, { clientBody: { name: 'x.vcf', vcard: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' } })), { rule: 'valid-address-data' })
  const after = await db.selectFrom('changes').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  t.equal(Number(after.n), Number(before.n))
})

t.test('own address books are private until shared; a read share refuses writes', async t => {
  const mine = await createContact(db, alice, { givenName: 'Private', familyName: 'Person' })
  t.match(await refusal(getContact(db, bob.user, mine.id)), { kind: 'not-found' })
  t.notOk((await listContacts(db, bob.user)).items.some(c => c.id === mine.id))
  await shareAddressBook(db, alice, mine.addressBookId, bob.user.id, 'read')
  t.equal((await getContact(db, bob.user, mine.id)).id, mine.id)
  t.match(await refusal(updateContact(db, bob, mine.id, { jobTitle: 'x' })), { kind: 'forbidden', rule: 'need-privileges' })
  t.ok((await addressBooksFor(db, bob.user)).some(b => b.id === mine.addressBookId && b.access === 'read'))
})
