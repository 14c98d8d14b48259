import { findWindows } from 'windows-iana'
import { wallToUtc } from '../../domain/ical-mapping.ts'
import { wallClock } from '../../domain/values.ts'
import { canonicalTzid, windowsToIana } from '../../ical/timezones.ts'
import { child, childrenOf, el, NS, type XmlElement } from './ews-xml.ts'

/**
 * Time zones between the CRM (IANA) and Microsoft (Windows ids, in EWS's
 * TimeZoneDefinition Id and Graph's timeZone), through CLDR's windowsZones
 * table (the windows-iana package). EWS gives Start/End in UTC whatever the
 * zone (office-developer-exchange-docs: exchange-web-services/time-zones-and-ews-in-exchange.md),
 * so a zone only places wall-clock things: recurrence and all-day dates.
 */

/** IANA renames newer than the CLDR table windows-iana ships. */
const RENAMED: Record<string, string> = { 'Europe/Kyiv': 'Europe/Kiev', 'Pacific/Kanton': 'Pacific/Enderbury', 'America/Nuuk': 'America/Godthab' }

/** The Windows id of an IANA zone ("Europe/Berlin" → "W. Europe Standard Time"), or null. */
export function windowsFromIana (iana: string): string | null {
  const candidates = [iana, RENAMED[iana], canonicalTzid(iana)].filter((z): z is string => typeof z === 'string')
  for (const z of candidates) {
    if (z === 'UTC') return 'UTC'
    const found = findWindows(z)[0]
    if (found !== undefined) return found
  }
  return null
}

/** The IANA zone of a Windows id ("Eastern Standard Time" → "America/New_York"), or of an IANA name Graph echoes back; null when unknown. */
export function ianaFromWindows (id: string): string | null {
  if (id === 'UTC' || id === 'tzone://Microsoft/Utc') return 'UTC'
  return windowsToIana(id) ?? canonicalTzid(id)
}

/** A zone as EWS writes it in StartTimeZone/EndTimeZone/TimeZoneContext: the Id is enough from Exchange 2010 on (web-service-reference/timezonedefinition.md). */
export function ewsZoneElement (name: 'StartTimeZone' | 'EndTimeZone' | 'TimeZoneDefinition', iana: string): string {
  return el(`t:${name}`, { Id: windowsFromIana(iana) ?? 'UTC' })
}

export type EwsZone = {
  /** the IANA zone to place wall-clock times in */
  iana: string
  /** the Windows id as given, if any */
  windowsId: string | null
  /** a definition this table does not know: times are read in `iana`, a fixed offset or UTC, and the caller should say so */
  custom: boolean
}

/** "-PT1H30M" → -90 (xs:duration of whole hours/minutes, as Bias is written). */
function minutesOf (duration: string): number | null {
  const m = /^(-)?PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(duration)
  if (m === null) return null
  return (m[1] === '-' ? -1 : 1) * (Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0))
}

/**
 * The zone of a t:TimeZoneDefinition (StartTimeZone, EndTimeZone or
 * TimeZoneContext's): by its Id when the Id is a Windows zone; otherwise a
 * custom definition, read as a fixed offset when it has a single period
 * (Bias: UTC = local + bias, web-service-reference/period.md) of whole
 * hours, else as UTC. Exchange 2007's MeetingTimeZone falls back to its BaseOffset.
 */
export function zoneOfDefinition (def: XmlElement): EwsZone {
  const id = def.attrs.Id ?? def.attrs.TimeZoneName ?? null
  const known = id === null ? null : ianaFromWindows(id)
  if (known !== null) return { iana: known, windowsId: id, custom: false }
  const periods = childrenOf(child(def, NS.t, 'Periods'), NS.t, 'Period')
  const bias = periods.length === 1 ? minutesOf(periods[0]?.attrs.Bias ?? '') : minutesOf(child(def, NS.t, 'BaseOffset')?.text ?? '')
  const fixed = bias !== null && bias % 60 === 0 && (periods.length === 1 || child(def, NS.t, 'Daylight') === null) ? (bias === 0 ? 'UTC' : `Etc/GMT${bias > 0 ? '+' : '-'}${Math.abs(bias / 60)}`) : null
  return { iana: fixed ?? 'UTC', windowsId: id, custom: true }
}

/**
 * All-day items: the CRM keeps dates (end exclusive); Exchange keeps
 * IsAllDayEvent with Start/End at midnight in the item's zone, given in UTC.
 */
export const allDayInstant = (date: string, zone: string): string => wallToUtc(`${date}T00:00:00`, zone).toISOString()
export const allDayDate = (instant: string, zone: string): string => wallClock(new Date(instant), zone).date

/** Graph's dateTimeTimeZone for an instant, in the zone's wall clock (https://learn.microsoft.com/graph/api/resources/datetimetimezone). */
export function toGraphDateTime (instant: string, iana: string): { dateTime: string; timeZone: string } {
  const { date, time } = wallClock(new Date(instant), iana)
  return { dateTime: `${date}T${time}.0000000`, timeZone: windowsFromIana(iana) ?? 'UTC' }
}

/** An instant from Graph's dateTimeTimeZone (Windows or IANA zone names; UTC when unknown). */
export function fromGraphDateTime (v: { dateTime: string; timeZone?: string | null }): string {
  const zone = v.timeZone == null ? 'UTC' : (ianaFromWindows(v.timeZone) ?? 'UTC')
  return wallToUtc(v.dateTime.slice(0, 19), zone).toISOString()
}
