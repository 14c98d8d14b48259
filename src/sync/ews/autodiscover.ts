import { DomainError, invalid } from '../../domain/errors.ts'
import { AuthFailed } from '../provider.ts'
import { esc, NS, parse, type XmlElement } from '../microsoft/ews-xml.ts'
import type { Transport } from './client.ts'

/**
 * Finding a mailbox's EWS URL from its e-mail address with Autodiscover
 * (exchange-web-services/autodiscover-for-exchange.md), SOAP first as that
 * page recommends, POX where SOAP is not offered (Exchange 2007, or a
 * proxy that passes only autodiscover.xml). The candidates are those a
 * client outside the domain has (no AD SCP lookup from here), each in both
 * forms: https://<domain>/autodiscover/autodiscover.svc, then .xml, then
 * the same on https://autodiscover.<domain>/. The candidates are a setting
 * (the .xml forms, `{domain}` replaced; the .svc one is derived), so tests
 * point them at the emulator; production keeps the two above.
 *
 * SOAP: GetUserSettings (web-service-reference/getusersettings-operation-soap.md)
 * asking for ExternalEwsUrl and InternalEwsUrl (setting-soap.md), the
 * external one preferred since Kalends reaches the server from outside.
 * POX: web-service-reference/pox-autodiscover-request-for-exchange.md,
 * pox-autodiscover-response-for-exchange.md: the EXPR (outside) protocol's
 * EwsUrl, else EXCH's; ASUrl where EwsUrl is missing (before 2010).
 * Redirects (exchange-web-services/handling-autodiscover-error-messages.md):
 * RedirectAddress / redirectAddr starts again with the new address (never
 * the same one), RedirectUrl / redirectUrl sends the request to that URL
 * first (only https, or http where the answering candidate was http: no
 * downgrade); at most MAX_HOPS redirects, as the EWS Managed API's loop.
 */

export const AUTODISCOVER_CANDIDATES = [
  'https://{domain}/autodiscover/autodiscover.xml',
  'https://autodiscover.{domain}/autodiscover/autodiscover.xml'
]

export const AUTODISCOVER_NS = {
  request: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006',
  response: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
  base: 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
  soap: 'http://schemas.microsoft.com/exchange/2010/Autodiscover',
  wsa: 'http://www.w3.org/2005/08/addressing',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance'
} as const

/** The wsa:Action of a GetUserSettings request; the answer's is this + "Response". */
export const GET_USER_SETTINGS_ACTION = `${AUTODISCOVER_NS.soap}/Autodiscover/GetUserSettings`
export const EWS_URL_SETTINGS = ['ExternalEwsUrl', 'InternalEwsUrl'] as const
const MAX_HOPS = 10

export type AutodiscoverProtocol = 'soap' | 'pox'
type Endpoint = { url: string; protocol: AutodiscoverProtocol }

export const autodiscoverRequest = (email: string): string => '<?xml version="1.0" encoding="utf-8"?>' +
  `<Autodiscover xmlns="${AUTODISCOVER_NS.request}"><Request><EMailAddress>${esc(email)}</EMailAddress>` +
  `<AcceptableResponseSchema>${AUTODISCOVER_NS.response}</AcceptableResponseSchema></Request></Autodiscover>`

export const soapAutodiscoverRequest = (email: string, url: string): string => '<?xml version="1.0" encoding="utf-8"?>' +
  `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:a="${AUTODISCOVER_NS.soap}" xmlns:wsa="${AUTODISCOVER_NS.wsa}">` +
  `<soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>${GET_USER_SETTINGS_ACTION}</wsa:Action><wsa:To>${esc(url)}</wsa:To></soap:Header>` +
  `<soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>${esc(email)}</a:Mailbox></a:User></a:Users>` +
  `<a:RequestedSettings>${EWS_URL_SETTINGS.map(x => `<a:Setting>${x}</a:Setting>`).join('')}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`

/** By local name: Microsoft's own samples disagree on http/https in these namespaces. */
const kid = (e: XmlElement | null | undefined, name: string): XmlElement | null => e?.children.find(c => c.name === name) ?? null
const kids = (e: XmlElement | null | undefined, name: string): XmlElement[] => e?.children.filter(c => c.name === name) ?? []

const parsed = (xml: string): XmlElement | null => {
  try {
    return parse(xml)
  } catch {
    return null
  }
}

/** What one answer says: the EWS URL, a redirect, or why neither. */
export type AutodiscoverAnswer = { url: string } | { redirectAddress: string } | { redirectUrl: string } | { error: string }

/** The EWS URL a POX answer gives, a redirect, or why it gives none. */
export function ewsUrlOf (xml: string): AutodiscoverAnswer {
  const root = parsed(xml)
  if (root === null) return { error: 'the answer is not Autodiscover XML' }
  const response = kid(root, 'Response')
  const error = kid(response, 'Error')
  if (error !== null) return { error: `${kid(error, 'ErrorCode')?.text ?? ''} ${kid(error, 'Message')?.text ?? ''}`.trim() }
  const account = kid(response, 'Account')
  const action = kid(account, 'Action')?.text
  if (action === 'redirectAddr' && (kid(account, 'RedirectAddr')?.text ?? '') !== '') return { redirectAddress: kid(account, 'RedirectAddr')!.text }
  if (action === 'redirectUrl' && (kid(account, 'RedirectUrl')?.text ?? '') !== '') return { redirectUrl: kid(account, 'RedirectUrl')!.text }
  const protocols = kids(account, 'Protocol')
  for (const type of ['EXPR', 'EXCH']) {
    const p = protocols.find(x => kid(x, 'Type')?.text === type)
    const url = kid(p, 'EwsUrl')?.text || kid(p, 'ASUrl')?.text
    if (url !== undefined && url !== '') return { url }
  }
  return { error: 'the answer names no EWS URL' }
}

