import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Kalends } from '../../app.ts'
import type { Actor } from '../../domain/actor.ts'
import { addressBooksFor, createContact, deleteContact, getContact, listContacts, shareAddressBook, updateContact, type ContactView } from '../../domain/contacts.ts'
import type { VisibleAddressBook } from '../../domain/access.ts'
import { ifVersion, versioned } from './versions.ts'

/**
 * /api/v1/contacts and /api/v1/address-books: the CRM's people and
 * companies. Lists are filtered by address book, case, company, kind and
 * text, a page at a time (nextCursor); edits carry If-Match "v<version>"
 * like appointments; refusals are problem+json from the domain's errors.
 */
const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const Typed = Type.Object({ type: Type.Optional(Type.String({ maxLength: 40, description: 'work, home, cell… (empty: none)' })), value: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false })
const Address = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 40 })),
  poBox: Type.Optional(Type.String({ maxLength: 500 })),
  extended: Type.Optional(Type.String({ maxLength: 500 })),
  street: Type.Optional(Type.String({ maxLength: 1000 })),
  locality: Type.Optional(Type.String({ maxLength: 500 })),
  region: Type.Optional(Type.String({ maxLength: 500 })),
  postalCode: Type.Optional(Type.String({ maxLength: 40 })),
  country: Type.Optional(Type.String({ maxLength: 500 }))
}, { additionalProperties: false })
const Line = (max = 500) => Type.Optional(Type.String({ maxLength: max }))

const contactFields = {
  addressBookId: Type.Optional(Id),
  kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('company')])),
  displayName: Line(),
  prefix: Line(), givenName: Line(), middleName: Line(), familyName: Line(), suffix: Line(),
  organization: Line(),
  companyId: Type.Optional(Nullable(Id)),
  jobTitle: Line(),
  emails: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  phones: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  addresses: Type.Optional(Type.Array(Address, { maxItems: 50 })),
  websites: Type.Optional(Type.Array(Typed, { maxItems: 50 })),
  birthday: Type.Optional(Nullable(Type.String({ maxLength: 10, description: 'YYYY-MM-DD, or --MM-DD without the year' }))),
  notes: Line(50_000),
  photo: Type.Optional(Nullable(Type.String({ maxLength: 700_000, description: 'a data:image/…;base64 URI or an http(s) address' }))),
  caseIds: Type.Optional(Type.Array(Id, { maxItems: 200 }))
}
export const ContactCreate = Type.Object({ ...contactFields, uid: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false })
export const ContactPatch = Type.Object(contactFields, { additionalProperties: false })
export const ContactQuery = Type.Object({
  addressBookId: Type.Optional(Id),
  caseId: Type.Optional(Id),
  companyId: Type.Optional(Type.Integer({ minimum: 1, description: 'the company and the people at it' })),
  kind: Type.Optional(Type.Union([Type.Literal('person'), Type.Literal('company')])),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'words found in the name, organisation, job title, e-mails or phone numbers' })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 }))
}, { additionalProperties: false })

