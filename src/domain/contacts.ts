import { randomUUID } from 'node:crypto'
import { transact, type Db } from '../db/connect.ts'
import type { AddressBook, Contact, ContactAddress, ContactEmail, ContactKind, ContactPhone, ContactWebsite, User } from '../db/schema.ts'
import { EMPTY_FIELDS, fieldsOf, newCard, patchCard, displayNameOf, birthdayOf, type ContactFields } from '../vcard/fields.ts'
import { parseVCard, serializeVCard, VCardError } from '../vcard/model.ts'
import { requireAddressBook, visibleAddressBooks, type VisibleAddressBook } from './access.ts'
import type { Actor } from './actor.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { changedFields, record } from './journal.ts'
import { etagOf } from './objects.ts'
import { caseInOrg } from './references.ts'
import { text } from './values.ts'

/**
 * CRM contacts: people and companies in address books (the organisation's
 * company address book, a user's own), linked to cases and a person to their
 * company. Every path that writes them (REST, web, CardDAV) comes here; each
 * write records its journal entry (entity 'contact', with address_book_id and
 * the resource name, which CardDAV sync tokens and the Google push read) in
 * the same transaction. The vCard is kept as its last client wrote it with
 * the CRM fields indexed beside it; a CRM edit patches only the lines of the
 * fields it changed.
 */
export type { ContactFields } from '../vcard/fields.ts'
export type { ContactAddress, ContactEmail, ContactKind, ContactPhone, ContactWebsite } from '../db/schema.ts'

/** RFC 6352 §6.2.3 max-resource-size: room for a photo, not for a video. */
export const MAX_VCARD_BYTES = 1_000_000
const MAX_PHOTO_CHARS = 700_000

export type ContactInput = {
  addressBookId?: number
  uid?: string
  kind?: ContactKind
  displayName?: string
  prefix?: string
  givenName?: string
  middleName?: string
  familyName?: string
  suffix?: string
  organization?: string
  companyId?: number | null
  jobTitle?: string
  emails?: ContactEmail[]
  phones?: ContactPhone[]
  addresses?: Partial<ContactAddress>[]
  websites?: ContactWebsite[]
  birthday?: string | null
  notes?: string
  photo?: string | null
  caseIds?: number[]
}

export type ContactView = ContactFields & {
  id: number
  addressBookId: number
  uid: string
  /** the CardDAV resource name in its address book */
  resourceName: string
  companyId: number | null
  caseIds: number[]
  etag: string
  version: number
  createdAt: Date
  updatedAt: Date
}

/** The vCard a CardDAV client sent for one resource; stored exactly as sent. */
export type ContactBody = { name: string; vcard: string }

export type ContactFilter = {
  addressBookId?: number
  caseId?: number
  companyId?: number
  kind?: ContactKind
  /** words all found in the name, organisation, job title, e-mails or phone numbers */
  q?: string
  cursor?: string
  limit?: number
}

export type ContactEntity = 'contact' | 'address_book'

// ---------------------------------------------------------------- address books

async function ensureBook (tx: Db, actor: Actor | null, orgId: number, ownerId: number | null): Promise<AddressBook> {
  const q = tx.selectFrom('address_books').selectAll().where('org_id', '=', orgId).where('deleted_at', 'is', null)
  const found = await (ownerId === null ? q.where('kind', '=', 'company') : q.where('owner_id', '=', ownerId).where('kind', '=', 'personal'))
    .orderBy('is_default', 'desc').orderBy('id').executeTakeFirst()
  if (found !== undefined) return found
  const book = await tx.insertInto('address_books').values({
    org_id: orgId, owner_id: ownerId, kind: ownerId === null ? 'company' : 'personal', is_default: true,
    slug: ownerId === null ? 'company' : 'contacts', name: ownerId === null ? 'Company contacts' : 'Contacts', dead_props: '{}'
  }).onConflict(oc => oc.doNothing()).returningAll().executeTakeFirst()
  if (book === undefined) return ensureBook(tx, actor, orgId, ownerId) // made by a request running beside this one
  await record(tx, [{ org_id: orgId, entity: 'address_book', entity_id: book.id, op: 'create', address_book_id: book.id, origin: actor?.origin ?? 'system', actor_id: actor?.user.id ?? null }])
  return book
}

