import t from 'tap'
import { syncDb } from './tables.ts'
import { until } from './testing.ts'
import { crmTitles, startEwsWorld } from './testing-ews.ts'
import { WebClient, visible } from '../web/test-client.ts'

/**
 * Service-account mode end to end, over HTTP against a server with one
 * sync worker and the EWS emulator: the admin saves the mode and every
 * user's mailbox is connected and synced without any of them doing
 * anything; a mailbox the account may not impersonate and one that does
 * not exist go red with their reason while the others stay green; a user
 * added later is connected, a disabled one stopped; leaving the mode stops
 * them all.
 */
const SVC = 'svc-kalends@example.com'
const TIMES = '<t:Start>2026-12-02T12:00:00Z</t:Start><t:End>2026-12-02T13:00:00Z</t:End>'

type Rollout = { state: string; total: number; done: number; on: number; refused: number; stopped: number }
type View = { id: number; provider: string; account: string; authKind: string; healthy: boolean; state: string; reason: string | null }

t.test('admin enables service-account mode: N users synced without any user action, a later user too, refusals red with their reason', async t => {
  const w = await startEwsWorld({ users: ['alice', 'bob', 'carol', 'dave'], env: { KALENDS_SYNC_WORKERS: '1' } })
  t.teardown(() => w.close())
  w.em.addMailbox(SVC, { password: 'Svc-Secret-1' })
  for (const login of ['admin', 'alice', 'bob']) w.em.grantImpersonation(SVC, w.email(login))
  // carol's mailbox exists but the account may not act for it; dave's address has no mailbox
  await w.s.k.db.updateTable('users').set({ email: 'dave@elsewhere.example.com' }).where('id', '=', w.s.users.dave!.id).execute()
  w.em.grantImpersonation(SVC, 'dave@elsewhere.example.com')
  for (const login of ['alice', 'bob']) w.em.userCreate(w.email(login), 'calendar', 'CalendarItem', `<t:Subject>Outlook of ${login}</t:Subject>${TIMES}`)

  const admin = w.s.as('admin')
  const put = await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { mode: 'service', serviceUsername: SVC, servicePassword: 'Svc-Secret-1' } })
  t.equal(put.status, 200)
  t.match(put.body_, { mode: 'service', servicePasswordSet: true })
  const rollout = await until('the rollout done', async () => {
    const r = ((await admin('/api/v1/integrations/exchange')).body_ as { rollout: Rollout | null }).rollout
    return r?.state === 'done' ? r : null
  })
  t.match(rollout, { total: 5, done: 5, on: 3, refused: 2, stopped: 0 })

  // no user did anything: their Outlook items reached the CRM
  for (const login of ['alice', 'bob']) {
    await until(`${login} synced`, async () => (await w.connection(login)).state === 'ok', 30_000)
    t.same(await crmTitles(w, login), [`Outlook of ${login}`], `${login}'s Outlook item in the CRM`)
  }
  await until('admin synced', async () => (await w.connection('admin')).state === 'ok', 30_000)

  const carol = ((await w.s.as('carol')('/api/v1/connections')).body_ as View[])
  t.match(carol, [{ provider: 'exchange', account: 'carol@example.com', authKind: 'delegation', healthy: false, state: 'error', reason: /may not act for carol@example\.com.*ApplicationImpersonation/ }])
  const dave = ((await w.s.as('dave')('/api/v1/connections')).body_ as View[])
  t.match(dave, [{ account: 'dave@elsewhere.example.com', healthy: false, reason: /dave@elsewhere\.example\.com/ }], 'no such mailbox: red with that reason')
  t.equal((await w.connection('alice')).state, 'ok', 'the others stay green')

  // the user's page: on, with its options, and no password to type
  const web = new WebClient(w.s)
  await web.signIn('alice')
  const page = await web.get('/connections')
  t.match(visible(page.text), 'Your organisation syncs your Exchange mailbox through its service account')
  t.match(visible(page.text), 'Exchange: alice@example.com')
  t.match(visible(page.text), 'Connected through the organisation\'s service account')
  t.notMatch(page.text, 'name="password"', 'no password field')
  t.match(page.text, /name="appointments" value="1" checked/, 'what is synced is still theirs to choose')
  const aliceId = (await w.connection('alice')).id
  t.equal((await w.s.as('alice')(`/api/v1/connections/${aliceId}`, { method: 'PATCH', json: { tasks: false } })).status, 200, 'and to change')

  // the admin's card says how it went
  const adminWeb = new WebClient(w.s)
  await adminWeb.signIn('admin')
  t.match(visible((await adminWeb.get('/admin/integrations')).text), /Every user’s mailbox was gone through on .*: 3 on, 2 refused/)

  // a user added later is connected and synced, nobody asked
  w.em.addMailbox('erin@example.com', { name: 'erin', password: 'x-Exchange-1' })
  w.em.grantImpersonation(SVC, 'erin@example.com')
  w.em.userCreate('erin@example.com', 'calendar', 'CalendarItem', `<t:Subject>Outlook of erin</t:Subject>${TIMES}`)
  const made = await admin('/api/v1/users', { method: 'POST', json: { login: 'erin', name: 'Erin', email: 'erin@example.com', password: 'Erin-Password-1', timezone: 'Europe/Warsaw' } })
  t.equal(made.status, 201)
  const erinId = (made.body_ as { id: number }).id
  const erin = await until('erin synced', async () => {
    const c = await syncDb(w.s.k.db).selectFrom('sync_connections').selectAll().where('user_id', '=', erinId).executeTakeFirst()
    return c?.state === 'ok' ? c : null
  }, 30_000)
  t.match(erin, { provider: 'exchange', account: 'erin@example.com', auth_kind: 'delegation' })

  // the admin grants carol's right: saving again tries the refused ones again
  w.em.grantImpersonation(SVC, w.email('carol'))
  t.equal((await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { mode: 'service' } })).status, 200)
  await until('carol synced', async () => (await w.connection('carol')).state === 'ok', 30_000)

  // a disabled user is stopped
  t.equal((await admin(`/api/v1/users/${w.s.users.bob!.id}`, { method: 'PATCH', json: { disabled: true } })).status, 200)
  const bob = await until('bob stopped', async () => {
    const c = await w.connection('bob')
    return c.disconnected_at !== null ? c : null
  }, 30_000)
  t.equal(bob.state_reason, 'stopped: the user was disabled')

  // out of the mode: every connection made through the account stops; nothing is deleted
  t.equal((await admin('/api/v1/integrations/exchange', { method: 'PUT', json: { mode: 'user' } })).status, 200)
  await until('all stopped', async () => (await syncDb(w.s.k.db).selectFrom('sync_connections').select('id').where('auth_kind', '=', 'delegation').where('disconnected_at', 'is', null).execute()).length === 0, 30_000)
  t.equal((await w.connection('alice')).state_reason, 'stopped: the organisation no longer syncs mailboxes through an Exchange service account')
  t.same(await crmTitles(w, 'alice'), ['Outlook of alice'], 'the synced items stay')
  t.equal(w.items('alice').length, 1)
})