/** The same for a SOAP GetUserSettings answer: the request's error, else the user's, else the settings. */
export function ewsUrlOfSoap (xml: string): AutodiscoverAnswer {
  const response = kid(kid(kid(parsed(xml), 'Body'), 'GetUserSettingsResponseMessage'), 'Response')
  if (response === null) return { error: 'the answer is not a SOAP Autodiscover answer' }
  const said = (e: XmlElement | null) => `${kid(e, 'ErrorCode')?.text ?? ''} ${kid(e, 'ErrorMessage')?.text ?? ''}`.trim()
  if ((kid(response, 'ErrorCode')?.text ?? 'NoError') !== 'NoError') return { error: said(response) }
  const user = kid(kid(response, 'UserResponses'), 'UserResponse')
  if (user === null) return { error: 'the answer holds no user' }
  const code = kid(user, 'ErrorCode')?.text ?? 'NoError'
  const target = kid(user, 'RedirectTarget')?.text ?? ''
  if (code === 'RedirectAddress' && target !== '') return { redirectAddress: target }
  if (code === 'RedirectUrl' && target !== '') return { redirectUrl: target }
  if (code !== 'NoError') return { error: said(user) }
  const settings = new Map(kids(kid(user, 'UserSettings'), 'UserSetting').map(x => [kid(x, 'Name')?.text ?? '', kid(x, 'Value')?.text ?? '']))
  for (const name of EWS_URL_SETTINGS) {
    const url = settings.get(name)
    if (url !== undefined && url !== '') return { url }
  }
  return { error: 'the answer names no EWS URL' }
}

export type Discovery = { ewsUrl: string; from: string; protocol: AutodiscoverProtocol }

const protocolOf = (url: string): AutodiscoverProtocol => /\.svc$/i.test(url.split(/[?#]/)[0]!) ? 'soap' : 'pox'

/** Each candidate's SOAP form first (.xml → .svc), then its POX form. */
function endpointsFor (domain: string, candidates: readonly string[]): Endpoint[] {
  return candidates.flatMap(template => {
    const url = template.replaceAll('{domain}', domain)
    if (protocolOf(url) === 'soap') return [{ url, protocol: 'soap' as const }]
    const soap = url.replace(/autodiscover\.xml$/i, 'autodiscover.svc')
    return soap === url ? [{ url, protocol: 'pox' as const }] : [{ url: soap, protocol: 'soap' as const }, { url, protocol: 'pox' as const }]
  })
}

const domainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase()

/**
 * Asks each candidate for `email`'s settings, signed in with `transport`
 * (Autodiscover wants the same login as EWS), following redirects. Throws
 * a DomainError saying what each candidate answered when none names an
 * EWS URL.
 */
export async function discoverEwsUrl (email: string, transport: Transport, candidates: readonly string[] = AUTODISCOVER_CANDIDATES): Promise<Discovery> {
  const domain = domainOf(email)
  if (!/^[a-z0-9.-]+\.[a-z]{2,}$|^[a-z0-9-]+$/.test(domain) || !email.includes('@')) {
    throw invalid('autodiscoverEmail', 'give an e-mail address of the organisation, such as someone@example.com')
  }
  const tried: string[] = []
  let address = email
  let queue = endpointsFor(domain, candidates)
  const asked = new Set<string>()
  let hops = 0
  while (queue.length > 0) {
    const endpoint = queue.shift()!
    const key = `${endpoint.url} ${address}`
    if (asked.has(key)) continue
    asked.add(key)
    const { url, protocol } = endpoint
    let found: AutodiscoverAnswer
    try {
      const answer = await transport(url, protocol === 'soap' ? soapAutodiscoverRequest(address, url) : autodiscoverRequest(address))
      if (answer.status !== 200) {
        tried.push(`${url}: ${answer.status === 401 ? 'the login was refused' : `HTTP ${answer.status}`}`)
        continue
      }
      found = protocol === 'soap' ? ewsUrlOfSoap(answer.body) : ewsUrlOf(answer.body)
    } catch (e) {
      tried.push(`${url}: ${e instanceof AuthFailed ? 'the login was refused' : (e as Error).message}`)
      continue
    }
    if ('url' in found) return { ewsUrl: found.url, from: url, protocol }
    if ('error' in found) {
      tried.push(`${url}: ${found.error}`)
      continue
    }
    if (hops >= MAX_HOPS) {
      tried.push(`${url}: more than ${MAX_HOPS} redirects`)
      break
    }
    hops++
    if ('redirectAddress' in found) {
      const next = found.redirectAddress.trim().toLowerCase()
      if (next === address.toLowerCase() || !next.includes('@')) {
        tried.push(`${url}: redirected to the same address`)
        continue
      }
      tried.push(`${url}: redirected to ${next}`)
      address = next
      queue = endpointsFor(domainOf(next), candidates)
      continue
    }
    let target: URL | null = null
    try {
      target = new URL(found.redirectUrl)
    } catch {}
    if (target === null || !(target.protocol === 'https:' || (target.protocol === 'http:' && url.startsWith('http:')))) {
      tried.push(`${url}: refused a redirect to ${found.redirectUrl} (not https)`)
      continue
    }
    tried.push(`${url}: redirected to ${target.href}`)
    queue.unshift({ url: target.href, protocol: protocolOf(target.href) })
  }
  throw new DomainError('conflict', `Autodiscover found no EWS address for ${domain} (${tried.join('; ')}); enter the EWS URL instead`, { rule: 'exchange-autodiscover', field: 'autodiscoverEmail' })
}
