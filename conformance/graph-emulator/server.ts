// startGraphEmulator(): Microsoft Graph v1.0 (calendars, events, calendar
// view delta, To Do, subscriptions, $batch) and the Microsoft identity
// platform v2.0 on 127.0.0.1, over http or, for MSAL (which accepts only
// https authorities), over TLS with a generated certificate. Point MSAL's
// authority at `${url}/${tenant}` and Graph calls at `${url}/v1.0`.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Reply, Route } from '../google-emulator/http.ts';
import { matchRoute, readBody, route, send } from '../google-emulator/http.ts';
import { Clock } from './clock.ts';
import type { Call, Change, SentMail, Shared } from './context.ts';
import { need, parsePrefer } from './context.ts';
import { DeltaRounds } from './delta.ts';
import { Directory, keyCredential } from './directory.ts';
import { GraphError, graphErrors } from './errors.ts';
import * as events from './events.ts';
import { Identity } from './identity.ts';
import { Signer } from './jwt.ts';
import { Mailboxes, newChangeKey } from './mailbox.ts';
import { Subscriptions } from './subscriptions.ts';
import type { Delivery } from './subscriptions.ts';
import { selfSignedCertificate } from './tls-cert.ts';
import { renderTask, todo } from './todo.ts';

export type Exchange = { method: string; template: string; status: number; requestBody?: unknown; responseBody?: unknown };
export type GraphEmulatorOptions = { tls?: boolean; onExchange?: (e: Exchange) => void };
type Throttle = { status: 429 | 503; retryAfter?: number; times: number; pathIncludes?: string };

const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const LITERALS = new Set(['calendars', 'calendar', 'events', 'instances', 'calendarview', 'delta', 'todo', 'lists', 'tasks']);
const MAX_BATCH = 20; // concepts/json-batching.md: "JSON batch requests are currently limited to 20 individual requests"

type Handler = (call: Call, p: Record<string, string>) => Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> | { status: number; body?: unknown; headers?: Record<string, string> };