/** The organisation's company address book, made on first use. */
export async function companyAddressBook (db: Db, orgId: number, actor: Actor | null = null): Promise<AddressBook> {
  return transact(db, tx => ensureBook(tx, actor, orgId, null))
}

/** The user's own address book, made on first use so every user has one. */
export async function defaultAddressBookOf (db: Db, user: User, actor: Actor | null = null): Promise<AddressBook> {
  return transact(db, tx => ensureBook(tx, actor, user.org_id, user.id))
}

/** The address books the user may see (the company's and their own always among them), access decided by access.ts. */
export async function addressBooksFor (db: Db, user: User): Promise<VisibleAddressBook[]> {
  const actor: Actor = { user, origin: 'system' }
  await companyAddressBook(db, user.org_id, actor)
  await defaultAddressBookOf(db, user, actor)
  return visibleAddressBooks(db, user)
}

export async function getAddressBook (db: Db, user: User, id: number): Promise<VisibleAddressBook> {
  return requireAddressBook(db, user, id, 'read')
}

export async function shareAddressBook (db: Db, actor: Actor, addressBookId: number, userId: number, access: 'read' | 'write' | null): Promise<void> {
  if (access !== null && access !== 'read' && access !== 'write') throw invalid('access', 'must be read or write')
  await transact(db, async tx => {
    const book = await requireAddressBook(tx, actor.user, addressBookId, 'manage')
    const grantee = await tx.selectFrom('users').select(['id', 'org_id']).where('id', '=', userId).executeTakeFirst()
    if (grantee === undefined || grantee.org_id !== actor.user.org_id) throw invalid('userId', `no user ${userId} in your organisation`)
    if (grantee.id === book.owner_id) throw invalid('userId', 'the owner already has the address book')
    if (access === null) {
      await tx.deleteFrom('address_book_shares').where('address_book_id', '=', addressBookId).where('user_id', '=', userId).execute()
    } else {
      await tx.insertInto('address_book_shares').values({ address_book_id: addressBookId, user_id: userId, access })
        .onConflict(oc => oc.columns(['address_book_id', 'user_id']).doUpdateSet({ access })).execute()
    }
    await record(tx, [{ org_id: book.org_id, entity: 'address_book_share', entity_id: addressBookId, op: access === null ? 'delete' : 'update', origin: actor.origin, actor_id: actor.user.id, detail: { userId, access } }])
  })
}

/** Dead properties a client set on the address book (PROPPATCH); displayname and description are the CRM's. */
export async function updateAddressBook (db: Db, actor: Actor, id: number, input: { name?: string; description?: string; deadProps?: Record<string, string | null> }): Promise<AddressBook> {
  if (input.name !== undefined) text('name', input.name, { max: 200, required: true })
  if (input.description !== undefined) text('description', input.description, { max: 10_000 })
  return transact(db, async tx => {
    const book = await requireAddressBook(tx, actor.user, id, 'manage')
    const dead = { ...(book.dead_props as Record<string, string>) }
    for (const [k, v] of Object.entries(input.deadProps ?? {})) { if (v === null) delete dead[k]; else dead[k] = v }
    const row = await tx.updateTable('address_books').set({ name: input.name ?? book.name, description: input.description ?? book.description, dead_props: JSON.stringify(dead) })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: book.org_id, entity: 'address_book', entity_id: id, op: 'update', address_book_id: id, origin: actor.origin, actor_id: actor.user.id }])
    return row
  })
}

// ---------------------------------------------------------------- values

const TYPE = /^[A-Za-z0-9-]{0,40}$/
const EMAIL = /^[^\s@]+@[^\s@]+$/
const PHOTO = /^(data:image\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|https?:\/\/\S+)$/i

function typeField (field: string, v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string' || !TYPE.test(v)) throw invalid(field, 'must be a word such as work, home or cell')
  return v.toLowerCase()
}

function list<T> (field: string, v: unknown, each: (item: Record<string, unknown>, f: string) => T): T[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be a list')
  if (v.length > 50) throw invalid(field, 'may hold at most 50 entries')
  return v.map((item, i) => {
    if (typeof item !== 'object' || item === null) throw invalid(`${field}[${i}]`, 'must be an object')
    return each(item as Record<string, unknown>, `${field}[${i}]`)
  })
}

