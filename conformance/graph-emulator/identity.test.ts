import { constants, createHash, randomUUID, sign, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import t from 'tap';
import { decodeJwt } from './jwt.ts';
import { startGraphEmulator } from './server.ts';
import { authorize, CLIENT_ID, pkce, REDIRECT_URI, setup, token } from './test-helpers.ts';
import { selfSignedCertificate } from './tls-cert.ts';

t.test('code flow with PKCE S256: tokens, id_token for the user, client_info; a wrong verifier is AADSTS501481', async (t) => {
  const { g } = await setup();
  t.teardown(() => g.close());
  const { verifier, challenge } = pkce();
  const wrong = await authorize(g, 'alice@contoso.com', challenge, { nonce: 'n-1' });
  t.equal(wrong.searchParams.get('state'), 's1');
  const bad = await token(g, { grant_type: 'authorization_code', code: wrong.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: 'not-the-verifier' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error, 'invalid_grant');
  t.match(bad.body.error_description, /^AADSTS501481: .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  t.same(bad.body.error_codes, [501481]);
  t.match(bad.body, { timestamp: /Z$/, trace_id: /^[0-9a-f-]{36}$/, correlation_id: /^[0-9a-f-]{36}$/ });

  const redirect = await authorize(g, 'alice@contoso.com', challenge, { nonce: 'n-1' });
  const ok = await token(g, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_info: '1' });
  t.equal(ok.status, 200);
  t.match(ok.body, { token_type: 'Bearer', expires_in: 3599, refresh_token: String, id_token: String, client_info: String });
  t.match(decodeJwt(ok.body.id_token), { aud: CLIENT_ID, preferred_username: 'alice@contoso.com', nonce: 'n-1', ver: '2.0' });
  const again = await token(g, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  t.same(again.body.error_codes, [54005], 'a code is redeemed once');

  const me = await fetch(`${g.graphUrl}/me/calendars`, { headers: { authorization: `Bearer ${ok.body.access_token}` } });
  t.equal(me.status, 200);
});

t.test('codes expire after 10 minutes (AADSTS70008); access tokens expire on the emulator clock', async (t) => {
  const { g } = await setup();
  t.teardown(() => g.close());
  const { verifier, challenge } = pkce();
  const redirect = await authorize(g, 'alice@contoso.com', challenge);
  g.advanceClock(11 * 60_000);
  const late = await token(g, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  t.same(late.body.error_codes, [70008]);
  t.match(late.body.error_description, /^AADSTS70008: The provided authorization code or refresh token has expired/);

  const at = g.issueAccessToken('alice@contoso.com', CLIENT_ID, ['Calendars.ReadWrite']);
  g.advanceClock(3600_000);
  const res = await fetch(`${g.graphUrl}/me/events`, { headers: { authorization: `Bearer ${at}` } });
  t.equal(res.status, 401);
  t.match(await res.json(), { error: { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.', innerError: { date: String, 'request-id': String, 'client-request-id': String } } });
});

t.test('refresh: a new refresh token each time; revoked consent 65001, password change 50173, inactivity 700082', async (t) => {
  const { g } = await setup();
  t.teardown(() => g.close());
  const first = async () => {
    const { verifier, challenge } = pkce();
    const redirect = await authorize(g, 'alice@contoso.com', challenge);
    return (await token(g, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier })).body.refresh_token as string;
  };
  let rt = await first();
  const refreshed = await token(g, { grant_type: 'refresh_token', refresh_token: rt, scope: 'https://graph.microsoft.com/Calendars.ReadWrite offline_access' });
  t.equal(refreshed.status, 200);
  t.not(refreshed.body.refresh_token, rt, 'a new refresh token comes back');

  g.revokeConsent('alice@contoso.com', CLIENT_ID);
  const revoked = await token(g, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token });
  t.match(revoked.body, { error: 'invalid_grant', error_codes: [65001], suberror: 'consent_required', error_description: /^AADSTS65001: The user or administrator has not consented/ });

  rt = await first();
  g.advanceClock(1000);
  g.changePassword('alice@contoso.com');
  t.match((await token(g, { grant_type: 'refresh_token', refresh_token: rt })).body, { error: 'invalid_grant', error_codes: [50173] });

  rt = await first();
  g.advanceClock(91 * 86_400_000);
  t.match((await token(g, { grant_type: 'refresh_token', refresh_token: rt })).body, { error: 'invalid_grant', error_codes: [700082], error_description: /^AADSTS700082: The refresh token has expired due to inactivity/ });
});

t.test('admin approval needed: the consent page says AADSTS90094 and only offers the way back', async (t) => {
  const { g } = await setup();
  t.teardown(() => g.close());
  g.requireAdminApproval(CLIENT_ID, ['Calendars.ReadWrite']);
  const { challenge } = pkce();
  const q = new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'https://graph.microsoft.com/Calendars.ReadWrite', code_challenge: challenge, code_challenge_method: 'S256' });
  const page = await (await fetch(`${g.authority('common')}/oauth2/v2.0/authorize?${q}`)).text();
  t.match(page, /AADSTS90094: The grant requires admin permission/);
  t.match(page, /error=access_denied/);
  t.notMatch(page, /Accept as/);
});

t.test('client credentials: only "<resource>/.default" (AADSTS1002012), a tenant not common (AADSTS50059), roles from admin consent', async (t) => {
  const { g, alice } = await setup();
  t.teardown(() => g.close());
  t.same((await token(g, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/Calendars.Read' }, alice.tenantId)).body.error_codes, [1002012]);
  t.same((await token(g, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' })).body.error_codes, [50059]);
  t.same((await token(g, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default', client_secret: 'wrong' }, alice.tenantId)).body.error_codes, [7000215]);
  g.grantAdminConsent(CLIENT_ID, alice.tenantId, ['Calendars.ReadWrite']);
  const ok = await token(g, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' }, alice.tenantId);
  t.notOk(ok.body.refresh_token);
  t.same(decodeJwt(ok.body.access_token)!.roles, ['Calendars.ReadWrite']);
  const auth = { authorization: `Bearer ${ok.body.access_token}` };
  t.equal((await fetch(`${g.graphUrl}/users/alice@contoso.com/calendars`, { headers: auth })).status, 200);
  const me = await fetch(`${g.graphUrl}/me/calendars`, { headers: auth });
  t.match(await me.json(), { error: { code: 'BadRequest', message: '/me request is only valid with delegated authentication flow.' } });
});

t.test('over TLS the OpenID configuration names the emulator, as MSAL needs an https authority', async (t) => {
  const g = await startGraphEmulator({ tls: true });
  t.teardown(() => g.close());
  const u = g.addUser('bob@fabrikam.com');
  t.match(g.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const body = await new Promise<any>((resolve, reject) => {
    request(`${g.authority(u.tenantId)}/v2.0/.well-known/openid-configuration`, { ca: g.caCertificate }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d)).on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject).end();
  });
  t.equal(body.token_endpoint, `${g.authority(u.tenantId)}/oauth2/v2.0/token`);
  t.equal(body.issuer, `${g.url}/${u.tenantId}/v2.0`);
});

t.test('certificate credentials: a client assertion signed PS256 (x5t#S256) or RS256 (x5t) with a registered certificate; each refusal as the service words it', async (t) => {
  const { g, alice } = await setup();
  t.teardown(() => g.close());
  const cert = selfSignedCertificate({ keyType: 'rsa', commonName: 'Kalends app' });
  const other = selfSignedCertificate({ keyType: 'rsa', commonName: 'not registered' });
  g.addCertificate(CLIENT_ID, cert.cert);
  g.grantAdminConsent(CLIENT_ID, alice.tenantId, ['Calendars.ReadWrite']);
  const endpoint = `${g.authority(alice.tenantId)}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud: endpoint, iss: CLIENT_ID, sub: CLIENT_ID, jti: randomUUID(), nbf: now, exp: now + 600 };
  const thumb = (pem: string, alg: 'sha1' | 'sha256') => createHash(alg).update(new X509Certificate(pem).raw).digest('base64url');
  const assertion = (o: { key?: string; cert?: string; alg?: 'PS256' | 'RS256'; claims?: Record<string, unknown> } = {}) => {
    const alg = o.alg ?? 'PS256';
    const header = alg === 'PS256' ? { alg, typ: 'JWT', 'x5t#S256': thumb(o.cert ?? cert.cert, 'sha256') } : { alg, typ: 'JWT', x5t: thumb(o.cert ?? cert.cert, 'sha1') };
    const signed = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(o.claims ?? claims)).toString('base64url')}`;
    const key = o.key ?? cert.key;
    const sig = alg === 'PS256' ? sign('sha256', Buffer.from(signed), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }) : sign('sha256', Buffer.from(signed), key);
    return `${signed}.${sig.toString('base64url')}`;
  };
  const post = async (jwt: string) => {
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: CLIENT_ID, grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }) });
    return { status: res.status, body: await res.json() as any };
  };
  const ok = await post(assertion());
  t.equal(ok.status, 200, 'PS256 with x5t#S256');
  t.same(decodeJwt(ok.body.access_token)!.roles, ['Calendars.ReadWrite']);
  t.equal((await post(assertion({ alg: 'RS256' }))).status, 200, 'RS256 with the SHA-1 x5t');

  const unknown = await post(assertion({ key: other.key, cert: other.cert }));
  t.match(unknown, { status: 401, body: { error: 'invalid_client', error_codes: [700027], error_description: /^AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application\. \[Reason - The key was not found\., Thumbprint of key used by client: '[0-9A-F]{64}'/ } });
  const forged = await post(assertion({ key: other.key }));
  t.match(forged.body, { error_codes: [700027], error_description: /Client assertion failed signature validation\. \[Reason - Key was found, but use of the key to verify the signature failed\./ }, 'the registered thumbprint, another key');
  t.match((await post(assertion({ claims: { ...claims, aud: `${g.authority('common')}/oauth2/v2.0/token` } }))).body, { error_codes: [700023], error_description: /audience claim does not match Realm issuer/ });
  t.match((await post(assertion({ claims: { ...claims, iss: 'someone-else', sub: 'someone-else' } }))).body, { error_codes: [700021] });
  t.match((await post(assertion({ claims: { ...claims, nbf: now - 3600, exp: now - 1200 } }))).body, { error_codes: [700024], error_description: /^AADSTS700024: Client assertion is not within its valid time range\. Current time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z, assertion valid from/ });
  t.match((await post(assertion({ claims: { ...claims, jti: undefined } }))).body, { error_codes: [90014] });
  t.match((await token(g, { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default', client_secret: '' }, alice.tenantId)).body, { error_codes: [7000215] }, 'the secret still counts on its own');

  // the registered certificate's end passed: the service names its validity window (AADSTS1000502)
  g.advanceClock(366 * 86_400_000);
  const late = now + 366 * 86_400;
  t.match((await post(assertion({ claims: { ...claims, nbf: late, exp: late + 600 } }))).body, { error: 'invalid_client', error_codes: [1000502], error_description: /^AADSTS1000502: The provided certificate is not within its specified validity window\./ });
});
