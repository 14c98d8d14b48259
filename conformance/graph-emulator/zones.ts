// Graph's dateTimeTimeZone: a wall-clock "2024-05-01T10:00:00.0000000" plus a
// zone that may be a Windows name ("Pacific Standard Time") or IANA
// (microsoft-graph-docs-contrib: api-reference/v1.0/resources/datetimetimezone.md).
import { findIana } from 'windows-iana';
import { formatLocalDate, isValidZone, localToUtc, parseLocal, utcToLocal } from '../google-emulator/tz.ts';
import { GraphError } from './errors.ts';

export function ianaZone(name: string): string | undefined {
  if (/^(UTC|tzone:\/\/Microsoft\/Utc|Coordinated Universal Time)$/i.test(name)) return 'UTC';
  if (isValidZone(name) && name.includes('/')) return name;
  const found = findIana(name)[0];
  return found ?? undefined;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The instant a dateTimeTimeZone names; 400 as Graph for an unknown zone or a malformed time. */
export function parseDateTimeTimeZone(v: unknown, field: string): { ms: number; tz: string; local: string } {
  const o = v as { dateTime?: unknown; timeZone?: unknown } | null;
  if (!o || typeof o.dateTime !== 'string') throw new GraphError(400, 'ErrorInvalidRequest', `Your request can't be completed. The ${field} time is missing or not valid.`);
  const tzName = typeof o.timeZone === 'string' && o.timeZone !== '' ? o.timeZone : 'UTC';
  const tz = ianaZone(tzName);
  if (!tz) throw new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${tzName}'.`);
  const local = parseLocal(o.dateTime.replace(/(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/, ''));
  if (!local) throw new GraphError(400, 'UnableToDeserializePostBody', 'were unable to deserialize ');
  return { ms: localToUtc(local, tz), tz: tzName, local: `${formatLocalDate(local)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}` };
}

/** Renders an instant in the zone a client asked for (Prefer: outlook.timezone), UTC by default. */
export function renderDateTime(ms: number, zoneName: string): { dateTime: string; timeZone: string } {
  const l = utcToLocal(ms, ianaZone(zoneName) ?? 'UTC');
  return { dateTime: `${formatLocalDate(l)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}.0000000`, timeZone: zoneName };
}

/** All-day events are dates, shown as midnight in whatever zone the client asked for. */
export function renderDate(date: string, zoneName: string): { dateTime: string; timeZone: string } {
  return { dateTime: `${date}T00:00:00.0000000`, timeZone: zoneName };
}
