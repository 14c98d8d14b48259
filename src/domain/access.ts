import type { Db } from '../db/connect.ts'
import type { AddressBook, Appointment, Calendar, Task, User } from '../db/schema.ts'
import { DomainError, notFound } from './errors.ts'

/**
 * The one place that decides who may see and change what. Everything that is
 * not visible answers "not found", so ids of other people's things leak nothing.
 */
export type CalendarAccess = 'owner' | 'write' | 'read'
export type Need = 'read' | 'write' | 'manage'

export type VisibleCalendar = Calendar & { access: CalendarAccess }

const RANK: Record<CalendarAccess, number> = { read: 1, write: 2, owner: 3 }
const NEED: Record<Need, number> = { read: 1, write: 2, manage: 3 }

/** What calendars and address books have in common: the organisation's (company) or a user's own, shared per user. */
type Collection = { org_id: number; owner_id: number | null; kind: string; deleted_at: Date | null }

export function accessFromShare (user: User, calendar: Collection, share: 'read' | 'write' | null): CalendarAccess | null {
  if (calendar.org_id !== user.org_id || calendar.deleted_at !== null) return null
  if (calendar.owner_id === user.id) return 'owner'
  if (calendar.kind === 'company') {
    if (user.role === 'admin') return 'owner'
    return share ?? 'read'
  }
  return share
}

export async function visibleCalendars (db: Db, user: User): Promise<VisibleCalendar[]> {
  const rows = await db.selectFrom('calendars')
    .leftJoin('calendar_shares', join => join.onRef('calendar_shares.calendar_id', '=', 'calendars.id').on('calendar_shares.user_id', '=', user.id))
    .selectAll('calendars')
    .select('calendar_shares.access as share')
    .where('calendars.org_id', '=', user.org_id)
    .where('calendars.deleted_at', 'is', null)
    .where(eb => eb.or([
      eb('calendars.owner_id', '=', user.id),
      eb('calendars.kind', '=', 'company'),
      eb('calendar_shares.user_id', '=', user.id)
    ]))
    .orderBy('calendars.sort_order').orderBy('calendars.id')
    .execute()
  return rows.flatMap(({ share, ...cal }) => {
    const access = accessFromShare(user, cal, share)
    return access === null ? [] : [{ ...cal, access }]
  })
}

export async function calendarAccess (db: Db, user: User, calendarId: number): Promise<VisibleCalendar | null> {
  const row = await db.selectFrom('calendars')
    .leftJoin('calendar_shares', join => join.onRef('calendar_shares.calendar_id', '=', 'calendars.id').on('calendar_shares.user_id', '=', user.id))
    .selectAll('calendars').select('calendar_shares.access as share')
    .where('calendars.id', '=', calendarId)
    .executeTakeFirst()
  if (row === undefined) return null
  const { share, ...cal } = row
  const access = accessFromShare(user, cal, share)
  return access === null ? null : { ...cal, access }
}

export function allows (access: CalendarAccess, need: Need): boolean {
  return RANK[access] >= NEED[need]
}

export async function requireCalendar (db: Db, user: User, calendarId: number, need: Need): Promise<VisibleCalendar> {
  const cal = await calendarAccess(db, user, calendarId)
  if (cal === null) throw notFound('calendar')
  if (!allows(cal.access, need)) {
    throw new DomainError('forbidden', need === 'manage' ? 'only the calendar\'s owner may do this' : 'this calendar is shared with you read-only', { rule: 'need-privileges' })
  }
  return cal
}

/**
 * canOrganise: may decide who owns the item and who takes part in it.
 * PRODUCT.md "Participants": the owner reassigns; a participant's edit
 * reaches every copy, and their delete only makes them leave. So the owner,
 * whoever writes the owner's calendar for them (a read-write share) and an
 * administrator organise; a participant edits the meeting but cannot take it
 * over, move it out of the owner's calendar, or invite and drop others.
 */
export type ItemRole = { canRead: boolean; canWrite: boolean; canOrganise: boolean; isOwner: boolean; isParticipant: boolean }

const NO_ROLE: ItemRole = { canRead: false, canWrite: false, canOrganise: false, isOwner: false, isParticipant: false }

/**
 * What the caller read already, so it is not asked again: `home`, the
 * appointment's calendar as this function's rules decided it for this user
 * (used only when it is that calendar); `participants`, every participant of
 * the appointment, read in this transaction after its row was locked.
 */
export type KnownForRole = { home?: VisibleCalendar; participants?: number[] }

