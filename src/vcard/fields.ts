import type { ContactAddress, ContactEmail, ContactKind, ContactPhone, ContactWebsite } from '../db/schema.ts'
import { escapeValue, paramKey, paramValues, structured, unescapeValue, type VCard, type VCardVersion, type VProp } from './model.ts'

/**
 * The CRM fields of a contact and the vCard lines they live in. Reading takes
 * them out of whatever a client sent; writing patches only the lines of the
 * fields that changed, so every other line (X- properties, Apple's grouped
 * labels, parameters of an unchanged phone) stays as the client wrote it.
 */
export type ContactFields = {
  kind: ContactKind
  displayName: string
  prefix: string
  givenName: string
  middleName: string
  familyName: string
  suffix: string
  organization: string
  jobTitle: string
  emails: ContactEmail[]
  phones: ContactPhone[]
  addresses: ContactAddress[]
  websites: ContactWebsite[]
  /** YYYY-MM-DD, or --MM-DD without a year */
  birthday: string | null
  notes: string
  /** a data: or https: URI */
  photo: string | null
}

export const EMPTY_FIELDS: ContactFields = {
  kind: 'person', displayName: '', prefix: '', givenName: '', middleName: '', familyName: '', suffix: '',
  organization: '', jobTitle: '', emails: [], phones: [], addresses: [], websites: [], birthday: null, notes: '', photo: null
}

const IGNORED_TYPES = new Set(['pref', 'internet', 'voice', 'x400'])

function typeOf (p: VProp): string {
  return paramValues(p, 'TYPE').map(t => t.toLowerCase()).find(t => !IGNORED_TYPES.has(t)) ?? ''
}

const first = (card: VCard, name: string) => card.props.find(p => p.name === name)
const text = (p: VProp | undefined) => p === undefined ? '' : unescapeValue(p.value)

export function displayNameOf (f: Pick<ContactFields, 'prefix' | 'givenName' | 'middleName' | 'familyName' | 'suffix' | 'organization'>): string {
  const name = [f.prefix, f.givenName, f.middleName, f.familyName, f.suffix].filter(s => s !== '').join(' ')
  return name !== '' ? name : f.organization
}

/** BDAY as YYYY-MM-DD or --MM-DD; null for a form the CRM does not index (the line itself stays). */
export function birthdayOf (value: string): string | null {
  const v = value.trim()
  let m = /^(\d{4})-?(\d{2})-?(\d{2})(T.*)?$/.exec(v)
  if (m !== null) return `${m[1]}-${m[2]}-${m[3]}`
  m = /^--(\d{2})-?(\d{2})$/.exec(v)
  if (m !== null) return `--${m[1]}-${m[2]}`
  return null
}

function photoOf (p: VProp | undefined): string | null {
  if (p === undefined) return null
  const encoding = p.params.find(([k]) => paramKey(k) === 'ENCODING')?.[1].toLowerCase()
  if (encoding === 'b' || encoding === 'base64') {
    const type = (paramValues(p, 'TYPE')[0] ?? 'jpeg').toLowerCase()
    return `data:${type.includes('/') ? type : `image/${type}`};base64,${p.value.replace(/\s/g, '')}`
  }
  return p.value === '' ? null : p.value
}

function isCompany (card: VCard): boolean {
  const kind = card.props.find(p => p.name === 'KIND' || p.name === 'X-ADDRESSBOOKSERVER-KIND')?.value.toLowerCase()
  if (kind === 'org') return true
  return card.props.some(p => p.name === 'X-ABSHOWAS' && p.value.toUpperCase() === 'COMPANY')
}

