// Public API of src/ical: a pure iCalendar library (no database, no HTTP).
export { IcalError, isIcalError, type IcalErrorCode } from './errors.ts';
export { parseObject, objectFromComponent, type CalendarObject, type ComponentType, type ParseOptions, type Component } from './parse.ts';
export { type ObjectIndex, type TimeValue, type Classification } from './object-index.ts';
export { instancesBetween, isRecurring, type Instance, type InstanceOptions } from './instances.ts';
export { matches, coarseRange, spanProvesMatch, textMatches, type CompFilter, type PropFilter, type ParamFilter, type TextMatch, type TimeRange, type Collation, type MatchOptions } from './filter.ts';
export { expandObject, limitRecurrenceSet } from './expand.ts';
export { freeBusy, busyPeriods, type FreeBusyOptions, type FreeBusyType } from './freebusy.ts';
export { applyFields, buildObject, escapeText, type Fields, type NewObject, type PatchOptions, type DateInput } from './patch.ts';
export { vtimezoneFor, timezoneFor, timezoneFromBlock, canonicalTzid, windowsToIana, timezoneCalendar, timezoneCalendarTzid } from './timezones.ts';
export { serialize, foldLine, unfold } from './serialize.ts';
