import { createHash } from 'node:crypto'
import type { people_v1 } from 'googleapis/build/src/apis/people/index.js'
import type { Db } from '../../db/connect.ts'
import type { PushContact } from '../contacts-source.ts'
import { logSync } from '../links.ts'
import { classify, statusOf } from './client.ts'

/**
 * One-way push of CRM contacts into a "Kalends" contact group of the user's
 * Google account with the People API (issue 13). Google's copy is never read
 * back into the CRM: it is listed only to match copies made before (a
 * reconnect, a create whose answer was lost), by the CRM id each copy holds
 * in its clientData. Mutations go in batches, one at a time, as the guide
 * asks ("Mutate requests for the same user should be sent sequentially",
 * https://developers.google.com/people/api/rest/v1/people/batchCreateContacts).
 */

export const GROUP_NAME = 'Kalends'
/** clientData keys of a copy: the CRM id it copies, and the hash of what Kalends wrote */
export const ID_KEY = 'kalends.contactId'
export const HASH_KEY = 'kalends.hash'

/** batchCreateContacts / batchUpdateContacts: "Allows up to 200 contacts in a single request." */
export const MUTATE_BATCH = 200
/** batchDeleteContacts: "Allows up to 500 resource names in a single request." */
export const DELETE_BATCH = 500
/** people.getBatchGet: up to 200 resource names */
const GET_BATCH = 200
/** what a push writes; every field named is replaced, or cleared when the CRM has none (updateContact) */
const UPDATE_MASK = 'names,organizations,emailAddresses,phoneNumbers,addresses,urls,birthdays,biographies,clientData,memberships'
const READ_MASK = 'clientData'

export type ContactLink = { contact_id: number; resource_name: string | null; etag: string | null; written_hash: string | null }

type LinkTables = {
  google_contact_links: ContactLink & { connection_id: number; updated_at: Date | string }
}
const linkDb = (db: Db) => db.withTables<LinkTables>()

export type PushResult = { created: number; updated: number; deleted: number; overwritten: number; matched: number }

export function personOf (c: PushContact, groupResourceName: string): people_v1.Schema$Person {
  const birthday = c.birthday === null ? null : /^(?:(\d{4})|--)-?(\d{2})-(\d{2})$/.exec(c.birthday)
  const body: people_v1.Schema$Person = {
    names: [c.givenName === null && c.familyName === null ? { unstructuredName: c.displayName } : { givenName: c.givenName, familyName: c.familyName }],
    organizations: c.company === null && c.jobTitle === null ? [] : [{ name: c.company, title: c.jobTitle }],
    emailAddresses: c.emails.map(e => ({ value: e.value, type: e.type ?? null })),
    phoneNumbers: c.phones.map(p => ({ value: p.value, type: p.type ?? null })),
    addresses: c.addresses.map(a => ({ streetAddress: a.streetAddress ?? null, city: a.city ?? null, postalCode: a.postalCode ?? null, region: a.region ?? null, country: a.country ?? null, type: a.type ?? null })),
    urls: c.urls.map(u => ({ value: u.value, type: u.type ?? null })),
    birthdays: birthday === null ? [] : [{ date: { ...(birthday[1] === undefined ? {} : { year: Number(birthday[1]) }), month: Number(birthday[2]), day: Number(birthday[3]) } }],
    biographies: c.notes === null || c.notes === '' ? [] : [{ value: c.notes, contentType: 'TEXT_PLAIN' }],
    memberships: [groupResourceName, 'contactGroups/myContacts'].map(rn => ({ contactGroupMembership: { contactGroupResourceName: rn } }))
  }
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 32)
  body.clientData = [{ key: ID_KEY, value: String(c.id) }, { key: HASH_KEY, value: hash }]
  return body
}

const hashOfPerson = (p: people_v1.Schema$Person) => p.clientData?.find(d => d.key === HASH_KEY)?.value ?? null
const contactIdOf = (p: people_v1.Schema$Person) => {
  const v = p.clientData?.find(d => d.key === ID_KEY)?.value
  return v === undefined || v === null || !/^\d+$/.test(v) ? null : Number(v)
}
const chunks = <T>(all: T[], size: number): T[][] => Array.from({ length: Math.ceil(all.length / size) }, (_, i) => all.slice(i * size, (i + 1) * size))

