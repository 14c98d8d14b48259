import t from 'tap'
import { startEwsEmulator } from '../../conformance/ews-emulator/server.ts'
import { discoverEwsUrl } from './ews/autodiscover.ts'
import { EwsClient, fetchTransport } from './ews/client.ts'
import { tryMailbox } from './ews/connect.ts'
import { ntlmTransport } from './ews/ntlm.ts'
import { startEwsWorld } from './testing-ews.ts'

/**
 * The NTLM transport (httpntlm's messages on a kept-alive socket) and POX
 * Autodiscover against the EWS emulator, which verifies the NTLMv2 response
 * against the mailbox's password and, here, refuses Basic.
 */
t.test('NTLM: one handshake for many requests on the kept-alive socket, a wrong password is a refusal, DOMAIN\\user works', async t => {
  const em = await startEwsEmulator({ check: true })
  t.teardown(() => em.close())
  em.addMailbox('alice@example.com', { password: 'Alice-1' })
  em.requireAuth(['ntlm'])
  const client = new EwsClient({ url: em.ewsUrl, version: 'Exchange2013_SP1', impersonate: null }, ntlmTransport({ username: 'CONTOSO\\alice', password: 'Alice-1' }))
  await tryMailbox(client)
  await tryMailbox(client)
  await tryMailbox(client)
  t.equal(em.ntlmChallenges(), 1, 'three requests, one handshake')
  t.same(em.calls(), ['GetFolder', 'GetFolder', 'GetFolder'])
  t.equal(client.serverVersion, '15.2.1544.4', 'the server version from ServerVersionInfo')

  const wrong = new EwsClient(client.target, ntlmTransport({ username: 'alice@example.com', password: 'nope' }))
  await t.rejects(tryMailbox(wrong), { message: /Exchange refused/, status: 403, rule: 'exchange-login' })
  const basic = new EwsClient(client.target, fetchTransport({ kind: 'basic', username: 'alice@example.com', password: 'Alice-1' }))
  await t.rejects(tryMailbox(basic), { message: /Exchange refused/, rule: 'exchange-login' }, 'Basic is refused by a server that demands NTLM')
})

t.test('an NTLM integration syncs with NTLM: the connection is made and runs, with Basic switched off', async t => {
  const w = await startEwsWorld({ integration: { auth: 'ntlm' } })
  t.teardown(() => w.close())
  w.em.requireAuth(['ntlm'])
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>Lunch</t:Subject><t:Start>2026-12-02T12:00:00Z</t:Start><t:End>2026-12-02T13:00:00Z</t:End>')
  await w.connect('alice')
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? '')
  t.equal(run.in, 1)
  t.ok(w.em.ntlmChallenges() >= 2, 'NTLM handshakes, not Basic')
})

t.test('Autodiscover: the first candidate that answers with an EWS URL wins; unknown addresses and dead candidates are said', async t => {
  const em = await startEwsEmulator()
  t.teardown(() => em.close())
  em.addMailbox('alice@example.com', { password: 'Alice-1' })
  const transport = fetchTransport({ kind: 'basic', username: 'alice@example.com', password: 'Alice-1' })
  const dead = 'http://127.0.0.1:9/autodiscover/autodiscover.xml'
  const found = await discoverEwsUrl('alice@example.com', transport, [dead, `${em.url}/{domain}/nothing`, em.autodiscoverUrl])
  t.same(found, { ewsUrl: em.ewsUrl, from: em.soapAutodiscoverUrl, protocol: 'soap' }, 'SOAP first (the .svc beside each .xml candidate)')
  t.equal((await discoverEwsUrl('alice@example.com', ntlmTransport({ username: 'alice', password: 'Alice-1' }), [em.autodiscoverUrl])).ewsUrl, em.ewsUrl, 'over NTLM too')
  await t.rejects(discoverEwsUrl('ghost@example.com', transport, [em.autodiscoverUrl]), { rule: 'exchange-autodiscover', message: /autodiscover\.svc: InvalidUser .*autodiscover\.xml: 500 The e-mail address cannot be found/ })
  await t.rejects(discoverEwsUrl('alice@example.com', fetchTransport({ kind: 'basic', username: 'alice@example.com', password: 'x' }), [em.autodiscoverUrl]), { message: /the login was refused/ })
  await t.rejects(discoverEwsUrl('alice@example.com', transport, [dead]), { message: /cannot be reached/ })
  await t.rejects(discoverEwsUrl('not an address', transport, [em.autodiscoverUrl]), { message: /e-mail address/, status: 400, field: 'autodiscoverEmail' })
})

t.test('Autodiscover: POX where SOAP is not offered; redirects to another address or Autodiscover URL are followed in both, a loop stops', async t => {
  const em = await startEwsEmulator()
  t.teardown(() => em.close())
  em.addMailbox('alice@example.com', { password: 'Alice-1' })
  const transport = fetchTransport({ kind: 'basic', username: 'alice@example.com', password: 'Alice-1' })
  em.soapAutodiscover(false)
  t.same(await discoverEwsUrl('alice@example.com', transport, [em.autodiscoverUrl]), { ewsUrl: em.ewsUrl, from: em.autodiscoverUrl, protocol: 'pox' }, 'POX when .svc answers 404')
  // the address redirect starts again at the candidates of the new address's domain (here the same emulator)
  em.autodiscoverRedirect('old.alice@example.com', { address: 'alice@example.com' })
  t.same(await discoverEwsUrl('old.alice@example.com', transport, [em.autodiscoverUrl]), { ewsUrl: em.ewsUrl, from: em.autodiscoverUrl, protocol: 'pox' }, 'POX redirectAddr')
  em.soapAutodiscover(true)
  t.same(await discoverEwsUrl('old.alice@example.com', transport, [em.autodiscoverUrl]), { ewsUrl: em.ewsUrl, from: em.soapAutodiscoverUrl, protocol: 'soap' }, 'SOAP RedirectAddress')
  // a URL redirect from a candidate that does not know the mailbox to one that does
  const other = await startEwsEmulator()
  t.teardown(() => other.close())
  other.addMailbox('alice@example.com', { password: 'Alice-1' })
  em.autodiscoverRedirect('alice@example.com', { url: other.soapAutodiscoverUrl })
  t.same(await discoverEwsUrl('alice@example.com', transport, [em.autodiscoverUrl]), { ewsUrl: other.ewsUrl, from: other.soapAutodiscoverUrl, protocol: 'soap' }, 'SOAP RedirectUrl')
  em.autodiscoverRedirect('alice@example.com', { url: 'http://127.0.0.1:9/autodiscover/autodiscover.svc' })
  await t.rejects(discoverEwsUrl('alice@example.com', transport, [em.autodiscoverUrl]), { message: /redirected to http:\/\/127\.0\.0\.1:9\/autodiscover\/autodiscover\.svc; http:\/\/127\.0\.0\.1:9\/autodiscover\/autodiscover\.svc: .*cannot be reached/ }, 'an http redirect from an http candidate is tried')
  em.autodiscoverRedirect('alice@example.com', { address: 'bob@example.com' })
  em.autodiscoverRedirect('bob@example.com', { address: 'alice@example.com' })
  await t.rejects(discoverEwsUrl('alice@example.com', transport, [em.autodiscoverUrl]), { rule: 'exchange-autodiscover', message: /redirected to bob@example\.com; .*redirected to alice@example\.com/ }, 'a loop of addresses stops where it has asked already')
})
