import t from 'tap'
import { codeOf, createCalendarItem, envelope, find, getItem, messages, post, startChecked } from './test-helpers.ts'
import { child, NS } from '../../src/sync/microsoft/ews-xml.ts'

const ALICE = 'alice@example.com'
const BERLIN_CONTEXT = '<t:RequestServerVersion Version="Exchange2013_SP1"/><t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>'
// Mondays and Wednesdays 09:00 Berlin from 23 March 2026, ten times: local times read in the TimeZoneContext's zone
const SERIES = envelope(`<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>
  <t:Subject>Standup</t:Subject><t:Start>2026-03-23T09:00:00</t:Start><t:End>2026-03-23T09:15:00</t:End>
  <t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence>
  <t:NumberedRecurrence><t:StartDate>2026-03-23</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>
</t:CalendarItem></m:Items></m:CreateItem>`, BERLIN_CONTEXT)

const occurrence = (master: string, index: number) => `<t:OccurrenceItemId RecurringMasterId="${master}" InstanceIndex="${index}"/>`

t.test('local times are read in the TimeZoneContext zone, which the item keeps as its StartTimeZone', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const id = find((await post(em, SERIES)).xml, 'ItemId')?.attrs.Id as string
  const item = find((await post(em, getItem([id]))).xml, 'CalendarItem')
  t.equal(child(item, NS.t, 'Start')?.text, '2026-03-23T08:00:00Z', '09:00 CET')
  t.equal(child(item, NS.t, 'StartTimeZone')?.attrs.Id, 'W. Europe Standard Time')
  const utcOnly = await post(em, createCalendarItem('<t:Subject>x</t:Subject><t:Start>2026-03-23T09:00:00</t:Start><t:End>2026-03-23T10:00:00</t:End>'))
  t.equal(em.item(find(utcOnly.xml, 'ItemId')?.attrs.Id as string).props.Start, '2026-03-23T09:00:00Z', 'no zone anywhere: UTC')
})

t.test('OccurrenceItemId: updating an occurrence makes an exception, deleting one a DeletedOccurrence, across DST', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const master = find((await post(em, SERIES)).xml, 'ItemId')?.attrs.Id as string
  // index 4 = Wednesday 1 April, 09:00 CEST = 07:00Z
  const move = envelope(`<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>${occurrence(master, 4)}<t:Updates>
    <t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>Standup (late)</t:Subject></t:CalendarItem></t:SetItemField>
    <t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-04-01T11:00:00Z</t:Start></t:CalendarItem></t:SetItemField>
    <t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-04-01T11:15:00Z</t:End></t:CalendarItem></t:SetItemField>
  </t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  const moved = await post(em, move)
  t.equal(codeOf(messages(moved)[0]), 'NoError')
  const exId = find(moved.xml, 'ItemId')?.attrs.Id as string
  const remove = (index: number) => envelope(`<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds>${occurrence(master, index)}</m:ItemIds></m:DeleteItem>`)
  t.equal(codeOf(messages(await post(em, remove(5)))[0]), 'NoError', 'Monday 6 April')
  const m = find((await post(em, getItem([master]))).xml, 'CalendarItem')
  const occ = find(m, 'ModifiedOccurrences')
  t.equal(find(occ, 'ItemId')?.attrs.Id, exId)
  t.equal(find(occ, 'OriginalStart')?.text, '2026-04-01T07:00:00Z')
  t.equal(find(occ, 'Start')?.text, '2026-04-01T11:00:00Z')
  t.equal(find(find(m, 'DeletedOccurrences'), 'Start')?.text, '2026-04-06T07:00:00Z')
  const again = await post(em, getItem([], 'AllProperties').replace('<m:ItemIds></m:ItemIds>', `<m:ItemIds>${occurrence(master, 4)}</m:ItemIds>`))
  t.equal(child(find(again.xml, 'CalendarItem'), NS.t, 'Subject')?.text, 'Standup (late)', 'GetItem by OccurrenceItemId finds the exception')
  t.equal(codeOf(messages(await post(em, remove(5)))[0]), 'ErrorCalendarOccurrenceIsDeletedFromRecurrence')
  t.equal(codeOf(messages(await post(em, remove(11)))[0]), 'ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange')
  t.equal(codeOf(messages(await post(em, remove(4)))[0]), 'NoError', 'deleting the exception deletes its occurrence')
  t.same(em.item(master).exceptions, [])
  t.same([...em.item(master).deletedOccurrences].sort(), ['2026-04-01T07:00:00Z', '2026-04-06T07:00:00Z'])
})

t.test('a user edit with local times and a StartTimeZone is stored in UTC', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const id = em.userCreate(ALICE, 'calendar', 'CalendarItem', '<t:Subject>x</t:Subject><t:Start>2026-07-01T09:00:00</t:Start><t:End>2026-07-01T10:00:00</t:End><t:StartTimeZone Id="W. Europe Standard Time"/>')
  t.equal(em.item(id).props.Start, '2026-07-01T07:00:00Z')
  em.userUpdate(id, '<t:End>2026-07-01T11:00:00</t:End>')
  t.equal(em.item(id).props.End, '2026-07-01T09:00:00Z')
})

t.test('a master keeps its modified and deleted occurrences across a rename or a new end, and loses them when its start or pattern changes (MS-OXOCAL 3.1.4.7.3.5)', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const master = find((await post(em, SERIES)).xml, 'ItemId')?.attrs.Id as string
  const set = (ref: string, field: string, xml: string) => envelope(`<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>${ref}<t:Updates>
    <t:SetItemField><t:FieldURI FieldURI="${field}"/><t:CalendarItem>${xml}</t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
  const ok = async (body: string) => t.equal(codeOf(messages(await post(em, body))[0]), 'NoError')
  const recurrence = (days: string, count: number) => `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>${days}</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2026-03-23</t:StartDate><t:NumberOfOccurrences>${count}</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`
  await ok(set(occurrence(master, 4), 'item:Subject', '<t:Subject>Standup (edited)</t:Subject>'))
  await ok(envelope(`<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds>${occurrence(master, 5)}</m:ItemIds></m:DeleteItem>`))
  const held = () => [em.item(master).exceptions.length, em.item(master).deletedOccurrences.length]
  t.same(held(), [1, 1])
  await ok(set(`<t:ItemId Id="${master}"/>`, 'item:Subject', '<t:Subject>Standup renamed</t:Subject>'))
  await ok(set(`<t:ItemId Id="${master}"/>`, 'calendar:Recurrence', recurrence('Monday Wednesday', 12)))
  t.same(held(), [1, 1], 'a rename and a longer series keep them')
  await ok(set(`<t:ItemId Id="${master}"/>`, 'calendar:Recurrence', recurrence('Monday Thursday', 12)))
  t.same(held(), [0, 0], 'other weekdays: both gone')

  await ok(envelope(`<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="SendToNone"><m:ItemIds>${occurrence(master, 2)}</m:ItemIds></m:DeleteItem>`))
  await ok(set(occurrence(master, 3), 'item:Subject', '<t:Subject>Standup (edited)</t:Subject>'))
  t.same(held(), [1, 1])
  await ok(set(`<t:ItemId Id="${master}"/>`, 'calendar:Start', '<t:Start>2026-03-23T07:30:00Z</t:Start>'))
  t.same(held(), [0, 0], 'a new time: both gone')
  em.userDeleteOccurrence(master, '2026-03-30T09:00:00Z')
  em.userUpdate(master, '<t:Start>2026-03-23T07:45:00Z</t:Start>')
  t.same(held(), [0, 0], 'the same when the user moves the series in Outlook')
})
