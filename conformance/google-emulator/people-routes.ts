// People API v1: the parts a one-way contacts push uses. Each method follows
// its reference page under https://developers.google.com/people/api/rest/v1/
// (people, people.connections, contactGroups, contactGroups.members) and the
// guide "Read and manage contacts" (https://developers.google.com/people/v1/contacts):
// batch mutates of up to 200 contacts (500 resource names for batchDeleteContacts),
// etag-checked updates, connections.list with personFields, paging and sync tokens.
import type { people_v1 } from 'googleapis';
import type { ApiContext } from './context.ts';
import { authorize } from './context.ts';
import { peopleError } from './errors.ts';
import { decode, encode } from './events-list.ts';
import type { Reply, Req, Route } from './http.ts';
import { intParam, jsonBody, route } from './http.ts';
import type { ContactGroup, PeopleAccount, PeopleStore, Person, StoredGroup, StoredPerson } from './people-store.ts';
import { newEtag, newGroupId, newPersonId, READABLE_FIELDS, UPDATABLE_FIELDS } from './people-store.ts';

const SCOPE = 'https://www.googleapis.com/auth/';
const READ = [SCOPE + 'contacts', SCOPE + 'contacts.readonly'];
const WRITE = [SCOPE + 'contacts'];

/** batchCreateContacts / batchUpdateContacts: "Allows up to 200 contacts in a single request." */
export const BATCH_MUTATE_LIMIT = 200;
/** batchDeleteContacts: "Allows up to 500 resource names in a single request." */
export const BATCH_DELETE_LIMIT = 500;
/** people.getBatchGet: "You can include up to 200 resource names in one request." */
export const BATCH_GET_LIMIT = 200;
/** members.modify: resource names to add and remove together, at most 1000. */
export const MODIFY_MEMBERS_LIMIT = 1000;
/** Sync tokens "expire 7 days after the full sync" (people.connections.list). */
const SYNC_TOKEN_DAYS = 7;

type SyncState = { s: number; g: number; t: number };
type PageState = { o: number; s: number; f: number | null; g: number };

const invalid = (message: string) => peopleError(400, 'INVALID_ARGUMENT', message);
const notFound = () => peopleError(404, 'NOT_FOUND', 'Requested entity was not found.');
const staleEtag = () => peopleError(400, 'FAILED_PRECONDITION', 'Request person.etag is different than the current person.etag. Clear local cache and get the latest person.');
const expiredSyncToken = () =>
  peopleError(400, 'FAILED_PRECONDITION', 'Sync token is expired. Clear local cache and retry call without the sync token.', { reason: 'EXPIRED_SYNC_TOKEN' });
const quotaExceeded = () =>
  peopleError(
    429,
    'RESOURCE_EXHAUSTED',
    "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'people.googleapis.com' for consumer 'project_number:0'.",
    { reason: 'RATE_LIMIT_EXCEEDED', metadata: { service: 'people.googleapis.com', quota_metric: 'people.googleapis.com/write_requests', quota_limit: 'WriteRequestsPerMinutePerUser' } },
  );

/** A field mask (personFields, readMask, updatePersonFields): comma-separated paths from `allowed`. */
function mask(value: string | null | undefined, name: string, allowed: ReadonlySet<string>, required: boolean): Set<string> | null {
  if (value === null || value === undefined || value.trim() === '') {
    if (required) throw invalid(`${name} mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people.connections/list.`);
    return null;
  }
  const paths = value.split(',').map((p) => p.trim().replace(/^person\./, ''));
  for (const p of paths) if (!allowed.has(p)) throw invalid(`Invalid ${name} mask path: "${p}". Valid paths are documented at https://developers.google.com/people/api/rest/v1/people.connections/list.`);
  return new Set(paths);
}

const UPDATABLE = new Set<string>(UPDATABLE_FIELDS);

/** What a read answers: identity always, then the masked fields (all when no mask). */
function view(p: StoredPerson, fields: Set<string> | null): Person {
  if (p.deleted) return { resourceName: p.data.resourceName, etag: p.data.etag, metadata: { deleted: true, objectType: 'PERSON' } };
  const out: Person = { resourceName: p.data.resourceName, etag: p.data.etag };
  for (const [k, v] of Object.entries(p.data)) if (k !== 'resourceName' && k !== 'etag' && (fields === null || fields.has(k))) (out as Record<string, unknown>)[k] = structuredClone(v);
  return out;
}

