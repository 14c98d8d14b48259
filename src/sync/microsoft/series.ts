import type { EventData } from '../items.ts'
import type { Override } from '../overrides.ts'
import { occurrences } from './occurrences.ts'
import { fromRRule, toRRule, type MsRecurrence, type NotExpressible, type SeriesStart } from './recurrence.ts'

/**
 * A CRM series (RRULE + EXDATEs + RECURRENCE-ID overrides, as ItemData
 * carries them) as a Microsoft series: the recurring master's pattern, its
 * deleted occurrences (EWS DeletedOccurrences, Graph cancelled instances)
 * and its modified ones (EWS ModifiedOccurrences / exceptions, Graph
 * exception instances), each named by its original start, and back.
 * Original starts are ISO instants for timed series and dates for all-day
 * ones, as in ItemData; Exchange names an all-day occurrence by its
 * midnight in the item's zone (zones.ts allDayInstant / allDayDate convert).
 */

export type MsSeries = {
  recurrence: MsRecurrence
  deleted: string[]
  modified: Override[]
  /** EXDATEs on no occurrence: a no-op in RFC 5545, nothing Microsoft can hold */
  droppedExdates: string[]
}

type SeriesFields = Pick<EventData, 'start' | 'timezone' | 'allDay' | 'rrule' | 'exdates' | 'overrides'>

const seriesStart = (e: SeriesFields): SeriesStart => ({ start: e.start, timezone: e.timezone, allDay: e.allDay })
const same = (a: string, b: string, allDay: boolean) => allDay ? a.slice(0, 10) === b.slice(0, 10) : Date.parse(a) === Date.parse(b)

export function toMsSeries (e: SeriesFields): { ok: true; series: MsSeries } | NotExpressible {
  if (e.rrule === null) return { ok: false, reason: 'not a series' }
  const s = seriesStart(e)
  const r = fromRRule(e.rrule, s)
  if (!r.ok) return r
  const keys = [...e.exdates, ...e.overrides.map(o => o.recurrenceId)]
  const last = keys.map(k => k.slice(0, 10)).sort().at(-1)
  const all = last === undefined ? [] : occurrences(r.recurrence, s, { through: last })
  const isOccurrence = (k: string) => all.some(o => same(o, k, e.allDay))
  const stray = e.overrides.find(o => !isOccurrence(o.recurrenceId))
  if (stray !== undefined) return { ok: false, reason: `an edited occurrence at ${stray.recurrenceId}, when the rule has none` }
  return {
    ok: true,
    series: {
      recurrence: r.recurrence,
      deleted: e.exdates.filter(isOccurrence),
      modified: e.overrides,
      droppedExdates: e.exdates.filter(x => !isOccurrence(x))
    }
  }
}

/** ItemData's series fields from a Microsoft master: its pattern, deleted and modified occurrences by original start. */
export function fromMsSeries (recurrence: MsRecurrence, s: SeriesStart, deleted: string[], modified: Override[]): Pick<EventData, 'rrule' | 'exdates' | 'overrides'> {
  return {
    rrule: toRRule(recurrence, s),
    exdates: [...new Set(deleted)].sort(),
    overrides: [...modified].sort((a, b) => a.recurrenceId.localeCompare(b.recurrenceId))
  }
}
