// People API state per account: contacts (tombstones kept, so sync tokens can
// report deletions as Google does with metadata.deleted), contact groups with
// their members, and the per-user write-rate window.
import { randomBytes } from 'node:crypto';
import type { people_v1 } from 'googleapis';

export type Person = people_v1.Schema$Person;
export type ContactGroup = people_v1.Schema$ContactGroup;

export type StoredPerson = {
  /** creation order: the stable paging key */
  ord: number;
  /** store-wide change number of the last write: sync tokens compare it */
  seq: number;
  data: Person;
  deleted: boolean;
};

export type StoredGroup = { data: ContactGroup; members: Set<string>; seq: number };

export type PeopleAccount = {
  email: string;
  people: Map<string, StoredPerson>;
  groups: Map<string, StoredGroup>;
  /** bumped by expirePeopleSyncTokens: older tokens answer EXPIRED_SYNC_TOKEN */
  syncGeneration: number;
  /** times of recent mutate requests, for the write quota */
  writes: number[];
};

/** Fields a contact's source owns (what updatePersonFields may name), per
 *  https://developers.google.com/people/api/rest/v1/people/updateContact */
export const UPDATABLE_FIELDS = [
  'addresses', 'biographies', 'birthdays', 'calendarUrls', 'clientData', 'emailAddresses', 'events', 'externalIds', 'genders',
  'imClients', 'interests', 'locales', 'locations', 'memberships', 'miscKeywords', 'names', 'nicknames', 'occupations',
  'organizations', 'phoneNumbers', 'relations', 'sipAddresses', 'urls', 'userDefined',
] as const;

/** Fields a read mask (personFields / readMask) may name, per
 *  https://developers.google.com/people/api/rest/v1/people.connections/list */
export const READABLE_FIELDS = new Set<string>([...UPDATABLE_FIELDS, 'ageRanges', 'coverPhotos', 'metadata', 'photos', 'skills']);

const SYSTEM_GROUPS = ['myContacts', 'starred'];

/** Change and order numbers come from the emulator's Store, which Calendar and Tasks count with too. */
export class PeopleStore {
  accounts = new Map<string, PeopleAccount>();
  /** write quota: mutate requests per minute per user (0 = unlimited); Google's default is in the Cloud console */
  writesPerMinute = 0;

  account(email: string): PeopleAccount {
    let a = this.accounts.get(email);
    if (!a) {
      a = { email, people: new Map(), groups: new Map(), syncGeneration: 0, writes: [] };
      for (const id of SYSTEM_GROUPS) {
        a.groups.set(id, { data: { resourceName: `contactGroups/${id}`, etag: newEtag(), groupType: 'SYSTEM_CONTACT_GROUP', name: id, formattedName: id === 'myContacts' ? 'My Contacts' : 'Starred', metadata: { updateTime: new Date().toISOString() } }, members: new Set(), seq: 0 });
      }
      this.accounts.set(email, a);
    }
    return a;
  }

  dump(email: string): { people: Person[]; groups: ContactGroup[] } {
    const a = this.account(email);
    return {
      people: [...a.people.values()].filter((p) => !p.deleted).map((p) => structuredClone(p.data)),
      groups: [...a.groups.values()].map((g) => ({ ...structuredClone(g.data), memberResourceNames: [...g.members] })),
    };
  }
}

/** People etags are opaque base64 strings starting with '%' (as Google returns them). */
export function newEtag(): string {
  return '%' + randomBytes(12).toString('base64');
}

export function newPersonId(): string {
  // Google's contact ids are 'c' and up to 19 decimal digits
  return 'c' + BigInt('0x' + randomBytes(8).toString('hex')).toString().slice(0, 19);
}

export function newGroupId(): string {
  return randomBytes(8).toString('hex');
}
