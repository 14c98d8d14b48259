// People API v1 through the real googleapis client: contact groups, batch
// create/update/delete with their limits, etag-checked updates, connections
// with paging and sync tokens, quota answers. Every answer is schema-checked.
import t from 'tap';
import { google } from 'googleapis';
import type { people_v1 } from 'googleapis';
import { failure, setup } from './test-helpers.ts';

const CONTACTS = 'https://www.googleapis.com/auth/contacts';

async function peopleSetup() {
  const s = await setup('alice@example.com', { scopes: [CONTACTS] });
  const people = google.people({ version: 'v1', auth: s.auth, rootUrl: `${s.g.url}/`, retry: false });
  return { ...s, people };
}

const contact = (i: number): people_v1.Schema$Person => ({
  names: [{ givenName: `Given${i}`, familyName: `Family${i}` }],
  emailAddresses: [{ value: `p${i}@example.com` }],
  clientData: [{ key: 'kalends.contact', value: String(i) }],
});

t.test('contact groups: create, list with the system groups, get with members, duplicate name', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  const group = (await people.contactGroups.create({ requestBody: { contactGroup: { name: 'Kalends' } } })).data;
  t.match(group.resourceName, /^contactGroups\/[0-9a-f]+$/);
  t.equal(group.groupType, 'USER_CONTACT_GROUP');
  t.equal(group.name, 'Kalends');
  t.notOk(group.memberCount, 'an empty group has no memberCount (proto3 default left out)');
  const list = (await people.contactGroups.list()).data;
  t.same(list.contactGroups!.map((x) => x.resourceName).sort(), ['contactGroups/myContacts', 'contactGroups/starred', group.resourceName].sort());
  t.ok(list.nextSyncToken);
  t.equal((await failure(people.contactGroups.create({ requestBody: { contactGroup: { name: 'Kalends' } } }))).status, 409);
  const e = await failure(people.contactGroups.create({ requestBody: { contactGroup: { name: ' ' } } }));
  t.equal(e.body.error.status, 'INVALID_ARGUMENT');
  const made = (await people.people.createContact({ personFields: 'names,memberships', requestBody: { ...contact(1), memberships: [{ contactGroupMembership: { contactGroupResourceName: group.resourceName } }] } })).data;
  const ids = made.memberships!.map((m) => m.contactGroupMembership!.contactGroupId).sort();
  t.same(ids, [group.resourceName!.split('/')[1], 'myContacts'].sort(), 'in its group and in My Contacts');
  const got = (await people.contactGroups.get({ resourceName: group.resourceName!, maxMembers: 10 })).data;
  t.equal(got.memberCount, 1);
  t.same(got.memberResourceNames, [made.resourceName]);
  const removed = (await people.contactGroups.members.modify({ resourceName: group.resourceName!, requestBody: { resourceNamesToRemove: [made.resourceName!], resourceNamesToAdd: ['people/c1'] } })).data;
  t.same(removed.notFoundResourceNames, ['people/c1']);
  t.notOk((await people.contactGroups.get({ resourceName: group.resourceName!, maxMembers: 10 })).data.memberCount);
  t.equal((await failure(people.contactGroups.get({ resourceName: 'contactGroups/nope' }))).status, 404);
});

t.test('batchCreateContacts: 200 at most, readMask required, all or nothing, clientData kept', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  const many = Array.from({ length: 201 }, (_, i) => ({ contactPerson: contact(i) }));
  const tooMany = await failure(people.people.batchCreateContacts({ requestBody: { contacts: many, readMask: 'names' } }));
  t.equal(tooMany.status, 400);
  t.equal(tooMany.body.error.status, 'INVALID_ARGUMENT');
  t.equal((await failure(people.people.batchCreateContacts({ requestBody: { contacts: many.slice(0, 2) } }))).status, 400, 'readMask is required');
  const bad = await failure(people.people.batchCreateContacts({ requestBody: { contacts: [many[0]!, { contactPerson: { clientData: [{ value: 'no key' }] } }], readMask: 'names' } }));
  t.equal(bad.status, 400);
  t.equal(g.dumpPeople('alice@example.com').people.length, 0, 'a bad contact fails the whole batch');
  const created = (await people.people.batchCreateContacts({ requestBody: { contacts: many.slice(0, 200), readMask: 'clientData,names' } })).data;
  t.equal(created.createdPeople!.length, 200);
  const first = created.createdPeople![0]!;
  t.equal(first.httpStatusCode, 200);
  t.match(first.person!.resourceName, /^people\/c\d+$/);
  t.match(first.person!.etag, /^%/);
  t.equal(first.person!.clientData![0]!.value, '0');
  t.notOk(first.person!.emailAddresses, 'only the read mask comes back');
  t.equal(g.dumpPeople('alice@example.com').people.length, 200);
});

