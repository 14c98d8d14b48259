import { child, el, NS, type XmlElement } from './ews-xml.ts'
import { DAY_SETS, DAYS, INDEXES, type DayOfWeek, type MsRecurrence, type Pattern, type Range, type WeekIndex } from './recurrence.ts'

/**
 * Microsoft's recurrence as EWS's t:Recurrence element (types.xsd
 * RecurrenceType: one pattern, one range; office-developer-exchange-docs:
 * web-service-reference/recurrence-recurrencetype.md) and back. EWS yearly
 * patterns carry no Interval (absoluteyearlyrecurrence.md,
 * relativeyearlyrecurrence.md): every n years goes out as every 12n months.
 */

const T = NS.t
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const cap = (s: string) => s[0]?.toUpperCase() + s.slice(1)
const tv = (name: string, v: string | number) => el(`t:${name}`, {}, String(v))

/** One DayOfWeekType: a day, or Day / Weekday / WeekendDay for those sets (daysofweek-dayofweektype.md). */
function dayOfWeekType (days: DayOfWeek[]): string {
  if (days.length === 1) return cap(days[0] as string)
  const set = Object.entries(DAY_SETS).find(([, s]) => s.length === days.length && s.every(d => days.includes(d)))
  if (set === undefined) throw new Error(`no DayOfWeekType for ${days.join(',')}`)
  return set[0]
}

function patternXml (p: Pattern): string {
  const index = (i: WeekIndex) => tv('DayOfWeekIndex', cap(i))
  switch (p.type) {
    case 'daily': return `<t:DailyRecurrence>${tv('Interval', p.interval)}</t:DailyRecurrence>`
    case 'weekly': return `<t:WeeklyRecurrence>${tv('Interval', p.interval)}${tv('DaysOfWeek', p.daysOfWeek.map(cap).join(' '))}${tv('FirstDayOfWeek', cap(p.firstDayOfWeek))}</t:WeeklyRecurrence>`
    case 'absoluteMonthly': return `<t:AbsoluteMonthlyRecurrence>${tv('Interval', p.interval)}${tv('DayOfMonth', p.dayOfMonth)}</t:AbsoluteMonthlyRecurrence>`
    case 'relativeMonthly': return `<t:RelativeMonthlyRecurrence>${tv('Interval', p.interval)}${tv('DaysOfWeek', dayOfWeekType(p.daysOfWeek))}${index(p.index)}</t:RelativeMonthlyRecurrence>`
    case 'absoluteYearly':
      if (p.interval > 1) return patternXml({ type: 'absoluteMonthly', interval: 12 * p.interval, dayOfMonth: p.dayOfMonth })
      return `<t:AbsoluteYearlyRecurrence>${tv('DayOfMonth', p.dayOfMonth)}${tv('Month', MONTHS[p.month - 1] as string)}</t:AbsoluteYearlyRecurrence>`
    case 'relativeYearly':
      if (p.interval > 1) return patternXml({ type: 'relativeMonthly', interval: 12 * p.interval, daysOfWeek: p.daysOfWeek, index: p.index })
      return `<t:RelativeYearlyRecurrence>${tv('DaysOfWeek', dayOfWeekType(p.daysOfWeek))}${index(p.index)}${tv('Month', MONTHS[p.month - 1] as string)}</t:RelativeYearlyRecurrence>`
  }
}

function rangeXml (r: Range): string {
  switch (r.type) {
    case 'noEnd': return `<t:NoEndRecurrence>${tv('StartDate', r.startDate)}</t:NoEndRecurrence>`
    case 'endDate': return `<t:EndDateRecurrence>${tv('StartDate', r.startDate)}${tv('EndDate', r.endDate)}</t:EndDateRecurrence>`
    case 'numbered': return `<t:NumberedRecurrence>${tv('StartDate', r.startDate)}${tv('NumberOfOccurrences', r.numberOfOccurrences)}</t:NumberedRecurrence>`
  }
}

/** The t:Recurrence element (prefix t bound to the types namespace by the envelope). */
export function toEwsRecurrence (r: MsRecurrence): string {
  return `<t:Recurrence>${patternXml(r.pattern)}${rangeXml(r.range)}</t:Recurrence>`
}