export function fieldsOf (card: VCard): ContactFields {
  const n = structured(first(card, 'N')?.value ?? '')
  const org = structured(first(card, 'ORG')?.value ?? '')
  const f: ContactFields = {
    kind: isCompany(card) ? 'company' : 'person',
    familyName: n[0] ?? '', givenName: n[1] ?? '', middleName: n[2] ?? '', prefix: n[3] ?? '', suffix: n[4] ?? '',
    organization: org[0] ?? '',
    displayName: text(first(card, 'FN')),
    jobTitle: text(first(card, 'TITLE')),
    emails: card.props.filter(p => p.name === 'EMAIL').map(p => ({ type: typeOf(p), value: unescapeValue(p.value).replace(/^mailto:/i, '') })),
    phones: card.props.filter(p => p.name === 'TEL').map(p => ({ type: typeOf(p), value: unescapeValue(p.value).replace(/^tel:/i, '') })),
    addresses: card.props.filter(p => p.name === 'ADR').map(p => {
      const a = structured(p.value)
      return { type: typeOf(p), poBox: a[0] ?? '', extended: a[1] ?? '', street: a[2] ?? '', locality: a[3] ?? '', region: a[4] ?? '', postalCode: a[5] ?? '', country: a[6] ?? '' }
    }),
    websites: card.props.filter(p => p.name === 'URL').map(p => ({ type: typeOf(p), value: unescapeValue(p.value) })),
    birthday: first(card, 'BDAY') === undefined ? null : birthdayOf(first(card, 'BDAY')!.value),
    notes: text(first(card, 'NOTE')),
    photo: photoOf(first(card, 'PHOTO'))
  }
  if (f.displayName.trim() === '') f.displayName = displayNameOf(f)
  return f
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
const prop = (name: string, value: string, params: [string, string][] = []): VProp => ({ group: null, name, params, value })
const typed = (type: string): [string, string][] => type === '' ? [] : [['TYPE', type]]

/** Replaces the first line named `name` (keeping its group and parameters), adds it, or (value null) removes every such line. */
function setSingle (props: VProp[], name: string, value: string | null): VProp[] {
  const at = props.findIndex(p => p.name === name)
  if (value === null) return props.filter(p => p.name !== name)
  if (at < 0) return [...props, prop(name, value)]
  return props.flatMap((p, i) => i === at ? [{ ...p, value }] : p.name === name ? [] : [p])
}

/** A list field: lines whose value stays keep everything they had; the rest go; new values are added. */
function setList<T> (props: VProp[], name: string, after: T[], key: (v: T) => string, render: (v: T) => VProp, valueOf: (p: VProp) => string): VProp[] {
  const wanted = new Map<string, T[]>()
  for (const v of after) wanted.set(key(v), [...(wanted.get(key(v)) ?? []), v])
  const kept: VProp[] = []
  for (const p of props) {
    if (p.name !== name) { kept.push(p); continue }
    const match = wanted.get(valueOf(p))
    if (match !== undefined && match.length > 0) { match.shift(); kept.push(p) }
  }
  for (const rest of wanted.values()) for (const v of rest) kept.push(render(v))
  return kept
}

function photoProp (photo: string, version: VCardVersion): VProp {
  const data = /^data:([^;,]+)?;base64,(.*)$/s.exec(photo)
  if (version === '3.0' && data !== null) {
    return prop('PHOTO', data[2]!, [['ENCODING', 'b'], ['TYPE', (data[1] ?? 'image/jpeg').replace(/^image\//, '').toUpperCase()]])
  }
  return prop('PHOTO', photo, version === '3.0' ? [['VALUE', 'uri']] : [])
}

const adrValue = (a: ContactAddress) => [a.poBox, a.extended, a.street, a.locality, a.region, a.postalCode, a.country].map(escapeValue).join(';')
const adrKey = (a: ContactAddress) => JSON.stringify(structuredAdr(adrValue(a)))
const structuredAdr = (v: string) => structured(v).slice(0, 7).concat(Array(7).fill('')).slice(0, 7)

/**
 * The card with `after` written into it. `before` is what the card held as
 * the CRM read it (null for a new card): only fields that differ are
 * rewritten.
 */
export function patchCard (card: VCard, before: ContactFields | null, after: ContactFields): VCard {
  const was = before ?? EMPTY_FIELDS
  const fresh = before === null
  let props = card.props
  const changed = (k: keyof ContactFields) => fresh || !same(was[k], after[k])
  if (changed('prefix') || changed('givenName') || changed('middleName') || changed('familyName') || changed('suffix') || !props.some(p => p.name === 'N')) {
    props = setSingle(props, 'N', [after.familyName, after.givenName, after.middleName, after.prefix, after.suffix].map(escapeValue).join(';'))
  }
  if (changed('displayName') || !props.some(p => p.name === 'FN')) props = setSingle(props, 'FN', escapeValue(after.displayName))
  if (changed('organization')) {
    const rest = structured(props.find(p => p.name === 'ORG')?.value ?? '').slice(1)
    props = setSingle(props, 'ORG', after.organization === '' && rest.every(s => s === '') ? null : [after.organization, ...rest].map(escapeValue).join(';'))
  }
  if (changed('jobTitle')) props = setSingle(props, 'TITLE', after.jobTitle === '' ? null : escapeValue(after.jobTitle))
  if (changed('notes')) props = setSingle(props, 'NOTE', after.notes === '' ? null : escapeValue(after.notes))
  if (changed('birthday')) props = setSingle(props, 'BDAY', after.birthday === null ? null : after.birthday)
  if (changed('kind')) {
    props = props.filter(p => p.name !== 'KIND' && p.name !== 'X-ADDRESSBOOKSERVER-KIND' && !(p.name === 'X-ABSHOWAS'))
    if (after.kind === 'company') props = [...props, prop(card.version === '4.0' ? 'KIND' : 'X-ADDRESSBOOKSERVER-KIND', 'org'), ...(card.version === '3.0' ? [prop('X-ABSHOWAS', 'COMPANY')] : [])]
  }
  if (changed('photo')) {
    props = props.filter(p => p.name !== 'PHOTO')
    if (after.photo !== null) props = [...props, photoProp(after.photo, card.version)]
  }
  if (changed('emails')) {
    props = setList(props, 'EMAIL', after.emails, e => e.value.toLowerCase(), e => prop('EMAIL', escapeValue(e.value), typed(e.type)), p => unescapeValue(p.value).replace(/^mailto:/i, '').toLowerCase())
  }
  if (changed('phones')) {
    props = setList(props, 'TEL', after.phones, t => t.value, t => prop('TEL', escapeValue(t.value), typed(t.type)), p => unescapeValue(p.value).replace(/^tel:/i, ''))
  }
  if (changed('websites')) {
    props = setList(props, 'URL', after.websites, w => w.value, w => prop('URL', escapeValue(w.value), typed(w.type)), p => unescapeValue(p.value))
  }
  if (changed('addresses')) {
    props = setList(props, 'ADR', after.addresses, adrKey, a => prop('ADR', adrValue(a), typed(a.type)), p => JSON.stringify(structuredAdr(p.value)))
  }
  // a group's companions (Apple's item1.X-ABLabel) go with the last line of the group
  const groups = new Set(props.filter(p => p.group !== null && !p.name.startsWith('X-')).map(p => p.group))
  props = props.filter(p => p.group === null || groups.has(p.group) || !card.props.some(q => q.group === p.group && !q.name.startsWith('X-')))
  return { version: card.version, props }
}

/** A new card of the CRM's (3.0, the version every CardDAV client reads, RFC 6352 §6.1). */
export function newCard (uid: string, fields: ContactFields, version: VCardVersion = '3.0'): VCard {
  const base: VCard = { version, props: [prop('VERSION', version), prop('PRODID', '-//Kalends//Contacts//EN'), prop('UID', escapeValue(uid))] }
  return patchCard(base, null, fields)
}