t.test('updateContact and batchUpdateContacts: etag required and checked (400 FAILED_PRECONDITION), fields replaced or cleared', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  const p = (await people.people.createContact({ requestBody: { ...contact(1), phoneNumbers: [{ value: '+48 600 000 000' }] } })).data;
  const updated = (await people.people.updateContact({ resourceName: p.resourceName!, updatePersonFields: 'names,phoneNumbers', personFields: 'names,phoneNumbers,emailAddresses', requestBody: { etag: p.etag, names: [{ givenName: 'New' }] } })).data;
  t.equal(updated.names![0]!.givenName, 'New');
  t.notOk(updated.phoneNumbers, 'a named field left out of the body is cleared');
  t.equal(updated.emailAddresses![0]!.value, 'p1@example.com', 'fields not named stay');
  t.not(updated.etag, p.etag);
  const stale = await failure(people.people.updateContact({ resourceName: p.resourceName!, updatePersonFields: 'names', requestBody: { etag: p.etag, names: [{ givenName: 'Old' }] } }));
  t.equal(stale.status, 400);
  t.equal(stale.body.error.status, 'FAILED_PRECONDITION');
  t.match(stale.body.error.message, /person\.etag is different/);
  t.equal(stale.body.error.errors[0].reason, 'failedPrecondition');
  t.equal((await failure(people.people.updateContact({ resourceName: p.resourceName!, updatePersonFields: 'names', requestBody: { names: [] } }))).status, 400, 'no etag');
  t.equal((await failure(people.people.updateContact({ resourceName: p.resourceName!, updatePersonFields: 'photos', requestBody: { etag: updated.etag } }))).status, 400, 'photos are not updatable here');

  const q = (await people.people.createContact({ requestBody: contact(2) })).data;
  const edited = g.editPerson('alice@example.com', q.resourceName!, { names: [{ givenName: 'Edited in Google' }] });
  const batch = await failure(people.people.batchUpdateContacts({ requestBody: { contacts: { [updated.resourceName!]: { etag: updated.etag, names: [{ givenName: 'A' }] }, [q.resourceName!]: { etag: q.etag, names: [{ givenName: 'B' }] } }, updateMask: 'names', readMask: 'names' } }));
  t.equal(batch.body.error.status, 'FAILED_PRECONDITION', 'one stale etag fails the batch');
  t.equal(g.dumpPeople('alice@example.com').people.find((x) => x.resourceName === updated.resourceName)!.names![0]!.givenName, 'New', 'and nothing of it is written');
  const fresh = (await people.people.getBatchGet({ resourceNames: [q.resourceName!, 'people/c404'], personFields: 'metadata' })).data.responses!;
  t.equal(fresh[0]!.person!.etag, edited.etag);
  t.equal(fresh[1]!.httpStatusCode, 404);
  const ok = (await people.people.batchUpdateContacts({ requestBody: { contacts: { [updated.resourceName!]: { etag: updated.etag, names: [{ givenName: 'A' }] }, [q.resourceName!]: { etag: edited.etag, names: [{ givenName: 'B' }] } }, updateMask: 'names', readMask: 'names,clientData' } })).data;
  t.equal(ok.updateResult![q.resourceName!]!.person!.names![0]!.givenName, 'B');
  t.equal(ok.updateResult![q.resourceName!]!.person!.clientData![0]!.value, '2');
});

t.test('batchDeleteContacts: 500 at most, all or nothing; deleteContact; gone is 404', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  const made = (await people.people.batchCreateContacts({ requestBody: { contacts: [1, 2, 3].map((i) => ({ contactPerson: contact(i) })), readMask: 'names' } })).data.createdPeople!.map((c) => c.person!.resourceName!);
  t.equal((await failure(people.people.batchDeleteContacts({ requestBody: { resourceNames: Array.from({ length: 501 }, (_, i) => `people/c${i}`) } }))).status, 400);
  t.equal((await failure(people.people.batchDeleteContacts({ requestBody: { resourceNames: [made[0]!, 'people/c404'] } }))).status, 404);
  t.equal(g.dumpPeople('alice@example.com').people.length, 3);
  await people.people.batchDeleteContacts({ requestBody: { resourceNames: [made[0]!, made[1]!] } });
  await people.people.deleteContact({ resourceName: made[2]! });
  t.equal(g.dumpPeople('alice@example.com').people.length, 0);
  t.equal((await failure(people.people.deleteContact({ resourceName: made[2]! }))).status, 404);
  t.equal((await failure(people.people.get({ resourceName: made[2]!, personFields: 'names' }))).status, 404);
});