export class PeopleApi {
  private ctx: ApiContext;
  private store: PeopleStore;
  constructor(ctx: ApiContext, store: PeopleStore) {
    this.ctx = ctx;
    this.store = store;
  }

  private caller(req: Req, write: boolean): PeopleAccount {
    const auth = authorize(this.ctx, req, write ? WRITE : READ);
    const account = this.store.account(auth.email);
    if (write) this.countWrite(account);
    return account;
  }

  /** Mutate requests per minute per user, when a quota is set (429 RESOURCE_EXHAUSTED, as Google's quota answer). */
  private countWrite(a: PeopleAccount): void {
    if (this.store.writesPerMinute <= 0) return;
    const now = Date.now();
    a.writes = a.writes.filter((t) => t > now - 60_000);
    if (a.writes.length >= this.store.writesPerMinute) throw quotaExceeded();
    a.writes.push(now);
  }

  private person(a: PeopleAccount, resourceName: string): StoredPerson {
    const p = a.people.get(resourceName);
    if (!p || p.deleted) throw notFound();
    return p;
  }

  /** The contact's fields from a request body (only those a contact source holds), with Google's field metadata. */
  private fields(a: PeopleAccount, body: Person, sourceId: string, only: Set<string> | null): Person {
    const out: Record<string, unknown> = {};
    for (const k of UPDATABLE_FIELDS) {
      if (only !== null && !only.has(k)) continue;
      const v = (body as Record<string, unknown>)[k];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw invalid(`Invalid value at 'person.${k}', expected a list.`);
      if (k === 'memberships') continue;
      if (k === 'clientData') for (const c of v as people_v1.Schema$ClientData[]) if (!c.key) throw invalid('ClientData key must be set.');
      out[k] = (v as Record<string, unknown>[]).map((item, i) => ({ ...item, metadata: { ...(i === 0 ? { primary: true } : {}), source: { type: 'CONTACT', id: sourceId } } }));
    }
    if (body.memberships && (only === null || only.has('memberships'))) {
      out.memberships = body.memberships.map((m) => {
        const rn = m.contactGroupMembership?.contactGroupResourceName ?? (m.contactGroupMembership?.contactGroupId ? `contactGroups/${m.contactGroupMembership.contactGroupId}` : undefined);
        if (!rn || !a.groups.has(rn.replace(/^contactGroups\//, ''))) throw invalid(`Contact group resource name "${rn ?? ''}" is not valid.`);
        const id = rn.replace(/^contactGroups\//, '');
        return { contactGroupMembership: { contactGroupId: id, contactGroupResourceName: rn }, metadata: { source: { type: 'CONTACT', id: sourceId } } };
      });
    }
    return out as Person;
  }

  /** Group member sets follow the person's memberships. */
  private syncMembers(a: PeopleAccount, p: StoredPerson): void {
    const ids = new Set((p.deleted ? [] : (p.data.memberships ?? [])).map((m) => m.contactGroupMembership?.contactGroupId ?? ''));
    for (const [id, g] of a.groups) {
      const had = g.members.has(p.data.resourceName!);
      if (ids.has(id) && !had) g.members.add(p.data.resourceName!);
      if (!ids.has(id) && had) g.members.delete(p.data.resourceName!);
    }
  }

  private create(a: PeopleAccount, body: Person): StoredPerson {
    const id = newPersonId();
    const sourceId = id.slice(1, 17).padStart(16, '0');
    const data: Person = { resourceName: `people/${id}`, etag: '', ...this.fields(a, body, sourceId, null) };
    if (!data.memberships?.some((m) => m.contactGroupMembership?.contactGroupId === 'myContacts')) {
      // a new contact is always in My Contacts
      data.memberships = [...(data.memberships ?? []), { contactGroupMembership: { contactGroupId: 'myContacts', contactGroupResourceName: 'contactGroups/myContacts' }, metadata: { source: { type: 'CONTACT', id: sourceId } } }];
    }
    const stored: StoredPerson = { ord: this.ctx.store.nextOrd(), seq: 0, data, deleted: false };
    this.touch(a, stored, sourceId);
    a.people.set(data.resourceName!, stored);
    return stored;
  }

  /** A write: new etag, source metadata, change number, group members. */
  private touch(a: PeopleAccount, p: StoredPerson, sourceId = p.data.metadata?.sources?.[0]?.id ?? ''): void {
    const etag = newEtag();
    p.data.etag = etag;
    p.data.metadata = { sources: [{ type: 'CONTACT', id: sourceId, etag: newEtag(), updateTime: new Date().toISOString() }], objectType: 'PERSON' };
    p.seq = this.ctx.store.nextSeq();
    this.syncMembers(a, p);
  }

  private update(a: PeopleAccount, p: StoredPerson, body: Person, fields: Set<string>): void {
    const given = body.etag ?? body.metadata?.sources?.find((s) => s.type === 'CONTACT')?.etag;
    if (!given) throw invalid('Request must set person.etag or person.metadata.sources.etag for the source that is being updated.');
    const current = p.data.metadata?.sources?.[0]?.etag;
    if (given !== p.data.etag && given !== current) throw staleEtag();
    const sourceId = p.data.metadata?.sources?.[0]?.id ?? '';
    const next = this.fields(a, body, sourceId, fields);
    for (const f of fields) {
      // every named field is replaced, or cleared when the body leaves it out
      if ((next as Record<string, unknown>)[f] === undefined) delete (p.data as Record<string, unknown>)[f];
      else (p.data as Record<string, unknown>)[f] = (next as Record<string, unknown>)[f];
    }
  }

  private remove(a: PeopleAccount, p: StoredPerson): void {
    p.deleted = true;
    p.data.etag = newEtag();
    p.seq = this.ctx.store.nextSeq();
    this.syncMembers(a, p);
  }

  private group(a: PeopleAccount, id: string): StoredGroup {
    const g = a.groups.get(id);
    if (!g) throw notFound();
    return g;
  }

  private groupView(g: StoredGroup, maxMembers = 0): ContactGroup {
    const out: ContactGroup = { ...structuredClone(g.data) };
    if (g.members.size > 0) out.memberCount = g.members.size;
    if (maxMembers > 0 && g.members.size > 0) out.memberResourceNames = [...g.members].slice(0, maxMembers);
    return out;
  }

  routes(): Route[] {
    return [
      // https://developers.google.com/people/api/rest/v1/contactGroups/list
      route('GET', '/v1/contactGroups', (req) => {
        const a = this.caller(req, false);
        const size = intParam(req.query, 'pageSize') ?? 30;
        if (size < 0 || size > 1000) throw invalid('pageSize must be between 1 and 1000.');
        const since = this.syncState(a, req.query.get('syncToken'));
        const all = [...a.groups.values()].filter((g) => since === null || g.seq > since);
        const offset = this.offset(a, req.query.get('pageToken'));
        const page = all.slice(offset, offset + (size || 30));
        const more = offset + page.length < all.length;
        const body: people_v1.Schema$ListContactGroupsResponse = { contactGroups: page.map((g) => this.groupView(g)), totalItems: all.length };
        if (more) body.nextPageToken = encode('CG', { o: offset + page.length, s: this.ctx.store.currentSeq(), f: since, g: a.syncGeneration } satisfies PageState);
        else body.nextSyncToken = encode('CS', { s: this.ctx.store.currentSeq(), g: a.syncGeneration, t: Date.now() } satisfies SyncState);
        return { status: 200, body };
      }),
      // https://developers.google.com/people/api/rest/v1/contactGroups/create
      route('POST', '/v1/contactGroups', (req) => {
        const a = this.caller(req, true);
        const input = (jsonBody(req).contactGroup ?? {}) as ContactGroup;
        const name = typeof input.name === 'string' ? input.name.trim() : '';
        if (name === '') throw invalid('Contact group name must be set.');
        if ([...a.groups.values()].some((g) => g.data.groupType === 'USER_CONTACT_GROUP' && g.data.name === name)) throw peopleError(409, 'ALREADY_EXISTS', 'Contact group name already exists.');
        const id = newGroupId();
        const g = {
          data: { resourceName: `contactGroups/${id}`, etag: newEtag(), metadata: { updateTime: new Date().toISOString() }, groupType: 'USER_CONTACT_GROUP', name, formattedName: name, ...(input.clientData ? { clientData: input.clientData } : {}) } satisfies ContactGroup,
          members: new Set<string>(),
          seq: this.ctx.store.nextSeq(),
        };
        a.groups.set(id, g);
        return { status: 200, body: this.groupView(g) };
      }),
      // https://developers.google.com/people/api/rest/v1/contactGroups/get
      route('GET', '/v1/contactGroups/{groupId}', (req) => {
        const a = this.caller(req, false);
        return { status: 200, body: this.groupView(this.group(a, req.params.groupId!), intParam(req.query, 'maxMembers') ?? 0) };
      }),
      // https://developers.google.com/people/api/rest/v1/contactGroups/update
      route('PUT', '/v1/contactGroups/{groupId}', (req) => {
        const a = this.caller(req, true);
        const g = this.group(a, req.params.groupId!);
        const input = (jsonBody(req).contactGroup ?? {}) as ContactGroup;
        if (g.data.groupType !== 'USER_CONTACT_GROUP') throw invalid('System contact groups cannot be updated.');
        if (input.etag !== g.data.etag) throw peopleError(400, 'FAILED_PRECONDITION', 'Request contactGroup.etag is different than the current contactGroup.etag.');
        if (typeof input.name === 'string' && input.name.trim() !== '') g.data.name = g.data.formattedName = input.name.trim();
        g.data.etag = newEtag();
        g.data.metadata = { updateTime: new Date().toISOString() };
        g.seq = this.ctx.store.nextSeq();
        return { status: 200, body: this.groupView(g) };
      }),
      // https://developers.google.com/people/api/rest/v1/contactGroups/delete
      route('DELETE', '/v1/contactGroups/{groupId}', (req) => {
        const a = this.caller(req, true);
        const g = this.group(a, req.params.groupId!);
        if (g.data.groupType !== 'USER_CONTACT_GROUP') throw invalid('System contact groups cannot be deleted.');
        a.groups.delete(req.params.groupId!);
        for (const rn of g.members) {
          const p = a.people.get(rn)!;
          if (req.query.get('deleteContacts') === 'true') this.remove(a, p);
          else {
            p.data.memberships = (p.data.memberships ?? []).filter((m) => m.contactGroupMembership?.contactGroupId !== req.params.groupId);
            this.touch(a, p);
          }
        }
        return { status: 200, body: {} };
      }),
      // https://developers.google.com/people/api/rest/v1/contactGroups.members/modify
      route('POST', '/v1/contactGroups/{groupId}/members:modify', (req) => {
        const a = this.caller(req, true);
        const id = req.params.groupId!;
        const g = this.group(a, id);
        const body = jsonBody(req) as people_v1.Schema$ModifyContactGroupMembersRequest;
        const add = body.resourceNamesToAdd ?? [];
        const remove = body.resourceNamesToRemove ?? [];
        if (add.length + remove.length > MODIFY_MEMBERS_LIMIT) throw invalid(`Too many resource names; at most ${MODIFY_MEMBERS_LIMIT} may be added and removed in one request.`);
        if (add.length > 0 && g.data.groupType !== 'USER_CONTACT_GROUP' && id !== 'myContacts' && id !== 'starred') throw invalid('Cannot add members to this system contact group.');
        const notFoundNames: string[] = [];
        for (const rn of [...add, ...remove]) {
          const p = a.people.get(rn);
          if (!p || p.deleted) {
            notFoundNames.push(rn);
            continue;
          }
          const others = (p.data.memberships ?? []).filter((m) => m.contactGroupMembership?.contactGroupId !== id);
          p.data.memberships = add.includes(rn) ? [...others, { contactGroupMembership: { contactGroupId: id, contactGroupResourceName: `contactGroups/${id}` }, metadata: { source: { type: 'CONTACT', id: p.data.metadata?.sources?.[0]?.id ?? '' } } }] : others;
          this.touch(a, p);
        }
        const out: people_v1.Schema$ModifyContactGroupMembersResponse = {};
        if (notFoundNames.length) out.notFoundResourceNames = notFoundNames;
        return { status: 200, body: out };
      }),
      // https://developers.google.com/people/api/rest/v1/people/createContact
      route('POST', '/v1/people:createContact', (req) => {
        const a = this.caller(req, true);
        const fields = mask(req.query.get('personFields'), 'personFields', READABLE_FIELDS, false);
        return { status: 200, body: view(this.create(a, jsonBody(req) as Person), fields) };
      }),
      // https://developers.google.com/people/api/rest/v1/people/batchCreateContacts
      route('POST', '/v1/people:batchCreateContacts', (req) => {
        const a = this.caller(req, true);
        const body = jsonBody(req) as people_v1.Schema$BatchCreateContactsRequest;
        const fields = mask(body.readMask, 'readMask', READABLE_FIELDS, true);
        const contacts = body.contacts ?? [];
        if (contacts.length === 0) throw invalid('contacts must not be empty.');
        if (contacts.length > BATCH_MUTATE_LIMIT) throw invalid(`Too many contacts in the request; at most ${BATCH_MUTATE_LIMIT} are allowed.`);
        // the whole batch is checked first: one bad contact fails it (BatchCreateContactsErrorDetails) and nothing is made
        for (const c of contacts) this.fields(a, c.contactPerson ?? {}, '0', null);
        const createdPeople = contacts.map((c) => ({ httpStatusCode: 200, person: view(this.create(a, c.contactPerson ?? {}), fields) }));
        return { status: 200, body: { createdPeople } satisfies people_v1.Schema$BatchCreateContactsResponse };
      }),
      // https://developers.google.com/people/api/rest/v1/people/batchUpdateContacts
      route('POST', '/v1/people:batchUpdateContacts', (req) => {
        const a = this.caller(req, true);
        const body = jsonBody(req) as people_v1.Schema$BatchUpdateContactsRequest;
        const fields = mask(body.updateMask, 'updateMask', UPDATABLE, true)!;
        const read = mask(body.readMask, 'readMask', READABLE_FIELDS, true);
        const entries = Object.entries(body.contacts ?? {});
        if (entries.length === 0) throw invalid('contacts must not be empty.');
        if (entries.length > BATCH_MUTATE_LIMIT) throw invalid(`Too many contacts in the request; at most ${BATCH_MUTATE_LIMIT} are allowed.`);
        // all or nothing: every contact must exist with the etag given before any is written
        const targets = entries.map(([rn, person]) => {
          const p = this.person(a, rn);
          const given = person.etag ?? person.metadata?.sources?.find((s) => s.type === 'CONTACT')?.etag;
          if (!given) throw invalid('Request must set person.etag or person.metadata.sources.etag for the source that is being updated.');
          if (given !== p.data.etag && given !== p.data.metadata?.sources?.[0]?.etag) throw staleEtag();
          this.fields(a, person, '0', fields);
          return { rn, p, person };
        });
        const updateResult: Record<string, people_v1.Schema$PersonResponse> = {};
        for (const { rn, p, person } of targets) {
          this.update(a, p, person, fields);
          this.touch(a, p);
          updateResult[rn] = { httpStatusCode: 200, requestedResourceName: rn, person: view(p, read) };
        }
        return { status: 200, body: { updateResult } satisfies people_v1.Schema$BatchUpdateContactsResponse };
      }),
      // https://developers.google.com/people/api/rest/v1/people/batchDeleteContacts
      route('POST', '/v1/people:batchDeleteContacts', (req) => {
        const a = this.caller(req, true);
        const names = (jsonBody(req) as people_v1.Schema$BatchDeleteContactsRequest).resourceNames ?? [];
        if (names.length === 0) throw invalid('resourceNames must not be empty.');
        if (names.length > BATCH_DELETE_LIMIT) throw invalid(`Too many resource names in the request; at most ${BATCH_DELETE_LIMIT} are allowed.`);
        const targets = names.map((rn) => this.person(a, rn));
        for (const p of targets) this.remove(a, p);
        return { status: 200, body: {} };
      }),
      // https://developers.google.com/people/api/rest/v1/people/getBatchGet
      route('GET', '/v1/people:batchGet', (req) => {
        const a = this.caller(req, false);
        const fields = mask(req.query.get('personFields'), 'personFields', READABLE_FIELDS, true);
        const names = req.query.getAll('resourceNames');
        if (names.length === 0) throw invalid('resourceNames must not be empty.');
        if (names.length > BATCH_GET_LIMIT) throw invalid(`Too many resource names in the request; at most ${BATCH_GET_LIMIT} are allowed.`);
        const responses = names.map((rn): people_v1.Schema$PersonResponse => {
          const p = a.people.get(rn);
          if (!p || p.deleted) return { httpStatusCode: 404, requestedResourceName: rn, status: { code: 5, message: 'Requested entity was not found.' } };
          return { httpStatusCode: 200, requestedResourceName: rn, person: view(p, fields), status: {} };
        });
        return { status: 200, body: { responses } satisfies people_v1.Schema$GetPeopleResponse };
      }),
      // https://developers.google.com/people/api/rest/v1/people/get
      route('GET', '/v1/people/{personId}', (req) => {
        const a = this.caller(req, false);
        const fields = mask(req.query.get('personFields'), 'personFields', READABLE_FIELDS, true);
        return { status: 200, body: view(this.person(a, `people/${req.params.personId!}`), fields) };
      }),
      // https://developers.google.com/people/api/rest/v1/people/updateContact
      route('PATCH', '/v1/people/{personId}:updateContact', (req) => {
        const a = this.caller(req, true);
        const fields = mask(req.query.get('updatePersonFields'), 'updatePersonFields', UPDATABLE, true)!;
        const read = mask(req.query.get('personFields'), 'personFields', READABLE_FIELDS, false);
        const p = this.person(a, `people/${req.params.personId!}`);
        this.update(a, p, jsonBody(req) as Person, fields);
        this.touch(a, p);
        return { status: 200, body: view(p, read) };
      }),
      // https://developers.google.com/people/api/rest/v1/people/deleteContact
      route('DELETE', '/v1/people/{personId}:deleteContact', (req) => {
        const a = this.caller(req, true);
        this.remove(a, this.person(a, `people/${req.params.personId!}`));
        return { status: 200, body: {} };
      }),
      // https://developers.google.com/people/api/rest/v1/people.connections/list
      route('GET', '/v1/people/{personId}/connections', (req) => this.connections(req)),
    ];
  }

  private syncState(a: PeopleAccount, token: string | null): number | null {
    if (token === null || token === '') return null;
    const s = decode<SyncState>(token.startsWith('CS') ? 'CS' : 'PS', token);
    if (!s) throw invalid('Invalid sync token.');
    if (s.g !== a.syncGeneration || Date.now() - s.t > SYNC_TOKEN_DAYS * 86_400_000) throw expiredSyncToken();
    return s.s;
  }

  private offset(a: PeopleAccount, token: string | null): number {
    if (token === null || token === '') return 0;
    const p = decode<PageState>(token.startsWith('CG') ? 'CG' : 'PP', token);
    if (!p) throw invalid('Invalid page token.');
    if (p.g !== a.syncGeneration) throw expiredSyncToken();
    return p.o;
  }

  private connections(req: Req): Reply {
    if (req.params.personId !== 'me') throw invalid('resourceName must be "people/me".');
    const a = this.caller(req, false);
    const fields = mask(req.query.get('personFields'), 'personFields', READABLE_FIELDS, true);
    const size = intParam(req.query, 'pageSize') ?? 100;
    if (size < 0 || size > 1000) throw invalid('pageSize must be between 1 and 1000.');
    const since = this.syncState(a, req.query.get('syncToken'));
    const pageToken = req.query.get('pageToken');
    const state = pageToken ? decode<PageState>('PP', pageToken) : undefined;
    if (pageToken && !state) throw invalid('Invalid page token.');
    const from = state ? state.f : since;
    const snapshot = state?.s ?? this.ctx.store.currentSeq();
    // incremental: everything changed since the token, deletions as metadata.deleted; full: the live contacts
    const all = [...a.people.values()]
      .filter((p) => (from === null ? !p.deleted : p.seq > from))
      .sort((x, y) => x.ord - y.ord);
    const offset = state?.o ?? 0;
    const page = all.slice(offset, offset + (size || 100));
    const body: people_v1.Schema$ListConnectionsResponse = { totalPeople: all.length, totalItems: all.length };
    if (page.length) body.connections = page.map((p) => view(p, fields));
    if (offset + page.length < all.length) body.nextPageToken = encode('PP', { o: offset + page.length, s: snapshot, f: from, g: a.syncGeneration } satisfies PageState);
    else if (from !== null || req.query.get('requestSyncToken') === 'true') body.nextSyncToken = encode('PS', { s: snapshot, g: a.syncGeneration, t: Date.now() } satisfies SyncState);
    return { status: 200, body };
  }
}

export function peopleRoutes(ctx: ApiContext, store: PeopleStore): Route[] {
  return new PeopleApi(ctx, store).routes();
}
