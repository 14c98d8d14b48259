// events.list and events.instances: filters, expansion (singleEvents),
// keyset paging, and sync tokens that report every change (tombstones too)
// since the snapshot they were cut at.
import type { calendar_v3 } from 'googleapis';
import { errors, GoogleApiError } from './errors.ts';
import { checkZoneParam, eventTimes, inZone, tombstone } from './event-resource.ts';
import { boolParam, intParam } from './http.ts';
import { isMaster, OPEN_END_MS, seriesInstances } from './series.ts';
import type { Calendar, StoredEvent, Store } from './store.ts';

type Event = calendar_v3.Schema$Event;
type Item = { key: string; ev: Event };
/** What a page token carries: last key, snapshot change number, sync start (incremental), calendar, token generation. */
type PageState = { k: string; s: number; f?: number; c: string; g: number };

const SYNC_INCOMPATIBLE = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin'];

export function encode(prefix: string, value: object): string {
  return prefix + Buffer.from(JSON.stringify(value)).toString('base64url');
}
export function decode<T>(prefix: string, token: string): T | undefined {
  if (!token.startsWith(prefix)) return undefined;
  try {
    return JSON.parse(Buffer.from(token.slice(prefix.length), 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

const pad = (n: number, w = 15) => String(Math.max(0, Math.floor(n))).padStart(w, '0');

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  const ms = /(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new GoogleApiError(400, { domain: 'global', reason: 'invalid', message: `Bad Request`, location: name, locationType: 'parameter' });
  return ms;
}

function extendedFilter(query: URLSearchParams, name: string): [string, string][] {
  return query.getAll(name).map((p) => {
    const eq = p.indexOf('=');
    if (eq < 1) throw errors.invalid(`Invalid value for ${name}`);
    return [p.slice(0, eq), p.slice(eq + 1)];
  });
}

function matchesText(ev: Event, q: string): boolean {
  const hay = [ev.summary, ev.description, ev.location, ev.organizer?.email, ev.organizer?.displayName, ...(ev.attendees ?? []).flatMap((a) => [a.email, a.displayName])]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => hay.includes(term));
}

type Filters = {
  timeMin?: number;
  timeMax?: number;
  updatedMin?: number;
  iCalUID?: string;
  priv: [string, string][];
  shared: [string, string][];
  q?: string;
  showDeleted: boolean;
  singleEvents: boolean;
};

function readFilters(query: URLSearchParams): Filters {
  const f: Filters = {
    timeMin: timeParam(query, 'timeMin'),
    timeMax: timeParam(query, 'timeMax'),
    updatedMin: timeParam(query, 'updatedMin'),
    iCalUID: query.get('iCalUID') ?? undefined,
    priv: extendedFilter(query, 'privateExtendedProperty'),
    shared: extendedFilter(query, 'sharedExtendedProperty'),
    q: query.get('q') ?? undefined,
    showDeleted: boolParam(query, 'showDeleted', false),
    singleEvents: boolParam(query, 'singleEvents', false),
  };
  if (f.timeMin !== undefined && f.timeMax !== undefined && f.timeMax <= f.timeMin) throw errors.timeRangeEmpty();
  return f;
}

function overlaps(ev: Event, cal: Calendar, f: Filters): boolean {
  if (f.timeMin === undefined && f.timeMax === undefined) return true;
  const t = eventTimes(ev, cal.timeZone);
  if (Number.isNaN(t.startMs)) return true;
  const end = t.endMs > t.startMs ? t.endMs : t.startMs + 1;
  return (f.timeMin === undefined || end > f.timeMin) && (f.timeMax === undefined || t.startMs < f.timeMax);
}

function matchesFilters(ev: Event, f: Filters): boolean {
  if (f.iCalUID !== undefined && ev.iCalUID !== f.iCalUID) return false;
  if (f.updatedMin !== undefined && Date.parse(ev.updated ?? '') < f.updatedMin) return false;
  for (const [k, v] of f.priv) if (ev.extendedProperties?.private?.[k] !== v) return false;
  for (const [k, v] of f.shared) if (ev.extendedProperties?.shared?.[k] !== v) return false;
  if (f.q !== undefined && !matchesText(ev, f.q)) return false;
  return true;
}

/** Google's showDeleted rules, including the two singleEvents quirks documented on the parameter. */
function visibleCancelled(ev: Event, cal: Calendar, f: Filters): boolean {
  if (f.updatedMin !== undefined) return true;
  const isException = Boolean(ev.recurringEventId);
  const masterAlive = isException && cal.events.get(ev.recurringEventId!)?.data.status !== 'cancelled';
  if (!f.showDeleted) return !f.singleEvents && isException && masterAlive;
  return f.singleEvents ? !isMaster(ev) : true;
}

function expansionWindow(ev: Event, cal: Calendar, f: Filters): [number, number] {
  const t = eventTimes(ev, cal.timeZone);
  const from = (f.timeMin ?? t.startMs) - (t.endMs - t.startMs) - 86_400_000;
  return [from, f.timeMax ?? Math.max(Date.now(), t.startMs) + OPEN_END_MS];
}

function present(ev: Event): Event {
  return ev.status === 'cancelled' ? tombstone(ev) : ev;
}

/** All matching items of a full (non-sync) listing, each with its paging key. */
function fullItems(cal: Calendar, f: Filters, orderBy: string | null): Item[] {
  const items: Item[] = [];
  const key = (s: StoredEvent, ev: Event, instMs = 0) => {
    if (orderBy === 'startTime') return `${pad(eventTimes(ev, cal.timeZone).startMs)}|${pad(s.ord, 10)}|${pad(instMs)}`;
    if (orderBy === 'updated') return `${ev.updated}|${pad(s.ord, 10)}|${pad(instMs)}`;
    return `${pad(s.ord, 10)}|${pad(instMs)}`;
  };
  for (const s of cal.events.values()) {
    const ev = s.data;
    if (f.singleEvents && ev.recurringEventId && cal.events.get(ev.recurringEventId)) continue; // shown in the expansion
    if (ev.status === 'cancelled' && !visibleCancelled(ev, cal, f)) continue;
    if (f.singleEvents && isMaster(ev) && ev.status !== 'cancelled') {
      const [from, to] = expansionWindow(ev, cal, f);
      for (const inst of seriesInstances(cal, s, from, to)) {
        if (inst.ev.status === 'cancelled' && !visibleCancelled(inst.ev, cal, f)) continue;
        if (!matchesFilters(inst.ev, f)) continue;
        if (!overlaps(inst.ev, cal, f)) continue;
        items.push({ key: key(s, inst.ev, inst.originalMs), ev: present(inst.ev) });
      }
      continue;
    }
    if (!matchesFilters(ev, f)) continue;
    // Tombstones keep their times in the store, so a time window filters them too.
    const unbounded = f.timeMin === undefined && f.timeMax === undefined;
    const hit = unbounded || (isMaster(ev) ? seriesInstances(cal, s, ...expansionWindow(ev, cal, f)).some((i) => overlaps(i.ev, cal, f)) : overlaps(ev, cal, f));
    if (!hit) continue;
    items.push({ key: key(s, ev), ev: present(ev) });
  }
  return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Everything written after change number `since`: tombstones regardless of showDeleted. */
function changedItems(cal: Calendar, since: number, singleEvents: boolean): Item[] {
  const items: Item[] = [];
  for (const s of cal.events.values()) {
    if (s.seq <= since) continue;
    const ev = s.data;
    if (singleEvents && isMaster(ev) && ev.status !== 'cancelled') {
      const t = eventTimes(ev, cal.timeZone);
      for (const inst of seriesInstances(cal, s, t.startMs, Math.max(Date.now(), t.startMs) + OPEN_END_MS)) {
        if (inst.stored) continue; // reported on its own when it changed
        items.push({ key: `${pad(s.ord, 10)}|${pad(inst.originalMs)}`, ev: inst.ev });
      }
      continue;
    }
    items.push({ key: `${pad(s.ord, 10)}|${pad(0)}`, ev: present(ev) });
  }
  return items.sort((a, b) => (a.key < b.key ? -1 : 1));
}

function listEnvelope(cal: Calendar, store: Store, items: Event[], zone: string | null): calendar_v3.Schema$Events {
  let updated = 0;
  for (const e of cal.events.values()) updated = Math.max(updated, Date.parse(e.data.updated ?? ''));
  return {
    kind: 'calendar#events',
    etag: `"p${store.currentSeq().toString(32)}${cal.syncGeneration}"`,
    summary: cal.summary,
    ...(cal.description ? { description: cal.description } : {}),
    updated: new Date(updated || Date.now()).toISOString(),
    timeZone: zone ?? cal.timeZone,
    accessRole: 'owner',
    defaultReminders: cal.defaultReminders,
    items: items.map((ev) => inZone(ev, zone)),
  };
}

function pageSize(query: URLSearchParams, dflt: number, max: number): number {
  const n = intParam(query, 'maxResults') ?? dflt;
  if (n < 1) throw new GoogleApiError(400, { domain: 'global', reason: 'invalid', message: 'Invalid value for: maxResults', location: 'maxResults', locationType: 'parameter' });
  return Math.min(n, max);
}

function paginate(store: Store, cal: Calendar, query: URLSearchParams, syncable: boolean, build: (state: PageState | undefined) => { items: Item[]; state: Omit<PageState, 'k'> }): calendar_v3.Schema$Events {
  const pageToken = query.get('pageToken');
  let state: PageState | undefined;
  if (pageToken) {
    state = decode<PageState>('EjE', pageToken);
    if (!state || state.c !== cal.id) throw errors.invalid('Invalid page token value.');
    if (state.f !== undefined && state.g !== cal.syncGeneration) throw errors.fullSyncRequired();
  }
  const max = pageSize(query, 250, 2500);
  const { items, state: base } = build(state);
  const rest = state ? items.filter((i) => i.key > state.k) : items;
  const page = rest.slice(0, max);
  const out = listEnvelope(cal, store, page.map((i) => i.ev), checkZoneParam(query));
  if (rest.length > max) out.nextPageToken = encode('EjE', { ...base, k: page[page.length - 1]!.key });
  else if (syncable) out.nextSyncToken = encode('CPj', { c: cal.id, s: base.s, g: cal.syncGeneration });
  // Google puts the page/sync token before items; keep that field order.
  const { items: its, ...head } = out;
  return { ...head, items: its };
}

export function listEvents(store: Store, cal: Calendar, query: URLSearchParams): calendar_v3.Schema$Events {
  const syncToken = query.get('syncToken');
  const orderBy = query.get('orderBy');
  const f = readFilters(query);
  if (orderBy !== null && orderBy !== 'startTime' && orderBy !== 'updated') throw errors.invalid('Invalid value for: orderBy');
  if (orderBy === 'startTime' && !f.singleEvents) throw errors.badRequest('The requested ordering is not available for the particular query.');
  if (syncToken !== null) {
    const clash = SYNC_INCOMPATIBLE.filter((p) => query.has(p));
    if (clash.length) throw errors.badRequest(`Sync token cannot be combined with the parameter(s): ${clash.join(', ')}.`, 'invalid');
  }
  return paginate(store, cal, query, true, (state) => {
    let from = state?.f;
    if (!state && syncToken !== null) {
      const t = decode<{ c: string; s: number; g: number }>('CPj', syncToken);
      if (!t || t.c !== cal.id || t.g !== cal.syncGeneration) throw errors.fullSyncRequired();
      from = t.s;
    }
    const snapshot = state?.s ?? store.currentSeq();
    const items = from !== undefined ? changedItems(cal, from, f.singleEvents) : fullItems(cal, f, orderBy);
    return { items, state: { s: snapshot, c: cal.id, g: cal.syncGeneration, ...(from !== undefined ? { f: from } : {}) } };
  });
}

export function listInstances(store: Store, cal: Calendar, master: StoredEvent, query: URLSearchParams): calendar_v3.Schema$Events {
  const f = readFilters(query);
  const originalStart = query.get('originalStart');
  return paginate(store, cal, query, false, (state) => {
    let items: Item[];
    if (!isMaster(master.data)) items = [{ key: pad(0), ev: present(master.data) }];
    else {
      const [from, to] = expansionWindow(master.data, cal, f);
      items = seriesInstances(cal, master, from, to)
        .filter((i) => (i.ev.status === 'cancelled' ? f.showDeleted : overlaps(i.ev, cal, f)))
        .filter((i) => originalStart === null || Date.parse(originalStart) === i.originalMs)
        .map((i) => ({ key: pad(i.originalMs), ev: present(i.ev) }));
    }
    return { items, state: { s: state?.s ?? store.currentSeq(), c: cal.id, g: cal.syncGeneration } };
  });
}