const TypedOut = Type.Object({ type: Type.String(), value: Type.String() })
export const ContactSchema = Type.Object({
  id: Type.Integer(), addressBookId: Type.Integer(), uid: Type.String(), resourceName: Type.String({ description: 'the CardDAV resource name in its address book' }),
  kind: Type.String(), displayName: Type.String(), prefix: Type.String(), givenName: Type.String(), middleName: Type.String(), familyName: Type.String(), suffix: Type.String(),
  organization: Type.String(), companyId: Nullable(Type.Integer()), jobTitle: Type.String(),
  emails: Type.Array(TypedOut), phones: Type.Array(TypedOut), websites: Type.Array(TypedOut),
  addresses: Type.Array(Type.Object({ type: Type.String(), poBox: Type.String(), extended: Type.String(), street: Type.String(), locality: Type.String(), region: Type.String(), postalCode: Type.String(), country: Type.String() })),
  birthday: Nullable(Type.String()), notes: Type.String(), photo: Nullable(Type.String()), caseIds: Type.Array(Type.Integer()),
  version: Type.Integer(), createdAt: Type.String({ format: 'date-time' }), updatedAt: Type.String({ format: 'date-time' })
}, { $id: 'Contact' })
const ContactPage = Type.Object({ items: Type.Array(ContactSchema), nextCursor: Nullable(Type.String()) })
const AddressBookSchema = Type.Object({ id: Type.Integer(), kind: Type.String(), slug: Type.String(), name: Type.String(), description: Type.String(), ownerId: Nullable(Type.Integer()), isDefault: Type.Boolean(), access: Type.String() })
const IdParams = Type.Object({ id: Id })
const ShareParams = Type.Object({ id: Id, userId: Id })
const ShareBody = Type.Object({ access: Type.Union([Type.Literal('read'), Type.Literal('write')]) }, { additionalProperties: false })

export const contactView = (c: ContactView) => ({ ...c, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() })
const bookView = (b: VisibleAddressBook) => ({ id: b.id, kind: b.kind, slug: b.slug, name: b.name, description: b.description, ownerId: b.owner_id, isDefault: b.is_default, access: b.access })


export async function contactApi (app: FastifyInstance, k: Kalends): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const db = k.db
  const actorOf = (request: FastifyRequest): Actor => ({ user: request.user!, origin: 'api' })

  api.get('/address-books', { schema: { tags: ['contacts'], response: { 200: Type.Array(AddressBookSchema) } } }, async request => (await addressBooksFor(db, request.user!)).map(bookView))
  api.put('/address-books/:id/shares/:userId', { schema: { tags: ['contacts'], params: ShareParams, body: ShareBody } }, async (request, reply) => {
    await shareAddressBook(db, actorOf(request), request.params.id, request.params.userId, request.body.access)
    return reply.code(204).send()
  })
  api.delete('/address-books/:id/shares/:userId', { schema: { tags: ['contacts'], params: ShareParams } }, async (request, reply) => {
    await shareAddressBook(db, actorOf(request), request.params.id, request.params.userId, null)
    return reply.code(204).send()
  })

  api.get('/contacts', { schema: { tags: ['contacts'], querystring: ContactQuery, response: { 200: ContactPage } } }, async request => {
    const page = await listContacts(db, request.user!, request.query)
    return { items: page.items.map(contactView), nextCursor: page.nextCursor }
  })
  api.post('/contacts', { schema: { tags: ['contacts'], body: ContactCreate, response: { 201: ContactSchema } } }, async (request, reply) => {
    const c = await createContact(db, actorOf(request), request.body as never)
    return versioned(reply.code(201), c).send(contactView(c))
  })
  api.get('/contacts/:id', { schema: { tags: ['contacts'], params: IdParams, response: { 200: ContactSchema } } }, async (request, reply) => {
    const c = await getContact(db, request.user!, request.params.id)
    return versioned(reply, c).send(contactView(c))
  })
  api.patch('/contacts/:id', { schema: { tags: ['contacts'], params: IdParams, body: ContactPatch, response: { 200: ContactSchema } } }, async (request, reply) => {
    const c = await updateContact(db, actorOf(request), request.params.id, request.body as never, { ifVersion: ifVersion(request) })
    return versioned(reply, c).send(contactView(c))
  })
  api.delete('/contacts/:id', { schema: { tags: ['contacts'], params: IdParams } }, async (request, reply) => {
    await deleteContact(db, actorOf(request), request.params.id, { ifVersion: ifVersion(request) })
    return reply.code(204).send()
  })
}

/** As a Fastify plugin inside the signed-in API: `app.register(import('./contacts.ts'), { k })`. */
export default async function contactApiPlugin (app: FastifyInstance, opts: { k: Kalends }): Promise<void> {
  await contactApi(app, opts.k)
}