const line = (field: string, v: unknown, max = 500) => v === undefined || v === null ? '' : text(field, v, { max, singleLine: true })

function birthday (v: unknown): string | null {
  if (v === null) return null
  if (typeof v !== 'string') throw invalid('birthday', 'must be a date like 1985-04-12, or --04-12 without the year')
  const b = birthdayOf(v)
  const check = b === null ? null : new Date(`${b.startsWith('--') ? '2000' + b.slice(1) : b}T00:00:00Z`)
  if (b === null || check === null || Number.isNaN(check.getTime()) || check.toISOString().slice(0, 10).slice(b.startsWith('--') ? 5 : 0) !== (b.startsWith('--') ? b.slice(2) : b)) {
    throw invalid('birthday', 'must be a date like 1985-04-12, or --04-12 without the year')
  }
  return b
}

/** The input applied over `base`, checked field by field. */
function applyInput (base: ContactFields, input: ContactInput): ContactFields {
  const f: ContactFields = { ...base }
  if (input.kind !== undefined) {
    if (input.kind !== 'person' && input.kind !== 'company') throw invalid('kind', 'must be person or company')
    f.kind = input.kind
  }
  for (const k of ['prefix', 'givenName', 'middleName', 'familyName', 'suffix', 'organization', 'jobTitle'] as const) {
    if (input[k] !== undefined) f[k] = line(k, input[k])
  }
  if (input.notes !== undefined) f.notes = text('notes', input.notes, { max: 50_000 })
  if (input.emails !== undefined) {
    f.emails = list('emails', input.emails, (e, p) => {
      const value = line(`${p}.value`, e.value, 320).trim()
      if (!EMAIL.test(value)) throw invalid(`${p}.value`, 'must be an e-mail address')
      return { type: typeField(`${p}.type`, e.type), value }
    })
  }
  if (input.phones !== undefined) {
    f.phones = list('phones', input.phones, (e, p) => {
      const value = line(`${p}.value`, e.value, 100).trim()
      if (value === '' || !/\d/.test(value)) throw invalid(`${p}.value`, 'must be a phone number')
      return { type: typeField(`${p}.type`, e.type), value }
    })
  }
  if (input.websites !== undefined) {
    f.websites = list('websites', input.websites, (e, p) => {
      const value = line(`${p}.value`, e.value, 2000).trim()
      if (value === '') throw invalid(`${p}.value`, 'must be a web address')
      return { type: typeField(`${p}.type`, e.type), value }
    })
  }
  if (input.addresses !== undefined) {
    f.addresses = list('addresses', input.addresses, (a, p) => {
      const adr: ContactAddress = {
        type: typeField(`${p}.type`, a.type), poBox: line(`${p}.poBox`, a.poBox), extended: line(`${p}.extended`, a.extended),
        street: text(`${p}.street`, a.street ?? '', { max: 1000 }), locality: line(`${p}.locality`, a.locality), region: line(`${p}.region`, a.region),
        postalCode: line(`${p}.postalCode`, a.postalCode, 40), country: line(`${p}.country`, a.country)
      }
      if (Object.entries(adr).every(([k, v]) => k === 'type' || v === '')) throw invalid(p, 'an address needs at least one part')
      return adr
    })
  }
  if (input.birthday !== undefined) f.birthday = birthday(input.birthday)
  if (input.photo !== undefined) {
    if (input.photo !== null && (typeof input.photo !== 'string' || input.photo.length > MAX_PHOTO_CHARS || !PHOTO.test(input.photo))) {
      throw invalid('photo', `must be a data:image/…;base64 URI or an http(s) address, at most ${MAX_PHOTO_CHARS} characters`)
    }
    f.photo = input.photo
  }
  const namesChanged = (['prefix', 'givenName', 'middleName', 'familyName', 'suffix', 'organization'] as const).some(k => input[k] !== undefined)
  if (input.displayName !== undefined) f.displayName = line('displayName', input.displayName).trim()
  else if (namesChanged && (base.displayName === '' || base.displayName === displayNameOf(base))) f.displayName = displayNameOf(f)
  if (f.displayName === '') f.displayName = displayNameOf(f)
  if (f.displayName === '') throw invalid('displayName', 'a contact needs a name (or, for a company, its organisation)')
  return f
}

