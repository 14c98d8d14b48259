import t from 'tap'
import { send } from '../sync/graph/client.ts'
import { loadGraphIntegration } from '../sync/graph/integration.ts'
import { syncDb } from '../sync/tables.ts'
import { GRAPH_CLIENT_ID, startGraphWorld, type GraphWorld } from '../sync/testing-graph.ts'
import { signedInClient, visible } from './test-client.ts'

/**
 * The Microsoft 365 parts of the Connections page and Admin → Integrations
 * over HTTP, against a started server and the Graph emulator: the sign-in
 * round trip as a browser makes it (start → Microsoft's authorize → callback),
 * the red state with its reason and the reconnect link, and the admin's
 * write-only secret.
 */
let w: GraphWorld
t.before(async () => { w = await startGraphWorld() })
t.teardown(() => w.close())

const signedIn = (login: string) => signedInClient(w.s, login)

t.test('connect, see it red with the reason after consent is revoked, reconnect', async t => {
  const c = await signedIn('alice')
  const page = await c.get('/connections')
  t.match(visible(page.text), 'Connect Microsoft 365')
  const begin = await c.get('/connections/microsoft/start')
  t.equal(begin.status, 302)
  const to = new URL(begin.location!)
  t.equal(to.origin, w.g.url, 'to the identity platform as configured')
  t.match(to.pathname, new RegExp(`^/${w.tenantId}/oauth2/v2.0/authorize$`), 'the organisation\'s tenant')
  t.equal(to.searchParams.get('code_challenge_method'), 'S256', 'PKCE')
  t.match(to.searchParams.get('scope'), /offline_access/)
  w.g.consent({ autoApprove: w.email('alice') })
  const back = new URL((await send(w.s.k.sync.graph.endpoints, 'GET', to.href, {})).headers.location!)
  const done = await c.get(back.pathname + back.search)
  t.equal(done.status, 303, 'back on the Connections page')
  const conns = await syncDb(w.s.k.db).selectFrom('sync_connections').selectAll().where('user_id', '=', w.s.users.alice!.id).execute()
  t.match(conns, [{ provider: 'graph', account: w.email('alice'), auth_kind: 'oauth' }])
  let shown = visible((await c.get('/connections')).text)
  t.match(shown, `Microsoft 365: ${w.email('alice')}`)
  t.match(shown, 'your Microsoft 365 sign-in')

  t.equal((await w.run('alice')).state, 'ok')
  w.g.revokeConsent(w.email('alice'), GRAPH_CLIENT_ID)
  w.g.advanceClock(2 * 3_600_000)
  await w.run('alice')
  const red = await c.get('/connections')
  shown = visible(red.text)
  t.match(shown, /consent to Kalends was revoked in Microsoft 365 \(AADSTS65001\)/, 'the reason, in words')
  t.match(red.text, `href="/connections/microsoft/start?reconnect=${conns[0]!.id}"`, 'a reconnect through Microsoft')

  // a callback with someone else's (or no) state is refused, nothing saved
  const forged = await c.get('/connections/microsoft/callback?code=x&state=forged')
  t.equal(forged.status, 403)
})

t.test('Admin → Integrations: the Microsoft 365 card, secret write-only', async t => {
  const admin = await signedIn('admin')
  let page = await admin.get('/admin/integrations')
  t.equal(page.status, 200)
  t.equal((visible(page.text).match(/coming: not available yet/g) ?? []).length, 0, 'Exchange and Microsoft 365 both have their cards')
  t.match(page.text, `value="${w.s.url}/connections/microsoft/callback"`, 'the redirect URI to register in Azure')
  t.match(page.text, `value="${GRAPH_CLIENT_ID}"`)
  t.notMatch(page.text, 'kalends-graph-test-secret', 'never the secret')
  const form = { enabled: '1', tenant: w.tenantId, clientId: GRAPH_CLIENT_ID, clientSecret: '', certificatePem: '', pushAddress: '', orgWide: '' }
  let res = await admin.post('/admin/integrations/microsoft', { ...form, clientId: 'not-a-guid' })
  t.equal(res.status, 400, 'a clear refusal')
  t.match(visible(res.text), /Application \(client\) id/)
  res = await admin.post('/admin/integrations/microsoft', { ...form, orgWide: '1' })
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The Microsoft 365 settings are saved.')
  const stored = await loadGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId)
  t.equal(stored?.clientSecret, 'kalends-graph-test-secret', 'an empty secret field keeps the stored one')
  t.equal(stored?.orgWide, true)
  const bob = await signedIn('bob')
  t.equal((await bob.post('/admin/integrations/microsoft', form)).status, 403, 'admins only')
  page = await bob.get('/connections')
  t.match(visible(page.text), 'Connect my Outlook calendar through the organisation')
})
