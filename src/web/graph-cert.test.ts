import t from 'tap'
import { selfSignedCertificate } from '../../conformance/graph-emulator/tls-cert.ts'
import { connectGraphOrganisation } from '../sync/graph/consent.ts'
import { loadGraphIntegration } from '../sync/graph/integration.ts'
import { syncDb } from '../sync/tables.ts'
import { GRAPH_CLIENT_ID, startGraphWorld, type GraphWorld } from '../sync/testing-graph.ts'
import { signedInClient, visible } from './test-client.ts'

/**
 * Admin → Integrations, the Microsoft 365 card with a certificate instead of
 * the secret, over HTTP against a started server and the Graph emulator
 * (which checks the client assertion MSAL signs with it): the certificate is
 * checked when pasted, "Test connection" signs in with what is typed, users
 * sync app-only with it, and a certificate Azure does not know, or one whose
 * registration expired, turns red with the reason.
 */
let w: GraphWorld
t.before(async () => { w = await startGraphWorld() })
t.teardown(() => w.close())

const DAY = 86_400_000
const rsa = (o: { days?: number; notBeforeMs?: number } = {}) => selfSignedCertificate({ keyType: 'rsa', commonName: 'Kalends sync', notBeforeMs: o.notBeforeMs, notAfterMs: Date.now() + (o.days ?? 365) * DAY })
const pemOf = (c: { cert: string; key: string }) => `${c.cert}${c.key}`
const form = () => ({ enabled: '1', tenant: w.tenantId, clientId: GRAPH_CLIENT_ID, clientSecret: '', certificatePem: '', pushAddress: '', orgWide: '1' })
const result = (text: string) => /id="m365-result"[^>]*>([\s\S]*?)<\/p>/.exec(text)?.[1]?.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim() ?? ''

t.test('a pasted certificate is checked before it is kept: RSA, its own key, not expired', async t => {
  const admin = await signedInClient(w.s, 'admin')
  const page = await admin.get('/admin/integrations')
  t.match(page.text, /<input type="file" id="m-certificateFile" accept="[^"]*\.pem[^"]*" multiple data-fill="m-certificatePem">/, 'or chosen as a file')
  t.match(page.text, /<button type="submit" name="action" value="test" class="secondary">Test connection<\/button>/)
  const ec = selfSignedCertificate('ec key')
  let res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(ec) })
  t.equal(res.status, 400)
  t.match(visible(res.text), /needs an RSA key/)
  const a = rsa()
  const b = rsa()
  res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: `${a.cert}${b.key}` })
  t.equal(res.status, 400)
  t.match(visible(res.text), /private key that does not belong to the certificate/)
  const old = selfSignedCertificate({ keyType: 'rsa', notBeforeMs: Date.now() - 400 * DAY, notAfterMs: Date.now() - DAY })
  res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(old) })
  t.equal(res.status, 400)
  t.match(visible(res.text), /expired on \d{4}-\d\d-\d\d/)
  res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: a.cert })
  t.match(visible(res.text), /needs the certificate and its private key/)
  t.equal((await loadGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId))?.certificate, null, 'nothing kept')
})

t.test('admin saves a certificate → Test connection ok → users sync app-only with it; one Azure does not know, or whose registration expired, is red with the reason', async t => {
  const admin = await signedInClient(w.s, 'admin')
  const cert = rsa({ days: 30 })
  w.g.addCertificate(GRAPH_CLIENT_ID, cert.cert, { endMs: Date.now() + 10 * DAY })
  w.g.grantAdminConsent(GRAPH_CLIENT_ID, w.tenantId, ['Calendars.ReadWrite'])

  // a certificate Azure does not have, tested before saving: red, and nothing saved
  const stranger = rsa()
  let res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(stranger), action: 'test' })
  t.equal(res.status, 200)
  t.match(result(res.text), /^✗ Microsoft 365 refused the app's sign-in: Microsoft 365 refused the app's certificate: it is not one uploaded to the app in Azure.*\(AADSTS700027\)/)
  t.equal((await loadGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId))?.certificate, null, 'a test saves nothing')

  res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(cert), action: 'save' })
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The Microsoft 365 settings are saved.')
  t.match(visible(res.text), 'A certificate is stored: CN=Kalends sync.')
  t.notMatch(res.text, cert.key.split('\n')[1]!, 'the key is never shown back')
  const stored = await loadGraphIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId)
  t.match(stored?.certificate, { subject: 'CN=Kalends sync', thumbprintSha256: /^[0-9A-F]{64}$/ })

  res = await admin.post('/admin/integrations/microsoft', { ...form(), action: 'test' })
  t.match(result(res.text), `✓ Microsoft 365 accepted the app's credentials and opened the calendar of ${w.email('admin')}.`)

  const bob = w.s.users.bob!
  const { connection } = await connectGraphOrganisation(w.s.k.sync.graph, bob)
  t.match(connection, { auth_kind: 'delegation', credentials_sealed: null })
  await w.s.as('bob')('/api/v1/appointments', { method: 'POST', json: { title: 'With the certificate', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' } })
  const run = await w.run('bob')
  t.equal(run.state, 'ok', run.reason ?? 'run')
  t.same((await w.events('bob')).map(e => e.subject), ['With the certificate'])

  // the certificate stored here is not the one in Azure any more (an admin replaced it there): red, with the reason
  res = await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(stranger) })
  t.equal(res.status, 200)
  // an hour on, the kept app-only token has expired: a new sign-in is needed (MSAL's clock is the real one, so the hour passes in the store)
  await syncDb(w.s.k.db).updateTable('sync_connections').set({ access_sealed: null, access_expires_at: null }).where('id', '=', connection.id).execute()
  let red = await w.run('bob')
  t.equal(red.state, 'error')
  t.match(red.reason, /refused the app's certificate.*AADSTS700027.*Admin → Integrations/)

  // back to the registered one; then its registration in Azure expires
  t.equal((await w.run('bob')).state, 'skipped', 'a refused sign-in waits until something changes')
  await admin.post('/admin/integrations/microsoft', { ...form(), certificatePem: pemOf(cert) })
  const retried = await syncDb(w.s.k.db).selectFrom('sync_connections').selectAll().where('id', '=', connection.id).executeTakeFirstOrThrow()
  t.match(retried, { auth_failed_at: null, state: 'pending', state_reason: /new settings/ }, 'the admin fixed the certificate: bob has nothing to reconnect, his connection tries again by itself')
  const green = await w.run('bob')
  t.equal(green.state, 'ok', green.reason ?? 'green again')
  w.g.advanceClock(11 * DAY)
  red = await w.run('bob')
  t.equal(red.state, 'error')
  t.match(red.reason, /certificate of the Microsoft 365 app has expired.*AADSTS1000502/)
  res = await admin.post('/admin/integrations/microsoft', { ...form(), action: 'test' })
  t.match(result(res.text), /^✗ .*certificate of the Microsoft 365 app has expired.*\(AADSTS1000502\)/)
  const page = await admin.get('/admin/integrations')
  t.match(visible(page.text), /certificate of the Microsoft 365 app has expired/, 'bob\'s connection is red in the list with the reason')
})