function searchText (f: ContactFields): string {
  return [f.displayName, f.givenName, f.familyName, f.organization, f.jobTitle, ...f.emails.map(e => e.value), ...f.phones.map(p => p.value.replace(/[^\d+]/g, ''))]
    .join(' ').toLowerCase()
}

function columns (f: ContactFields) {
  return {
    kind: f.kind, display_name: f.displayName, prefix: f.prefix, given_name: f.givenName, middle_name: f.middleName,
    family_name: f.familyName, suffix: f.suffix, organization: f.organization, job_title: f.jobTitle,
    emails: JSON.stringify(f.emails), phones: JSON.stringify(f.phones), addresses: JSON.stringify(f.addresses),
    websites: JSON.stringify(f.websites), birthday: f.birthday, notes: f.notes, photo: f.photo, search: searchText(f)
  }
}

export function fieldsOfRow (c: Contact): ContactFields {
  return {
    kind: c.kind, displayName: c.display_name, prefix: c.prefix, givenName: c.given_name, middleName: c.middle_name,
    familyName: c.family_name, suffix: c.suffix, organization: c.organization, jobTitle: c.job_title,
    emails: c.emails, phones: c.phones, addresses: c.addresses, websites: c.websites,
    birthday: c.birthday, notes: c.notes, photo: c.photo
  }
}

export function resourceNameOf (uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 200)
  return `${safe === '' ? 'contact' : safe}.vcf`
}

/** A client's vCard: parsed, within max-resource-size, its fields read; a bad one is refused before anything is written. */
export function readClientVCard (body: ContactBody): { fields: ContactFields; uid: string | null; version: '3.0' | '4.0' } {
  if (Buffer.byteLength(body.vcard) > MAX_VCARD_BYTES) throw new DomainError('too-large', `a vCard may be at most ${MAX_VCARD_BYTES} bytes`, { rule: 'max-resource-size' })
  let card
  try {
    card = parseVCard(body.vcard)
  } catch (err) {
    if (err instanceof VCardError) throw new DomainError('forbidden', err.message, { rule: err.code })
    throw err
  }
  const fields = fieldsOf(card)
  if (fields.displayName === '') throw new DomainError('forbidden', 'the vCard has no name (FN or N)', { rule: 'valid-address-data' })
  const uidProp = card.props.find(p => p.name === 'UID')?.value.trim()
  return { fields, uid: uidProp === undefined || uidProp === '' ? null : uidProp, version: card.version }
}

// ---------------------------------------------------------------- reads

async function caseIdsOf (db: Db, contactIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>()
  if (contactIds.length === 0) return out
  const rows = await db.selectFrom('contact_cases').select(['contact_id', 'case_id']).where('contact_id', 'in', contactIds).orderBy('case_id').execute()
  for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r.case_id])
  return out
}

export function viewOf (c: Contact, caseIds: number[]): ContactView {
  return {
    id: c.id, addressBookId: c.address_book_id, uid: c.uid, resourceName: c.name, companyId: c.company_id, caseIds,
    ...fieldsOfRow(c), etag: c.etag, version: c.version, createdAt: c.created_at, updatedAt: c.updated_at
  }
}

/** The contact if the user may see it (need 'write': change it); not visible reads as not found. */
export async function contactFor (db: Db, user: User, id: number, need: 'read' | 'write' = 'read'): Promise<Contact> {
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).where('org_id', '=', user.org_id).executeTakeFirst()
  if (row === undefined || await visibleBook(db, user, row.address_book_id) === null) throw notFound('contact')
  if (need === 'write') await requireAddressBook(db, user, row.address_book_id, 'write')
  return row
}

async function visibleBook (db: Db, user: User, id: number) {
  try { return await requireAddressBook(db, user, id, 'read') } catch (err) { if (err instanceof DomainError && err.kind === 'not-found') return null; throw err }
}

export async function getContact (db: Db, user: User, id: number): Promise<ContactView> {
  const row = await contactFor(db, user, id)
  return viewOf(row, (await caseIdsOf(db, [id])).get(id) ?? [])
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

function decodeCursor (cursor: string): [string, number] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(v) && typeof v[0] === 'string' && Number.isInteger(v[1])) return v as [string, number]
  } catch {}
  throw invalid('cursor', 'is not a cursor this server handed out')
}