/** A People API failure named as the engine treats it (429 and 5xx: retry later; 401: reconnect). */
async function api<T> (what: string, fn: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await fn()).data
  } catch (e) {
    throw classify(e, what)
  }
}

const staleEtag = (e: unknown) => statusOf(e) === 400 && (e as { response?: { data?: { error?: { status?: string } } } }).response?.data?.error?.status === 'FAILED_PRECONDITION'

export class ContactsPush {
  readonly #db: Db
  readonly #connectionId: number
  readonly #people: people_v1.People
  readonly result: PushResult = { created: 0, updated: 0, deleted: 0, overwritten: 0, matched: 0 }

  constructor (db: Db, connectionId: number, people: people_v1.People) {
    this.#db = db
    this.#connectionId = connectionId
    this.#people = people
  }

  /**
   * A push as a run makes it: nothing at all is asked of Google when every
   * contact in scope is linked with the hash of what it would write now;
   * otherwise the group is checked (or made) and the copies brought in line.
   * Returns the group to remember.
   */
  async run (desired: PushContact[], remembered: string | null): Promise<string> {
    if (remembered !== null && !(await this.#needsWrites(desired, remembered))) return remembered
    const group = await this.group(remembered)
    await this.push(desired, group)
    return group
  }

  async #needsWrites (desired: PushContact[], group: string): Promise<boolean> {
    const links = await this.links()
    if (links.some(l => l.resource_name === null) || links.length !== desired.length) return true
    const written = new Map(links.map(l => [l.contact_id, l.written_hash]))
    return desired.some(c => written.get(c.id) !== hashOfPerson(personOf(c, group)))
  }

  /** The "Kalends" group: the one remembered if Google still has it, else one of that name, else a new one. */
  async group (remembered: string | null): Promise<string> {
    if (remembered !== null) {
      try {
        await this.#people.contactGroups.get({ resourceName: remembered })
        return remembered
      } catch (e) {
        if (statusOf(e) !== 404) throw classify(e, 'get contact group')
      }
    }
    const groups = await api('list contact groups', () => this.#people.contactGroups.list({ pageSize: 1000 }))
    const found = groups.contactGroups?.find(g => g.groupType === 'USER_CONTACT_GROUP' && g.name === GROUP_NAME)
    if (found?.resourceName != null) return found.resourceName
    const made = await api('create contact group', () => this.#people.contactGroups.create({ requestBody: { contactGroup: { name: GROUP_NAME } } }))
    await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'info', message: `contact group "${GROUP_NAME}" made in Google` })
    return made.resourceName!
  }

  async links (): Promise<ContactLink[]> {
    return linkDb(this.#db).selectFrom('google_contact_links').select(['contact_id', 'resource_name', 'etag', 'written_hash'])
      .where('connection_id', '=', this.#connectionId).execute()
  }

  /** One statement per batch: a long pause between two requests would let Google's side close the kept-alive connection. */
  async #saveAll (links: ContactLink[]): Promise<void> {
    // at most 1,000 rows a statement: PostgreSQL takes 65,535 parameters
    for (const part of chunks(links, 1000)) {
      await linkDb(this.#db).insertInto('google_contact_links').values(part.map(l => ({ connection_id: this.#connectionId, ...l, updated_at: new Date() })))
        .onConflict(oc => oc.columns(['connection_id', 'contact_id']).doUpdateSet(eb => ({
          resource_name: eb.ref('excluded.resource_name'), etag: eb.ref('excluded.etag'), written_hash: eb.ref('excluded.written_hash'), updated_at: new Date()
        })))
        .execute()
    }
  }

  async #drop (contactIds: number[]): Promise<void> {
    if (contactIds.length === 0) return
    await linkDb(this.#db).deleteFrom('google_contact_links').where('connection_id', '=', this.#connectionId).where('contact_id', 'in', contactIds).execute()
  }

  /**
   * Copies Kalends made before that no link knows (a reconnect, a create whose
   * answer never came): every contact of the account is listed once and those
   * holding a CRM id are linked; a second copy of the same contact is deleted.
   */
  async match (): Promise<void> {
    const byContact = new Map<number, people_v1.Schema$Person>()
    const extra: string[] = []
    let pageToken: string | undefined
    do {
      const page = await api('list contacts', () => this.#people.people.connections.list({ resourceName: 'people/me', personFields: 'clientData', pageSize: 1000, ...(pageToken === undefined ? {} : { pageToken }) }))
      for (const p of page.connections ?? []) {
        const id = contactIdOf(p)
        if (id === null || p.resourceName == null) continue
        if (byContact.has(id)) extra.push(p.resourceName)
        else byContact.set(id, p)
      }
      pageToken = page.nextPageToken ?? undefined
    } while (pageToken !== undefined)
    const known = new Map((await this.links()).map(l => [l.contact_id, l]))
    const found = [...byContact].filter(([id, p]) => !(known.get(id)?.resource_name === p.resourceName && known.get(id)?.etag === p.etag))
    await this.#saveAll(found.map(([id, p]) => ({ contact_id: id, resource_name: p.resourceName!, etag: p.etag ?? null, written_hash: hashOfPerson(p) })))
    this.result.matched += found.length
    // a create that left no copy: made again below
    await this.#drop([...known.values()].filter(l => l.resource_name === null && !byContact.has(l.contact_id)).map(l => l.contact_id))
    for (const names of chunks(extra, DELETE_BATCH)) await this.#deleteRemote(names)
    if (this.result.matched > 0) await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'linked', message: `${this.result.matched} contacts already in Google matched by their CRM id; none copied twice` })
  }

  /**
   * Makes the group's copies what `desired` says: new contacts created,
   * changed ones written over (a copy edited in Google meanwhile too, said so
   * in the log), those gone from the CRM or the scope deleted.
   */
  async push (desired: PushContact[], groupResourceName: string): Promise<PushResult> {
    let links = await this.links()
    if (links.length === 0 || links.some(l => l.resource_name === null)) {
      await this.match()
      links = await this.links()
    }
    const linked = new Map(links.map(l => [l.contact_id, l]))
    const wanted = new Map(desired.map(c => [c.id, personOf(c, groupResourceName)]))

    const gone = links.filter(l => !wanted.has(l.contact_id))
    for (const batch of chunks(gone, DELETE_BATCH)) {
      await this.#deleteRemote(batch.map(l => l.resource_name!))
      await this.#drop(batch.map(l => l.contact_id))
      this.result.deleted += batch.length
      await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'deleted', message: `${batch.length} contacts no longer in the CRM or out of scope removed from Google: ${batch.map(l => l.contact_id).join(', ')}` })
    }

    const changed = [...wanted].filter(([id, p]) => linked.has(id) && linked.get(id)!.written_hash !== hashOfPerson(p))
    for (const batch of chunks(changed, MUTATE_BATCH)) await this.#update(batch.map(([id, p]) => ({ id, person: p, link: linked.get(id)! })))

    const fresh = [...wanted].filter(([id]) => !linked.has(id))
    for (const batch of chunks(fresh, MUTATE_BATCH)) await this.#create(batch.map(([id, person]) => ({ id, person })))
    return this.result
  }

