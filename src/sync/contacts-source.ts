import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import type { ContactScope } from './options.ts'

/** A CRM contact as a one-way push (Google People API) writes it. */
export type PushContact = {
  id: number
  givenName: string | null
  familyName: string | null
  /** the name shown when there are no name parts (a company) */
  displayName: string
  company: string | null
  jobTitle: string | null
  emails: { value: string; type?: string | null }[]
  phones: { value: string; type?: string | null }[]
  addresses: { streetAddress?: string | null; city?: string | null; postalCode?: string | null; region?: string | null; country?: string | null; type?: string | null }[]
  urls: { value: string; type?: string | null }[]
  /** YYYY-MM-DD, or --MM-DD without a year */
  birthday: string | null
  notes: string | null
}

/**
 * The contacts a user's push covers: all of the company's, or those of the
 * user's cases. It reads the CRM's contacts store (src/domain/contacts.ts);
 * the engine gets it from the app's wiring, so sync depends on no table of it.
 */
export type ContactSource = (db: Db, user: User, scope: Exclude<ContactScope, 'off'>) => Promise<PushContact[]>