/** Contacts in the address books the user may see, by name; filtered by book, case, company, kind and text. */
export async function listContacts (db: Db, user: User, f: ContactFilter = {}): Promise<{ items: ContactView[]; nextCursor: string | null }> {
  const limit = f.limit ?? 100
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit', 'must be from 1 to 1000')
  const books = (await addressBooksFor(db, user)).map(b => b.id)
  if (f.addressBookId !== undefined && !books.includes(f.addressBookId)) throw notFound('address book')
  let q = db.selectFrom('contacts').selectAll().where('org_id', '=', user.org_id)
    .where('address_book_id', 'in', f.addressBookId === undefined ? books : [f.addressBookId])
  if (f.caseId !== undefined) q = q.where('id', 'in', db.selectFrom('contact_cases').select('contact_id').where('case_id', '=', f.caseId))
  if (f.companyId !== undefined) q = q.where(eb => eb.or([eb('company_id', '=', f.companyId!), eb('id', '=', f.companyId!)]))
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind)
  if (f.q !== undefined) {
    const words = text('q', f.q, { max: 200, singleLine: true }).toLowerCase().split(/\s+/).filter(w => w !== '')
    for (const w of words) {
      const digits = w.replace(/[^\d+]/g, '')
      const like = `%${w.replace(/[\\%_]/g, m => `\\${m}`)}%`
      q = q.where(eb => /^[\d+()./ -]{3,}$/.test(w) && digits.length >= 3
        ? eb.or([eb('search', 'like', like), eb('search', 'like', `%${digits}%`)])
        : eb('search', 'like', like))
    }
  }
  if (f.cursor !== undefined) {
    const [name, id] = decodeCursor(f.cursor)
    q = q.where(eb => eb.or([eb('display_name', '>', name), eb.and([eb('display_name', '=', name), eb('id', '>', id)])]))
  }
  const rows = await q.orderBy('display_name').orderBy('id').limit(limit + 1).execute()
  const page = rows.slice(0, limit)
  const cases = await caseIdsOf(db, page.map(r => r.id))
  const last = page.at(-1)
  return { items: page.map(r => viewOf(r, cases.get(r.id) ?? [])), nextCursor: rows.length > limit && last !== undefined ? encode([last.display_name, last.id]) : null }
}

// ---------------------------------------------------------------- writes

async function companyLink (tx: Db, user: User, companyId: number | null | undefined, selfId: number | null): Promise<Contact | null | undefined> {
  if (companyId === undefined) return undefined
  if (companyId === null) return null
  if (!Number.isInteger(companyId)) throw invalid('companyId', 'must be the id of a company contact')
  const row = await tx.selectFrom('contacts').selectAll().where('id', '=', companyId).where('org_id', '=', user.org_id).executeTakeFirst()
  if (row === undefined || row.kind !== 'company' || row.id === selfId || await visibleBook(tx, user, row.address_book_id) === null) {
    throw invalid('companyId', `no company contact ${companyId} you can see`)
  }
  return row
}

async function checkCases (tx: Db, user: User, caseIds: unknown): Promise<number[] | undefined> {
  if (caseIds === undefined) return undefined
  if (!Array.isArray(caseIds)) throw invalid('caseIds', 'must be a list of case ids')
  const out: number[] = []
  for (const [i, id] of caseIds.entries()) out.push(await caseInOrg(tx, user, id, `caseIds[${i}]`))
  return [...new Set(out)].sort((a, b) => a - b)
}

async function setCases (tx: Db, contactId: number, caseIds: number[]): Promise<void> {
  await tx.deleteFrom('contact_cases').where('contact_id', '=', contactId).execute()
  if (caseIds.length > 0) await tx.insertInto('contact_cases').values(caseIds.map(case_id => ({ contact_id: contactId, case_id }))).execute()
}

async function requireFreeName (tx: Db, bookId: number, uid: string, name: string, selfId: number | null): Promise<void> {
  const clash = await tx.selectFrom('contacts').select(['id', 'name', 'uid']).where('address_book_id', '=', bookId)
    .where(eb => eb.or([eb('uid', '=', uid), eb('name', '=', name)])).executeTakeFirst()
  if (clash !== undefined && clash.id !== selfId) {
    throw new DomainError('conflict', clash.uid === uid ? `another contact in this address book (${clash.name}) has UID ${uid}` : `${name} exists already`, { field: 'uid', rule: 'no-uid-conflict' })
  }
}

