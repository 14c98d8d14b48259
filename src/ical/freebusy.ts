import ICAL from 'ical.js';
import type { CalendarObject } from './parse.ts';
import { rawInstancesBetween, resolveFloatingZone, type InstanceOptions } from './instances.ts';
import { joinLines } from './serialize.ts';
import { formatUtc, toUtcMs, durationMs, type Duration } from './time.ts';

export type FreeBusyType = 'BUSY' | 'BUSY-TENTATIVE' | 'BUSY-UNAVAILABLE' | 'FREE';

export interface FreeBusyOptions extends InstanceOptions {
  /** DTSTAMP; default now. */
  now?: Date;
  prodId?: string;
}

type Period = [number, number];

/** Sorted, merged, clipped periods per FBTYPE. */
export function busyPeriods(objects: readonly CalendarObject[], start: Date, end: Date, opts: InstanceOptions = {}): Map<FreeBusyType, Period[]> {
  const s = start.getTime();
  const e = end.getTime();
  const byType = new Map<FreeBusyType, Period[]>();
  const add = (type: FreeBusyType, from: number, to: number): void => {
    const a = Math.max(from, s);
    const b = Math.min(to, e);
    if (b <= a) return;
    let list = byType.get(type);
    if (!list) byType.set(type, (list = []));
    list.push([a, b]);
  };
  const fz = resolveFloatingZone(opts.floatingTimezone);
  for (const obj of objects) {
    if (obj.componentType !== 'VEVENT') continue;
    for (const inst of rawInstancesBetween(obj, s, e, { ...opts, floatingTimezone: fz })) {
      const c = inst.component;
      if (String(c.getFirstPropertyValue('transp') ?? 'OPAQUE').toUpperCase() === 'TRANSPARENT') continue;
      const status = String(c.getFirstPropertyValue('status') ?? '').toUpperCase();
      if (status === 'CANCELLED') continue;
      add(status === 'TENTATIVE' ? 'BUSY-TENTATIVE' : 'BUSY', inst.startMs, inst.endMs);
    }
  }
  for (const obj of objects) {
    // Stored VFREEBUSY components contribute their own periods (RFC 4791 §7.10).
    for (const fb of obj.vcalendar.getAllSubcomponents('vfreebusy')) {
      for (const p of fb.getAllProperties('freebusy')) {
        const type = String(p.getParameter('fbtype') ?? 'BUSY').toUpperCase();
        if (type === 'FREE') continue;
        for (const v of p.getValues()) {
          if (!(v instanceof ICAL.Period)) continue;
          const from = toUtcMs(v.start);
          const to = v.end ? toUtcMs(v.end) : from + durationMs(v.duration as Duration);
          add((['BUSY', 'BUSY-TENTATIVE', 'BUSY-UNAVAILABLE'].includes(type) ? type : 'BUSY') as FreeBusyType, from, to);
        }
      }
    }
  }
  for (const [type, list] of byType) byType.set(type, merge(list));
  return byType;
}

function merge(list: Period[]): Period[] {
  list.sort((a, b) => a[0] - b[0]);
  const out: Period[] = [];
  for (const p of list) {
    const last = out[out.length - 1];
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else out.push([p[0], p[1]]);
  }
  return out;
}

/**
 * The free-busy-query answer (RFC 4791 §7.10): one VFREEBUSY over
 * [start, end) in UTC. TRANSPARENT and CANCELLED instances are free,
 * TENTATIVE ones BUSY-TENTATIVE, the rest BUSY; periods are merged per type.
 */
export function freeBusy(objects: readonly CalendarObject[], start: Date, end: Date, opts: FreeBusyOptions = {}): string {
  const periods = busyPeriods(objects, start, end, opts);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${opts.prodId ?? '-//Kalends//Kalends//EN'}`,
    'BEGIN:VFREEBUSY',
    `DTSTAMP:${formatUtc((opts.now ?? new Date()).getTime())}`,
    `DTSTART:${formatUtc(start.getTime())}`,
    `DTEND:${formatUtc(end.getTime())}`,
  ];
  for (const type of ['BUSY', 'BUSY-TENTATIVE', 'BUSY-UNAVAILABLE'] as const) {
    const list = periods.get(type);
    if (!list?.length) continue;
    const value = list.map(([a, b]) => `${formatUtc(a)}/${formatUtc(b)}`).join(',');
    lines.push(`FREEBUSY;FBTYPE=${type}:${value}`);
  }
  lines.push('END:VFREEBUSY', 'END:VCALENDAR');
  return joinLines(lines);
}
