import t from 'tap'
import { codeOf, createCalendarItem, envelope, find, findAll, getItem, messages, post, startChecked } from './test-helpers.ts'
import { child, NS } from '../../src/sync/microsoft/ews-xml.ts'

const ALICE = 'alice@example.com'
const TIMES = '<t:Start>2026-05-01T10:00:00Z</t:Start><t:End>2026-05-01T11:00:00Z</t:End>'
const REF = '<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="kalendsItem" PropertyType="String"/>'

// The calendar example of web-service-reference/createitem-operation-calendar-item.md, as Microsoft writes it.
const DOC_CREATE = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
               xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <soap:Body>
    <CreateItem xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" SendMeetingInvitations="SEND">
      <SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></SavedItemFolderId>
      <Items>
        <t:CalendarItem xmlns="http://schemas.microsoft.com/exchange/services/2006/types">
          <Subject>Planning Meeting</Subject>
          <Body BodyType="Text">Plan the agenda for next week's meeting.</Body>
          <ReminderIsSet>true</ReminderIsSet>
          <ReminderMinutesBeforeStart>60</ReminderMinutesBeforeStart>
          <Start>2006-11-02T14:00:00</Start>
          <End>2006-11-02T15:00:00</End>
          <IsAllDayEvent>false</IsAllDayEvent>
          <LegacyFreeBusyStatus>Busy</LegacyFreeBusyStatus>
          <Location>Conference Room 721</Location>
          <RequiredAttendees>
            <Attendee><Mailbox><EmailAddress>User1@example.com</EmailAddress></Mailbox></Attendee>
            <Attendee><Mailbox><EmailAddress>User2@example.com</EmailAddress></Mailbox></Attendee>
          </RequiredAttendees>
        </t:CalendarItem>
      </Items>
    </CreateItem>
  </soap:Body>
</soap:Envelope>`

const idOf = (a: Awaited<ReturnType<typeof post>>) => find(a.xml, 'ItemId')?.attrs ?? {}

t.test("the docs' CreateItem: mail goes out with SendToAllAndSaveCopy, never with SendToNone", async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const sent = await post(em, DOC_CREATE.replace('SEND', 'SendToAllAndSaveCopy'))
  t.equal(codeOf(messages(sent)[0]), 'NoError')
  t.ok(idOf(sent).Id)
  t.ok(idOf(sent).ChangeKey)
  t.match(em.sentMail(), [{ operation: 'CreateItem', kind: 'invitation', setting: 'SendToAllAndSaveCopy', subject: 'Planning Meeting', recipients: ['User1@example.com', 'User2@example.com'] }])
  const quiet = await post(em, DOC_CREATE.replace('SEND', 'SendToNone'))
  t.equal(codeOf(messages(quiet)[0]), 'NoError')
  t.equal(em.sentMail().length, 1, 'SendToNone sends nothing')
  const missing = await post(em, DOC_CREATE.replace(' SendMeetingInvitations="SEND"', ''))
  t.equal(codeOf(messages(missing)[0]), 'ErrorSendMeetingInvitationsRequired')
  t.equal(messages(missing)[0]?.attrs.ResponseClass, 'Error')
  t.equal(em.items(ALICE, 'calendar').length, 2, 'nothing half written')
})

t.test('GetItem: shapes, the computed calendar fields, extended properties only when asked, per-item errors', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const created = await post(em, createCalendarItem(`<t:Subject>Review</t:Subject><t:ExtendedProperty>${REF}<t:Value>appointment:7</t:Value></t:ExtendedProperty>${TIMES}<t:Location>Room 1</t:Location>`))
  const id = idOf(created).Id as string

  const idOnly = await post(em, getItem([id], 'IdOnly', '<t:FieldURI FieldURI="item:Subject"/>'))
  const item = find(idOnly.xml, 'CalendarItem')
  t.same(item?.children.map(c => c.name), ['ItemId', 'Subject'], "the docs' IdOnly + item:Subject")

  const all = await post(em, getItem([id]))
  const cal = find(all.xml, 'CalendarItem')
  t.equal(child(cal, NS.t, 'CalendarItemType')?.text, 'Single')
  t.equal(child(cal, NS.t, 'Start')?.text, '2026-05-01T10:00:00Z')
  t.match(child(cal, NS.t, 'UID')?.text, /^040000008200E00074C5B7101A82E008/)
  t.equal(child(cal, NS.t, 'ExtendedProperty'), null, 'AllProperties leaves extended properties out')

  const asked = await post(em, getItem([id, 'AAMkAGNvbnN0cnVjdGVk', id], 'IdOnly', REF.replace('ExtendedFieldURI', 'ExtendedFieldURI')))
  const ms = messages(asked)
  t.same(ms.map(codeOf), ['NoError', 'ErrorItemNotFound', 'NoError'], 'one id fails alone')
  t.equal(find(ms[0], 'Value')?.text, 'appointment:7')
})

t.test('a series: RecurringMaster with its Recurrence, ModifiedOccurrences and DeletedOccurrences; exceptions are items of their own', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const recurrence = '<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2026-05-04</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>'
  const created = await post(em, createCalendarItem(`<t:Subject>Standup</t:Subject><t:Start>2026-05-04T07:00:00Z</t:Start><t:End>2026-05-04T07:15:00Z</t:End>${recurrence}`))
  const id = idOf(created).Id as string
  const ex = em.userModifyOccurrence(id, '2026-05-06T07:00:00Z', '<t:Subject>Standup (moved)</t:Subject><t:Start>2026-05-06T09:00:00Z</t:Start><t:End>2026-05-06T09:15:00Z</t:End>')
  em.userDeleteOccurrence(id, '2026-05-11T07:00:00Z')
  const master = find((await post(em, getItem([id]))).xml, 'CalendarItem')
  t.equal(child(master, NS.t, 'CalendarItemType')?.text, 'RecurringMaster')
  t.equal(find(master, 'DaysOfWeek')?.text, 'Monday Wednesday')
  const occ = find(master, 'ModifiedOccurrences')
  t.equal(find(occ, 'ItemId')?.attrs.Id, ex)
  t.equal(find(occ, 'OriginalStart')?.text, '2026-05-06T07:00:00Z')
  t.equal(find(find(master, 'DeletedOccurrences'), 'Start')?.text, '2026-05-11T07:00:00Z')
  const exception = find((await post(em, getItem([ex]))).xml, 'CalendarItem')
  t.equal(child(exception, NS.t, 'CalendarItemType')?.text, 'Exception')
  t.equal(child(exception, NS.t, 'Subject')?.text, 'Standup (moved)')
  t.equal(child(exception, NS.t, 'Recurrence'), null)
})

const update = (id: string, changeKey: string | null, field: string, value: string, opts = 'ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"') => envelope(`
<m:UpdateItem ${opts}>
  <m:ItemChanges><t:ItemChange>
    <t:ItemId Id="${id}"${changeKey === null ? '' : ` ChangeKey="${changeKey}"`}/>
    <t:Updates><t:SetItemField><t:FieldURI FieldURI="${field}"/><t:CalendarItem>${value}</t:CalendarItem></t:SetItemField></t:Updates>
  </t:ItemChange></m:ItemChanges>
