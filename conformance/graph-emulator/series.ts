// A series master's patternedRecurrence as an RRULE, expanded with the
// Google emulator's ical.js expander. The emulator deliberately does not use
// src/sync/microsoft's mapping: it is the code under test.
// microsoft-graph-docs-contrib: api-reference/v1.0/resources/recurrencepattern.md, recurrencerange.md
import { localToUtc, parseLocal } from '../google-emulator/tz.ts';
import { occurrences } from '../google-emulator/recurrence.ts';
import { GraphError } from './errors.ts';
import { ianaZone } from './zones.ts';

export type PatternedRecurrence = {
  pattern: { type: string; interval?: number; month?: number; dayOfMonth?: number; daysOfWeek?: string[]; firstDayOfWeek?: string; index?: string };
  range: { type: string; startDate: string; endDate?: string; recurrenceTimeZone?: string; numberOfOccurrences?: number };
};

const DAY: Record<string, string> = { sunday: 'SU', monday: 'MO', tuesday: 'TU', wednesday: 'WE', thursday: 'TH', friday: 'FR', saturday: 'SA' };
const INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

function invalid(message: string): GraphError {
  return new GraphError(400, 'ErrorInvalidRequest', message);
}

export function toRRule(r: PatternedRecurrence, zone: string): string {
  const p = r.pattern;
  if (!p || !r.range || typeof r.range.startDate !== 'string') throw invalid('Your request can\'t be completed. The recurrence pattern or range is missing.');
  const parts = [`INTERVAL=${p.interval ?? 1}`];
  const days = () => {
    const d = (p.daysOfWeek ?? []).map((x) => DAY[x.toLowerCase()]);
    if (!d.length || d.some((x) => !x)) throw invalid('Your request can\'t be completed. The recurrence pattern needs days of the week.');
    return `BYDAY=${d.join(',')}`;
  };
  const index = () => `BYSETPOS=${INDEX[(p.index ?? 'first').toLowerCase()] ?? 1}`;
  switch (p.type) {
    case 'daily': parts.unshift('FREQ=DAILY'); break;
    case 'weekly': parts.unshift('FREQ=WEEKLY'); parts.push(days(), `WKST=${DAY[(p.firstDayOfWeek ?? 'sunday').toLowerCase()] ?? 'SU'}`); break;
    case 'absoluteMonthly': parts.unshift('FREQ=MONTHLY'); parts.push(`BYMONTHDAY=${p.dayOfMonth}`); break;
    case 'relativeMonthly': parts.unshift('FREQ=MONTHLY'); parts.push(days(), index()); break;
    case 'absoluteYearly': parts.unshift('FREQ=YEARLY'); parts.push(`BYMONTH=${p.month}`, `BYMONTHDAY=${p.dayOfMonth}`); break;
    case 'relativeYearly': parts.unshift('FREQ=YEARLY'); parts.push(`BYMONTH=${p.month}`, days(), index()); break;
    default: throw invalid(`Your request can't be completed. The recurrence pattern type '${p.type}' is not valid.`);
  }
  if (r.range.type === 'endDate') {
    const end = parseLocal(`${r.range.endDate}T23:59:59`);
    if (!end) throw invalid('Your request can\'t be completed. The recurrence range needs an end date.');
    parts.push(`UNTIL=${new Date(localToUtc(end, ianaZone(r.range.recurrenceTimeZone ?? zone) ?? 'UTC')).toISOString().replace(/[-:]|\.\d{3}/g, '')}`);
  } else if (r.range.type === 'numbered') parts.push(`COUNT=${r.range.numberOfOccurrences ?? 1}`);
  else if (r.range.type !== 'noEnd') throw invalid(`Your request can't be completed. The recurrence range type '${r.range.type}' is not valid.`);
  return `RRULE:${parts.join(';')}`;
}

/** Original starts of the series' occurrences whose start is in [fromMs, toMs). */
export function seriesStarts(r: PatternedRecurrence, start: { ms: number; tz: string; allDay: boolean }, fromMs: number, toMs: number): number[] {
  const zone = ianaZone(start.tz) ?? 'UTC';
  return occurrences([toRRule(r, start.tz)], { ms: start.ms, tz: zone, allDay: start.allDay }, fromMs, toMs).map((o) => o.startMs);
}

/**
 * Whether an update of a series master changes its pattern, so that Exchange
 * drops its exceptions: "If the recurrence pattern has changed, the client ...
 * removes every exception from the PidLidAppointmentRecur property and every
 * Exception Attachment object" (MS-OXOCAL 3.1.4.7.3.5, Updating a Recurring
 * Series), which Outlook announces as "Any exceptions associated with this
 * recurring appointment will be lost". The pattern is the series' start (its
 * time and first day), all-day, and the rule without its end: a series only
 * extended or shortened keeps its deleted occurrences (an EWS client extending
 * a daily series did not get its deleted occurrence back:
 * OfficeDev/ews-managed-api#235).
 */
export function patternChanged(before: { recurrence: PatternedRecurrence | null; start: { ms: number; tz: string }; isAllDay: boolean }, after: typeof before): boolean {
  if (before.recurrence === null || after.recurrence === null) return before.recurrence !== after.recurrence;
  const rule = (f: typeof before) => toRRule(f.recurrence!, f.start.tz).replace(/;(UNTIL|COUNT)=[^;]*/, '');
  return before.start.ms !== after.start.ms || before.isAllDay !== after.isAllDay || rule(before) !== rule(after);
}
