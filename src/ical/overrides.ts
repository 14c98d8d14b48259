import { linesOf, type Line } from './patch.ts';
import { parseObject } from './parse.ts';

interface Block { lines: Line[]; override: boolean; tzid: string | null }

/** A VCALENDAR as its own lines (head: BEGIN and properties; tail: END) and its components. */
function blocksOf(text: string): { head: Line[]; blocks: Block[]; tail: Line[] } {
  const head: Line[] = [];
  const blocks: Block[] = [];
  const tail: Line[] = [];
  let depth = 0;
  let current: Block = { lines: [], override: false, tzid: null };
  for (const l of linesOf(text)) {
    if (l.name === 'BEGIN') depth++;
    if (depth <= 1) (l.name === 'END' ? tail : head).push(l);
    else {
      current.lines.push(l);
      if (depth === 2 && l.name === 'RECURRENCE-ID') current.override = true;
      if (depth === 2 && l.name === 'TZID') current.tzid = l.text.slice(l.text.indexOf(':') + 1).trim();
      if (depth === 2 && l.name === 'END') {
        blocks.push(current);
        current = { lines: [], override: false, tzid: null };
      }
    }
    if (l.name === 'END') depth--;
  }
  return { head, blocks, tail };
}

const isTimezone = (b: Block) => /^BEGIN:VTIMEZONE$/i.test(b.lines[0]?.text.trim() ?? '');

/**
 * The overridden instances of `from` (components with RECURRENCE-ID) put in
 * place of those of `target`, byte for byte, with any VTIMEZONE they need
 * that `target` lacks. Everything else in `target` stays as it was: used to
 * carry one participant's edit of a single occurrence to every copy.
 * Returns `target` itself when the overrides are already the same.
 */
export function replaceOverrides(target: string, from: string): string {
  const t = blocksOf(target);
  const f = blocksOf(from);
  const key = (bs: Block[]) => bs.filter((b) => b.override).map((b) => b.lines.map((l) => l.raw.join('\r\n')).join('\r\n')).join('\r\n');
  if (key(t.blocks) === key(f.blocks)) return target;
  const zones = new Set(t.blocks.filter(isTimezone).map((b) => b.tzid));
  const neededZones = f.blocks.filter((b) => isTimezone(b) && !zones.has(b.tzid));
  const kept = t.blocks.filter((b) => !b.override);
  const firstItem = kept.findIndex((b) => !isTimezone(b));
  const ordered = [...kept.slice(0, firstItem < 0 ? kept.length : firstItem), ...neededZones, ...kept.slice(firstItem < 0 ? kept.length : firstItem), ...f.blocks.filter((b) => b.override)];
  const out = [...t.head, ...ordered.flatMap((b) => b.lines), ...t.tail];
  const result = out.map((l) => l.raw.join('\r\n') + '\r\n').join('');
  parseObject(result); // the result must stay one valid object
  return result;
}
