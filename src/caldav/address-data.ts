import { carddav, element, type AddressDataRequest, type MultistatusResponse, type PropfindRequest, charsetOf } from '../dav/xml/index.ts'
import type { CardRow } from '../domain/address-book-cards.ts'
import { convertVCard, parseVCard, serializeVCard, type VCardVersion } from '../vcard/model.ts'
import type { DavAddressBook } from './backend.ts'
import { DavError } from './errors.ts'
import { propertiesOf } from './properties.ts'
import { propResponse } from './respond.ts'
import { cardHref, type Ctx, type Resource } from './resources.ts'

/**
 * CardDAV bodies (RFC 6352 §6.3, §10.4): a card is served as stored unless
 * the client asks for the other vCard version (Accept on GET, address-data's
 * version in a report); then it is converted, with an ETag of its own, since
 * a strong ETag names one representation (RFC 9110 §8.8.3).
 */
const STRICT_UTF_8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const UTF_8 = new Set(['utf-8', 'utf8', 'us-ascii'])

/** A PUT body as text: vCard 4.0 is UTF-8 only (RFC 6350 §3.1), and so is what Kalends stores. */
export function vcardText (bytes: Uint8Array, contentType: string | undefined): string {
  const charset = charsetOf(contentType)
  if (charset !== undefined && !UTF_8.has(charset)) throw new DavError(415, `address data must be UTF-8, not ${charset}`, carddav('supported-address-data'))
  try {
    return STRICT_UTF_8.decode(bytes)
  } catch {
    throw new DavError(403, 'the vCard is not valid UTF-8', carddav('valid-address-data'))
  }
}

/** The version an Accept header prefers (by q, then order), when it names one. */
export function versionFromAccept (accept: string | undefined): VCardVersion | undefined {
  if (accept === undefined) return undefined
  const ranges = accept.split(',').map((part, i) => {
    const [type, ...params] = part.split(';').map(s => s.trim())
    const p = new Map(params.map(x => { const [k, v] = x.split('='); return [k!.toLowerCase(), (v ?? '').replace(/"/g, '')] as const }))
    return { type: type!.toLowerCase(), version: p.get('version'), q: p.has('q') ? Number(p.get('q')) : 1, i }
  }).filter(r => r.type === 'text/vcard' && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i)
  const v = ranges.find(r => r.version === '3.0' || r.version === '4.0')?.version
  return v as VCardVersion | undefined
}

const variantTag = (etag: string, version: VCardVersion) => `${etag.slice(0, -1)}-v${version[0]}"`

/** Every ETag a representation of the card was served under: an If-Match with any of them matches the card. */
export function etagsOf (card: Pick<CardRow, 'etag' | 'vcard_version'>): string[] {
  return [card.etag, variantTag(card.etag, card.vcard_version === '3.0' ? '4.0' : '3.0')]
}

export function representation (card: CardRow, version: VCardVersion | undefined, props?: AddressDataRequest['props']): { body: string; etag: string; version: VCardVersion } {
  const stored = card.vcard!
  if ((version === undefined || version === card.vcard_version) && props === undefined) return { body: stored, etag: card.etag, version: card.vcard_version }
  const to = version ?? card.vcard_version
  let parsed = convertVCard(parseVCard(stored), to)
  if (props !== undefined) {
    const wanted = new Set(['VERSION', ...props.map(p => p.name)])
    const empty = new Set(props.filter(p => p.novalue).map(p => p.name))
    parsed = { ...parsed, props: parsed.props.filter(p => wanted.has(p.name)).map(p => empty.has(p.name) ? { ...p, value: '' } : p) }
  }
  return { body: serializeVCard(parsed), etag: to === card.vcard_version ? card.etag : variantTag(card.etag, to), version: to }
}

export const vcardContentType = (version: VCardVersion) => `text/vcard; charset=utf-8; version=${version}`

/** One card's response with the requested properties; address-data shaped as asked. */
export async function cardResponse (ctx: Ctx, book: DavAddressBook, card: CardRow, props: PropfindRequest, ad: AddressDataRequest | undefined): Promise<MultistatusResponse> {
  const res: Resource = { kind: 'card', path: cardHref(ctx, book, card.name), book, card }
  const { found, missing } = await propertiesOf(ctx, res, props)
  if (card.vcard !== undefined && ad !== undefined) {
    const i = found.findIndex(p => p.ns === 'urn:ietf:params:xml:ns:carddav' && p.name === 'address-data')
    if (i >= 0) found[i] = element(carddav('address-data'), representation(card, ad.version, ad.props).body)
  }
  return propResponse(res.path, found, missing)
}
