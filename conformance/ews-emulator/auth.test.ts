import { Agent, request } from 'node:http'
import t from 'tap'
import { basic, envelope, fault, messages, post, startChecked, codeOf } from './test-helpers.ts'

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

// [MS-NLMP] 2.2.1.1 NEGOTIATE and 2.2.1.3 AUTHENTICATE, as an NTLM client sends them (no real response: the emulator does not check it).
function negotiate (): string {
  const b = Buffer.alloc(32)
  b.write('NTLMSSP\0', 0, 'latin1')
  b.writeUInt32LE(1, 8)
  b.writeUInt32LE(0x00088207, 12)
  return b.toString('base64')
}

function authenticateMessage (domain: string, user: string): string {
  const d = Buffer.from(domain, 'utf16le')
  const u = Buffer.from(user, 'utf16le')
  const w = Buffer.from('WS', 'utf16le')
  const nt = Buffer.alloc(24, 1)
  const head = Buffer.alloc(64)
  head.write('NTLMSSP\0', 0, 'latin1')
  head.writeUInt32LE(3, 8)
  let at = 64
  const field = (pos: number, data: Buffer) => { head.writeUInt16LE(data.length, pos); head.writeUInt16LE(data.length, pos + 2); head.writeUInt32LE(at, pos + 4); at += data.length }
  field(12, Buffer.alloc(0)); field(20, nt); field(28, d); field(36, u); field(44, w); field(52, Buffer.alloc(0))
  head.writeUInt32LE(0x00088205, 60)
  return Buffer.concat([head, nt, d, u, w]).toString('base64')
}

t.test('NTLM: Type 1 gets a 401 with a Type 2 challenge, Type 3 on the same connection authenticates it', async t => {
  const em = await startChecked()
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(async () => { agent.destroy(); await em.close() })
  const send = (authorization: string | null) => new Promise<{ status: number; challenge: string; body: string }>((resolve, reject) => {
    const req = request(em.ewsUrl, { method: 'POST', agent, headers: { 'content-type': 'text/xml; charset=utf-8', ...(authorization === null ? {} : { authorization }) } }, res => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? ''), body }))
    })
    req.on('error', reject)
    req.end(GET_CALENDAR)
  })
  const first = await send(`NTLM ${negotiate()}`)
  t.equal(first.status, 401)
  const type2 = Buffer.from(first.challenge.replace(/^NTLM /, ''), 'base64')
  t.equal(type2.subarray(0, 8).toString('latin1'), 'NTLMSSP\0')
  t.equal(type2.readUInt32LE(8), 2, 'a CHALLENGE message')
  const third = await send(`NTLM ${authenticateMessage('CONTOSO', 'alice')}`)
  t.equal(third.status, 200)
  t.match(third.body, /GetFolderResponse/)
  t.equal((await send(null)).status, 200, 'the connection stays authenticated')
  const stranger = await post(em, GET_CALENDAR, `NTLM ${authenticateMessage('CONTOSO', 'mallory')}`)
  t.equal(stranger.status, 401, 'an unknown user is refused')
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
