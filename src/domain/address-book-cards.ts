import { transact, type Db } from '../db/connect.ts'
import type { Contact } from '../db/schema.ts'
import { requireAddressBook, type VisibleAddressBook } from './access.ts'
import type { Actor } from './actor.ts'
import { checkPreconditions, committedSeq, type Preconditions } from './calendar-objects.ts'
import { createContact, deleteContact, updateContact } from './contacts.ts'
import { notFound } from './errors.ts'
import { memberChanges, type MemberChanges } from './journal.ts'

/**
 * The address object resources of an address book as CardDAV sees them:
 * read by name, listed a page at a time, changed since a journal sequence,
 * and written: a client's PUT or DELETE becomes the contact's create, update
 * or delete in contacts.ts (journal, access), the body kept exactly as sent.
 * Reads take the address book as access.ts handed it out (visibleAddressBooks).
 */
export type CardRow = Pick<Contact, 'id' | 'address_book_id' | 'name' | 'uid' | 'etag' | 'size' | 'updated_at' | 'modified_seq' | 'vcard_version'> & { vcard?: string }

const META = ['id', 'address_book_id', 'name', 'uid', 'etag', 'size', 'updated_at', 'modified_seq', 'vcard_version'] as const

function select (db: Db, bookId: number, withBody: boolean) {
  const q = db.selectFrom('contacts').select([...META]).where('address_book_id', '=', bookId)
  return withBody ? q.select('vcard') : q
}

export async function getCard (db: Db, book: VisibleAddressBook, name: string, withBody = true): Promise<CardRow | null> {
  return (await select(db, book.id, withBody).where('name', '=', name).executeTakeFirst()) ?? null
}

export async function getCards (db: Db, book: VisibleAddressBook, names: string[], withBody = true): Promise<CardRow[]> {
  if (names.length === 0) return []
  return select(db, book.id, withBody).where('name', 'in', names).execute()
}

/** A page of the address book's cards in id order. */
export async function listCards (db: Db, book: VisibleAddressBook, opts: { withBody?: boolean; afterId?: number; limit?: number } = {}): Promise<CardRow[]> {
  let q = select(db, book.id, opts.withBody === true)
  if (opts.afterId !== undefined) q = q.where('id', '>', opts.afterId)
  q = q.orderBy('id')
  return (opts.limit === undefined ? q : q.limit(opts.limit)).execute()
}

/** The address books' newest committed changes: the base of their ctags and sync tokens (0: none yet). */
export async function addressBookVersions (db: Db, bookIds: number[]): Promise<Map<number, number>> {
  const out = new Map(bookIds.map(id => [id, 0]))
  if (bookIds.length === 0) return out
  const horizon = await committedSeq(db)
  const rows = await db.selectFrom('changes').where('address_book_id', 'in', bookIds).where('seq', '<=', horizon)
    .select(eb => ['address_book_id', eb.fn.max('seq').as('seq')]).groupBy('address_book_id').execute()
  for (const r of rows) out.set(Number(r.address_book_id), Number(r.seq))
  return out
}

export type CardChanges = MemberChanges<CardRow>

/**
 * What changed in the address book after journal sequence `since` (0:
 * everything there is); `seq` is what the answer is complete up to. Changes
 * past the committed horizon wait for the next sync (calendar-objects.ts,
 * committedSeq, explains why).
 */
export async function cardChanges (db: Db, book: VisibleAddressBook, since: number, opts: { limit?: number; withBody?: boolean } = {}): Promise<CardChanges> {
  const now = (await addressBookVersions(db, [book.id])).get(book.id) ?? 0
  const withBody = opts.withBody === true
  return memberChanges(db, since, now, opts.limit, {
    changed: (since, now, limit) => {
      const q = select(db, book.id, withBody).where('modified_seq', '>', since).where('modified_seq', '<=', now).orderBy('modified_seq').orderBy('id')
      return (limit === undefined ? q : q.limit(limit)).execute()
    },
    collection: { column: 'address_book_id', members: 'contacts', id: book.id }
  })
}

export type CardPutResult = { created: boolean; etag: string }

/**
 * A card served in the other vCard version carries its own ETag (the stored
 * one with -v3 or -v4); an If-Match or If-None-Match naming it names the card.
 */
function asStored (cond: Preconditions): Preconditions {
  const base = (tags: string[] | '*' | undefined) => tags === undefined || tags === '*' ? tags : tags.map(t => /^"([A-Za-z0-9_-]{22})-v[34]"$/.exec(t)?.[1] === undefined ? t : `"${t.slice(1, 23)}"`)
  return { ...(cond.ifMatch === undefined ? {} : { ifMatch: base(cond.ifMatch) }), ...(cond.ifNoneMatch === undefined ? {} : { ifNoneMatch: base(cond.ifNoneMatch) }) }
}

/** A client's PUT of one vCard: the contact's create or update, the body stored exactly as sent. */
export async function putCard (db: Db, actor: Actor, bookId: number, name: string, vcard: string, cond: Preconditions): Promise<CardPutResult> {
  return transact(db, async tx => {
    const book = await requireAddressBook(tx, actor.user, bookId, 'write')
    const current = await tx.selectFrom('contacts').select(['id', 'etag', 'version']).where('address_book_id', '=', book.id).where('name', '=', name).executeTakeFirst()
    checkPreconditions(current, asStored(cond))
    if (current === undefined) {
      const made = await createContact(tx, actor, { addressBookId: book.id }, { clientBody: { name, vcard } })
      return { created: true, etag: made.etag }
    }
    const changed = await updateContact(tx, actor, current.id, {}, { ifVersion: current.version, clientBody: { name, vcard } })
    return { created: false, etag: changed.etag }
  })
}

export async function deleteCard (db: Db, actor: Actor, bookId: number, name: string, cond: Preconditions): Promise<void> {
  await transact(db, async tx => {
    const book = await requireAddressBook(tx, actor.user, bookId, 'write')
    const current = await tx.selectFrom('contacts').select(['id', 'etag', 'version']).where('address_book_id', '=', book.id).where('name', '=', name).executeTakeFirst()
    if (current === undefined) throw notFound('contact')
    checkPreconditions(current, asStored(cond))
    await deleteContact(tx, actor, current.id, { ifVersion: current.version })
  })
}