/** Stores the card, numbers the change in the journal and marks the row with it. */
async function journalled (tx: Db, actor: Actor, row: Contact, op: 'create' | 'update' | 'delete', detail?: Record<string, unknown>): Promise<number> {
  const [seq] = await record(tx, [{ org_id: row.org_id, entity: 'contact', entity_id: row.id, op, address_book_id: row.address_book_id, object_name: row.name, origin: actor.origin, actor_id: actor.user.id, ...(detail === undefined ? {} : { detail }) }])
  return seq!
}

export async function createContact (db: Db, actor: Actor, input: ContactInput, opts: { clientBody?: ContactBody } = {}): Promise<ContactView> {
  return transact(db, async tx => {
    const bookId = input.addressBookId ?? (await defaultAddressBookOf(tx, actor.user, actor)).id
    const book = await requireAddressBook(tx, actor.user, bookId, 'write')
    const client = opts.clientBody === undefined ? null : readClientVCard(opts.clientBody)
    const uid = input.uid !== undefined ? text('uid', input.uid, { max: 255, required: true, singleLine: true }) : client?.uid ?? opts.clientBody?.name.replace(/\.vcf$/i, '') ?? randomUUID()
    const company = await companyLink(tx, actor.user, input.companyId, null)
    let fields = applyInput(client?.fields ?? EMPTY_FIELDS, client === null ? withCompanyName(input, company) : {})
    const name = opts.clientBody?.name ?? resourceNameOf(uid)
    await requireFreeName(tx, book.id, uid, name, null)
    const vcard = opts.clientBody?.vcard ?? serializeVCard(newCard(uid, fields))
    if (client === null && Buffer.byteLength(vcard) > MAX_VCARD_BYTES) throw new DomainError('too-large', `a vCard may be at most ${MAX_VCARD_BYTES} bytes`, { rule: 'max-resource-size' })
    fields = client?.fields ?? fields
    const caseIds = await checkCases(tx, actor.user, input.caseIds) ?? []
    const inserted = await tx.insertInto('contacts').values({
      org_id: actor.user.org_id, address_book_id: book.id, name, uid, ...columns(fields), company_id: company?.id ?? null,
      vcard, vcard_version: client?.version ?? '3.0', etag: etagOf(vcard), size: Buffer.byteLength(vcard), modified_seq: 0, created_by: actor.user.id
    }).returningAll().executeTakeFirstOrThrow()
    const seq = await journalled(tx, actor, inserted, 'create')
    const row = await tx.updateTable('contacts').set({ modified_seq: seq }).where('id', '=', inserted.id).returningAll().executeTakeFirstOrThrow()
    await setCases(tx, row.id, caseIds)
    return viewOf(row, caseIds)
  })
}

/** A person linked to a company without an organisation of their own takes the company's name. */
function withCompanyName (input: ContactInput, company: Contact | null | undefined): ContactInput {
  if (company === null || company === undefined || (input.organization !== undefined && input.organization !== '')) return input
  return { ...input, organization: company.display_name }
}

/**
 * Changes a contact. From the CRM: only the lines of changed fields are
 * rewritten in the stored vCard. From CardDAV (`clientBody`): the body is
 * kept as sent and the fields read from it. `ifVersion` refuses the write if
 * someone changed the contact meanwhile. A new addressBookId moves it.
 */
