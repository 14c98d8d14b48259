import ICAL from 'ical.js'

/**
 * A vCard as its content lines (RFC 6350 §3.3, RFC 2426 §2.4.2), kept as
 * close to what the client sent as a round trip allows: groups, parameters
 * and unknown properties stay, values stay escaped as they came. The CRM
 * reads fields from it (fields.ts) and patches only the lines it owns.
 */
/** `name` upper-cased for matching; `spelled` the name as the client wrote it (with its group), written back as it was. Parameter keys keep their spelling ('' for vCard 3.0's bare TYPE value). */
export type VProp = { group: string | null; name: string; params: [string, string][]; value: string; spelled?: string }
export type VCard = { version: '3.0' | '4.0'; props: VProp[] }
export type VCardVersion = VCard['version']

/** The precondition a bad body breaks (RFC 6352 §6.3.2.1), for CardDAV to render and REST to explain. */
export class VCardError extends Error {
  readonly code: 'valid-address-data' | 'supported-address-data'
  constructor (code: VCardError['code'], message: string) {
    super(message)
    this.code = code
    this.name = 'VCardError'
  }
}

const NAME = /^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)$/
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/

function unfold (text: string): string[] {
  return text.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]/g, '').split('\n').filter(l => l.trim() !== '')
}

/** Splits at the first `sep` outside double quotes. */
function splitOutsideQuotes (s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (const ch of s) {
    if (ch === '"') quoted = !quoted
    if (ch === sep && !quoted) { out.push(cur); cur = ''; continue }
    cur += ch
  }
  out.push(cur)
  return out
}

function parseLine (line: string): VProp {
  let quoted = false
  let colon = -1
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted
    else if (line[i] === ':' && !quoted) { colon = i; break }
  }
  if (colon < 0) throw new VCardError('valid-address-data', `a line has no ":" between name and value: ${line.slice(0, 60)}`)
  const [head, ...rawParams] = splitOutsideQuotes(line.slice(0, colon), ';')
  const m = NAME.exec(head!)
  if (m === null) throw new VCardError('valid-address-data', `"${head!.slice(0, 60)}" is not a property name`)
  const params: [string, string][] = rawParams.map(p => {
    const eq = p.indexOf('=')
    // vCard 3.0 allows a bare TYPE value ("TEL;CELL:...")
    return eq < 0 ? ['', p] : [p.slice(0, eq), p.slice(eq + 1)]
  })
  return { group: m[1] ?? null, name: m[2]!.toUpperCase(), params, value: line.slice(colon + 1), spelled: head! }
}

/**
 * One vCard (a CardDAV resource holds exactly one, RFC 6352 §5.1) of
 * version 3.0 or 4.0, checked by ical.js too, the parser the rest of the
 * code trusts. Anything else is refused with the precondition it breaks.
 */
export function parseVCard (text: string): VCard {
  if (CONTROL.test(text)) throw new VCardError('valid-address-data', 'the vCard holds control characters')
  const lines = unfold(text)
  if (lines[0]?.toUpperCase() !== 'BEGIN:VCARD' || lines.at(-1)?.toUpperCase() !== 'END:VCARD') {
    throw new VCardError('valid-address-data', 'the body is not a vCard (BEGIN:VCARD … END:VCARD)')
  }
  const props = lines.slice(1, -1).map(parseLine)
  if (props.some(p => p.name === 'BEGIN' || p.name === 'END')) throw new VCardError('valid-address-data', 'one resource holds exactly one vCard')
  const version = props.find(p => p.name === 'VERSION')?.value.trim()
  if (version !== '3.0' && version !== '4.0') throw new VCardError('supported-address-data', `vCard version ${version ?? '(none)'} is not supported; send 3.0 or 4.0`)
  if (!props.some(p => p.name === 'FN') && !props.some(p => p.name === 'N')) throw new VCardError('valid-address-data', 'a vCard needs FN (its formatted name)')
  try {
    ICAL.parse(text)
  } catch (err) {
    throw new VCardError('valid-address-data', `the vCard does not parse: ${(err as Error).message}`)
  }
  return { version, props }
}

const FOLD_AT = 75

function foldLine (line: string): string {
  if (Buffer.byteLength(line) <= FOLD_AT) return line
  const parts: string[] = []
  let cur = ''
  for (const ch of line) {
    if (Buffer.byteLength(cur + ch) > (parts.length === 0 ? FOLD_AT : FOLD_AT - 1)) { parts.push(cur); cur = '' }
    cur += ch
  }
  parts.push(cur)
  return parts.join('\r\n ')
}

export function propLine (p: VProp): string {
  const params = p.params.map(([k, v]) => k === '' ? `;${v}` : `;${k}=${v}`).join('')
  const name = p.spelled !== undefined && p.spelled.toUpperCase() === `${p.group === null ? '' : `${p.group}.`}${p.name}`.toUpperCase() ? p.spelled : `${p.group === null ? '' : `${p.group}.`}${p.name}`
  return `${name}${params}:${p.value}`
}

