import { DAYS, INDEXES, type DayOfWeek, type MsRecurrence, type Pattern, type Range, type WeekIndex } from './recurrence.ts'

/**
 * Microsoft's recurrence as Graph's patternedRecurrence
 * (https://learn.microsoft.com/graph/api/resources/patternedrecurrence,
 * recurrencepattern, recurrencerange) and back. Graph writes every property
 * of the pattern and range, unused ones as defaults (month 0, dayOfMonth 0,
 * index "first", endDate "0001-01-01", numberOfOccurrences 0), and names the
 * zone of the range's dates in recurrenceTimeZone.
 */

export type GraphRecurrence = {
  pattern: { type: Pattern['type']; interval: number; month: number; dayOfMonth: number; daysOfWeek: DayOfWeek[]; firstDayOfWeek: DayOfWeek; index: WeekIndex }
  range: { type: Range['type']; startDate: string; endDate: string; numberOfOccurrences: number; recurrenceTimeZone: string }
}

const NO_DATE = '0001-01-01'

export function toGraphRecurrence (r: MsRecurrence, recurrenceTimeZone: string): GraphRecurrence {
  const p = r.pattern
  return {
    pattern: {
      type: p.type,
      interval: p.interval,
      month: 'month' in p ? p.month : 0,
      dayOfMonth: 'dayOfMonth' in p ? p.dayOfMonth : 0,
      daysOfWeek: 'daysOfWeek' in p ? [...p.daysOfWeek] : [],
      firstDayOfWeek: p.type === 'weekly' ? p.firstDayOfWeek : 'sunday',
      index: 'index' in p ? p.index : 'first'
    },
    range: {
      type: r.range.type,
      startDate: r.range.startDate,
      endDate: r.range.type === 'endDate' ? r.range.endDate : NO_DATE,
      numberOfOccurrences: r.range.type === 'numbered' ? r.range.numberOfOccurrences : 0,
      recurrenceTimeZone
    }
  }
}

/** A patternedRecurrence as Graph returns it, or null when it is not one this model reads. */
export function fromGraphRecurrence (g: { pattern?: Partial<GraphRecurrence['pattern']> | null; range?: Partial<GraphRecurrence['range']> | null } | null | undefined): MsRecurrence | null {
  const p = g?.pattern
  const r = g?.range
  if (p == null || r == null || typeof r.startDate !== 'string') return null
  const interval = p.interval ?? 1
  const days = (p.daysOfWeek ?? []).filter((d): d is DayOfWeek => DAYS.includes(d))
  const index = INDEXES.includes(p.index as WeekIndex) ? p.index as WeekIndex : 'first'
  const month = p.month ?? 0
  const dayOfMonth = p.dayOfMonth ?? 0
  let pattern: Pattern
  switch (p.type) {
    case 'daily': pattern = { type: 'daily', interval }; break
    case 'weekly':
      if (days.length === 0) return null
      pattern = { type: 'weekly', interval, daysOfWeek: days, firstDayOfWeek: DAYS.includes(p.firstDayOfWeek as DayOfWeek) ? p.firstDayOfWeek as DayOfWeek : 'sunday' }
      break
    case 'absoluteMonthly': pattern = { type: 'absoluteMonthly', interval, dayOfMonth }; break
    case 'relativeMonthly':
      if (days.length === 0) return null
      pattern = { type: 'relativeMonthly', interval, daysOfWeek: days, index }
      break
    case 'absoluteYearly': pattern = { type: 'absoluteYearly', interval, dayOfMonth, month }; break
    case 'relativeYearly':
      if (days.length === 0) return null
      pattern = { type: 'relativeYearly', interval, daysOfWeek: days, index, month }
      break
    default: return null
  }
  if ((pattern.type === 'absoluteMonthly' || pattern.type === 'absoluteYearly') && (dayOfMonth < 1 || dayOfMonth > 31)) return null
  if ((pattern.type === 'absoluteYearly' || pattern.type === 'relativeYearly') && (month < 1 || month > 12)) return null
  const startDate = r.startDate.slice(0, 10)
  let range: Range
  switch (r.type) {
    case 'noEnd': range = { type: 'noEnd', startDate }; break
    case 'endDate':
      if (typeof r.endDate !== 'string' || r.endDate.startsWith(NO_DATE)) return null
      range = { type: 'endDate', startDate, endDate: r.endDate.slice(0, 10) }
      break
    case 'numbered':
      if (r.numberOfOccurrences == null || r.numberOfOccurrences < 1) return null
      range = { type: 'numbered', startDate, numberOfOccurrences: r.numberOfOccurrences }
      break
    default: return null
  }
  return { pattern, range }
}