</m:UpdateItem>`)

t.test('UpdateItem: NeverOverwrite with a stale ChangeKey is ErrorIrresolvableConflict; the current one wins a new key', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const created = await post(em, createCalendarItem(`<t:Subject>v1</t:Subject>${TIMES}`))
  const { Id: id = '', ChangeKey: key1 = '' } = idOf(created)
  const ok = await post(em, update(id, key1, 'item:Subject', '<t:Subject>v2</t:Subject>'))
  t.equal(codeOf(messages(ok)[0]), 'NoError')
  const key2 = idOf(ok).ChangeKey as string
  t.not(key2, key1)
  const stale = await post(em, update(id, key1, 'item:Subject', '<t:Subject>v3</t:Subject>'))
  t.equal(codeOf(messages(stale)[0]), 'ErrorIrresolvableConflict')
  t.equal(em.item(id).props.Subject, 'v2', 'nothing written')
  const noKey = await post(em, update(id, null, 'item:Subject', '<t:Subject>v3</t:Subject>'))
  t.equal(codeOf(messages(noKey)[0]), 'ErrorChangeKeyRequiredForWriteOperations')
  const auto = await post(em, update(id, key1, 'item:Subject', '<t:Subject>v4</t:Subject>', 'ConflictResolution="AutoResolve" SendMeetingInvitationsOrCancellations="SendToNone"'))
  t.equal(codeOf(messages(auto)[0]), 'NoError', 'AutoResolve applies it')
  const noSend = await post(em, update(id, null, 'item:Subject', '<t:Subject>v5</t:Subject>', 'ConflictResolution="AlwaysOverwrite"'))
  t.equal(codeOf(messages(noSend)[0]), 'ErrorSendMeetingInvitationsOrCancellationsRequired')
  const backwards = await post(em, update(id, null, 'calendar:End', '<t:End>2026-05-01T09:00:00Z</t:End>', 'ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"'))
  t.equal(codeOf(messages(backwards)[0]), 'ErrorCalendarEndDateIsEarlierThanStartDate')
  const two = await post(em, update(id, null, 'item:Subject', '<t:Subject>a</t:Subject><t:Location>b</t:Location>', 'ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"'))
  t.equal(codeOf(messages(two)[0]), 'ErrorIncorrectUpdatePropertyCount')
  const computed = await post(em, update(id, null, 'calendar:CalendarItemType', '<t:CalendarItemType>Single</t:CalendarItemType>', 'ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"'))
  t.equal(codeOf(messages(computed)[0]), 'ErrorInvalidPropertySet')
})

t.test('UpdateItem sets and deletes extended properties; meeting updates log mail unless SendToNone', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const attendees = '<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>'
  const created = await post(em, createCalendarItem(`<t:Subject>Meet</t:Subject>${TIMES}${attendees}`))
  const id = idOf(created).Id as string
  const setExt = envelope(`<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendOnlyToChanged"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates>
    <t:SetItemField>${REF}<t:CalendarItem><t:ExtendedProperty>${REF}<t:Value>appointment:9</t:Value></t:ExtendedProperty></t:CalendarItem></t:SetItemField>
  </t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  t.equal(codeOf(messages(await post(em, setExt))[0]), 'NoError')
  t.match(em.sentMail(), [{ operation: 'UpdateItem', kind: 'update', recipients: ['bob@example.com'] }])
  t.equal(find((await post(em, getItem([id], 'IdOnly', REF))).xml, 'Value')?.text, 'appointment:9')
  const del = envelope(`<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates>
    <t:DeleteItemField>${REF}</t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  t.equal(codeOf(messages(await post(em, del))[0]), 'NoError')
  t.equal(find((await post(em, getItem([id], 'IdOnly', REF))).xml, 'ExtendedProperty'), null)
  t.equal(em.sentMail().length, 1, 'SendToNone sent nothing')
})

t.test('DeleteItem: SendMeetingCancellations for calendar items, AffectedTaskOccurrences for tasks; deleting an exception deletes the occurrence', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const del = (id: string, attrs: string) => envelope(`<m:DeleteItem DeleteType="MoveToDeletedItems" ${attrs}><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:DeleteItem>`)
  const cal = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>x</t:Subject>${TIMES}`)
  t.equal(codeOf(messages(await post(em, del(cal, '')))[0]), 'ErrorSendMeetingCancellationsRequired')
  t.equal(codeOf(messages(await post(em, del(cal, 'SendMeetingCancellations="SendToNone"')))[0]), 'NoError')
  t.equal(codeOf(messages(await post(em, del(cal, 'SendMeetingCancellations="SendToNone"')))[0]), 'ErrorItemNotFound', 'gone')
  const task = em.userCreate(ALICE, 'tasks', 'Task', '<t:Subject>t</t:Subject>')
  t.equal(codeOf(messages(await post(em, del(task, '')))[0]), 'ErrorAffectedTaskOccurrencesRequired')
  t.equal(codeOf(messages(await post(em, del(task, 'AffectedTaskOccurrences="AllOccurrences"')))[0]), 'NoError')
  const master = em.userCreate(ALICE, 'calendar', 'CalendarItem', `<t:Subject>s</t:Subject>${TIMES}<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2026-05-01</t:StartDate></t:NoEndRecurrence></t:Recurrence>`)
  const ex = em.userModifyOccurrence(master, '2026-05-02T10:00:00Z', '<t:Subject>moved</t:Subject>')
  t.equal(codeOf(messages(await post(em, del(ex, 'SendMeetingCancellations="SendToNone"')))[0]), 'NoError')
  t.same(em.item(master).deletedOccurrences, ['2026-05-02T10:00:00Z'])
  t.same(em.item(master).exceptions, [])
})

