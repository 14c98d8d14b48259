import t from 'tap'
import { convertVCard, parseVCard, serializeVCard, VCardError } from './model.ts'
import { fieldsOf, newCard } from './fields.ts'

const v3 = ['BEGIN:VCARD', 'VERSION:3.0', 'UID:u1', 'N:Doe;John;;Dr.;', 'FN:Dr. John Doe', 'ORG:Acme;Legal', 'TEL;TYPE=CELL;TYPE=pref:+1 555 0100',
  'PHOTO;ENCODING=b;TYPE=JPEG:QUJD', 'X-ADDRESSBOOKSERVER-KIND:org', 'ADR;TYPE=work:;;Main St 1;Springfield;;12345;USA', 'BDAY:1980-01-02', 'NOTE:line one\\nline two\\, more', 'END:VCARD', ''].join('\r\n')

t.test('vCard 3.0 read into CRM fields', async t => {
  const f = fieldsOf(parseVCard(v3))
  t.equal(f.kind, 'company')
  t.equal(f.familyName, 'Doe'); t.equal(f.prefix, 'Dr.'); t.equal(f.organization, 'Acme')
  t.same(f.phones, [{ type: 'cell', value: '+1 555 0100' }])
  t.equal(f.photo, 'data:image/jpeg;base64,QUJD')
  t.same(f.addresses[0], { type: 'work', poBox: '', extended: '', street: 'Main St 1', locality: 'Springfield', region: '', postalCode: '12345', country: 'USA' })
  t.equal(f.notes, 'line one\nline two, more')
  t.equal(f.birthday, '1980-01-02')
})

t.test('3.0 → 4.0 → 3.0 keeps the fields', async t => {
  const v4 = convertVCard(parseVCard(v3), '4.0')
  const text4 = serializeVCard(v4)
  t.match(text4, /VERSION:4\.0/)
  t.match(text4, /PHOTO:data:image\/jpeg;base64,QUJD/)
  t.match(text4, /KIND:org/)
  t.match(text4, /TEL;TYPE=CELL;PREF=1:/)
  t.same(fieldsOf(parseVCard(text4)), fieldsOf(parseVCard(v3)), 'the 4.0 card reads the same')
  const back = serializeVCard(convertVCard(parseVCard(text4), '3.0'))
  t.match(back, /PHOTO;ENCODING=b;TYPE=JPEG:QUJD/)
  t.same(fieldsOf(parseVCard(back)), fieldsOf(parseVCard(v3)))
})

t.test('refusals name the precondition', async t => {
  t.throws(() => parseVCard('BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\nEND:VCARD\r\n'), /supported/)
  t.throws(() => parseVCard('hello'), /not a vCard/)
  t.throws(() => parseVCard('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:a\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:b\r\nEND:VCARD\r\n'), VCardError)
  t.throws(() => parseVCard('BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nEND:VCARD\r\n'), /needs FN/, 'no name')
})

t.test('a new CRM card folds long lines and parses back', async t => {
  const long = 'x'.repeat(200)
  const text = serializeVCard(newCard('n1', { kind: 'person', displayName: 'Zoë Łukasz', prefix: '', givenName: 'Zoë', middleName: '', familyName: 'Łukasz', suffix: '', organization: '', jobTitle: '', emails: [], phones: [], addresses: [], websites: [], birthday: null, notes: long, photo: null }))
  t.ok(text.split('\r\n').every(l => Buffer.byteLength(l) <= 75))
  t.equal(fieldsOf(parseVCard(text)).notes, long)
  t.equal(fieldsOf(parseVCard(text)).displayName, 'Zoë Łukasz')
})
