// Micro-benchmark of the hot paths of src/ical (not a test).
//   node src/ical/bench.ts [iterations]      (default 2000)
// Every iteration works on a distinct body (its own UID and SUMMARY), as a
// CalDAV query over stored objects or a stream of CRM edits would, so no
// per-text memoisation can flatter the figures; objects of one kind share
// their VTIMEZONE, as the objects of one calendar do. Figures are ms per
// call, mean and median over the iterations, after a warm-up round.
import { performance } from 'node:perf_hooks';
import { parseObject, type CalendarObject } from './parse.ts';
import { buildObject, applyFields, type NewObject } from './patch.ts';
import { instancesBetween } from './instances.ts';
import { matches, type CompFilter } from './filter.ts';

const N = Number(process.argv[2] ?? 2000);
const NOW = { now: new Date('2026-05-01T12:00:00Z') };
const MONTH = { start: new Date('2026-06-01T00:00:00Z'), end: new Date('2026-07-01T00:00:00Z') };
const FILTER: CompFilter = {
  name: 'VCALENDAR', propFilters: [],
  compFilters: [{ name: 'VEVENT', timeRange: MONTH, propFilters: [], compFilters: [] }],
};

interface Kind { name: string; fields: (i: number) => NewObject }

const base = (i: number): NewObject => ({
  uid: `bench-${i}@kalends`, summary: `Meeting ${i}`, description: 'Agenda', location: 'HQ',
  start: new Date(Date.UTC(2026, 5, 1 + (i % 28), 8)), end: new Date(Date.UTC(2026, 5, 1 + (i % 28), 9)),
});
const KINDS: Kind[] = [
  { name: 'utc', fields: (i) => base(i) },
  { name: 'zoned', fields: (i) => ({ ...base(i), timezone: 'Europe/Warsaw' }) },
  { name: 'zoned+rrule', fields: (i) => ({ ...base(i), timezone: 'Europe/Warsaw', start: new Date(Date.UTC(2026, 0, 5 + (i % 7), 8)), end: new Date(Date.UTC(2026, 0, 5 + (i % 7), 9)), rrule: 'FREQ=WEEKLY' }) },
];

function time(n: number, fn: (i: number) => unknown): { mean: number; median: number } {
  for (let i = 0; i < Math.min(n, 200); i++) fn(i); // warm-up
  const each: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    each.push(performance.now() - t0);
  }
  each.sort((a, b) => a - b);
  return { mean: each.reduce((a, b) => a + b, 0) / n, median: each[n >> 1] as number };
}

const rows: string[][] = [['kind', 'operation', 'mean ms', 'median ms']];
const row = (kind: string, op: string, r: { mean: number; median: number }): void => {
  rows.push([kind, op, r.mean.toFixed(4), r.median.toFixed(4)]);
};

for (const kind of KINDS) {
  const bodies = Array.from({ length: N }, (_, i) => buildObject(kind.fields(i), NOW));
  row(kind.name, 'parseObject', time(N, (i) => parseObject(bodies[i] as string)));
  // the index's fields, and its span (a walk of the instances, computed on first use)
  row(kind.name, 'parseObject + index fields', time(N, (i) => parseObject(bodies[i] as string).index.summary));
  row(kind.name, 'parseObject + index with span', time(N, (i) => parseObject(bodies[i] as string).index.firstStart));
  row(kind.name, 'buildObject', time(N, (i) => buildObject(kind.fields(i), NOW)));
  row(kind.name, 'applyFields (summary)', time(N, (i) => applyFields(bodies[i] as string, { summary: `Renamed ${i}` }, NOW)));
  const parsed = (): CalendarObject[] => bodies.map((b) => parseObject(b));
  let objs = parsed();
  row(kind.name, 'instancesBetween (month)', time(N, (i) => instancesBetween(objs[i] as CalendarObject, MONTH.start, MONTH.end)));
  objs = parsed();
  row(kind.name, 'matches (month)', time(N, (i) => matches(objs[i] as CalendarObject, FILTER)));
}

const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
console.log(`node ${process.version}, ${N} iterations`);
for (const r of rows) console.log(r.map((v, c) => (c < 2 ? v.padEnd(widths[c] as number) : v.padStart(widths[c] as number))).join('  '));
