import t from 'tap'
import { connectGraphOrganisation } from './graph/consent.ts'
import { saveGraphIntegration } from './graph/integration.ts'
import { syncDb } from './tables.ts'
import { GRAPH_CLIENT_ID, startGraphWorld } from './testing-graph.ts'

t.test('refresh tokens rotate and are saved sealed; the kept token cache serves the next runs', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const conn = await w.connect('alice')
  const first = conn.credentials_sealed!
  t.equal((await w.run('alice')).state, 'ok')
  t.equal((await w.connection('alice')).credentials_sealed, first, 'a run within the access token\'s life asks for none')
  w.g.advanceClock(2 * 3_600_000)
  const run = await w.run('alice')
  t.equal(run.state, 'ok', run.reason ?? 'run after expiry')
  const after = await w.connection('alice')
  t.not(after.credentials_sealed, first, 'the rotated refresh token is stored')
  const refreshOf = (sealed: string) => Object.values((JSON.parse(w.s.k.secrets.open(sealed)) as { RefreshToken: Record<string, { secret: string }> }).RefreshToken).map(r => r.secret)
  t.notSame(refreshOf(after.credentials_sealed!), refreshOf(first), 'a new refresh token')
  t.notMatch(String(after.credentials_sealed), /RefreshToken/, 'sealed at rest')
  w.g.expireRefreshTokens(w.email('alice'))
  w.g.advanceClock(2 * 3_600_000)
  const red = await w.run('alice')
  t.match(red.reason, /expired after long inactivity.*AADSTS700082/)
})

t.test('organisation-wide: app-only tokens for the calendar, no sign-in; tasks are not synced that way', async t => {
  const w = await startGraphWorld()
  t.teardown(() => w.close())
  const bob = w.s.users.bob!
  await t.rejects(connectGraphOrganisation(w.s.k.sync.graph, bob), /not enabled/, 'only when the admin set it up')
  await saveGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { orgWide: true })
  const refused = await connectGraphOrganisation(w.s.k.sync.graph, bob).catch((e: unknown) => e as Error)
  t.match(String((refused as Error).message), /denied access to read the calendar/, 'refused while the admin has not granted the application permission')
  w.g.grantAdminConsent(GRAPH_CLIENT_ID, w.tenantId, ['Calendars.ReadWrite'])
  const { connection } = await connectGraphOrganisation(w.s.k.sync.graph, bob)
  t.match(connection, { provider: 'graph', auth_kind: 'delegation', account: w.email('bob'), credentials_sealed: null })
  await w.s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'Org-wide', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  await w.s.as('bob')('/api/v1/tasks', { method: 'POST', json: { title: 'Not through the app' } })
  await w.api('bob', 'POST', '/me/events', { subject: 'From Outlook', start: { dateTime: '2026-12-02T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-02T10:00:00', timeZone: 'UTC' } })
  const run = await w.run('bob')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.same([run.in, run.out], [1, 1], 'the calendar both ways, no tasks')
  t.same((await w.events('bob')).map(e => e.subject).sort(), ['From Outlook', 'Org-wide'])
  t.same(await w.todo('bob'), [], 'To Do untouched: it has no application permission')
  const kept = await syncDb(w.s.k.db).selectFrom('sync_connections').select(['access_sealed', 'access_expires_at']).where('id', '=', connection.id).executeTakeFirstOrThrow()
  t.ok(kept.access_sealed, 'the app-only token is kept sealed for the next runs')

  // switched off by the admin: red with the reason
  await saveGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { orgWide: false })
  const red = await w.run('bob')
  t.match(red.reason, /organisation-wide Microsoft 365 set-up was switched off/)
})