  async #create (batch: { id: number; person: people_v1.Schema$Person }[]): Promise<void> {
    // in flight: if the answer is lost, the next run matches these before creating anything
    await this.#saveAll(batch.map(({ id }) => ({ contact_id: id, resource_name: null, etag: null, written_hash: null })))
    const made = await api('create contacts', () => this.#people.people.batchCreateContacts({ requestBody: { contacts: batch.map(b => ({ contactPerson: b.person })), readMask: READ_MASK } }))
    await this.#saveAll((made.createdPeople ?? []).flatMap(r => {
      const id = r.person == null ? null : contactIdOf(r.person)
      return id === null ? [] : [{ contact_id: id, resource_name: r.person!.resourceName!, etag: r.person!.etag ?? null, written_hash: hashOfPerson(r.person!) }]
    }))
    this.result.created += batch.length
    await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'created', message: `${batch.length} contacts copied to Google` })
  }

  async #update (batch: { id: number; person: people_v1.Schema$Person; link: ContactLink }[], retried = false): Promise<void> {
    const contacts = Object.fromEntries(batch.map(b => [b.link.resource_name!, { ...b.person, etag: b.link.etag }]))
    let answer: people_v1.Schema$BatchUpdateContactsResponse
    try {
      answer = (await this.#people.people.batchUpdateContacts({ requestBody: { contacts, updateMask: UPDATE_MASK, readMask: READ_MASK } })).data
    } catch (e) {
      if (!staleEtag(e) || retried) throw classify(e, 'update contacts')
      return this.#update(await this.#refresh(batch), true)
    }
    await this.#saveAll(batch.map(b => {
      const p = answer.updateResult?.[b.link.resource_name!]?.person
      return { contact_id: b.id, resource_name: b.link.resource_name, etag: p?.etag ?? null, written_hash: p == null ? null : hashOfPerson(p) }
    }))
    this.result.updated += batch.length
    await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'updated', message: `${batch.length} changed contacts written to Google` })
  }

  /**
   * A batch refused for a stale etag: somebody edited copies in Google. The
   * current etags are read (only them), the edits are logged as overwritten,
   * and copies deleted in Google are made again.
   */
  async #refresh (batch: { id: number; person: people_v1.Schema$Person; link: ContactLink }[]): Promise<{ id: number; person: people_v1.Schema$Person; link: ContactLink }[]> {
    const current = new Map<string, people_v1.Schema$PersonResponse>()
    for (const names of chunks(batch.map(b => b.link.resource_name!), GET_BATCH)) {
      const got = await api('read contact etags', () => this.#people.people.getBatchGet({ resourceNames: names, personFields: 'metadata' }))
      for (const r of got.responses ?? []) if (r.requestedResourceName != null) current.set(r.requestedResourceName, r)
    }
    const keep: typeof batch = []
    const lost: typeof batch = []
    for (const b of batch) {
      const r = current.get(b.link.resource_name!)
      if (r?.person?.etag == null) {
        lost.push(b)
        continue
      }
      if (r.person.etag !== b.link.etag) {
        this.result.overwritten++
        await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'updated', itemId: b.id, remoteId: b.link.resource_name, message: `contact ${b.id} was edited in Google; the CRM's version is written over it (contacts go one way: edit them in the CRM)` })
      }
      keep.push({ ...b, link: { ...b.link, etag: r.person.etag } })
    }
    if (lost.length > 0) {
      await this.#drop(lost.map(b => b.id))
      await logSync(this.#db, this.#connectionId, { direction: 'out', action: 'info', message: `${lost.length} contacts deleted in Google are copied again: ${lost.map(b => b.id).join(', ')}` })
      for (const part of chunks(lost, MUTATE_BATCH)) await this.#create(part.map(({ id, person }) => ({ id, person })))
    }
    return keep
  }

  /** Deletes copies; an unknown one in a batch (deleted in Google meanwhile) sends the rest one by one. */
  async #deleteRemote (names: string[]): Promise<void> {
    if (names.length === 0) return
    try {
      await this.#people.people.batchDeleteContacts({ requestBody: { resourceNames: names } })
    } catch (e) {
      if (statusOf(e) !== 404) throw classify(e, 'delete contacts')
      for (const resourceName of names) {
        try {
          await this.#people.people.deleteContact({ resourceName })
        } catch (err) {
          if (statusOf(err) !== 404) throw classify(err, 'delete contact')
        }
      }
    }
  }

  /** Disconnect with "remove the copies": every linked copy deleted, the links forgotten. */
  async removeAll (): Promise<number> {
    const links = (await this.links()).filter(l => l.resource_name !== null)
    for (const batch of chunks(links, DELETE_BATCH)) await this.#deleteRemote(batch.map(l => l.resource_name!))
    await linkDb(this.#db).deleteFrom('google_contact_links').where('connection_id', '=', this.#connectionId).execute()
    return links.length
  }
}
