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

/** Unfolded content lines of a component, property order kept. */
export function contentLines(component: Component): string[] {
  const out: string[] = [];
  const walk = (jcal: unknown[], designSet: unknown): void => {
    const name = String(jcal[0]).toUpperCase();
    // The VCALENDAR design set also covers its subcomponents, as in ical.js's own stringify.
    const set = designSet ?? ICAL.design.getDesignSet(String(jcal[0]));
    out.push(`BEGIN:${name}`);
    for (const prop of (jcal[1] ?? []) as unknown[][]) {
      out.push(ICAL.stringify.property(prop, set as Parameters<typeof ICAL.stringify.property>[1], true));
    }
    for (const sub of (jcal[2] ?? []) as unknown[][]) walk(sub, set);
    out.push(`END:${name}`);
  };
  walk(component.toJSON() as unknown[], null);
  return out;
}

/** The component as iCalendar text: CRLF line endings, 75-octet folding, trailing CRLF. */
export function serialize(component: Component): string {
  return joinLines(contentLines(component));
}

/** Splits iCalendar text into logical (unfolded) lines. Accepts CRLF, LF or CR. */
export function unfold(text: string): string[] {
  return text.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]/g, '').split('\n').filter((l) => l !== '');
}
