// The emulator's control surface for tests: the same methods in-process and
// as JSON endpoints under /__emulator/<method> for other processes.
import type { ChannelInfo, Channels } from './channels.ts';
import type { ApiContext, SendUpdatesRecord } from './context.ts';
import type { calendar_v3, tasks_v1 } from 'googleapis';
import type { FaultKind, FaultRateSpec, FaultSpec, Faults } from './faults.ts';
import { seededRandom } from './faults.ts';
import type { Reply, Req, Route } from './http.ts';
import { route } from './http.ts';
import type { ContactGroup, PeopleStore, Person } from './people-store.ts';
import { newEtag } from './people-store.ts';

export type CallCounts = { total: number; byRoute: Record<string, number> };

export type Control = {
  addAccount(email: string, opts?: { timeZone?: string }): { email: string; primaryCalendarId: string; defaultTaskListId: string };
  addCalendar(email: string, summary: string, opts?: { timeZone?: string }): { id: string };
  addTaskList(email: string, title: string): { id: string };
  registerClient(clientId: string, clientSecret: string): void;
  registerServiceAccount(sa: { clientEmail: string; publicKeyPem: string; domain: string }): void;
  /** An access token without the OAuth dance (for tests that only exercise the API). */
  issueAccessToken(email: string, scopes: string[]): string;
  revoke(email: string): void;
  setAccessTokenLifetime(seconds: number): void;
  /** Access tokens issued so far expire now (as after their hour). */
  expireAccessTokens(email?: string): void;
  /** Requests to the token endpoint since the start (or resetCalls), by grant_type. */
  tokenRequests(): Record<string, number>;
  expireSyncTokens(calendarId?: string): void;
  fault(spec: FaultSpec): void;
  faultRate(spec: FaultRateSpec): void;
  notifications(spec: { drop?: number; duplicate?: number; seed?: number }): void;
  clearFaults(): void;
  injectedFaults(): { kind: FaultKind; method: string; path: string }[];
  calls(): CallCounts;
  resetCalls(): void;
  sendUpdates(): SendUpdatesRecord[];
  deliveries(): Channels['deliveries'];
  /** Every channel made (stopped ones too), with the token its maker gave. */
  channels(): ChannelInfo[];
  flushNotifications(): Promise<void>;
  dump(email: string): { calendars: Record<string, calendar_v3.Schema$Event[]>; taskLists: Record<string, tasks_v1.Schema$Task[]> };
  consent(opts: { autoApprove?: string | boolean }): void;
  /** Opt-in: guests who are emulator accounts get invitation copies in their primary calendars. */
  invitations(opts: { autoAdd: boolean }): void;
  /** People API: the account's live contacts and its contact groups (with memberResourceNames) */
  dumpPeople(email: string): { people: Person[]; groups: ContactGroup[] };
  /** People API: older sync and page tokens answer 400 FAILED_PRECONDITION EXPIRED_SYNC_TOKEN */
  expirePeopleSyncTokens(email?: string): void;
  /** People API write quota: mutate requests per minute per user (0: none); over it, 429 RESOURCE_EXHAUSTED */
  peopleQuota(opts: { writesPerMinute: number }): void;
  /** People API: an edit made by the user in Google (a new etag), e.g. to see a push overwrite it */
  editPerson(email: string, resourceName: string, change: Person): Person;
};

export function createControl(ctx: ApiContext, faults: Faults, channels: Channels, counts: CallCounts, people: PeopleStore): Control {
  const { store, oauth } = ctx;
  return {
    addAccount(email, opts) {
      const account = store.addAccount(email, opts?.timeZone);
      return { email, primaryCalendarId: account.calendarIds[0]!, defaultTaskListId: account.taskListIds[0]! };
    },
    addCalendar: (email, summary, opts) => ({ id: store.addCalendar(email, summary, opts?.timeZone).id }),
    addTaskList: (email, title) => ({ id: store.addTaskList(email, title).id }),
    registerClient: (clientId, clientSecret) => void oauth.clients.set(clientId, clientSecret),
    registerServiceAccount: (sa) => oauth.registerServiceAccount(sa),
    issueAccessToken: (email, scopes) => oauth.issueAccessToken(email, scopes),
    revoke: (email) => oauth.revoke(email),
    setAccessTokenLifetime: (seconds) => void (oauth.accessTokenLifetime = seconds),
    expireAccessTokens: (email) => oauth.expireAccessTokens(email),
    tokenRequests: () => ({ ...oauth.tokenRequests }),
    expireSyncTokens(calendarId) {
      for (const cal of store.calendars.values()) if (calendarId === undefined || cal.id === calendarId) cal.syncGeneration++;
    },
    fault: (spec) => faults.add(spec),
    faultRate: (spec) => faults.addRate(spec),
    notifications(spec) {
      channels.faults = { drop: spec.drop ?? 0, duplicate: spec.duplicate ?? 0, random: spec.seed === undefined ? Math.random : seededRandom(spec.seed) };
    },
    clearFaults() {
      faults.clear();
      channels.faults = { drop: 0, duplicate: 0, random: Math.random };
    },
    injectedFaults: () => [...faults.injected],
    calls: () => ({ total: counts.total, byRoute: { ...counts.byRoute } }),
    resetCalls() {
      counts.total = 0;
      counts.byRoute = {};
      oauth.tokenRequests = {};
    },
    sendUpdates: () => [...ctx.sendUpdates],
    deliveries: () => [...channels.deliveries],
    channels: () => channels.list(),
    flushNotifications: () => channels.flush(),
    dump: (email) => store.dump(email),
    consent: (opts) => void (oauth.autoApprove = opts.autoApprove ?? false),
    invitations(opts) {
      if (ctx.invitations) ctx.invitations.autoAdd = opts.autoAdd;
    },
    dumpPeople: (email) => people.dump(email),
    expirePeopleSyncTokens(email) {
      for (const a of people.accounts.values()) if (email === undefined || a.email === email) a.syncGeneration++;
    },
    peopleQuota: (opts) => void (people.writesPerMinute = opts.writesPerMinute),
    editPerson(email, resourceName, change) {
      const p = people.account(email).people.get(resourceName);
      if (!p || p.deleted) throw new Error(`no contact ${resourceName}`);
      Object.assign(p.data, structuredClone(change));
      p.data.etag = newEtag();
      p.data.metadata = { ...p.data.metadata, sources: (p.data.metadata?.sources ?? []).map((s) => ({ ...s, etag: newEtag(), updateTime: new Date().toISOString() })) };
      p.seq = ctx.store.nextSeq();
      return structuredClone(p.data);
    },
  };
}

/** POST /__emulator/<method> with a JSON array of arguments (or an object for one-argument methods); GET for the no-argument ones. */
export function controlRoutes(control: Control): Route[] {
  const handler = async (req: Req): Promise<Reply> => {
    const name = req.params.method! as keyof Control;
    const fn = control[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function') return { status: 404, body: { error: `no control method ${name}` } };
    let args: unknown[] = [];
    if (req.rawBody.trim()) {
      const parsed: unknown = JSON.parse(req.rawBody);
      args = Array.isArray(parsed) ? parsed : [parsed];
    }
    try {
      const result = await fn(...args);
      return { status: 200, body: result ?? {} };
    } catch (e) {
      return { status: 400, body: { error: (e as Error).message } };
    }
  };
  return [route('POST', '/__emulator/{method}', handler), route('GET', '/__emulator/{method}', handler)];
}
