import { DomainError, invalid } from '../../domain/errors.ts'
import { AuthFailed } from '../provider.ts'
import { esc, parse, type XmlElement } from '../microsoft/ews-xml.ts'
import type { Transport } from './client.ts'

/**
 * Finding a mailbox's EWS URL from its e-mail address with POX Autodiscover
 * (web-service-reference/pox-autodiscover-request-for-exchange.md,
 * pox-autodiscover-response-for-exchange.md): POST the request to each
 * candidate in turn, as exchange-web-services/autodiscover-for-exchange.md
 * lists them for a client outside the domain (no AD SCP lookup from here):
 * https://<domain>/autodiscover/autodiscover.xml, then
 * https://autodiscover.<domain>/autodiscover/autodiscover.xml. The first
 * answer naming an EWS URL wins: the EXPR (outside) protocol's, else EXCH's;
 * EwsUrl where given (Exchange 2010 and later), else ASUrl. The candidates
 * are a setting (`{domain}` in them is replaced), so tests point them at the
 * emulator; production keeps the two above.
 */

export const AUTODISCOVER_CANDIDATES = [
  'https://{domain}/autodiscover/autodiscover.xml',
  'https://autodiscover.{domain}/autodiscover/autodiscover.xml'
]

export const AUTODISCOVER_NS = {
  request: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006',
  response: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
  base: 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006'
} as const

export const autodiscoverRequest = (email: string): string => '<?xml version="1.0" encoding="utf-8"?>' +
  `<Autodiscover xmlns="${AUTODISCOVER_NS.request}"><Request><EMailAddress>${esc(email)}</EMailAddress>` +
  `<AcceptableResponseSchema>${AUTODISCOVER_NS.response}</AcceptableResponseSchema></Request></Autodiscover>`

/** By local name: Microsoft's own samples disagree on http/https in these namespaces. */
const kid = (e: XmlElement | null | undefined, name: string): XmlElement | null => e?.children.find(c => c.name === name) ?? null
const kids = (e: XmlElement | null | undefined, name: string): XmlElement[] => e?.children.filter(c => c.name === name) ?? []

/** The EWS URL a POX answer gives, or why it gives none. */
export function ewsUrlOf (xml: string): { url: string } | { error: string } {
  let root: XmlElement
  try {
    root = parse(xml)
  } catch {
    return { error: 'the answer is not Autodiscover XML' }
  }
  const response = kid(root, 'Response')
  const error = kid(response, 'Error')
  if (error !== null) return { error: `${kid(error, 'ErrorCode')?.text ?? ''} ${kid(error, 'Message')?.text ?? ''}`.trim() }
  const protocols = kids(kid(response, 'Account'), 'Protocol')
  for (const type of ['EXPR', 'EXCH']) {
    const p = protocols.find(x => kid(x, 'Type')?.text === type)
    const url = kid(p, 'EwsUrl')?.text || kid(p, 'ASUrl')?.text
    if (url !== undefined && url !== '') return { url }
  }
  return { error: 'the answer names no EWS URL' }
}

export type Discovery = { ewsUrl: string; from: string }

/**
 * Asks each candidate for `email`'s settings, signed in with `transport`
 * (Autodiscover wants the same login as EWS). Throws a DomainError saying
 * what each candidate answered when none names an EWS URL.
 */
export async function discoverEwsUrl (email: string, transport: Transport, candidates: readonly string[] = AUTODISCOVER_CANDIDATES): Promise<Discovery> {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase()
  if (!/^[a-z0-9.-]+\.[a-z]{2,}$|^[a-z0-9-]+$/.test(domain) || !email.includes('@')) {
    throw invalid('autodiscoverEmail', 'give an e-mail address of the organisation, such as someone@example.com')
  }
  const tried: string[] = []
  for (const template of candidates) {
    const url = template.replaceAll('{domain}', domain)
    try {
      const answer = await transport(url, autodiscoverRequest(email))
      if (answer.status === 401) {
        tried.push(`${url}: the login was refused`)
        continue
      }
      if (answer.status !== 200) {
        tried.push(`${url}: HTTP ${answer.status}`)
        continue
      }
      const found = ewsUrlOf(answer.body)
      if ('url' in found) return { ewsUrl: found.url, from: url }
      tried.push(`${url}: ${found.error}`)
    } catch (e) {
      tried.push(`${url}: ${e instanceof AuthFailed ? 'the login was refused' : (e as Error).message}`)
    }
  }
  throw new DomainError('conflict', `Autodiscover found no EWS address for ${domain} (${tried.join('; ')}); enter the EWS URL instead`, { rule: 'exchange-autodiscover', field: 'autodiscoverEmail' })
}
