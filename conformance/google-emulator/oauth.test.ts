// OAuth 2.0 against the emulator with google-auth-library's OAuth2Client:
// consent page, code exchange, refresh, revocation, scopes.
import t from 'tap';
import { google } from 'googleapis';
import { CodeChallengeMethod } from 'google-auth-library';
import { authorizeCode, CLIENT_ID, failure, oauthClient, REDIRECT_URI, SCOPES, setup } from './test-helpers.ts';

t.test('consent page: one Allow button per account, Deny, code exchange, single-use code', async (t) => {
  const { g, auth } = await setup('alice@example.com');
  t.teardown(() => g.close());
  g.addAccount('bob@example.com');
  g.consent({ autoApprove: false });
  const client = oauthClient(g);
  const url = client.generateAuthUrl({ access_type: 'offline', scope: SCOPES, state: 's1' });
  const page = await fetch(url);
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, />Allow as alice@example\.com</);
  t.match(html, />Allow as bob@example\.com</);
  t.match(html, />Deny</);
  const request = /name="request" value="([^"]*)"/.exec(html)![1]!.replaceAll('&#38;', '&');
  const approve = await fetch(`${g.url}/o/oauth2/v2/auth/decision`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ request, email: 'bob@example.com', decision: 'allow' }),
  });
  t.equal(approve.status, 302);
  const location = new URL(approve.headers.get('location')!);
  t.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
  t.equal(location.searchParams.get('state'), 's1');
  const code = location.searchParams.get('code')!;
  const { tokens } = await client.getToken(code);
  t.ok(tokens.access_token);
  t.ok(tokens.refresh_token, 'offline access yields a refresh token');
  t.equal(tokens.token_type, 'Bearer');
  t.equal(tokens.scope, SCOPES.join(' '));
  const idPayload = JSON.parse(Buffer.from(tokens.id_token!.split('.')[1]!, 'base64url').toString('utf8'));
  t.equal(idPayload.email, 'bob@example.com');
  const again = await failure(client.getToken(code));
  t.equal(again.status, 400);
  t.equal(again.body.error, 'invalid_grant');

  const deny = await fetch(`${g.url}/o/oauth2/v2/auth/decision`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ request, decision: 'deny' }) });
  const denied = new URL(deny.headers.get('location')!);
  t.equal(denied.searchParams.get('error'), 'access_denied');
  t.equal(denied.searchParams.get('state'), 's1');

  const cal = google.calendar({ version: 'v3', auth, rootUrl: `${g.url}/` });
  t.equal((await cal.calendars.get({ calendarId: 'primary' })).data.id, 'alice@example.com');
});

t.test('unknown client, wrong secret, wrong redirect_uri', async (t) => {
  const { g } = await setup();
  t.teardown(() => g.close());
  const page = await fetch(`${g.url}/o/oauth2/v2/auth?client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=x`);
  t.equal(page.status, 400);
  t.match(await page.text(), /invalid_client/);
  const client = oauthClient(g);
  const { code } = await authorizeCode(g, client, 'alice@example.com');
  const res = await fetch(`${g.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: CLIENT_ID, client_secret: 'wrong', redirect_uri: REDIRECT_URI }),
  });
  t.equal(res.status, 401);
  t.same(await res.json(), { error: 'invalid_client', error_description: 'Unauthorized' });
  const { code: code2 } = await authorizeCode(g, client, 'alice@example.com');
  const mismatch = await fetch(`${g.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:test-secret`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code2, redirect_uri: 'http://127.0.0.1:2/other' }),
  });
  t.equal(mismatch.status, 400);
  t.equal(((await mismatch.json()) as { error: string }).error, 'redirect_uri_mismatch');
});

t.test('refresh: short-lived access tokens are renewed by the client transparently', async (t) => {
  const { g, auth, calendar } = await setup();
  t.teardown(() => g.close());
  g.setAccessTokenLifetime(1);
  const first = await auth.refreshAccessToken();
  const before = first.credentials.access_token;
  t.equal(first.credentials.refresh_token, auth.credentials.refresh_token, 'refresh keeps the refresh token');
  await new Promise((r) => setTimeout(r, 1100));
  const raw = await fetch(`${g.url}/calendar/v3/calendars/primary`, { headers: { authorization: `Bearer ${before}` } });
  t.equal(raw.status, 401, 'the expired access token is refused');
  t.equal((await calendar.calendars.get({ calendarId: 'primary' })).status, 200);
  t.not(auth.credentials.access_token, before, 'the client refreshed');
});

t.test('revoke(email): refresh answers invalid_grant, API calls 401 with Google error body', async (t) => {
  const { g, auth, calendar } = await setup();
  t.teardown(() => g.close());
  const access = auth.credentials.access_token!;
  g.revoke('alice@example.com');
  const raw = await fetch(`${g.url}/calendar/v3/calendars/primary/events`, { headers: { authorization: `Bearer ${access}` } });
  t.equal(raw.status, 401);
  t.match(raw.headers.get('www-authenticate'), /^Bearer realm="https:\/\/accounts.google.com\/", error="invalid_token"/);
  const body = (await raw.json()) as { error: { code: number; status: string; errors: unknown[] } };
  t.equal(body.error.code, 401);
  t.equal(body.error.status, 'UNAUTHENTICATED');
  t.same(body.error.errors[0], { domain: 'global', reason: 'authError', message: 'Invalid Credentials', location: 'Authorization', locationType: 'header' });
  const refresh = await failure(auth.refreshAccessToken());
  t.equal(refresh.status, 400);
  t.same(refresh.body, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  // OAuth2Client retries a 401 after trying a refresh; that refresh fails, so the 401 surfaces.
  const call = await failure(calendar.events.list({ calendarId: 'primary' }));
  t.equal(call.status, 401);
  t.equal(call.body.error.errors[0].reason, 'authError');
});

t.test('revoke endpoint (OAuth2Client.revokeToken) kills the grant', async (t) => {
  const { g, auth } = await setup();
  t.teardown(() => g.close());
  const refreshToken = auth.credentials.refresh_token!;
  await auth.revokeToken(auth.credentials.access_token!);
  const res = await fetch(`${g.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, client_secret: 'test-secret' }),
  });
  t.equal(res.status, 400);
  t.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  const again = await fetch(`${g.url}/revoke?token=${refreshToken}`, { method: 'POST' });
  t.equal(again.status, 200, 'revoking a dead refresh token is not an error while it is known');
  const unknown = await fetch(`${g.url}/revoke?token=nope`, { method: 'POST' });
  t.equal(unknown.status, 400);
  t.equal(((await unknown.json()) as { error: string }).error, 'invalid_token');
});