t.test("tasks: the docs' CreateItem lands in Tasks; Completed sets IsComplete and CompleteDate", async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const created = await post(em, envelope('<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Task><t:Subject>My task</t:Subject><t:DueDate>2006-10-26T21:32:52</t:DueDate><t:Status>NotStarted</t:Status></t:Task></m:Items></m:CreateItem>'))
  const id = idOf(created).Id as string
  t.same(em.items(ALICE, 'tasks'), [id])
  const done = envelope(`<m:UpdateItem ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="task:Status"/><t:Task><t:Status>Completed</t:Status></t:Task></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  t.equal(codeOf(messages(await post(em, done))[0]), 'NoError')
  const task = find((await post(em, getItem([id]))).xml, 'Task')
  t.equal(child(task, NS.t, 'IsComplete')?.text, 'true')
  t.ok(child(task, NS.t, 'CompleteDate')?.text)
  t.equal(child(task, NS.t, 'DueDate')?.text, '2006-10-26T21:32:52Z')
  const wrong = await post(em, envelope('<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="tasks"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>x</t:Subject></t:CalendarItem></m:Items></m:CreateItem>'))
  t.equal(codeOf(messages(wrong)[0]), 'ErrorCannotCreateCalendarItemInNonCalendarFolder')
  t.equal(findAll(wrong.xml, 'CalendarItem').length, 0)
})
