// IANA time-zone arithmetic on Intl: wall-clock time ↔ UTC instant, and
// RFC 3339 rendering with the zone's offset (Google writes "Z" only for UTC).

export type Local = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function utcToLocal(ms: number, tz: string): Local {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

function localAsUtc(l: Local): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
}

/** Offset of the zone at that instant, in minutes east of UTC. */
export function offsetMinutes(ms: number, tz: string): number {
  return Math.round((localAsUtc(utcToLocal(ms, tz)) - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** The instant a wall-clock time names in the zone (the earlier one in a fold, shifted forward in a gap). */
export function localToUtc(l: Local, tz: string): number {
  const guess = localAsUtc(l);
  let ms = guess - offsetMinutes(guess, tz) * 60_000;
  ms = guess - offsetMinutes(ms, tz) * 60_000;
  return ms;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatLocalDate(l: Pick<Local, 'year' | 'month' | 'day'>): string {
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`;
}

export function formatDateTime(ms: number, tz: string): string {
  const l = utcToLocal(ms, tz);
  const off = offsetMinutes(ms, tz);
  const isUtc = off === 0 && /^(UTC|Etc\/UTC|GMT|Etc\/GMT|Z)$/i.test(tz);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const suffix = isUtc ? 'Z' : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${formatLocalDate(l)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${suffix}`;
}

export function parseLocal(text: string): Local | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})(?:\.\d+)?)?$/.exec(text);
  if (!m) return undefined;
  return { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +(m[4] ?? 0), minute: +(m[5] ?? 0), second: +(m[6] ?? 0) };
}

/** Does an RFC 3339 date-time carry its own offset ("Z" or ±hh:mm)? */
export function hasOffset(dateTime: string): boolean {
  return /(Z|[+-]\d{2}:?\d{2})$/i.test(dateTime);
}

export function isDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
}

export function addDays(date: string, days: number): string {
  const d = new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}
