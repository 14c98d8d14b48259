import { AUTODISCOVER_NS, GET_USER_SETTINGS_ACTION } from '../../src/sync/ews/autodiscover.ts'
import { esc, NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'
import type { Store } from './store.ts'

/** Where Autodiscover sends an address instead of answering: another address, or another Autodiscover URL. */
export type AutodiscoverRedirect = { address: string } | { url: string }

/**
 * POX Autodiscover (POST /autodiscover/autodiscover.xml) as Exchange answers
 * it (web-service-reference/pox-autodiscover-request-for-exchange.md,
 * pox-autodiscover-response-for-exchange.md): for a mailbox of the store,
 * the EXCH and EXPR protocols with this emulator's EWS URL (EwsUrl and
 * ASUrl); for an unknown address, error 500 "The e-mail address cannot be
 * found."; for a body that is not a request, error 600 "Invalid Request".
 * The caller must be signed in, as for EWS.
 */
export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml'
export const SOAP_AUTODISCOVER_PATH = '/autodiscover/autodiscover.svc'

const errorXml = (code: number, message: string): string => '<?xml version="1.0" encoding="utf-8"?>' +
  `<Autodiscover xmlns="${AUTODISCOVER_NS.base}"><Response xmlns="${AUTODISCOVER_NS.base}">` +
  `<Error Time="00:00:00.0000000" Id="2477273696"><ErrorCode>${code}</ErrorCode><Message>${message}</Message><DebugData /></Error></Response></Autodiscover>`

export function autodiscover (store: Store, body: string, ewsUrl: string, redirects: ReadonlyMap<string, AutodiscoverRedirect> = new Map()): { status: number; xml: string } {
  let email: string | undefined
  try {
    const root = parse(body)
    if (root.ns !== AUTODISCOVER_NS.request) throw new Error('not a request')
    email = root.children.find(c => c.name === 'Request')?.children.find(c => c.name === 'EMailAddress')?.text.trim().toLowerCase()
  } catch {}
  if (email === undefined || email === '') return { status: 200, xml: errorXml(600, 'Invalid Request') }
  const redirect = redirects.get(email)
  if (redirect !== undefined) {
    // handling-autodiscover-error-messages.md: Action redirectAddr with RedirectAddr, or redirectUrl with RedirectUrl
    const [action, element, value] = 'address' in redirect ? ['redirectAddr', 'RedirectAddr', redirect.address] : ['redirectUrl', 'RedirectUrl', redirect.url]
    return {
      status: 200,
      xml: '<?xml version="1.0" encoding="utf-8"?>' +
        `<Autodiscover xmlns="${AUTODISCOVER_NS.base}"><Response xmlns="${AUTODISCOVER_NS.response}">` +
        `<Account><Action>${action}</Action><${element}>${esc(value)}</${element}></Account></Response></Autodiscover>`
    }
  }
  const mailbox = store.mailboxes.get(email)
  if (mailbox === undefined) return { status: 200, xml: errorXml(500, 'The e-mail address cannot be found.') }
  const urls = `<ASUrl>${esc(ewsUrl)}</ASUrl><EwsUrl>${esc(ewsUrl)}</EwsUrl>`
  return {
    status: 200,
    xml: '<?xml version="1.0" encoding="utf-8"?>' +
      `<Autodiscover xmlns="${AUTODISCOVER_NS.base}"><Response xmlns="${AUTODISCOVER_NS.response}">` +
      `<User><DisplayName>${esc(mailbox.name)}</DisplayName><AutoDiscoverSMTPAddress>${esc(mailbox.smtp)}</AutoDiscoverSMTPAddress></User>` +
      '<Account><AccountType>email</AccountType><Action>settings</Action>' +
      `<Protocol><Type>EXCH</Type><Server>emulator.local</Server><ServerVersion>73C18880</ServerVersion>${urls}</Protocol>` +
      `<Protocol><Type>EXPR</Type><Server>127.0.0.1</Server>${urls}</Protocol>` +
      '</Account></Response></Autodiscover>'
  }
}

/**
 * SOAP Autodiscover (POST /autodiscover/autodiscover.svc), GetUserSettings
 * only, as web-service-reference/getusersettings-operation-soap.md shows it
 * (request and answer), with the error codes of errorcode-soap.md and the
 * redirects of exchange-web-services/handling-autodiscover-error-messages.md
 * (RedirectAddress / RedirectUrl with RedirectTarget). Settings asked for
 * are answered when known (ExternalEwsUrl, InternalEwsUrl, UserDisplayName,
 * CasVersion, EwsSupportedSchemas), the others in UserSettingErrors as
 * InvalidSetting (usersettingerror-soap.md). A request that is not a SOAP
 * 1.1 envelope with the GetUserSettings wsa:Action, a RequestedServerVersion
 * and one to 100 users (users-soap.md) answers InvalidRequest for the whole
 * request; an unknown mailbox answers InvalidUser for that user. The
 * Microsoft schema set of this repository has no Autodiscover XSD, so this
 * module checks these shapes itself.
 */
const SOAP_SETTINGS = (ewsUrl: string, name: string): Record<string, string> => ({
  ExternalEwsUrl: ewsUrl, InternalEwsUrl: ewsUrl, UserDisplayName: name, CasVersion: '15.02.1544.004', EwsSupportedSchemas: 'Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016'
})

const kid = (e: XmlElement | null | undefined, ns: string, name: string): XmlElement | null => e?.children.find(c => c.ns === ns && c.name === name) ?? null
const kids = (e: XmlElement | null | undefined, ns: string, name: string): XmlElement[] => e?.children.filter(c => c.ns === ns && c.name === name) ?? []

type UserAnswer = { code: string; message: string; redirect?: string; settings?: [string, string][]; unknown?: string[] }

function soapEnvelope (code: string, message: string, users: UserAnswer[]): string {
  const A = AUTODISCOVER_NS
  const user = (u: UserAnswer) => `<UserResponse><ErrorCode>${u.code}</ErrorCode><ErrorMessage>${esc(u.message)}</ErrorMessage>` +
    (u.redirect === undefined ? '<RedirectTarget i:nil="true" />' : `<RedirectTarget>${esc(u.redirect)}</RedirectTarget>`) +
    `<UserSettingErrors>${(u.unknown ?? []).map(n => `<UserSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>The requested setting is invalid.</ErrorMessage><SettingName>${esc(n)}</SettingName></UserSettingError>`).join('')}</UserSettingErrors>` +
    `<UserSettings>${(u.settings ?? []).map(([n, v]) => `<UserSetting i:type="StringSetting"><Name>${n}</Name><Value>${esc(v)}</Value></UserSetting>`).join('')}</UserSettings></UserResponse>`
  return `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${A.wsa}"><s:Header><a:Action s:mustUnderstand="1">${GET_USER_SETTINGS_ACTION}Response</a:Action>` +
    `<h:ServerVersionInfo xmlns:h="${A.soap}" xmlns:i="${A.xsi}"><h:MajorVersion>15</h:MajorVersion><h:MinorVersion>2</h:MinorVersion><h:MajorBuildNumber>1544</h:MajorBuildNumber><h:MinorBuildNumber>4</h:MinorBuildNumber><h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header>` +
    `<s:Body><GetUserSettingsResponseMessage xmlns="${A.soap}"><Response xmlns:i="${A.xsi}"><ErrorCode>${code}</ErrorCode><ErrorMessage>${esc(message)}</ErrorMessage>` +
    `<UserResponses>${users.map(user).join('')}</UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`
}

export function soapAutodiscover (store: Store, body: string, ewsUrl: string, redirects: ReadonlyMap<string, AutodiscoverRedirect> = new Map()): { status: number; xml: string } {
  const A = AUTODISCOVER_NS
  let request: XmlElement | null = null
  let header: XmlElement | null = null
  try {
    const env = parse(body)
    if (env.ns === NS.soap && env.name === 'Envelope') {
      header = kid(env, NS.soap, 'Header')
      request = kid(kid(kid(env, NS.soap, 'Body'), A.soap, 'GetUserSettingsRequestMessage'), A.soap, 'Request')
    }
  } catch {}
  const users = kids(kid(request, A.soap, 'Users'), A.soap, 'User')
  const wanted = kids(kid(request, A.soap, 'RequestedSettings'), A.soap, 'Setting').map(x => x.text.trim())
  const action = kid(header, A.wsa, 'Action')?.text.trim()
  const version = kid(header, A.soap, 'RequestedServerVersion')?.text.trim() ?? ''
  if (request === null || action !== GET_USER_SETTINGS_ACTION || !/^Exchange20(10|13)/.test(version) || users.length === 0 || users.length > 100 || wanted.length === 0) {
    return { status: 200, xml: soapEnvelope('InvalidRequest', 'The request is invalid.', []) }
  }
  const answers = users.map((u): UserAnswer => {
    const email = (kid(u, A.soap, 'Mailbox')?.text ?? '').trim().toLowerCase()
    const redirect = redirects.get(email)
    if (redirect !== undefined) return 'address' in redirect ? { code: 'RedirectAddress', message: 'Redirection address.', redirect: redirect.address } : { code: 'RedirectUrl', message: 'Redirection URL.', redirect: redirect.url }
    const mailbox = store.mailboxes.get(email)
    if (mailbox === undefined) return { code: 'InvalidUser', message: `Invalid user: '${email}'` }
    const known = SOAP_SETTINGS(ewsUrl, mailbox.name)
    return { code: 'NoError', message: 'No error.', settings: wanted.filter(n => n in known).map(n => [n, known[n]!]), unknown: wanted.filter(n => !(n in known)) }
  })
  return { status: 200, xml: soapEnvelope('NoError', '', answers) }
}