export function serializeVCard (card: VCard): string {
  const lines = ['BEGIN:VCARD', ...card.props.map(propLine), 'END:VCARD']
  return lines.map(foldLine).join('\r\n') + '\r\n'
}

export function escapeValue (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/,/g, '\\,').replace(/;/g, '\\;')
}

export function unescapeValue (s: string): string {
  return s.replace(/\\([\\nN,;:])/g, (_, c: string) => c === 'n' || c === 'N' ? '\n' : c)
}

/** The components of a structured value (N, ADR, ORG), unescaped. */
export function structured (value: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!
    if (ch === '\\' && i + 1 < value.length) { cur += ch + value[i + 1]; i++; continue }
    if (ch === ';') { out.push(unescapeValue(cur)); cur = ''; continue }
    cur += ch
  }
  out.push(unescapeValue(cur))
  return out
}

/** The parameter's key, upper-cased; a bare vCard 3.0 value is a TYPE. */
export const paramKey = (k: string) => k === '' ? 'TYPE' : k.toUpperCase()

export function paramValues (p: VProp, name: string): string[] {
  return p.params.filter(([k]) => paramKey(k) === name).flatMap(([, v]) => splitOutsideQuotes(v, ',')).map(v => v.replace(/^"|"$/g, ''))
}

/**
 * The same card in the other version, for a client that asked for it
 * (Accept, or address-data's version): VERSION, the photo's encoding, the
 * preferred-value marker, the kind of a company and a tel: URI are the
 * differences the clients here meet (RFC 6350 Appendix A).
 */
export function convertVCard (card: VCard, to: VCardVersion): VCard {
  if (card.version === to) return card
  const props: VProp[] = []
  for (const p of card.props) {
    if (p.name === 'VERSION') { props.push({ ...p, value: to }); continue }
    props.push(to === '4.0' ? toV4(p) : toV3(p))
  }
  if (to === '3.0' && !props.some(p => p.name === 'N')) {
    const fn = props.find(p => p.name === 'FN')?.value ?? ''
    props.push({ group: null, name: 'N', params: [], value: `${fn};;;;` })
  }
  if (to === '4.0' && !props.some(p => p.name === 'FN')) {
    const n = structured(props.find(p => p.name === 'N')?.value ?? '')
    props.push({ group: null, name: 'FN', params: [], value: escapeValue([n[3], n[1], n[2], n[0], n[4]].filter(s => s !== undefined && s !== '').join(' ')) })
  }
  return { version: to, props }
}

function toV4 (p: VProp): VProp {
  let params = p.params
  let value = p.value
  let name = p.name
  const types = paramValues(p, 'TYPE')
  if (types.some(t => t.toLowerCase() === 'pref')) {
    const rest = types.filter(t => t.toLowerCase() !== 'pref')
    params = [...params.filter(([k]) => paramKey(k) !== 'TYPE'), ...(rest.length > 0 ? [['TYPE', rest.join(',')] as [string, string]] : []), ['PREF', '1']]
  }
  const encoding = params.find(([k]) => paramKey(k) === 'ENCODING')?.[1].toLowerCase()
  if ((p.name === 'PHOTO' || p.name === 'LOGO') && (encoding === 'b' || encoding === 'base64')) {
    const type = (paramValues(p, 'TYPE')[0] ?? 'jpeg').toLowerCase()
    params = params.filter(([k]) => paramKey(k) !== 'ENCODING' && paramKey(k) !== 'TYPE')
    value = `data:${type.includes('/') ? type : `image/${type}`};base64,${value.replace(/\s/g, '')}`
  }
  if (p.name === 'X-ADDRESSBOOKSERVER-KIND') name = 'KIND'
  return { ...p, name, params, value }
}

const DATA_URI = /^data:([^;,]+)?(;base64)?,(.*)$/s

function toV3 (p: VProp): VProp {
  let params = p.params
  let value = p.value
  let name = p.name
  const pref = params.find(([k]) => paramKey(k) === 'PREF')
  if (pref !== undefined) {
    params = params.filter(([k]) => paramKey(k) !== 'PREF')
    if (pref[1] === '1') params = [...params, ['TYPE', 'pref']]
  }
  const data = (p.name === 'PHOTO' || p.name === 'LOGO') ? DATA_URI.exec(value) : null
  if (data !== null && data[2] !== undefined) {
    const type = (data[1] ?? 'image/jpeg').replace(/^image\//, '').toUpperCase()
    params = [...params.filter(([k]) => paramKey(k) !== 'VALUE' && paramKey(k) !== 'MEDIATYPE'), ['ENCODING', 'b'], ['TYPE', type]]
    value = data[3]!
  }
  if (p.name === 'TEL' && /^tel:/i.test(value)) {
    params = params.filter(([k, v]) => !(paramKey(k) === 'VALUE' && v.toLowerCase() === 'uri'))
    value = value.slice(4)
  }
  if (p.name === 'KIND') name = 'X-ADDRESSBOOKSERVER-KIND'
  return { ...p, name, params, value }
}
