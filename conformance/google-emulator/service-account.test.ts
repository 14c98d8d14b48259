// Domain-wide delegation: a service account's RS256 JWT assertion exchanged
// at /token for a user's access token, with google-auth-library's JWT client
// (its token URL is fixed to Google's, so an interceptor points it here).
import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { JWT } from 'google-auth-library';
import { google } from 'googleapis';
import { failure, startCheckedEmulator } from './test-helpers.ts';
import type { GoogleEmulator } from './server.ts';

const SA = 'kalends-sync@project.iam.gserviceaccount.com';
const SCOPE = 'https://www.googleapis.com/auth/calendar';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A JWT client whose token requests go to the emulator instead of oauth2.googleapis.com. */
function jwtClient(g: GoogleEmulator, key: string, subject: string): JWT {
  const client = new JWT({ email: SA, key, scopes: [SCOPE], subject });
  client.transporter.interceptors.request.add({
    resolved: async (config) => {
      if (String(config.url) === 'https://oauth2.googleapis.com/token') config.url = new URL(`${g.url}/token`);
      return config;
    },
  });
  return client;
}

function assertion(privatePem: string, claims: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privatePem).toString('base64url')}`;
}

async function tokenRequest(g: GoogleEmulator, jwt: string): Promise<{ status: number; body: { error?: string; error_description?: string; access_token?: string } }> {
  const res = await fetch(`${g.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }) });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

t.test('service account impersonates a user of its domain', async (t) => {
  const g = await startCheckedEmulator();
  t.teardown(() => g.close());
  const keys = keyPair();
  g.registerServiceAccount({ clientEmail: SA, publicKeyPem: keys.publicPem, domain: 'example.com' });
  g.addAccount('alice@example.com');
  g.addAccount('mallory@evil.test');

  const auth = jwtClient(g, keys.privatePem, 'alice@example.com');
  const calendar = google.calendar({ version: 'v3', auth, rootUrl: `${g.url}/` });
  t.equal((await calendar.calendars.get({ calendarId: 'primary' })).data.id, 'alice@example.com');

  const outside = await failure(jwtClient(g, keys.privatePem, 'mallory@evil.test').authorize());
  t.equal(outside.status, 401);
  t.equal(outside.body.error, 'unauthorized_client');

  const stranger = keyPair();
  const forged = await failure(jwtClient(g, stranger.privatePem, 'alice@example.com').authorize());
  t.equal(forged.status, 400);
  t.same(forged.body, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });

  const now = Math.floor(Date.now() / 1000);
  const base = { iss: SA, scope: SCOPE, aud: 'https://oauth2.googleapis.com/token', sub: 'alice@example.com' };
  const ok = await tokenRequest(g, assertion(keys.privatePem, { ...base, iat: now, exp: now + 3600 }));
  t.equal(ok.status, 200);
  t.ok(ok.body.access_token);
  const expired = await tokenRequest(g, assertion(keys.privatePem, { ...base, iat: now - 7200, exp: now - 3600 }));
  t.equal(expired.status, 400);
  t.equal(expired.body.error, 'invalid_grant');
  const wrongAud = await tokenRequest(g, assertion(keys.privatePem, { ...base, aud: 'https://example.com/token', iat: now, exp: now + 600 }));
  t.equal(wrongAud.body.error, 'invalid_grant');
  const unknownUser = await tokenRequest(g, assertion(keys.privatePem, { ...base, sub: 'nobody@example.com', iat: now, exp: now + 600 }));
  t.same(unknownUser.body, { error: 'invalid_grant', error_description: 'Invalid email or User ID' });
  const unknownSa = await tokenRequest(g, assertion(keys.privatePem, { ...base, iss: 'other@project.iam.gserviceaccount.com', iat: now, exp: now + 600 }));
  t.same(unknownSa.body, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' });
  g.revoke('alice@example.com');
  t.equal((await failure(calendar.calendars.get({ calendarId: 'primary' }))).status, 401, 'revoke(email) also ends delegated tokens');
});
