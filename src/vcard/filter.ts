import type { CardFilter, CardPropFilter, ParamFilter, TextMatch } from '../dav/xml/index.ts'
import { paramValues, unescapeValue, type VCard, type VProp } from './model.ts'

/**
 * The CardDAV addressbook-query filter (RFC 6352 §10.5) on one vCard:
 * prop-filters combined by the filter's test, each matching when some line
 * of that name passes its text-matches and param-filters (by its own test).
 */
function fold (s: string, collation: TextMatch['collation']): string {
  if (collation === 'i;octet') return s
  if (collation === 'i;ascii-casemap') return s.replace(/[A-Z]/g, c => c.toLowerCase())
  return s.normalize('NFKC').toLowerCase()
}

export function textMatches (value: string, tm: TextMatch): boolean {
  const v = fold(value, tm.collation)
  const want = fold(tm.value, tm.collation)
  let hit: boolean
  switch (tm.matchType ?? 'contains') {
    case 'equals': hit = v === want; break
    case 'starts-with': hit = v.startsWith(want); break
    case 'ends-with': hit = v.endsWith(want); break
    default: hit = v.includes(want)
  }
  return tm.negate ? !hit : hit
}

function paramMatches (p: VProp, pf: ParamFilter): boolean {
  const values = paramValues(p, pf.name)
  if (pf.isNotDefined === true) return values.length === 0
  if (values.length === 0) return false
  return pf.textMatch === undefined || values.some(v => textMatches(v, pf.textMatch!))
}

function lineMatches (p: VProp, pf: CardPropFilter): boolean {
  const tests = [...pf.textMatches.map(tm => () => textMatches(unescapeValue(p.value), tm)), ...pf.paramFilters.map(f => () => paramMatches(p, f))]
  if (tests.length === 0) return true
  return pf.test === 'allof' ? tests.every(t => t()) : tests.some(t => t())
}

function propMatches (card: VCard, pf: CardPropFilter): boolean {
  const lines = card.props.filter(p => p.name === pf.name)
  if (pf.isNotDefined === true) return lines.length === 0
  return lines.some(p => lineMatches(p, pf))
}

export function matchesCardFilter (card: VCard, filter: CardFilter): boolean {
  if (filter.propFilters.length === 0) return true
  return filter.test === 'allof' ? filter.propFilters.every(pf => propMatches(card, pf)) : filter.propFilters.some(pf => propMatches(card, pf))
}
