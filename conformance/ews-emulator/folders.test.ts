import t from 'tap'
import { codeOf, envelope, findAll, messages, post, startChecked } from './test-helpers.ts'

t.test('GetFolder: calendar and tasks by DistinguishedFolderId, CalendarFolder / TasksFolder; an unknown FolderId fails alone', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const a = await post(em, envelope('<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/><t:DistinguishedFolderId Id="tasks"/><t:FolderId Id="AAMkADAwATM0MDAAMS0yYmJiLTg3MjMtMDACLTAwCgAuAAAAAAA"/></m:FolderIds></m:GetFolder>'))
  const [cal, tasks, unknown] = messages(a)
  t.equal(findAll(cal, 'CalendarFolder').length, 1)
  t.equal(findAll(cal, 'DisplayName')[0]?.text, 'Calendar')
  t.equal(findAll(cal, 'FolderClass')[0]?.text, 'IPF.Appointment')
  t.equal(findAll(tasks, 'TasksFolder').length, 1)
  t.equal(codeOf(unknown), 'ErrorFolderNotFound')
})

t.test('FindFolder: the sub-calendars under the calendar, Shallow and Deep', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const team = em.addFolder('alice@example.com', 'calendar', 'Team')
  const nested = em.addFolder('alice@example.com', team, 'Team / Holidays')
  const find = (traversal: string) => envelope(`<m:FindFolder Traversal="${traversal}"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindFolder>`)
  const shallow = await post(em, find('Shallow'))
  t.same(findAll(shallow.xml, 'FolderId').map(f => f.attrs.Id), [team])
  t.equal(messages(shallow)[0]?.children.find(c => c.name === 'RootFolder')?.attrs.IncludesLastItemInRange, 'true')
  const deep = await post(em, find('Deep'))
  t.same(findAll(deep.xml, 'FolderId').map(f => f.attrs.Id), [team, nested])
  t.same(findAll(deep.xml, 'DisplayName').map(f => f.text), ['Team', 'Team / Holidays'])
  const sync = await post(em, envelope(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:FolderId Id="${team}"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`))
  t.equal(codeOf(messages(sync)[0]), 'NoError', 'a sub-calendar syncs by FolderId')
})
