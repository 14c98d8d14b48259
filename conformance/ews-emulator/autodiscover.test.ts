import t from 'tap'
import { AUTODISCOVER_NS, ewsUrlOf, ewsUrlOfSoap, GET_USER_SETTINGS_ACTION, soapAutodiscoverRequest } from '../../src/sync/ews/autodiscover.ts'
import { NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'
import { basic, startChecked } from './test-helpers.ts'

/**
 * SOAP Autodiscover as web-service-reference/getusersettings-operation-soap.md
 * shows it, and the redirects of handling-autodiscover-error-messages.md in
 * both services: what the emulator answers Microsoft's own request shape.
 */
const A = AUTODISCOVER_NS.soap
const kid = (e: XmlElement | null | undefined, name: string): XmlElement | null => e?.children.find(c => c.name === name) ?? null

async function send (url: string, body: string, authorization: string | null = basic('alice@example.com')) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...(authorization === null ? {} : { authorization }) }, body })
  return { status: res.status, text: await res.text() }
}

/** Microsoft's sample request (getusersettings-operation-soap.md), for `mailbox` and `settings`. */
const sample = (mailbox: string, settings: string[], action = GET_USER_SETTINGS_ACTION) => `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:a="${A}" xmlns:wsa="${AUTODISCOVER_NS.wsa}" xmlns:xsi="${AUTODISCOVER_NS.xsi}" xmlns:soap="${NS.soap}">
  <soap:Header><a:RequestedServerVersion>Exchange2010</a:RequestedServerVersion><wsa:Action>${action}</wsa:Action><wsa:To>https://myserver.contoso.com/autodiscover/autodiscover.svc</wsa:To></soap:Header>
  <soap:Body><a:GetUserSettingsRequestMessage xmlns:a="${A}"><a:Request><a:Users><a:User><a:Mailbox>${mailbox}</a:Mailbox></a:User></a:Users>
    <a:RequestedSettings>${settings.map(s => `<a:Setting>${s}</a:Setting>`).join('')}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body>
</soap:Envelope>`

t.test('GetUserSettings: the settings asked for, unknown ones as InvalidSetting, an unknown mailbox InvalidUser, a malformed request InvalidRequest; signed in like EWS', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  t.equal((await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['ExternalEwsUrl']), null)).status, 401)

  const ok = await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['UserDisplayName', 'ExternalEwsUrl', 'CasVersion', 'NoSuchSetting']))
  t.equal(ok.status, 200)
  const env = parse(ok.text)
  t.equal(kid(kid(env, 'Header'), 'Action')?.text, `${GET_USER_SETTINGS_ACTION}Response`)
  const response = kid(kid(kid(env, 'Body'), 'GetUserSettingsResponseMessage'), 'Response')!
  t.equal(response.ns, A)
  t.equal(kid(response, 'ErrorCode')?.text, 'NoError')
  const user = kid(kid(response, 'UserResponses'), 'UserResponse')!
  t.equal(kid(user, 'ErrorCode')?.text, 'NoError')
  t.equal(kid(user, 'RedirectTarget')?.text, '', 'no redirect')
  const settings = kid(user, 'UserSettings')!.children.map(s => [kid(s, 'Name')?.text, kid(s, 'Value')?.text])
  t.same(settings, [['UserDisplayName', 'Alice'], ['ExternalEwsUrl', em.ewsUrl], ['CasVersion', '15.02.1544.004']], 'in the order asked')
  t.same(kid(user, 'UserSettingErrors')!.children.map(e => [kid(e, 'ErrorCode')?.text, kid(e, 'SettingName')?.text]), [['InvalidSetting', 'NoSuchSetting']])
  t.same(ewsUrlOfSoap(ok.text), { url: em.ewsUrl }, 'what the client reads of it')

  const ghost = await send(em.soapAutodiscoverUrl, sample('ghost@example.com', ['ExternalEwsUrl']))
  t.match(ewsUrlOfSoap(ghost.text), { error: /^InvalidUser Invalid user: 'ghost@example\.com'/ })
  const wrongAction = await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['ExternalEwsUrl'], `${A}/Autodiscover/GetDomainSettings`))
  t.match(ewsUrlOfSoap(wrongAction.text), { error: /^InvalidRequest/ })
  t.match(ewsUrlOfSoap((await send(em.soapAutodiscoverUrl, '<not-soap/>')).text), { error: /^InvalidRequest/ })

  // Kalends' own request gets the same answer
  const ours = await send(em.soapAutodiscoverUrl, soapAutodiscoverRequest('alice@example.com', em.soapAutodiscoverUrl))
  t.same(ewsUrlOfSoap(ours.text), { url: em.ewsUrl })
  t.same(em.calls().filter(c => c === 'GetUserSettings').length, 5)
})

t.test('redirects: RedirectAddress / RedirectUrl in SOAP, redirectAddr / redirectUrl in POX; SOAP switched off answers 404', async t => {
  const em = await startChecked()
  t.teardown(() => em.close())
  em.autodiscoverRedirect('alice@example.com', { address: 'alice@mail.example.com' })
  const soap = await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['ExternalEwsUrl']))
  t.same(ewsUrlOfSoap(soap.text), { redirectAddress: 'alice@mail.example.com' })
  const pox = await send(em.autodiscoverUrl, `<Autodiscover xmlns="${AUTODISCOVER_NS.request}"><Request><EMailAddress>alice@example.com</EMailAddress><AcceptableResponseSchema>${AUTODISCOVER_NS.response}</AcceptableResponseSchema></Request></Autodiscover>`)
  t.same(ewsUrlOf(pox.text), { redirectAddress: 'alice@mail.example.com' })
  em.autodiscoverRedirect('alice@example.com', { url: 'https://autodiscover.example.net/autodiscover/autodiscover.svc' })
  t.same(ewsUrlOfSoap((await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['ExternalEwsUrl']))).text), { redirectUrl: 'https://autodiscover.example.net/autodiscover/autodiscover.svc' })
  em.autodiscoverRedirect('alice@example.com', null)
  em.soapAutodiscover(false)
  t.equal((await send(em.soapAutodiscoverUrl, sample('alice@example.com', ['ExternalEwsUrl']))).status, 404)
})
