import t from 'tap'
import { validateSoap } from './schema-check.ts'
import { codeOf, envelope, fault, findAll, messages, post, startChecked, syncItems } from './test-helpers.ts'
import { child, NS } from '../../src/sync/microsoft/ews-xml.ts'

const SUBJECT = (s: string) => `<t:Subject>${s}</t:Subject><t:Start>2026-05-01T10:00:00Z</t:Start><t:End>2026-05-01T11:00:00Z</t:End>`

async function sync (em: Awaited<ReturnType<typeof startChecked>>, state: string | null, max = 512) {
  const a = await post(em, syncItems(state, max))
  const m = messages(a)[0]
  const changes = child(m, NS.m, 'Changes')?.children ?? []
  return {
    code: codeOf(m),
    state: child(m, NS.m, 'SyncState')?.text ?? null,
    last: child(m, NS.m, 'IncludesLastItemInRange')?.text,
    changes: changes.map(c => ({ kind: c.name, id: findAll(c, 'ItemId')[0]?.attrs.Id }))
  }
}

t.test('first sync lists every item as Create; later ones only the net changes', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const a = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('A'))
  const b = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('B'))
  em.userCreate('alice@example.com', 'tasks', 'Task', '<t:Subject>not in the calendar</t:Subject>')
  const first = await sync(em, null)
  t.equal(first.code, 'NoError')
  t.equal(first.last, 'true')
  t.same(first.changes, [{ kind: 'Create', id: a }, { kind: 'Create', id: b }])
  t.same((await sync(em, first.state)).changes, [], 'nothing changed')

  em.userUpdate(a, '<t:Subject>A2</t:Subject>')
  em.userDelete(b)
  const c = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('C'))
  const gone = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('short-lived'))
  em.userDelete(gone)
  const second = await sync(em, first.state)
  t.same(second.changes, [{ kind: 'Update', id: a }, { kind: 'Delete', id: b }, { kind: 'Create', id: c }], 'created and deleted in between: not reported')
})

t.test('MaxChangesReturned pages with IncludesLastItemInRange', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const ids = ['1', '2', '3', '4', '5'].map(n => em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT(n)))
  const p1 = await sync(em, null, 2)
  t.equal(p1.last, 'false')
  t.same(p1.changes.map(c => c.id), ids.slice(0, 2))
  em.userUpdate(ids[0] as string, '<t:Subject>changed while paging</t:Subject>')
  const p2 = await sync(em, p1.state, 2)
  t.equal(p2.last, 'false')
  t.same(p2.changes.map(c => c.id), ids.slice(2, 4))
  const p3 = await sync(em, p2.state, 2)
  t.equal(p3.last, 'true')
  t.same(p3.changes, [{ kind: 'Create', id: ids[4] }, { kind: 'Update', id: ids[0] }])
})

t.test('a forged, foreign or expired SyncState answers ErrorInvalidSyncStateData', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('A'))
  const first = await sync(em, null)
  const forged = await sync(em, Buffer.from('{"f":"x","g":0,"s":0}').toString('base64'))
  t.equal(forged.code, 'ErrorInvalidSyncStateData')
  const tasksState = (await post(em, syncItems(null, 10, '<t:DistinguishedFolderId Id="tasks"/>'))).text.match(/<m:SyncState>([^<]+)</)?.[1] ?? ''
  t.equal((await sync(em, tasksState)).code, 'ErrorInvalidSyncStateData', "another folder's state")
  t.equal((await sync(em, first.state)).code, 'NoError')
  em.expireSyncStates('alice@example.com', 'calendar')
  const expired = await sync(em, first.state)
  t.equal(expired.code, 'ErrorInvalidSyncStateData')
  t.equal(expired.state, null)
  t.equal((await sync(em, null)).changes.length, 1, 'a sync without state starts over')
})

t.test('MaxChangesReturned above 512 is a schema violation: SOAP fault, HTTP 500', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const a = await post(em, syncItems(null, 513))
  t.equal(a.status, 500)
  t.equal(fault(a).code, 'ErrorSchemaValidation')
  t.equal((await validateSoap([syncItems(null, 513)])).length, 1, 'xmllint agrees the request breaks the schema')
})

t.test('tasks sync too; MoveToDeletedItems is a Delete in the calendar and a Create in Deleted Items', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const task = em.userCreate('alice@example.com', 'tasks', 'Task', '<t:Subject>Call back</t:Subject><t:DueDate>2026-05-01T00:00:00Z</t:DueDate>')
  const tasks = await post(em, syncItems(null, 10, '<t:DistinguishedFolderId Id="tasks"/>').replace('IdOnly', 'Default'))
  t.same(findAll(tasks.xml, 'ItemId').map(i => i.attrs.Id), [task])
  t.equal(findAll(tasks.xml, 'Subject')[0]?.text, 'Call back')
  const a = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', SUBJECT('A'))
  const first = await sync(em, null)
  const bin = await post(em, syncItems(null, 10, '<t:DistinguishedFolderId Id="deleteditems"/>'))
  const binState = child(messages(bin)[0], NS.m, 'SyncState')?.text ?? ''
  const del = await post(em, envelope(`<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds><t:ItemId Id="${a}"/></m:ItemIds></m:DeleteItem>`))
  t.equal(codeOf(messages(del)[0]), 'NoError')
  t.same((await sync(em, first.state)).changes, [{ kind: 'Delete', id: a }])
  const moved = await post(em, syncItems(binState, 10, '<t:DistinguishedFolderId Id="deleteditems"/>'))
  t.equal(findAll(child(messages(moved)[0], NS.m, 'Changes'), 'Create').length, 1)
})