export async function updateContact (db: Db, actor: Actor, id: number, input: ContactInput, opts: { ifVersion?: number; clientBody?: ContactBody } = {}): Promise<ContactView> {
  return transact(db, async tx => {
    const before = await contactFor(tx, actor.user, id, 'write')
    if (opts.ifVersion !== undefined && before.version !== opts.ifVersion) throw new DomainError('precondition-failed', 'the contact changed meanwhile; read it again')
    if (input.uid !== undefined && input.uid !== before.uid) throw invalid('uid', 'the UID of a contact cannot change')
    let bookId = before.address_book_id
    if (input.addressBookId !== undefined && input.addressBookId !== before.address_book_id) {
      bookId = (await requireAddressBook(tx, actor.user, input.addressBookId, 'write')).id
      await requireFreeName(tx, bookId, before.uid, before.name, before.id)
    }
    const company = await companyLink(tx, actor.user, input.companyId, before.id)
    const stored = parseVCard(before.vcard)
    let vcard: string
    let fields: ContactFields
    let version = before.vcard_version
    if (opts.clientBody !== undefined) {
      const client = readClientVCard(opts.clientBody)
      if (client.uid !== null && client.uid !== before.uid) throw new DomainError('conflict', `the UID of ${before.name} is ${before.uid} and cannot change`, { rule: 'no-uid-conflict' })
      vcard = opts.clientBody.vcard
      fields = client.fields
      version = client.version
    } else {
      const was = fieldsOf(stored)
      fields = applyInput(fieldsOfRow(before), withCompanyName(input, company))
      vcard = serializeVCard(patchCard(stored, was, fields))
      if (Buffer.byteLength(vcard) > MAX_VCARD_BYTES) throw new DomainError('too-large', `a vCard may be at most ${MAX_VCARD_BYTES} bytes`, { rule: 'max-resource-size' })
    }
    const caseIds = await checkCases(tx, actor.user, input.caseIds)
    const values = {
      ...columns(fields), address_book_id: bookId, company_id: company === undefined ? before.company_id : company?.id ?? null,
      vcard, vcard_version: version, etag: etagOf(vcard), size: Buffer.byteLength(vcard), updated_at: new Date(), version: before.version + 1
    }
    const detail = changedFields({ ...fieldsOfRow(before), companyId: before.company_id, addressBookId: before.address_book_id }, { ...fields, companyId: values.company_id, addressBookId: bookId })
    if (caseIds !== undefined) (detail.fields as string[]).push('caseIds')
    let seq: number
    if (bookId !== before.address_book_id) {
      await journalled(tx, actor, before, 'delete', { movedTo: bookId })
      seq = await journalled(tx, actor, { ...before, address_book_id: bookId }, 'create', { movedFrom: before.address_book_id })
    } else {
      seq = await journalled(tx, actor, before, 'update', detail)
    }
    const row = await tx.updateTable('contacts').set({ ...values, modified_seq: seq }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    if (caseIds !== undefined) await setCases(tx, id, caseIds)
    return viewOf(row, caseIds ?? (await caseIdsOf(tx, [id])).get(id) ?? [])
  })
}

/** Deletes a contact; the people who worked at a company that goes keep their organisation's name, not the link. */
export async function deleteContact (db: Db, actor: Actor, id: number, opts: { ifVersion?: number } = {}): Promise<void> {
  await transact(db, async tx => {
    const row = await contactFor(tx, actor.user, id, 'write')
    if (opts.ifVersion !== undefined && row.version !== opts.ifVersion) throw new DomainError('precondition-failed', 'the contact changed meanwhile; read it again')
    const staff = await tx.selectFrom('contacts').selectAll().where('company_id', '=', id).execute()
    for (const person of staff) {
      const seq = await journalled(tx, actor, person, 'update', { fields: ['companyId'] })
      await tx.updateTable('contacts').set({ company_id: null, modified_seq: seq, version: person.version + 1 }).where('id', '=', person.id).execute()
    }
    await tx.deleteFrom('contact_cases').where('contact_id', '=', id).execute()
    await tx.deleteFrom('contacts').where('id', '=', id).execute()
    await journalled(tx, actor, row, 'delete')
  })
}

/**
 * Contacts changed in the organisation after journal sequence `since`, for
 * the Google push and other readers of the journal: the ids, the newest
 * change of each, and whether it is gone.
 */
export async function contactChangesSince (db: Db, orgId: number, since: number, limit = 500): Promise<{ contactId: number; seq: number; op: 'create' | 'update' | 'delete' }[]> {
  const rows = await db.selectFrom('changes').select(['entity_id', 'seq', 'op']).where('org_id', '=', orgId).where('entity', '=', 'contact')
    .where('seq', '>', since).orderBy('seq').limit(limit).execute()
  return rows.map(r => ({ contactId: r.entity_id, seq: r.seq, op: r.op }))
}
