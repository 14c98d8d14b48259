import t from 'tap'
import { SoapRecorder, validateSoap } from './schema-check.ts'
import { envelope } from './test-helpers.ts'

// The doc's GetFolder request (web-service-reference/getfolder-operation.md) and a broken copy.
const GOOD = envelope('<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>')

t.test('xmllint passes a valid request and names what breaks an invalid one', async t => {
  const problems = await validateSoap([GOOD, GOOD.replace('Id="calendar"', 'Id="kalender"'), GOOD.replace('<m:FolderShape>', '<m:FolderShapes>').replace('</m:FolderShape>', '</m:FolderShapes>')])
  t.same(problems.map(p => p.index), [1, 2])
  t.match(problems[0]?.errors.join(), /DistinguishedFolderId.*kalender/)
  t.match(problems[1]?.errors.join(), /FolderShapes/)
})

t.test('the envelope is checked too: a Body without an EWS message, an unknown header', async t => {
  const noMessage = GOOD.replace(/<soap:Body>[\s\S]*<\/soap:Body>/, '<soap:Body><x xmlns="urn:other"/></soap:Body>')
  const badHeader = GOOD.replace('<t:RequestServerVersion Version="Exchange2013_SP1"/>', '<t:RequestServerVersion Version="Exchange2099"/>')
  t.same((await validateSoap([noMessage, badHeader])).map(p => p.index), [0, 1])
})

t.test('the recorder reports each bad document with its label', async t => {
  const r = new SoapRecorder()
  r.record('GetFolder request', GOOD)
  r.record('GetFolder response', GOOD.replace('GetFolder>', 'GetFolderX>').replace('<m:GetFolder>', '<m:GetFolderX>'))
  const out = await r.check()
  t.equal(out.length, 1)
  t.match(out[0], /^GetFolder response: /)
  t.equal(r.size, 0, 'checking empties the record')
})
