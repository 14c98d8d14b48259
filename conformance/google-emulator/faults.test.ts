// Injected faults as the googleapis client sees them: Google's rate-limit
// and backend error bodies, Retry-After, timeouts, connection resets,
// seeded random faults, and call counting.
import t from 'tap';
import { google } from 'googleapis';
import { failure, setup } from './test-helpers.ts';

t.test('each fault kind, matched by method and path, for `times` calls', async (t) => {
  const { g, calendar } = await setup();
  t.teardown(() => g.close());
  const list = () => calendar.events.list({ calendarId: 'primary' });

  g.fault({ kind: 'rateLimit403', times: 1 });
  const r403 = await failure(list());
  t.equal(r403.status, 403);
  t.same(r403.body.error.errors, [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }]);
  t.equal((await list()).status, 200, 'only once');

  g.fault({ kind: 'userRateLimit403' });
  t.same((await failure(list())).body.error.errors, [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }]);

  g.fault({ kind: '429', times: 2, retryAfter: 7 });
  const r429 = await failure(list());
  t.equal(r429.status, 429);
  t.equal(r429.body.error.status, 'RESOURCE_EXHAUSTED');
  t.equal(r429.body.error.errors[0].reason, 'rateLimitExceeded');
  t.equal((r429.headers as Headers).get('retry-after'), '7');
  t.equal((await failure(list())).status, 429);
  t.equal((await list()).status, 200);

  g.fault({ kind: '500', match: { method: 'POST', pathIncludes: '/events' } });
  t.equal((await list()).status, 200, 'a GET does not match a POST fault');
  const r500 = await failure(calendar.events.insert({ calendarId: 'primary', requestBody: { start: { date: '2026-12-01' }, end: { date: '2026-12-02' } } }));
  t.equal(r500.status, 500);
  t.equal(r500.body.error.errors[0].reason, 'backendError');
  t.same(g.dump('alice@example.com').calendars['alice@example.com'], [], 'a faulted call changes nothing');

  g.fault({ kind: '503' });
  const r503 = await failure(list());
  t.equal(r503.status, 503);
  t.equal(r503.body.error.errors[0].reason, 'backendError');

  g.fault({ kind: 'timeout', delayMs: 2000 });
  const slow = google.calendar({ version: 'v3', auth: calendar.context._options.auth, rootUrl: `${g.url}/`, retry: false, timeout: 200 });
  await t.rejects(slow.events.list({ calendarId: 'primary' }), 'the client gives up waiting');

  g.fault({ kind: 'reset' });
  await t.rejects(list(), { code: 'ECONNRESET' });
  t.equal((await list()).status, 200);

  t.same(g.injectedFaults().map((f) => f.kind), ['rateLimit403', 'userRateLimit403', '429', '429', '500', '503', 'timeout', 'reset']);
});

t.test('the googleapis client retries 503 on GET by itself; faults on /token reach the auth library', async (t) => {
  const { g, auth } = await setup();
  t.teardown(() => g.close());
  const retrying = google.calendar({ version: 'v3', auth, rootUrl: `${g.url}/`, retryConfig: { retryDelay: 10, retryDelayMultiplier: 1 } });
  g.resetCalls();
  g.fault({ kind: '503', times: 2 });
  t.equal((await retrying.events.list({ calendarId: 'primary' })).status, 200);
  t.same(g.calls(), { total: 3, byRoute: { 'GET /calendar/v3/calendars/{calendarId}/events': 3 } });

  g.fault({ kind: '500', match: { pathIncludes: '/token' } });
  const refreshed = await auth.refreshAccessToken();
  t.ok(refreshed.credentials.access_token, 'google-auth-library retries a failed refresh POST');
  t.same(g.injectedFaults().map((f) => [f.kind, f.path]).slice(-1), [['500', '/token']]);
});

t.test('faultRate: seeded random faults repeat exactly', async (t) => {
  const runs: number[][] = [];
  for (let run = 0; run < 2; run++) {
    const { g, calendar } = await setup();
    g.faultRate({ kind: '503', probability: 0.3, seed: 42 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        statuses.push((await calendar.calendars.get({ calendarId: 'primary' })).status);
      } catch (e) {
        statuses.push((e as { status: number }).status);
      }
    }
    runs.push(statuses);
    g.clearFaults();
    t.equal((await calendar.calendars.get({ calendarId: 'primary' })).status, 200, 'clearFaults stops them');
    await g.close();
  }
  t.same(runs[0], runs[1]);
  t.ok(runs[0]!.includes(503) && runs[0]!.includes(200));
});
