import { parseXml, type XmlElement } from '../../dav/xml/parse.ts'

/**
 * Building and reading EWS SOAP: what the EWS client and the EWS emulator
 * (conformance/ews-emulator) share. Parsing goes through the project's
 * strict XML parser (no DTDs, bounded size and depth).
 */

/** The namespaces of EWS SOAP (docs/exchange-web-services/ews-xml-elements-in-exchange.md). */
export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  m: 'http://schemas.microsoft.com/exchange/services/2006/messages',
  t: 'http://schemas.microsoft.com/exchange/services/2006/types',
  e: 'http://schemas.microsoft.com/exchange/services/2006/errors'
} as const

export type { XmlElement }

export const parse = (body: string): XmlElement => parseXml(body)

export function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export type Attrs = Record<string, string | number | boolean | null | undefined>

/** One element: `name` carries its prefix (t:, m:); children are already serialized. */
export function el (name: string, attrs: Attrs = {}, ...children: (string | null | undefined | false)[]): string {
  const a = Object.entries(attrs).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => ` ${k}="${esc(String(v))}"`).join('')
  const inner = children.filter(c => typeof c === 'string').join('')
  return inner === '' ? `<${name}${a}/>` : `<${name}${a}>${inner}</${name}>`
}

/** A text-only element in the types namespace. */
export const tv = (name: string, value: string | number | boolean): string => el(`t:${name}`, {}, esc(String(value)))

export const child = (e: XmlElement | null | undefined, ns: string, name: string): XmlElement | null =>
  e?.children.find(c => c.ns === ns && c.name === name) ?? null

export const childrenOf = (e: XmlElement | null | undefined, ns: string, name?: string): XmlElement[] =>
  e?.children.filter(c => c.ns === ns && (name === undefined || c.name === name)) ?? []

export const textOf = (e: XmlElement | null | undefined, ns: string, name: string): string | null => child(e, ns, name)?.text ?? null

const PREFIX: Record<string, string> = { [NS.t]: 't', [NS.m]: 'm', [NS.e]: 'e', [NS.soap]: 'soap' }

/** A parsed element written back with the t:/m: prefixes the envelope declares. */
export function serialize (e: XmlElement): string {
  const prefix = PREFIX[e.ns]
  if (prefix === undefined) throw new Error(`cannot write an element of namespace ${e.ns}`)
  const attrs = Object.fromEntries(Object.entries(e.attrs).filter(([k]) => !k.startsWith('{')))
  const body = e.children.length > 0 ? e.children.map(serialize).join('') : esc(e.text)
  return el(`${prefix}:${e.name}`, attrs, body)
}

export const isTrue = (v: string | null | undefined): boolean => v === 'true' || v === '1'