t.test('connections.list: personFields required, pages, sync tokens with deletions, expired token', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  await people.people.batchCreateContacts({ requestBody: { contacts: Array.from({ length: 150 }, (_, i) => ({ contactPerson: contact(i) })), readMask: 'names' } });
  const missing = await failure(people.people.connections.list({ resourceName: 'people/me' }));
  t.equal(missing.status, 400);
  t.match(missing.body.error.message, /personFields mask is required/);
  const seen: people_v1.Schema$Person[] = [];
  let pageToken: string | undefined;
  let syncToken: string | undefined;
  let pages = 0;
  do {
    const page = (await people.people.connections.list({ resourceName: 'people/me', personFields: 'clientData', pageSize: 100, requestSyncToken: true, pageToken })).data;
    pages++;
    seen.push(...(page.connections ?? []));
    t.equal(page.totalPeople, 150);
    pageToken = page.nextPageToken ?? undefined;
    syncToken = page.nextSyncToken ?? undefined;
    if (pageToken) t.notOk(page.nextSyncToken, 'the sync token comes on the last page only');
  } while (pageToken);
  t.equal(pages, 2);
  t.equal(new Set(seen.map((p) => p.clientData![0]!.value)).size, 150);
  t.ok(syncToken);
  const none = (await people.people.connections.list({ resourceName: 'people/me', personFields: 'names', syncToken })).data;
  t.notOk(none.connections, 'nothing changed');
  await people.people.deleteContact({ resourceName: seen[0]!.resourceName! });
  g.editPerson('alice@example.com', seen[1]!.resourceName!, { names: [{ givenName: 'X' }] });
  const changes = (await people.people.connections.list({ resourceName: 'people/me', personFields: 'names', syncToken: none.nextSyncToken! })).data;
  t.equal(changes.connections!.length, 2);
  t.same(changes.connections![0]!.metadata, { deleted: true, objectType: 'PERSON' }, 'a deletion comes as metadata.deleted');
  t.equal(changes.connections![1]!.names![0]!.givenName, 'X');
  g.expirePeopleSyncTokens();
  const expired = await failure(people.people.connections.list({ resourceName: 'people/me', personFields: 'names', syncToken: changes.nextSyncToken! }));
  t.equal(expired.status, 400);
  t.equal(expired.body.error.status, 'FAILED_PRECONDITION');
  t.equal(expired.body.error.details[0].reason, 'EXPIRED_SYNC_TOKEN');
});

t.test('quota: writes over the per-minute limit answer 429 RESOURCE_EXHAUSTED; reads still work; faults answer in the People shape', async (t) => {
  const { g, people } = await peopleSetup();
  t.teardown(() => g.close());
  g.peopleQuota({ writesPerMinute: 2 });
  await people.people.createContact({ requestBody: contact(1) });
  await people.people.createContact({ requestBody: contact(2) });
  const over = await failure(people.people.createContact({ requestBody: contact(3) }));
  t.equal(over.status, 429);
  t.equal(over.body.error.status, 'RESOURCE_EXHAUSTED');
  t.equal(over.body.error.details[0].reason, 'RATE_LIMIT_EXCEEDED');
  t.ok((await people.people.connections.list({ resourceName: 'people/me', personFields: 'names' })).data.connections);
  g.peopleQuota({ writesPerMinute: 0 });
  g.fault({ kind: '429', match: { pathIncludes: ':batchCreateContacts' } });
  const faulted = await failure(people.people.batchCreateContacts({ requestBody: { contacts: [{ contactPerson: contact(4) }], readMask: 'names' } }));
  t.equal(faulted.status, 429);
  t.equal(faulted.body.error.status, 'RESOURCE_EXHAUSTED');
  t.equal(g.calls().byRoute['POST /v1/people:batchCreateContacts'], 1, 'calls are counted by route');
  t.equal(g.dumpPeople('alice@example.com').people.length, 2);
});

t.test('scopes: calendar-only tokens are refused, contacts.readonly reads only', async (t) => {
  const { g } = await peopleSetup();
  t.teardown(() => g.close());
  const ro = google.people({ version: 'v1', rootUrl: `${g.url}/`, retry: false, headers: { authorization: `Bearer ${g.issueAccessToken('alice@example.com', [CONTACTS + '.readonly'])}` } });
  t.ok((await ro.contactGroups.list()).data.contactGroups);
  t.equal((await failure(ro.people.createContact({ requestBody: contact(1) }))).status, 403);
  const cal = google.people({ version: 'v1', rootUrl: `${g.url}/`, retry: false, headers: { authorization: `Bearer ${g.issueAccessToken('alice@example.com', ['https://www.googleapis.com/auth/calendar'])}` } });
  t.equal((await failure(cal.contactGroups.list())).status, 403);
});
