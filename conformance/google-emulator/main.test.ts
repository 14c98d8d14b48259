// The standalone emulator in its own process, driven over HTTP: the
// /__emulator control endpoints and the OAuth flow with --auto-approve.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { google } from 'googleapis';
import { OAuth2Client } from 'google-auth-library';
import { failure } from './test-helpers.ts';

t.test('main.ts serves the API and the control endpoints', async (t) => {
  const child = spawn(process.execPath, [new URL('./main.ts', import.meta.url).pathname, '--port', '0', '--account', 'alice@example.com', '--client', 'cid:csecret', '--auto-approve', 'alice@example.com'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const url = line.toString().trim();
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const control = async (method: string, ...args: unknown[]) => {
    const res = await fetch(`${url}/__emulator/${method}`, { method: 'POST', body: JSON.stringify(args) });
    t.equal(res.status, 200, method);
    return res.json() as Promise<any>;
  };

  const team = await control('addCalendar', 'alice@example.com', 'Team');
  t.match(team.id, /@group\.calendar\.google\.com$/);
  const auth = new OAuth2Client({
    clientId: 'cid',
    clientSecret: 'csecret',
    redirectUri: 'http://127.0.0.1:1/cb',
    endpoints: { oauth2AuthBaseUrl: `${url}/o/oauth2/v2/auth`, oauth2TokenUrl: `${url}/token`, oauth2RevokeUrl: `${url}/revoke` },
  });
  const consent = await fetch(auth.generateAuthUrl({ access_type: 'offline', scope: ['https://www.googleapis.com/auth/calendar'] }), { redirect: 'manual' });
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  auth.setCredentials((await auth.getToken(code)).tokens);
  const calendar = google.calendar({ version: 'v3', auth, rootUrl: `${url}/`, retry: false });
  t.equal((await calendar.calendarList.list()).data.items!.length, 2);

  await control('fault', { kind: '429', times: 1 });
  t.equal((await failure(calendar.calendars.get({ calendarId: 'primary' }))).status, 429);
  const calls = await (await fetch(`${url}/__emulator/calls`)).json();
  t.same(calls, { total: 2, byRoute: { 'GET /calendar/v3/users/me/calendarList': 1, 'GET /calendar/v3/calendars/{calendarId}': 1 } });
  await control('revoke', 'alice@example.com');
  t.equal((await failure(calendar.calendars.get({ calendarId: 'primary' }))).status, 401);
  const unknown = await fetch(`${url}/__emulator/nope`, { method: 'POST' });
  t.equal(unknown.status, 404);
});