export async function appointmentRole (db: Db, user: User, appt: Appointment, known: KnownForRole = {}): Promise<ItemRole> {
  if (appt.org_id !== user.org_id) return NO_ROLE
  const home = known.home?.id === appt.calendar_id ? known.home : await calendarAccess(db, user, appt.calendar_id)
  const isOwner = appt.owner_id === user.id
  const isParticipant = known.participants !== undefined
    ? known.participants.includes(user.id)
    : await db.selectFrom('appointment_participants').select('user_id')
      .where('appointment_id', '=', appt.id).where('user_id', '=', user.id).executeTakeFirst() !== undefined
  const writesHome = home !== null && allows(home.access, 'write')
  const canWrite = isOwner || isParticipant || writesHome
  const canRead = canWrite || home !== null
  return { canRead, canWrite, canOrganise: isOwner || writesHome || (canRead && user.role === 'admin'), isOwner, isParticipant }
}

export async function taskRole (db: Db, user: User, task: Task): Promise<ItemRole> {
  if (task.org_id !== user.org_id) return NO_ROLE
  const home = await calendarAccess(db, user, task.calendar_id)
  const isOwner = task.assignee_id === user.id || task.created_by === user.id
  const canWrite = isOwner || (home !== null && allows(home.access, 'write'))
  return { canRead: canWrite || home !== null, canWrite, canOrganise: canWrite, isOwner, isParticipant: false }
}

/** Refuses a change of owner, home calendar or participants from someone who only takes part. */
export function requireOrganiser (role: ItemRole, field: 'ownerId' | 'calendarId' | 'participantIds'): void {
  if (role.canOrganise) return
  throw new DomainError('forbidden', 'only the owner, someone who may write the owner\'s calendar, or an administrator may reassign this appointment, move it to another calendar or change who takes part; a participant may edit it, or leave it by deleting their copy', { rule: 'organiser-only', field })
}

export async function requireSameOrgUser (db: Db, actor: User, userId: number, field: string): Promise<User> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
  if (user === undefined || user.org_id !== actor.org_id) throw new DomainError('invalid', `no user ${userId} in your organisation`, { field })
  return user
}

export function requireAdmin (actor: User): void {
  if (actor.role !== 'admin') throw new DomainError('forbidden', 'only an administrator may do this')
}

/**
 * Address books follow the calendars' rules: the company address book is
 * read by everyone in the organisation and written by administrators and
 * those it is shared with read-write; a user's own is theirs and whoever
 * they share it with.
 */
export type VisibleAddressBook = AddressBook & { access: CalendarAccess }

export async function visibleAddressBooks (db: Db, user: User): Promise<VisibleAddressBook[]> {
  const rows = await db.selectFrom('address_books')
    .leftJoin('address_book_shares', join => join.onRef('address_book_shares.address_book_id', '=', 'address_books.id').on('address_book_shares.user_id', '=', user.id))
    .selectAll('address_books')
    .select('address_book_shares.access as share')
    .where('address_books.org_id', '=', user.org_id)
    .where('address_books.deleted_at', 'is', null)
    .where(eb => eb.or([
      eb('address_books.owner_id', '=', user.id),
      eb('address_books.kind', '=', 'company'),
      eb('address_book_shares.user_id', '=', user.id)
    ]))
    .orderBy('address_books.kind').orderBy('address_books.id')
    .execute()
  return rows.flatMap(({ share, ...book }) => {
    const access = accessFromShare(user, book, share)
    return access === null ? [] : [{ ...book, access }]
  })
}

export async function addressBookAccess (db: Db, user: User, addressBookId: number): Promise<VisibleAddressBook | null> {
  const row = await db.selectFrom('address_books')
    .leftJoin('address_book_shares', join => join.onRef('address_book_shares.address_book_id', '=', 'address_books.id').on('address_book_shares.user_id', '=', user.id))
    .selectAll('address_books').select('address_book_shares.access as share')
    .where('address_books.id', '=', addressBookId)
    .executeTakeFirst()
  if (row === undefined) return null
  const { share, ...book } = row
  const access = accessFromShare(user, book, share)
  return access === null ? null : { ...book, access }
}

export async function requireAddressBook (db: Db, user: User, addressBookId: number, need: Need): Promise<VisibleAddressBook> {
  const book = await addressBookAccess(db, user, addressBookId)
  if (book === null) throw notFound('address book')
  if (!allows(book.access, need)) {
    throw new DomainError('forbidden', need === 'manage' ? 'only the address book\'s owner may do this' : 'this address book is shared with you read-only', { rule: 'need-privileges' })
  }
  return book
}