const text = (e: XmlElement, name: string): string | null => child(e, T, name)?.text.trim() ?? null
/** xs:date as Exchange writes it, "2026-05-04-07:00" or "2026-05-04Z": the date alone. */
const dateOf = (v: string | null): string | null => v === null || !/^\d{4}-\d{2}-\d{2}/.test(v) ? null : v.slice(0, 10)

function daysOf (v: string | null): DayOfWeek[] | null {
  if (v === null) return null
  const out: DayOfWeek[] = []
  for (const word of v.split(/\s+/)) {
    const set = DAY_SETS[word as keyof typeof DAY_SETS]
    const day = DAYS.find(d => cap(d) === word)
    if (set !== undefined) out.push(...set)
    else if (day !== undefined) out.push(day)
    else return null
  }
  return out
}

function patternOf (e: XmlElement): Pattern | null {
  const interval = Number(text(e, 'Interval') ?? '1')
  const days = daysOf(text(e, 'DaysOfWeek'))
  const index = (text(e, 'DayOfWeekIndex') ?? '').toLowerCase() as WeekIndex
  const month = MONTHS.indexOf(text(e, 'Month') ?? '') + 1
  const dayOfMonth = Number(text(e, 'DayOfMonth'))
  const firstDayOfWeek = (text(e, 'FirstDayOfWeek')?.toLowerCase() ?? 'sunday') as DayOfWeek
  const relativeOk = days !== null && days.length > 0 && INDEXES.includes(index)
  switch (e.name) {
    case 'DailyRecurrence': return { type: 'daily', interval }
    case 'WeeklyRecurrence': return days === null || days.length === 0 || !DAYS.includes(firstDayOfWeek) ? null : { type: 'weekly', interval, daysOfWeek: days, firstDayOfWeek }
    case 'AbsoluteMonthlyRecurrence': return Number.isInteger(dayOfMonth) && dayOfMonth >= 1 && dayOfMonth <= 31 ? { type: 'absoluteMonthly', interval, dayOfMonth } : null
    case 'RelativeMonthlyRecurrence': return relativeOk ? { type: 'relativeMonthly', interval, daysOfWeek: days, index } : null
    case 'AbsoluteYearlyRecurrence': return month > 0 && dayOfMonth >= 1 && dayOfMonth <= 31 ? { type: 'absoluteYearly', interval: 1, dayOfMonth, month } : null
    case 'RelativeYearlyRecurrence': return relativeOk && month > 0 ? { type: 'relativeYearly', interval: 1, daysOfWeek: days, index, month } : null
  }
  return null
}

function rangeOf (e: XmlElement): Range | null {
  const startDate = dateOf(text(e, 'StartDate'))
  if (startDate === null) return null
  switch (e.name) {
    case 'NoEndRecurrence': return { type: 'noEnd', startDate }
    case 'EndDateRecurrence': {
      const endDate = dateOf(text(e, 'EndDate'))
      return endDate === null ? null : { type: 'endDate', startDate, endDate }
    }
    case 'NumberedRecurrence': {
      const n = Number(text(e, 'NumberOfOccurrences'))
      return Number.isInteger(n) && n > 0 ? { type: 'numbered', startDate, numberOfOccurrences: n } : null
    }
  }
  return null
}

/** A parsed t:Recurrence, or null when it holds a pattern or range this model does not know (task regeneration patterns). */
export function fromEwsRecurrence (e: XmlElement): MsRecurrence | null {
  let pattern: Pattern | null = null
  let range: Range | null = null
  for (const c of e.children) {
    if (c.ns !== T) continue
    if (/^(Daily|Weekly|AbsoluteMonthly|RelativeMonthly|AbsoluteYearly|RelativeYearly)Recurrence$/.test(c.name)) pattern = patternOf(c)
    else if (/^(NoEnd|EndDate|Numbered)Recurrence$/.test(c.name)) range = rangeOf(c)
  }
  return pattern === null || range === null ? null : { pattern, range }
}
