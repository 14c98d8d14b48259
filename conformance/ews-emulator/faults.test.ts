import t from 'tap'
import { codeOf, envelope, fault, find, messages, post, startChecked } from './test-helpers.ts'

const GET_CALENDAR = envelope('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>')

t.test('ErrorServerBusy is a SOAP fault at HTTP 500 carrying BackOffMilliseconds; then the call works', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  em.fault({ kind: 'serverBusy', operation: 'GetFolder', backOffMs: 1234 })
  const busy = await post(em, GET_CALENDAR)
  t.equal(busy.status, 500)
  const f = fault(busy)
  t.equal(f.code, 'ErrorServerBusy')
  const value = find(f.detail, 'Value')
  t.equal(value?.attrs.Name, 'BackOffMilliseconds')
  t.equal(value?.text, '1234')
  t.equal((await post(em, GET_CALENDAR)).status, 200)
  t.same(em.injectedFaults(), [{ operation: 'GetFolder', kind: 'serverBusy' }])
})

t.test('HTTP 503 (IIS queueing), 401, and faults only for the named operation; control over HTTP', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const ctl = async (method: string, args: unknown[]) => await (await fetch(`${em.url}/__emulator/${method}`, { method: 'POST', body: JSON.stringify(args) })).json() as unknown
  await ctl('fault', [{ kind: 'http503', operation: 'SyncFolderItems', times: 2 }])
  await ctl('fault', [{ kind: 'unauthorized' }])
  const unauthorized = await post(em, GET_CALENDAR)
  t.equal(unauthorized.status, 401)
  t.equal(unauthorized.text, '')
  t.equal((await post(em, GET_CALENDAR)).status, 200, 'the 503s wait for SyncFolderItems')
  const sync = envelope('<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>')
  t.equal((await post(em, sync)).status, 503)
  t.equal((await post(em, sync)).status, 503)
  t.equal((await post(em, sync)).status, 200)
  t.equal(await ctl('addMailbox', ['carol@example.com']), 'carol@example.com')
})

t.test('a body that is not a SOAP EWS request is a schema-validation fault, not a crash', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  for (const body of ['<not xml', '<a/>', envelope('<x xmlns="urn:other"/>')]) {
    const a = await post(em, body)
    t.equal(a.status, 500)
    t.equal(fault(a).code, 'ErrorSchemaValidation')
  }
  const unknown = await post(em, envelope('<m:GetUserOofSettingsRequest><t:Mailbox><t:Address>alice@example.com</t:Address></t:Mailbox></m:GetUserOofSettingsRequest>'))
  t.equal(fault(unknown).code, 'ErrorInvalidRequest', 'a valid operation the emulator does not offer')
})

t.test('concurrentEdit: the named item is saved "in Outlook" first, so an UpdateItem with the ChangeKey read before is an irresolvable conflict', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const id = em.userCreate('alice@example.com', 'calendar', 'CalendarItem', '<t:Subject>Review</t:Subject><t:Start>2026-12-01T09:00:00Z</t:Start><t:End>2026-12-01T10:00:00Z</t:End>')
  const readKey = em.item(id).changeKey
  em.fault({ kind: 'concurrentEdit', operation: 'UpdateItem' })
  const update = envelope(`<m:UpdateItem ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${readKey}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Review (CRM)</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  const refused = await post(em, update)
  t.equal(codeOf(messages(refused)[0]), 'ErrorIrresolvableConflict')
  t.not(em.item(id).changeKey, readKey, 'a new ChangeKey, as after an Outlook save')
  t.equal(em.item(id).props.Subject, 'Review', 'nothing written over it')
  t.same(em.injectedFaults(), [{ operation: 'UpdateItem', kind: 'concurrentEdit' }])
})
