import { Agent, request } from 'node:http'
import t from 'tap'
import { ntlm } from '../../src/sync/ews/ntlm.ts'
import { basic, envelope, fault, messages, post, startChecked, codeOf, PASSWORD } from './test-helpers.ts'

const GET_CALENDAR = envelope('<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>')

t.test('no or wrong credentials: 401 with the schemes offered; Basic by SMTP address, DOMAIN\\user; Bearer', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  const none = await post(em, GET_CALENDAR, null)
  t.equal(none.status, 401)
  t.match(none.headers.get('www-authenticate'), /NTLM.*Basic/)
  t.equal((await post(em, GET_CALENDAR, basic('alice@example.com', 'wrong'))).status, 401)
  t.equal((await post(em, GET_CALENDAR, basic('nobody@example.com'))).status, 401)
  t.equal((await post(em, GET_CALENDAR)).status, 200)
  t.equal((await post(em, GET_CALENDAR, basic('CONTOSO\\alice'))).status, 200)
  t.equal((await post(em, GET_CALENDAR, `Bearer ${em.issueToken('alice@example.com')}`)).status, 200)
  t.equal((await post(em, GET_CALENDAR, 'Bearer forged')).status, 401)
})

// The client side of [MS-NLMP] from httpntlm (as Kalends' NTLM transport uses it): NEGOTIATE, then AUTHENTICATE for the challenge.
const login = (username: string, password: string) => ({ username, password, domain: 'CONTOSO', workstation: 'WS' })

t.test('NTLM: Type 1 gets a 401 with a Type 2 challenge, a right Type 3 on the same connection authenticates it, a wrong password is refused', async t => {
  const em = await startChecked()
  em.requireAuth(['ntlm'])
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(async () => { agent.destroy(); await em.close() })
  const send = (authorization: string | null, on = agent) => new Promise<{ status: number; challenge: string; offered: string[]; body: string }>((resolve, reject) => {
    const req = request(em.ewsUrl, { method: 'POST', agent: on, headers: { 'content-type': 'text/xml; charset=utf-8', ...(authorization === null ? {} : { authorization }) } }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? ''), offered: res.headersDistinct['www-authenticate'] ?? [], body }))
    })
    req.on('error', reject)
    req.end(GET_CALENDAR)
  })
  const bare = await send(null)
  t.equal(bare.status, 401)
  t.same(bare.offered, ['NTLM', 'Negotiate'], 'NTLM offered first; Basic is switched off')
  t.equal((await send(basic('alice@example.com'))).status, 401, 'Basic refused when only NTLM is on')

  const handshake = async (username: string, password: string, on = agent) => {
    const first = await send(ntlm.createType1Message(login(username, password)), on)
    t.equal(first.status, 401)
    const type2 = Buffer.from(first.challenge.replace(/^NTLM /, ''), 'base64')
    t.equal(type2.subarray(0, 8).toString('latin1'), 'NTLMSSP\0')
    t.equal(type2.readUInt32LE(8), 2, 'a CHALLENGE message')
    const msg2 = ntlm.parseType2Message(first.challenge, e => { throw e })!
    return send(ntlm.createType3Message(msg2, login(username, password)), on)
  }
  const third = await handshake('alice', PASSWORD)
  t.equal(third.status, 200)
  t.match(third.body, /GetFolderResponse/)
  t.equal((await send(null)).status, 200, 'the connection stays authenticated')

  const other = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => other.destroy())
  t.equal((await handshake('alice', 'wrong-password', other)).status, 401, 'a wrong password is refused')
  t.equal((await send(null, other)).status, 401, 'and that connection is not signed in')
  t.equal((await handshake('mallory', PASSWORD, other)).status, 401, 'an unknown user is refused')
  t.equal((await handshake('alice@example.com', PASSWORD, other)).status, 200, 'the UPN form passes too')

  // a Type 3 computed for another challenge (a replay) does not pass
  const fresh = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => fresh.destroy())
  const firstA = await send(ntlm.createType1Message(login('alice', PASSWORD)), fresh)
  const stale = ntlm.createType3Message(ntlm.parseType2Message(firstA.challenge, e => { throw e })!, login('alice', PASSWORD))
  await send(ntlm.createType1Message(login('alice', PASSWORD)), fresh)
  t.equal((await send(stale, fresh)).status, 401, 'an answer to an earlier challenge is refused')
})

const impersonating = (smtp: string) => envelope(
  '<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
  `<t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>${smtp}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`)

t.test('ExchangeImpersonation: ErrorImpersonateUserDenied without the right, the target mailbox with it', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  em.addMailbox('svc-crm@example.com', { password: 'svc' })
  em.addMailbox('bob@example.com')
  const svc = basic('svc-crm@example.com', 'svc')
  const denied = await post(em, impersonating('bob@example.com'), svc)
  t.equal(denied.status, 500)
  t.equal(fault(denied).code, 'ErrorImpersonateUserDenied')
  t.equal(fault(await post(em, impersonating('ghost@example.com'), svc)).code, 'ErrorNonExistentMailbox')
  em.grantImpersonation('svc-crm@example.com', 'bob@example.com')
  const ok = await post(em, impersonating('bob@example.com'), svc)
  t.equal(ok.status, 200)
  t.equal(codeOf(messages(ok)[0]), 'NoError')
  t.match(ok.text, em.folderId('bob@example.com', 'calendar'), "bob's calendar, not the service account's")
  t.equal(fault(await post(em, impersonating('alice@example.com'), svc)).code, 'ErrorImpersonateUserDenied', 'granted for bob only')
})
