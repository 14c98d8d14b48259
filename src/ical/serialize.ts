import ICAL from 'ical.js';

type Component = InstanceType<typeof ICAL.Component>;

const MAX_OCTETS = 75;

function octets(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Folds one content line to at most 75 octets per physical line, including
 * the leading space of continuation lines (RFC 5545 §3.1), never inside a
 * UTF-8 sequence. ical.js counts continuation lines one octet too long.
 */
export function foldLine(line: string): string {
  let out = '';
  let used = 0;
  for (const ch of line) {
    const n = octets(ch.codePointAt(0) ?? 0);
    if (used + n > MAX_OCTETS) {
      out += '\r\n ';
      used = 1;
    }
    out += ch;
    used += n;
  }
  return out;
}

/** Joins unfolded content lines into CRLF text, folding each. */
export function joinLines(lines: Iterable<string>): string {
  let out = '';
  for (const line of lines) out += foldLine(line) + '\r\n';
  return out;
}

/** Unfolded content lines of a component, as ical.js writes them. */
export function contentLines(component: Component): string[] {
  const saved = ICAL.foldLength;
  let text: string;
  try {
    ICAL.foldLength = Number.MAX_SAFE_INTEGER;
    text = component.toString();
  } finally {
    ICAL.foldLength = saved;
  }
  return text.split(/\r?\n/).filter((l) => l !== '');
}

/** The component as iCalendar text: CRLF line endings, 75-octet folding, trailing CRLF. */
export function serialize(component: Component): string {
  return joinLines(contentLines(component));
}

/** Splits iCalendar text into logical (unfolded) lines. Accepts CRLF, LF or CR. */
export function unfold(text: string): string[] {
  return text.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]/g, '').split('\n').filter((l) => l !== '');
}