export async function startGraphEmulator(opts: GraphEmulatorOptions = {}) {
  let url = '';
  const clock = new Clock();
  const dir = new Directory();
  const mail = new Mailboxes();
  const signer = new Signer();
  const identity = new Identity(dir, clock, signer, () => url);
  const sentMail: SentMail[] = [];
  const deltas = new DeltaRounds();
  let subs: Subscriptions | undefined;
  const shared: Shared = { dir, identity, mail, clock, baseUrl: () => url, sentMail, changed: (c: Change) => subs!.notify(c) };
  subs = new Subscriptions(shared);
  const throttles: Throttle[] = [];
  let throttled = 0;
  let concurrentEdits = 0;
  let batchOrder: 'reverse' | 'request' = 'reverse';

  function eventsDelta(call: Call, calendarId?: string) {
    need(call, 'Calendars.Read', 'Calendars.ReadWrite');
    const skip = call.query.get('$skiptoken') ?? undefined;
    const delta = call.query.get('$deltatoken') ?? undefined;
    const carried = skip ?? delta;
    const q = carried !== undefined ? deltas.queryOf(carried) : undefined;
    const win = q ? { fromMs: Number(q.s), toMs: Number(q.e) } : events.windowOf(call.query);
    const cal = events.calendarOf(call, (q?.c as string | undefined) ?? calendarId);
    const base = `${url}/v1.0${call.userPath}${calendarId ? `/calendars/${calendarId}` : ''}/calendarView/delta`;
    const { body, headers } = deltas.page({
      owner: `${call.user.id} ${cal.id}`, odataType: 'microsoft.graph.event', skip, delta, pageSize: call.prefs.maxPageSize,
      query: { s: win.fromMs, e: win.toMs, c: cal.id },
      current: () => events.instancesIn(call, cal.id, win.fromMs, win.toMs).map((i) => {
        const rendered = events.renderEvent(call, i);
        return { id: String(rendered.id), version: events.instanceVersion(i), render: () => rendered };
      }),
      link: (param, token) => `${base}?${param}=${token}`,
      initialUrl: `${base}?startDateTime=${new Date(win.fromMs).toISOString()}&endDateTime=${new Date(win.toMs).toISOString()}`,
    });
    return { status: 200, body: { '@odata.context': `${url}/v1.0/$metadata#Collection(event)`, ...body }, headers };
  }

  function tasksDelta(call: Call, listId: string) {
    need(call, 'Tasks.Read', 'Tasks.ReadWrite');
    const list = todo.tasks(call, listId) && mail.lists.get(listId)!;
    const skip = call.query.get('$skiptoken') ?? undefined;
    const delta = call.query.get('$deltatoken') ?? undefined;
    const base = `${url}/v1.0${call.userPath}/todo/lists/${listId}/tasks/delta`;
    const { body, headers } = deltas.page({
      owner: `${call.user.id} ${list.id}`, odataType: 'microsoft.graph.todoTask', skip, delta, pageSize: call.prefs.maxPageSize, query: { l: list.id },
      current: () => [...mail.tasks.values()].filter((t) => t.listId === list.id).map((t) => ({ id: t.id, version: t.etag, render: () => renderTask(t) })),
      link: (param, token) => `${base}?${param}=${token}`, initialUrl: base,
    });
    return { status: 200, body: { '@odata.context': `${url}/v1.0/$metadata#Collection(todoTask)`, ...body }, headers };
  }

  const h = (fn: Handler) => fn;
  const userRoutes: [string, string, Handler][] = [
    ['GET', '/calendars', h((c) => ({ status: 200, body: { value: [...mail.calendars.values()].filter((x) => x.userId === c.user.id).map((x) => events.renderCalendar(c, x)) } }))],
    ['GET', '/calendar', h((c) => ({ status: 200, body: events.renderCalendar(c, events.calendarOf(c, undefined)) }))],
    ['GET', '/calendars/{cid}', h((c, p) => ({ status: 200, body: events.renderCalendar(c, events.calendarOf(c, p.cid)) }))],
    ['GET', '/events', h((c) => events.listEvents(c))],
    ['POST', '/events', h((c) => events.createEvent(c))],
    ['GET', '/events/{id}', h((c, p) => events.getEvent(c, p.id!))],
    ['PATCH', '/events/{id}', h((c, p) => events.updateEvent(c, p.id!))],
    ['DELETE', '/events/{id}', h((c, p) => events.deleteEvent(c, p.id!))],
    ['GET', '/events/{id}/instances', h((c, p) => events.listInstances(c, p.id!))],
    ['GET', '/calendars/{cid}/events', h((c, p) => events.listEvents(c, p.cid))],
    ['POST', '/calendars/{cid}/events', h((c, p) => events.createEvent(c, p.cid))],
    ['GET', '/calendars/{cid}/events/{id}', h((c, p) => events.getEvent(c, p.id!, p.cid))],
    ['PATCH', '/calendars/{cid}/events/{id}', h((c, p) => events.updateEvent(c, p.id!, p.cid))],
    ['DELETE', '/calendars/{cid}/events/{id}', h((c, p) => events.deleteEvent(c, p.id!, p.cid))],
    ['GET', '/calendarview/delta', h((c) => eventsDelta(c))],
    ['GET', '/calendars/{cid}/calendarview/delta', h((c, p) => eventsDelta(c, p.cid))],
    ['GET', '/calendarview', h((c) => events.calendarView(c))],
    ['GET', '/calendars/{cid}/calendarview', h((c, p) => events.calendarView(c, p.cid))],
    ['GET', '/todo/lists', h((c) => todo.lists(c))],
    ['GET', '/todo/lists/{lid}/tasks/delta', h((c, p) => tasksDelta(c, p.lid!))],
    ['GET', '/todo/lists/{lid}/tasks', h((c, p) => todo.tasks(c, p.lid!))],
    ['POST', '/todo/lists/{lid}/tasks', h((c, p) => todo.create(c, p.lid!))],
    ['GET', '/todo/lists/{lid}/tasks/{tid}', h((c, p) => todo.get(c, p.lid!, p.tid!))],
    ['PATCH', '/todo/lists/{lid}/tasks/{tid}', h((c, p) => todo.update(c, p.lid!, p.tid!))],
    ['DELETE', '/todo/lists/{lid}/tasks/{tid}', h((c, p) => todo.remove(c, p.lid!, p.tid!))],
  ];
  const topRoutes: [string, string, Handler][] = [
    ['GET', '/subscriptions', h((c) => subs.list(c))],
    ['POST', '/subscriptions', h((c) => subs.create(c))],
    ['GET', '/subscriptions/{sid}', h((c, p) => subs.get(c, p.sid!))],
    ['PATCH', '/subscriptions/{sid}', h((c, p) => subs.renew(c, p.sid!))],
    ['DELETE', '/subscriptions/{sid}', h((c, p) => subs.remove(c, p.sid!))],
  ];
  const asRoutes = (list: [string, string, Handler][]): Route[] => list.map(([m, t, fn]) => route(m, t, fn as never));
  const userTable = asRoutes(userRoutes);
  const topTable = asRoutes(topRoutes);

  /** One Graph request below /v1.0, as a direct call or from inside a $batch. */
  async function graph(method: string, pathAndQuery: string, headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<{ status: number; body?: unknown; headers: Record<string, string>; template: string }> {
    const u = new URL(pathAndQuery, 'http://x');
    const path = u.pathname.replace(/\/+$/, '');
    let template = path;
    try {
      const t = throttles.find((x) => x.times > 0 && (!x.pathIncludes || path.includes(x.pathIncludes)));
      if (t) {
        t.times--;
        throttled++;
        // concepts/throttling.md: 429 with Retry-After; 503 likewise when the service is busy.
        const retry = t.retryAfter !== undefined ? { 'retry-after': String(t.retryAfter) } : ({} as Record<string, string>);
        throw t.status === 429 ? new GraphError(429, 'TooManyRequests', 'Please retry again later.', retry) : new GraphError(503, 'serviceNotAvailable', 'Service unavailable.', retry);
      }
      const auth = /^Bearer (.+)$/i.exec(String(headers.authorization ?? ''));
      if (!auth) throw graphErrors.noToken();
      const token = identity.accessTokens.get(auth[1]!);
      if (!token) throw graphErrors.badToken();
      if (token.expiresMs <= clock.now()) throw graphErrors.expiredToken();
      const m = /^\/(me|users\/([^/]+))(\/.*)?$/i.exec(path);
      let user = token.userId ? dir.users.get(token.userId)! : undefined;
      let rest = path;
      let userPath = '';
      if (m) {
        if (m[1]!.toLowerCase() === 'me') {
          if (!user) throw graphErrors.meWithAppOnly();
        } else {
          const target = dir.userByIdOrUpn(decodeURIComponent(m[2]!));
          if (!target || target.tenantId !== token.tenantId) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${decodeURIComponent(m[2]!)}' is invalid.`);
          if (user && user.id !== target.id) throw graphErrors.accessDenied();
          user = target;
        }
        userPath = m[1]!.toLowerCase() === 'me' ? '/me' : `/users/${m[2]}`;
        rest = (m[3] ?? '').split('/').map((s) => (LITERALS.has(s.toLowerCase()) ? s.toLowerCase() : s)).join('/');
        mail.ensureMailbox(user!.id);
      }
      const found = matchRoute(m ? userTable : topTable, method, rest);
      if (found === undefined) throw graphErrors.noResource(path);
      if (found === 'wrong-method') throw new GraphError(405, 'Request_BadRequest', `Specified HTTP method is not allowed for the request uri.`);
      template = `${m ? '/{user}' : ''}${found.route.template}`;
      if (concurrentEdits > 0 && method === 'PATCH' && /\/events\/\{id\}$/.test(template)) {
        // the user saved the event in Outlook a moment before this PATCH: a new change key, so a stale If-Match answers 412
        const ev = mail.event(decodeURIComponent(found.params.id!));
        if (ev) {
          concurrentEdits--;
          ev.changeKey = newChangeKey();
          ev.modifiedMs = clock.now();
          shared.changed({ userId: ev.userId, container: ev.calendarId, kind: 'event', immutableId: ev.immutableId, restId: ev.restId, changeType: 'updated', etag: `W/"${ev.changeKey}"` });
        }
      }
      let parsed: Record<string, unknown> | undefined;
      const call: Call = {
        s: shared, token, user: user ?? dir.users.values().next().value!, prefs: parsePrefer(headers.prefer), query: u.searchParams, headers, userPath,
        body: () => {
          if (parsed) return parsed;
          try {
            const v: unknown = rawBody.trim() === '' ? undefined : JSON.parse(rawBody);
            if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error();
            parsed = v as Record<string, unknown>;
          } catch {
            throw graphErrors.badBody(rawBody.trim() === '' ? undefined : 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
          }
          opts.onExchange?.({ method, template, status: 0, requestBody: parsed });
          return parsed;
        },
      };
      const out = await (found.route.handler as unknown as Handler)(call, found.params);
      return { status: out.status, body: out.body, headers: { ...(out.headers ?? {}) }, template };
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      const cri = headers['client-request-id'];
      return { status: e.status, body: e.body(clock.now(), typeof cri === 'string' ? cri : undefined), headers: e.headers, template };
    }
  }

  async function batch(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<{ status: number; body: unknown }> {
    let requests: { id: string; method: string; url: string; headers?: Record<string, string>; body?: unknown; dependsOn?: string[] }[];
    try {
      requests = (JSON.parse(rawBody) as { requests: typeof requests }).requests;
      if (!Array.isArray(requests)) throw new Error();
    } catch {
      throw graphErrors.badBody('Invalid batch payload format.');
    }
    if (requests.length > MAX_BATCH) throw new GraphError(400, 'BadRequest', `Number of batch request steps exceeds the maximum value of ${MAX_BATCH}.`);
    const ids = new Set(requests.map((r) => r.id));
    if (ids.size !== requests.length) throw new GraphError(400, 'BadRequest', 'Batch request contains duplicate request ids.');
    const results = new Map<string, { id: string; status: number; headers: Record<string, string>; body?: unknown }>();
    for (const r of requests) {
      // dependsOn: a request runs after the ones it names; when one of those failed it answers 424 (json-batching.md).
      const failed = (r.dependsOn ?? []).find((d) => (results.get(d)?.status ?? 200) >= 400);
      if (failed) {
        results.set(r.id, { id: r.id, status: 424, headers: { 'content-type': 'application/json' }, body: new GraphError(424, 'FailedDependency', 'The request could not be completed due to a failed dependency.').body(clock.now()) });
        continue;
      }
      const inner = { ...Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])), authorization: headers.authorization };
      const res = await graph(r.method.toUpperCase(), r.url.startsWith('/') ? r.url : `/${r.url}`, inner, r.body === undefined ? '' : JSON.stringify(r.body));
      results.set(r.id, { id: r.id, status: res.status, headers: { ...res.headers, ...(res.body !== undefined ? { 'content-type': GRAPH_JSON } : {}) }, ...(res.body !== undefined ? { body: res.body } : {}) });
    }
    const responses = [...results.values()];
    // "the responses might appear in a different order than the requests" — reversed here unless asked otherwise, so clients match by id.
    return { status: 200, body: { responses: batchOrder === 'reverse' ? responses.reverse() : responses } };
  }

  const control = {
    addUser: (upn: string, o: { displayName?: string; timeZone?: string } = {}) => {
      const u = dir.addUser(upn, o);
      mail.ensureMailbox(u.id);
      return { id: u.id, upn: u.upn, tenantId: u.tenantId, defaultCalendarId: mail.defaultCalendar(u.id).id, defaultTaskListId: [...mail.lists.values()].find((l) => l.userId === u.id)!.id };
    },
    addCalendar: (upn: string, name: string) => mail.addCalendar(dir.userByUpn(upn)!.id, name).id,
    addTaskList: (upn: string, name: string) => mail.addTaskList(dir.userByUpn(upn)!.id, name).id,
    registerApp: (a: { clientId: string; clientSecret?: string; certificates?: string[]; redirectUris?: string[]; name?: string }) => void dir.registerApp(a),
    /** An admin uploads a certificate (PEM) to the app registration; start and end default to the certificate's own. */
    addCertificate: (clientId: string, pem: string, window: { startMs?: number; endMs?: number } = {}) => void dir.apps.get(clientId)!.certificates.push(keyCredential(pem, window)),
    /** Application permissions (roles) an admin of the app's tenant consented to, for client_credentials tokens. */
    grantAdminConsent: (clientId: string, tenantId: string, roles: string[]) => void dir.appRoles.set(`${tenantId} ${clientId}`, new Set(roles)),
    requireAdminApproval: (clientId: string, permissions: string[]) => void permissions.forEach((p) => dir.apps.get(clientId)!.needsAdminApproval.add(p)),
    consent: (o: { autoApprove: boolean | string }) => void (identity.autoApprove = o.autoApprove),
    /** The user (or an admin) removed the app's consent: refresh answers AADSTS65001. */
    revokeConsent: (upn: string, clientId: string) => void dir.grants.delete(`${dir.userByUpn(upn)!.id} ${clientId}`),
    /** Password changed or reset: older refresh tokens answer AADSTS50173. */
    changePassword: (upn: string) => void (dir.userByUpn(upn)!.tokensValidFromMs = clock.now()),
    expireRefreshTokens: (upn?: string) => identity.expireRefreshTokens(upn ? dir.userByUpn(upn)!.id : undefined),
    setAccessTokenLifetime: (seconds: number) => void (identity.accessTokenLifetimeS = seconds),
    issueAccessToken: (upn: string, clientId: string, permissions: string[]) => identity.issueAccessToken(dir.userByUpn(upn)!, clientId, permissions),
    advanceClock: (ms: number) => clock.advance(ms),
    expireDeltaTokens: () => deltas.expireAll(),
    /** A user moves an event to another calendar in Outlook: new REST id, same immutable id. */
    moveEvent: (eventId: string, calendarId: string) => {
      const ev = mail.event(eventId)!;
      const from = ev.calendarId;
      shared.changed({ userId: ev.userId, container: from, kind: 'event', immutableId: ev.immutableId, restId: ev.restId, changeType: 'deleted', etag: `W/"${ev.changeKey}"` });
      mail.moveEvent(ev, calendarId);
      shared.changed({ userId: ev.userId, container: calendarId, kind: 'event', immutableId: ev.immutableId, restId: ev.restId, changeType: 'created', etag: `W/"${ev.changeKey}"` });
      return { immutableId: ev.immutableId, restId: ev.restId };
    },
    /**
     * Exchange delivers the organiser's meeting to an attendee's calendar: a copy of the attendee's own (own id),
     * with the same iCalUId, as a tentative meeting request (resources/event.md: iCalUId is shared by all instances
     * of an event across calendars).
     */
    deliverInvitation: (eventId: string, upn: string) => {
      const ev = mail.event(eventId)!;
      const user = dir.userByUpn(upn)!;
      mail.ensureMailbox(user.id);
      const now = clock.now();
      const { immutableId: _i, restId: _r, transactionId: _t, ...rest } = ev;
      const copy = mail.insertEvent({ ...rest, userId: user.id, calendarId: mail.defaultCalendar(user.id).id, f: { ...ev.f, showAs: 'tentative' }, ext: new Map(), createdMs: now, modifiedMs: now });
      shared.changed({ userId: user.id, container: copy.calendarId, kind: 'event', immutableId: copy.immutableId, restId: copy.restId, changeType: 'created', etag: `W/"${copy.changeKey}"` });
      return { id: copy.immutableId, iCalUId: copy.iCalUId };
    },
    throttle: (t: { status: 429 | 503; retryAfter?: number; times?: number; pathIncludes?: string }) => void throttles.push({ ...t, times: t.times ?? 1 }),
    /** How many requests a throttle() answered. */
    throttled: () => throttled,
    /** The next `times` PATCHes of an event find it saved by the user in Outlook just before (a new change key). */
    concurrentEdit: (times = 1) => void (concurrentEdits += times),
    /** Throttles and concurrent edits not used up are dropped. */
    clearFaults: () => { throttles.length = 0; concurrentEdits = 0; },
    setBatchOrder: (order: 'reverse' | 'request') => void (batchOrder = order),
    sentMail: (): SentMail[] => [...sentMail],
    lifecycle: (subscriptionId: string, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed') => subs.lifecycle(subscriptionId, event),
    setHandshakeTimeout: (ms: number) => void (subs.handshakeTimeoutMs = ms),
    deliveries: (): Delivery[] => [...subs.deliveries],
    flushNotifications: () => subs.flush(),
  };

  async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(raw.url ?? '/', 'http://127.0.0.1');
    const method = raw.method ?? 'GET';
    const rawBody = await readBody(raw);
    const requestId = randomUUID();
    if (parsed.pathname.startsWith('/v1.0/')) {
      const below = raw.url!.slice('/v1.0'.length);
      let reply: { status: number; body?: unknown; headers: Record<string, string>; template: string };
      if (parsed.pathname === '/v1.0/$batch' && method === 'POST') {
        try {
          reply = { ...(await batch(raw.headers, rawBody)), headers: {}, template: '/$batch' };
        } catch (e) {
          if (!(e instanceof GraphError)) throw e;
          reply = { status: e.status, body: e.body(clock.now()), headers: {}, template: '/$batch' };
        }
      } else reply = await graph(method, below, raw.headers, rawBody);
      opts.onExchange?.({ method, template: reply.template, status: reply.status, responseBody: reply.body });
      const headers: Record<string, string> = { ...reply.headers, 'request-id': requestId, 'client-request-id': String(raw.headers['client-request-id'] ?? requestId) };
      if (reply.body !== undefined) headers['content-type'] = GRAPH_JSON;
      return send(res, { status: reply.status, headers, ...(reply.body !== undefined ? { body: reply.body } : {}) });
    }
    if (parsed.pathname.startsWith('/__emulator/')) {
      const name = parsed.pathname.slice('/__emulator/'.length) as keyof typeof control;
      const fn = control[name] as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) return send(res, { status: 404, body: { error: `no control method ${name}` } });
      const args: unknown = rawBody.trim() ? JSON.parse(rawBody) : [];
      const result = await fn(...(Array.isArray(args) ? args : [args]));
      return send(res, { status: 200, body: result ?? null });
    }
    const found = matchRoute(identity.routes(), method, parsed.pathname);
    if (typeof found !== 'object') return send(res, { status: 404, body: { error: 'not_found' } });
    const reply: Reply = await found.route.handler({ method, path: parsed.pathname, query: parsed.searchParams, headers: raw.headers, params: found.params, rawBody, raw, res });
    send(res, reply);
  }

  const tls = opts.tls ? selfSignedCertificate() : undefined;
  const listener = (raw: IncomingMessage, res: ServerResponse) => {
    handle(raw, res).catch((e: unknown) => {
      send(res, { status: 500, body: new GraphError(500, 'generalException', (e as Error).stack ?? String(e)).body(clock.now()) });
    });
  };
  const server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...control,
    url,
    graphUrl: `${url}/v1.0`,
    /** The PEM a client must trust when tls is on (e.g. `ca` of https.request, MSAL's networkClient). */
    caCertificate: tls?.cert,
    /** Where MSAL's `authority` points for a tenant (id, domain, or common). */
    authority: (tenant: string) => `${url}/${tenant}`,
    async close() {
      await subs.flush();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type GraphEmulator = Awaited<ReturnType<typeof startGraphEmulator>>;
