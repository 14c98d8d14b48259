// What one Exchange Online mailbox holds for the emulator: calendars with
// events (series masters, exceptions, cancelled occurrences) and To Do lists.
// Ids come in two forms (concepts/outlook-immutable-id.md): the default REST
// id changes when the item moves to another folder, the immutable id never.
import { randomBytes, randomUUID } from 'node:crypto';
import type { PatternedRecurrence } from './series.ts';

export type Fields = {
  subject: string;
  body: { contentType: string; content: string };
  start: { ms: number; tz: string };
  end: { ms: number; tz: string };
  isAllDay: boolean;
  location: { displayName: string };
  attendees: { type: string; emailAddress: { name?: string; address: string } }[];
  categories: string[];
  showAs: string;
  sensitivity: string;
  importance: string;
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  recurrence: PatternedRecurrence | null;
};

export type StoredEvent = {
  immutableId: string;
  restId: string;
  userId: string;
  calendarId: string;
  changeKey: string;
  createdMs: number;
  modifiedMs: number;
  iCalUId: string;
  transactionId?: string;
  type: 'singleInstance' | 'seriesMaster' | 'exception';
  masterId?: string;
  originalStartMs?: number;
  cancelledStarts: number[];
  ext: Map<string, string>;
  f: Fields;
};

export type Calendar = { id: string; userId: string; name: string; isDefault: boolean; changeKey: string };
export type TaskList = { id: string; userId: string; displayName: string; wellknownListName: string };
export type Task = {
  id: string; listId: string; title: string; status: string; importance: string; body: { contentType: string; content: string };
  dueDateTime: { dateTime: string; timeZone: string } | null; completedDateTime: { dateTime: string; timeZone: string } | null;
  categories: string[]; createdMs: number; modifiedMs: number; etag: string;
};

const b64 = (n: number) => randomBytes(n).toString('base64url');
export const newRestId = () => `AAMkA${b64(48)}=`;
export const newImmutableId = () => `AAkAL${b64(48)}=`;
export const newChangeKey = () => b64(21);

/**
 * Occurrence ids name the master and the original start, in the id form the
 * caller uses, so any occurrence can be addressed without being stored.
 */
export function occurrenceId(masterId: string, originalStartMs: number): string {
  const prefix = masterId.startsWith('AAkAL') ? 'AAkAO' : 'AAMkO';
  return `${prefix}${Buffer.from(`${masterId}|${originalStartMs}`).toString('base64url')}`;
}

export function parseOccurrenceId(id: string): { masterId: string; originalStartMs: number } | undefined {
  if (!/^AA(kAO|MkO)/.test(id)) return undefined;
  const [masterId, ms] = Buffer.from(id.slice(5), 'base64url').toString('utf8').split('|');
  if (!masterId || !ms || !/^\d+$/.test(ms)) return undefined;
  return { masterId, originalStartMs: Number(ms) };
}

export class Mailboxes {
  readonly calendars = new Map<string, Calendar>();
  readonly events = new Map<string, StoredEvent>(); // by immutable id
  readonly #byRestId = new Map<string, string>();
  readonly lists = new Map<string, TaskList>();
  readonly tasks = new Map<string, Task>();

  ensureMailbox(userId: string): void {
    if (![...this.calendars.values()].some((c) => c.userId === userId)) this.addCalendar(userId, 'Calendar', true);
    if (![...this.lists.values()].some((l) => l.userId === userId)) this.addTaskList(userId, 'Tasks', 'defaultList');
  }

  addCalendar(userId: string, name: string, isDefault = false): Calendar {
    const c: Calendar = { id: newRestId(), userId, name, isDefault, changeKey: newChangeKey() };
    this.calendars.set(c.id, c);
    return c;
  }

  addTaskList(userId: string, displayName: string, wellknownListName = 'none'): TaskList {
    const l: TaskList = { id: `AAMkA${b64(32)}=`, userId, displayName, wellknownListName };
    this.lists.set(l.id, l);
    return l;
  }

  defaultCalendar(userId: string): Calendar {
    return [...this.calendars.values()].find((c) => c.userId === userId && c.isDefault)!;
  }

  insertEvent(e: Omit<StoredEvent, 'immutableId' | 'restId' | 'iCalUId'> & { immutableId?: string; restId?: string; iCalUId?: string }): StoredEvent {
    const ev: StoredEvent = { ...e, immutableId: e.immutableId ?? newImmutableId(), restId: e.restId ?? newRestId(), iCalUId: e.iCalUId ?? `040000008200E00074C5B7101A82E008${randomBytes(36).toString('hex').toUpperCase()}` };
    this.events.set(ev.immutableId, ev);
    this.#byRestId.set(ev.restId, ev.immutableId);
    return ev;
  }

  /** An event by either id form. */
  event(id: string): StoredEvent | undefined {
    return this.events.get(id) ?? this.events.get(this.#byRestId.get(id) ?? '');
  }

  removeEvent(ev: StoredEvent): void {
    this.events.delete(ev.immutableId);
    this.#byRestId.delete(ev.restId);
  }

  /** Moving to another calendar (folder) gives the item a new REST id; its immutable id stays. */
  moveEvent(ev: StoredEvent, calendarId: string): void {
    this.#byRestId.delete(ev.restId);
    ev.restId = newRestId();
    ev.calendarId = calendarId;
    this.#byRestId.set(ev.restId, ev.immutableId);
  }

  eventsOf(calendarId: string): StoredEvent[] {
    return [...this.events.values()].filter((e) => e.calendarId === calendarId);
  }
}

export const newSubscriptionId = () => randomUUID();
