// Shared setup for the emulator's tests: an emulator with one account and
// one OAuth client, a google-auth-library OAuth2Client pointed at it, and
// googleapis Calendar/Tasks clients authorised through the real code flow.
import { OAuth2Client } from 'google-auth-library';
import { google } from 'googleapis';
import type { calendar_v3, tasks_v1 } from 'googleapis';
import { responseSchema, SchemaSet } from './schema-check.ts';
import { startGoogleEmulator } from './server.ts';
import type { GoogleEmulator } from './server.ts';

const schemas = SchemaSet.google();

/**
 * An emulator whose every Calendar/Tasks answer is checked against the
 * discovery schemas; close() throws when any answer broke them.
 */
export async function startCheckedEmulator(): Promise<GoogleEmulator & { checkedResponses(): number }> {
  const problems: string[] = [];
  let checked = 0;
  const g = await startGoogleEmulator({
    onResponse: ({ method, template, status, body }) => {
      const schema = responseSchema(method, template, status);
      if (!schema) return void problems.push(`${method} ${template}: no schema known for this answer`);
      checked++;
      for (const p of schemas.check(body, schema)) problems.push(`${method} ${template} → ${p}`);
    },
  });
  const close = g.close;
  return Object.assign(g, {
    checkedResponses: () => checked,
    async close() {
      await close();
      const distinct = [...new Set(problems.map((p) => p.replace(/\[\d+\]/g, '[]')))];
      if (distinct.length) throw new Error(`answers that break the discovery schemas:\n${distinct.join('\n')}`);
    },
  });
}

export const CLIENT_ID = 'kalends-test.apps.googleusercontent.com';
export const CLIENT_SECRET = 'test-secret';
export const REDIRECT_URI = 'http://127.0.0.1:1/oauth/callback';
export const SCOPES = ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/tasks'];

export function oauthClient(g: GoogleEmulator): OAuth2Client {
  return new OAuth2Client({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    endpoints: {
      oauth2AuthBaseUrl: `${g.url}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${g.url}/token`,
      oauth2RevokeUrl: `${g.url}/revoke`,
      tokenInfoUrl: `${g.url}/tokeninfo`,
    },
  });
}

/** Follows the consent redirect (auto-approved) and returns the code and state. */
export async function authorizeCode(
  g: GoogleEmulator,
  client: OAuth2Client,
  email: string,
  scopes = SCOPES,
  prompt: string | null = 'consent',
): Promise<{ code: string; state: string | null; location: URL }> {
  g.consent({ autoApprove: email });
  const authUrl = client.generateAuthUrl({ access_type: 'offline', scope: scopes, state: 'xyz', login_hint: email, ...(prompt ? { prompt } : {}) });
  const res = await fetch(authUrl, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`consent answered ${res.status}`);
  const location = new URL(res.headers.get('location')!);
  return { code: location.searchParams.get('code')!, state: location.searchParams.get('state'), location };
}

export type Setup = {
  g: Awaited<ReturnType<typeof startCheckedEmulator>>;
  auth: OAuth2Client;
  calendar: calendar_v3.Calendar;
  tasks: tasks_v1.Tasks;
  email: string;
};

/** An emulator with `email` signed in through the code flow; clients retry nothing unless asked. */
export async function setup(email = 'alice@example.com', opts: { timeZone?: string; scopes?: string[] } = {}): Promise<Setup> {
  const g = await startCheckedEmulator();
  g.registerClient(CLIENT_ID, CLIENT_SECRET);
  g.addAccount(email, { timeZone: opts.timeZone });
  const auth = oauthClient(g);
  const { code } = await authorizeCode(g, auth, email, opts.scopes);
  const { tokens } = await auth.getToken(code);
  auth.setCredentials(tokens);
  const rootUrl = `${g.url}/`;
  const calendar = google.calendar({ version: 'v3', auth, rootUrl, retry: false });
  const tasks = google.tasks({ version: 'v1', auth, rootUrl, retry: false });
  return { g, auth, calendar, tasks, email };
}

/** The Google error body of a failed googleapis call. */
export async function failure(p: Promise<unknown>): Promise<{ status: number; body: any; headers: Headers | Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; response?: { status: number; data: unknown; headers: Headers } };
    if (err.response) return { status: err.response.status, body: err.response.data, headers: err.response.headers };
    throw e;
  }
  throw new Error('expected the call to fail');
}
