import type { Db } from '../db/connect.ts'
import type { Contact, User } from '../db/schema.ts'
import type { ContactSource, PushContact } from './contacts-source.ts'

/**
 * The contacts a user's Google push covers, from the CRM's contacts store:
 * "company" — every contact of the organisation's company address books;
 * "cases" — the contacts (of the company's books or the user's own) linked to
 * a case the user has an appointment (as owner or participant) or a task in.
 */
export const contactsInScope: ContactSource = async (db: Db, user: User, scope) => {
  let q = db.selectFrom('contacts').innerJoin('address_books', 'address_books.id', 'contacts.address_book_id').selectAll('contacts')
    .where('contacts.org_id', '=', user.org_id).where('address_books.deleted_at', 'is', null)
  if (scope === 'company') {
    q = q.where('address_books.kind', '=', 'company')
  } else {
    q = q.where(eb => eb.or([eb('address_books.kind', '=', 'company'), eb('address_books.owner_id', '=', user.id)]))
      .where('contacts.id', 'in', eb => eb.selectFrom('contact_cases').select('contact_cases.contact_id').where('contact_cases.case_id', 'in', eb.selectFrom('appointments').select('appointments.case_id').where('appointments.case_id', 'is not', null)
        .where(x => x.or([x('appointments.owner_id', '=', user.id), x('appointments.id', 'in', x.selectFrom('appointment_participants').select('appointment_id').where('user_id', '=', user.id))]))
        .union(eb.selectFrom('tasks').select('tasks.case_id').where('tasks.case_id', 'is not', null).where('tasks.assignee_id', '=', user.id))))
  }
  return (await q.orderBy('contacts.id').execute()).map(pushContactOf)
}

const orNull = (s: string) => s.trim() === '' ? null : s

export function pushContactOf (c: Contact): PushContact {
  const person = c.kind === 'person' && (c.given_name !== '' || c.family_name !== '')
  return {
    id: c.id,
    givenName: person ? orNull(c.given_name) : null,
    familyName: person ? orNull(c.family_name) : null,
    displayName: c.display_name,
    company: orNull(c.organization),
    jobTitle: orNull(c.job_title),
    emails: c.emails.map(e => ({ value: e.value, type: orNull(e.type) })),
    phones: c.phones.map(p => ({ value: p.value, type: orNull(p.type) })),
    addresses: c.addresses.map(a => ({ streetAddress: orNull([a.street, a.extended].filter(Boolean).join('\n')), city: orNull(a.locality), postalCode: orNull(a.postalCode), region: orNull(a.region), country: orNull(a.country), type: orNull(a.type) })),
    urls: c.websites.map(w => ({ value: w.value, type: orNull(w.type) })),
    birthday: c.birthday,
    notes: orNull(c.notes)
  }
}