t.test('scopes are enforced per token', async (t) => {
  const { g, calendar, tasks } = await setup('alice@example.com', { scopes: ['https://www.googleapis.com/auth/tasks'] });
  t.teardown(() => g.close());
  const denied = await failure(calendar.calendars.get({ calendarId: 'primary' }));
  t.equal(denied.status, 403);
  t.equal(denied.body.error.errors[0].reason, 'insufficientPermissions');
  t.equal((await tasks.tasklists.list()).status, 200);
  const eventsOnly = g.issueAccessToken('alice@example.com', ['https://www.googleapis.com/auth/calendar.events']);
  const list = await fetch(`${g.url}/calendar/v3/calendars/primary/events`, { headers: { authorization: `Bearer ${eventsOnly}` } });
  t.equal(list.status, 200, 'calendar.events is enough for events');
  const cal = await fetch(`${g.url}/calendar/v3/calendars/primary`, { headers: { authorization: `Bearer ${eventsOnly}` } });
  t.equal(cal.status, 403, 'but not for calendars.get');
});

t.test('a refresh token comes with the first offline consent, later only with prompt=consent', async (t) => {
  const { g } = await setup('alice@example.com');
  t.teardown(() => g.close());
  const client = oauthClient(g);
  const again = await client.getToken((await authorizeCode(g, client, 'alice@example.com', SCOPES, null)).code);
  t.notOk(again.tokens.refresh_token, 'no new refresh token while the first grant lives');
  const forced = await client.getToken((await authorizeCode(g, client, 'alice@example.com', SCOPES, 'consent')).code);
  t.ok(forced.tokens.refresh_token);
  g.addAccount('bob@example.com');
  const first = await client.getToken((await authorizeCode(g, client, 'bob@example.com', SCOPES, null)).code);
  t.ok(first.tokens.refresh_token, 'first consent of another account');
});

t.test('userinfo needs an email scope; tokeninfo describes the token; no Authorization is 401 required', async (t) => {
  const withEmail = [...SCOPES, 'openid', 'https://www.googleapis.com/auth/userinfo.email'];
  const { g, auth } = await setup('alice@example.com', { scopes: withEmail });
  t.teardown(() => g.close());
  const oauth2 = google.oauth2({ version: 'v2', auth, rootUrl: `${g.url}/` });
  const me = (await oauth2.userinfo.get()).data;
  t.equal(me.email, 'alice@example.com');
  t.equal(me.verified_email, true);
  t.match(me.id, /^\d{21}$/);
  const info = await auth.getTokenInfo(auth.credentials.access_token!);
  t.equal(info.email, 'alice@example.com');
  t.equal(info.aud, CLIENT_ID);
  t.same(info.scopes, withEmail);
  t.equal(info.access_type, 'offline');

  const narrow = g.issueAccessToken('alice@example.com', SCOPES);
  const denied = await fetch(`${g.url}/oauth2/v2/userinfo`, { headers: { authorization: `Bearer ${narrow}` } });
  t.equal(denied.status, 401, 'calendar and tasks scopes do not reveal the email');
  const anonymous = await fetch(`${g.url}/calendar/v3/calendars/primary`);
  t.equal(anonymous.status, 401);
  const body = (await anonymous.json()) as { error: { errors: { reason: string; message: string }[] } };
  t.same(body.error.errors[0], { domain: 'global', reason: 'required', message: 'Login Required.', location: 'Authorization', locationType: 'header' });
});

t.test('PKCE: the code verifier must match the challenge', async (t) => {
  const { g } = await setup('alice@example.com');
  t.teardown(() => g.close());
  const client = oauthClient(g);
  g.consent({ autoApprove: 'alice@example.com' });
  const login = async () => {
    const pkce = await client.generateCodeVerifierAsync();
    const url = client.generateAuthUrl({ access_type: 'offline', scope: SCOPES, code_challenge: pkce.codeChallenge, code_challenge_method: CodeChallengeMethod.S256 });
    const res = await fetch(url, { redirect: 'manual' });
    return { code: new URL(res.headers.get('location')!).searchParams.get('code')!, verifier: pkce.codeVerifier };
  };
  const good = await login();
  t.ok((await client.getToken({ code: good.code, codeVerifier: good.verifier })).tokens.access_token);
  const bad = await login();
  const refused = await failure(client.getToken({ code: bad.code, codeVerifier: 'x'.repeat(43) }));
  t.same(refused.body, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
});
