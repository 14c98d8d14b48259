// In-memory state of the emulator: accounts, calendars with their events
// (tombstones kept forever, so sync tokens can report deletions), task lists.
import { randomBytes } from 'node:crypto';
import type { calendar_v3, tasks_v1 } from 'googleapis';

export type StoredEvent = {
  /** insertion order within the calendar; stable paging key */
  ord: number;
  /** store-wide change number of the last write; sync tokens compare it */
  seq: number;
  data: calendar_v3.Schema$Event;
};

export type Calendar = {
  id: string;
  owner: string;
  summary: string;
  description?: string;
  location?: string;
  timeZone: string;
  primary: boolean;
  etag: string;
  /** bumped by expireSyncTokens: older tokens answer 410 */
  syncGeneration: number;
  defaultReminders: calendar_v3.Schema$EventReminder[];
  events: Map<string, StoredEvent>;
};

export type StoredTask = { ord: number; pos: number; data: tasks_v1.Schema$Task };

export type TaskList = {
  id: string;
  owner: string;
  title: string;
  updated: string;
  etag: string;
  tasks: Map<string, StoredTask>;
};

export type Account = {
  email: string;
  timeZone: string;
  calendarIds: string[];
  taskListIds: string[];
};

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

export function randomBase32hex(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE32HEX[b & 31];
  return out;
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export class Store {
  accounts = new Map<string, Account>();
  calendars = new Map<string, Calendar>();
  taskLists = new Map<string, TaskList>();
  private lastMicros = 0;
  private seq = 0;
  private ord = 0;

  /** A strictly increasing timestamp: microseconds (for etags) and RFC 3339 with ms. */
  stamp(): { micros: number; iso: string } {
    const micros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    return { micros, iso: new Date(Math.floor(micros / 1000)).toISOString() };
  }
  nextSeq(): number {
    return ++this.seq;
  }
  currentSeq(): number {
    return this.seq;
  }
  nextOrd(): number {
    return ++this.ord;
  }

  addAccount(email: string, timeZone = 'UTC'): Account {
    const existing = this.accounts.get(email);
    if (existing) return existing;
    const account: Account = { email, timeZone, calendarIds: [], taskListIds: [] };
    this.accounts.set(email, account);
    this.createCalendar(account, email, email, true);
    this.addTaskList(email, 'My Tasks');
    return account;
  }

  account(email: string): Account {
    const a = this.accounts.get(email);
    if (!a) throw new Error(`unknown account ${email}`);
    return a;
  }

  addCalendar(email: string, summary: string, timeZone?: string): Calendar {
    const account = this.account(email);
    const id = `${randomBase32hex(26)}@group.calendar.google.com`;
    return this.createCalendar(account, id, summary, false, timeZone);
  }

  private createCalendar(account: Account, id: string, summary: string, primary: boolean, timeZone = account.timeZone): Calendar {
    const cal: Calendar = {
      id,
      owner: account.email,
      summary,
      timeZone,
      primary,
      etag: `"${this.stamp().micros}"`,
      syncGeneration: 0,
      defaultReminders: primary ? [{ method: 'popup', minutes: 10 }] : [],
      events: new Map(),
    };
    this.calendars.set(id, cal);
    account.calendarIds.push(id);
    return cal;
  }

  removeCalendar(id: string): void {
    const cal = this.calendars.get(id);
    if (!cal) return;
    this.calendars.delete(id);
    const account = this.account(cal.owner);
    account.calendarIds = account.calendarIds.filter((c) => c !== id);
  }

  removeTaskList(id: string): void {
    const list = this.taskLists.get(id);
    if (!list) return;
    this.taskLists.delete(id);
    const account = this.account(list.owner);
    account.taskListIds = account.taskListIds.filter((l) => l !== id);
  }

  addTaskList(email: string, title: string): TaskList {
    const account = this.account(email);
    const list: TaskList = {
      id: randomToken(24),
      owner: email,
      title,
      updated: this.stamp().iso,
      etag: `"${randomToken(12)}"`,
      tasks: new Map(),
    };
    this.taskLists.set(list.id, list);
    account.taskListIds.push(list.id);
    return list;
  }

  /** Resolves 'primary' and checks the caller owns the calendar. */
  calendarFor(email: string, calendarId: string): Calendar | undefined {
    const id = calendarId === 'primary' ? email : calendarId;
    const cal = this.calendars.get(id);
    return cal && cal.owner === email ? cal : undefined;
  }

  /** Resolves '@default' and checks the caller owns the list. */
  taskListFor(email: string, taskListId: string): TaskList | undefined {
    const account = this.accounts.get(email);
    if (!account) return undefined;
    const id = taskListId === '@default' ? account.taskListIds[0] : taskListId;
    const list = id === undefined ? undefined : this.taskLists.get(id);
    return list && list.owner === email ? list : undefined;
  }

  dump(email: string): { calendars: Record<string, calendar_v3.Schema$Event[]>; taskLists: Record<string, tasks_v1.Schema$Task[]> } {
    const account = this.account(email);
    const calendars: Record<string, calendar_v3.Schema$Event[]> = {};
    for (const id of account.calendarIds) {
      calendars[id] = [...this.calendars.get(id)!.events.values()].map((e) => structuredClone(e.data));
    }
    const taskLists: Record<string, tasks_v1.Schema$Task[]> = {};
    for (const id of account.taskListIds) {
      taskLists[id] = [...this.taskLists.get(id)!.tasks.values()].map((t) => structuredClone(t.data));
    }
    return { calendars, taskLists };
  }
}
