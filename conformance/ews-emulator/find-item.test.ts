import t from 'tap'
import { codeOf, createCalendarItem, envelope, find, findAll, messages, post, startChecked } from './test-helpers.ts'

const TIMES = '<t:Start>2026-05-01T10:00:00Z</t:Start><t:End>2026-05-01T11:00:00Z</t:End>'
const REF = '<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="KalendsItem" PropertyType="String"/>'
const tagged = (subject: string, value: string) => `<t:Subject>${subject}</t:Subject><t:ExtendedProperty>${REF}<t:Value>${value}</t:Value></t:ExtendedProperty>${TIMES}`

const findBy = (value: string, additional = '', expression?: string) => envelope(`
<m:FindItem Traversal="Shallow">
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/>${additional}</t:AdditionalProperties></m:ItemShape>
  <m:Restriction>${expression ?? `<t:IsEqualTo>${REF}<t:FieldURIOrConstant><t:Constant Value="${value}"/></t:FieldURIOrConstant></t:IsEqualTo>`}</m:Restriction>
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>
</m:FindItem>`)

t.test('FindItem with IsEqualTo on an extended property finds the one tagged item; the property comes back only when asked', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  await post(em, createCalendarItem(tagged('First', 'appointment:1')))
  await post(em, createCalendarItem(tagged('Second', 'appointment:2')))
  await post(em, createCalendarItem(`<t:Subject>Untagged</t:Subject>${TIMES}`))

  const hit = await post(em, findBy('appointment:2'))
  t.equal(hit.status, 200)
  t.equal(codeOf(messages(hit)[0]), 'NoError')
  t.same(findAll(hit.xml, 'Subject').map(s => s.text), ['Second'])
  t.equal(find(hit.xml, 'RootFolder'), null, 'RootFolder is in the messages namespace')
  t.equal(find(hit.xml, 'ExtendedProperty'), null, 'not asked for, not returned')

  const asked = await post(em, findBy('appointment:2', REF))
  t.equal(find(find(asked.xml, 'ExtendedProperty'), 'Value')?.text, 'appointment:2')

  const none = await post(em, findBy('appointment:9'))
  t.same(findAll(none.xml, 'CalendarItem'), [], 'no match: an empty Items')

  const not = await post(em, findBy('', '', `<t:Not><t:IsEqualTo>${REF}<t:FieldURIOrConstant><t:Constant Value="appointment:1"/></t:FieldURIOrConstant></t:IsEqualTo></t:Not>`))
  t.same(findAll(not.xml, 'Subject').map(s => s.text).sort(), ['Second', 'Untagged'])

  const unsupported = await post(em, findBy('', '', '<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="Sec"/></t:Contains>'))
  t.equal(codeOf(messages(unsupported)[0]), 'ErrorUnsupportedQueryFilter', 'what is not emulated says so rather than answering wrongly')
})
