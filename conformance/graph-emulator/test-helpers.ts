// Shared setup for the Graph emulator's tests: an emulator whose every
// event/todoTask/subscription body (answers and accepted requests) and every
// notification is checked against Graph's v1.0 CSDL, one user and one app,
// and the authorization-code flow with PKCE done over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { Csdl } from './csdl.ts';
import { startGraphEmulator } from './server.ts';
import type { GraphEmulator, GraphEmulatorOptions } from './server.ts';

export const CLIENT_ID = '11112222-bbbb-3333-cccc-4444dddd5555';
export const CLIENT_SECRET = 'test-secret';
export const REDIRECT_URI = 'http://127.0.0.1:1/auth/callback';
export const SCOPES = 'openid profile offline_access https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/Tasks.ReadWrite';

function typeOf(template: string): string | undefined {
  if (/\/subscriptions/.test(template)) return 'microsoft.graph.subscription';
  if (/\/tasks/.test(template)) return 'microsoft.graph.todoTask';
  if (/\/todo\/lists$/.test(template)) return 'microsoft.graph.todoTaskList';
  if (/\/events|calendarview/.test(template)) return 'microsoft.graph.event';
  if (/\/calendar/.test(template)) return 'microsoft.graph.calendar';
  return undefined;
}

export async function startCheckedEmulator(opts: GraphEmulatorOptions = {}): Promise<GraphEmulator & { checked(): number }> {
  const csdl = Csdl.load();
  const problems: string[] = [];
  let checked = 0;
  const check = (what: string, body: unknown, type: string) => {
    checked++;
    for (const p of csdl.check(body, type)) problems.push(`${what}: ${p}`);
  };
  const g = await startGraphEmulator({
    ...opts,
    onExchange: (e) => {
      opts.onExchange?.(e);
      const { method, template, status, requestBody, responseBody } = e;
      const type = typeOf(template);
      if (!type) return;
      if (requestBody !== undefined) return check(`${method} ${template} request`, requestBody, type);
      if (status >= 400 || responseBody === undefined) return;
      const body = responseBody as Record<string, unknown>;
      check(`${method} ${template} answer`, Array.isArray(body.value) ? body.value : body, Array.isArray(body.value) ? `Collection(${type})` : type);
    },
  });
  const close = g.close;
  return Object.assign(g, {
    checked: () => checked,
    async close() {
      await close();
      for (const d of g.deliveries()) check('notification', d.body, 'microsoft.graph.changeNotificationCollection');
      const distinct = [...new Set(problems.map((p) => p.replace(/\[\d+\]/g, '[]')))];
      if (distinct.length) throw new Error(`bodies that break Graph's CSDL:\n${distinct.join('\n')}`);
    },
  });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Runs /authorize with auto-approval and returns the code from the redirect. */
export async function authorize(g: GraphEmulator, upn: string, challenge: string, extra: Record<string, string> = {}): Promise<URL> {
  g.consent({ autoApprove: upn });
  const q = new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPES, state: 's1', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  const res = await fetch(`${g.authority('common')}/oauth2/v2.0/authorize?${q}`, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location')!);
}

export async function token(g: GraphEmulator, form: Record<string, string>, tenant = 'common'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${g.authority(tenant)}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...form }) });
  return { status: res.status, body: await res.json() };
}

/** An emulator with alice@contoso.com, the app registered, and a delegated token for her. */
export async function setup(opts: GraphEmulatorOptions = {}) {
  const g = await startCheckedEmulator(opts);
  const alice = g.addUser('alice@contoso.com', { displayName: 'Alice' });
  g.registerApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] });
  const accessToken = g.issueAccessToken('alice@contoso.com', CLIENT_ID, ['Calendars.ReadWrite', 'Tasks.ReadWrite']);
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(path.startsWith('http') ? path : `${g.graphUrl}${path}`, {
      method, headers: { authorization: `Bearer ${accessToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return { g, alice, accessToken, api };
}
