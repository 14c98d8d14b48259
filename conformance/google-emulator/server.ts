// startGoogleEmulator(): Google Calendar v3, Tasks v1 and OAuth 2.0 on
// 127.0.0.1, for the real googleapis client (rootUrl) and google-auth-library
// (endpoints). Control methods come back on the returned object and over
// HTTP under /__emulator/.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calendarsRoutes } from './calendars-routes.ts';
import { Channels } from './channels.ts';
import type { ApiContext } from './context.ts';
import type { CallCounts, Control } from './control.ts';
import { controlRoutes, createControl } from './control.ts';
import { errors, GoogleApiError } from './errors.ts';
import { eventsRoutes } from './events-routes.ts';
import { Faults } from './faults.ts';
import { createInvitations } from './invitations.ts';
import type { Reply, Req, Route } from './http.ts';
import { errorReply, matchRoute, readBody, send } from './http.ts';
import { OAuth } from './oauth.ts';
import { peopleRoutes } from './people-routes.ts';
import { PeopleStore } from './people-store.ts';
import { Store } from './store.ts';
import { tasksRoutes } from './tasks-routes.ts';
import { userinfoRoutes } from './userinfo.ts';

/** Calendar v3, Tasks v1 and People v1 (rootUrl https://people.googleapis.com/, paths /v1/…) */
export const API_PATH = /^\/(calendar|tasks|v1)\//;

export type GoogleEmulator = Control & {
  url: string;
  close(): Promise<void>;
};

export type ApiResponse = { method: string; template: string; path: string; status: number; body: unknown };

export type GoogleEmulatorOptions = {
  port?: number;
  host?: string;
  log?: (line: string) => void;
  /** Sees every answer of a Calendar/Tasks/People route (the schema check in tests uses it). */
  onResponse?: (r: ApiResponse) => void;
};

export async function startGoogleEmulator(opts: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  let url = '';
  const baseUrl = () => url;
  const store = new Store();
  const people = new PeopleStore();
  const oauth = new OAuth(store, baseUrl);
  const channels = new Channels(baseUrl);
  const ctx: ApiContext = { store, oauth, notifier: channels, sendUpdates: [], baseUrl };
  ctx.invitations = createInvitations(ctx);
  const faults = new Faults();
  const counts: CallCounts = { total: 0, byRoute: {} };
  const control = createControl(ctx, faults, channels, counts, people);
  const apiRoutes: Route[] = [...calendarsRoutes(ctx), ...eventsRoutes(ctx, channels), ...tasksRoutes(ctx), ...peopleRoutes(ctx, people)];
  const otherRoutes: Route[] = [...oauth.routes(), ...userinfoRoutes(oauth), ...controlRoutes(control)];

  async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(raw.url ?? '/', 'http://127.0.0.1');
    const method = (raw.headers['x-http-method-override'] as string | undefined)?.toUpperCase() ?? raw.method ?? 'GET';
    const path = parsed.pathname;
    const isApi = API_PATH.test(path);
    const found = matchRoute(isApi ? apiRoutes : otherRoutes, method, path);
    if (isApi && typeof found === 'object') {
      const key = `${method} ${found.route.template}`;
      counts.total++;
      counts.byRoute[key] = (counts.byRoute[key] ?? 0) + 1;
    }
    const rawBody = await readBody(raw);
    if (!path.startsWith('/__emulator/')) {
      const fault = faults.take(method, path);
      if (fault) return faults.inject(fault, raw, res, path);
    }
    if (found === undefined) return send(res, errorReply(errors.notFound()));
    if (found === 'wrong-method') return send(res, errorReply(new GoogleApiError(405, { domain: 'global', reason: 'httpMethodNotAllowed', message: `HTTP method ${method} is not supported by this URL` })));
    const req: Req = { method, path, query: parsed.searchParams, headers: raw.headers, params: found.params, rawBody, raw, res };
    let reply: Reply;
    try {
      reply = await found.route.handler(req);
    } catch (e) {
      if (!(e instanceof GoogleApiError)) throw e;
      reply = errorReply(e);
    }
    if (isApi && reply.body !== undefined) opts.onResponse?.({ method, template: found.route.template, path, status: reply.status, body: reply.body });
    send(res, reply);
  }

  const server = createServer((raw, res) => {
    handle(raw, res).catch((e: unknown) => {
      if (e instanceof GoogleApiError) return send(res, errorReply(e));
      opts.log?.(`google-emulator: ${(e as Error).stack ?? String(e)}`);
      send(res, errorReply(errors.backendError()));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;

  return {
    ...control,
    url,
    async close() {
      faults.releaseHeld();
      await channels.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
