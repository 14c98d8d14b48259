import t from 'tap'
import { startEwsEmulator } from '../../conformance/ews-emulator/server.ts'
import { connectExchange } from './ews/connect.ts'
import { saveExchangeIntegration } from './ews/integration.ts'
import { syncConnection } from './engine.ts'
import { syncDb } from './tables.ts'
import { startSyncWorld } from './testing.ts'

t.test('Google and Exchange for one user at once: an item travels Google → CRM → Exchange and back, no loop, no duplicate', async t => {
  const w = await startSyncWorld()
  const em = await startEwsEmulator({ check: true })
  t.teardown(async () => { await w.close(); await em.close() })
  em.addMailbox(w.email('alice'), { password: 'Alice-Exchange-1' })
  await saveExchangeIntegration(w.s.k.db, w.s.k.secrets, w.s.orgId, { ewsUrl: em.ewsUrl })
  await w.connect('alice')
  const { connection: exchange } = await connectExchange(w.s.k.sync.exchange, w.s.users.alice!, { password: 'Alice-Exchange-1' })
  const runBoth = async () => {
    const g = await w.run('alice')
    const x = await syncConnection(w.s.k.sync.engine, exchange.id, { force: true })
    return { g, x }
  }
  const first = await runBoth()
  t.same([first.g.state, first.x.state], ['ok', 'ok'])

  await w.calendar('alice').events.insert({ calendarId: 'primary', requestBody: { summary: 'Made in Google', start: { dateTime: '2026-12-02T12:00:00Z', timeZone: 'Europe/Warsaw' }, end: { dateTime: '2026-12-02T13:00:00Z', timeZone: 'Europe/Warsaw' } } })
  await runBoth()
  const inExchange = () => em.items(w.email('alice'), 'calendar').map(id => em.item(id))
  t.same(inExchange().map(i => i.props.Subject), ['Made in Google'], 'reached Exchange through the CRM')

  em.userUpdate(inExchange()[0]!.id, '<t:Subject>Edited in Outlook</t:Subject>')
  await runBoth() // Exchange → CRM
  await runBoth() // CRM → Google
  const events = await w.events('alice')
  t.same(events.map(e => e.summary), ['Edited in Outlook'], 'and back to Google')
  t.same(inExchange().map(i => i.props.Subject), ['Edited in Outlook'])

  const settled = await runBoth()
  t.same([settled.g.in, settled.g.out, settled.x.in, settled.x.out], [0, 0, 0, 0], 'settled: no loop between the two')
  const crm = await w.s.k.db.selectFrom('appointments').select('title').where('owner_id', '=', w.s.users.alice!.id).execute()
  t.same(crm.map(a => a.title), ['Edited in Outlook'], 'one appointment in the CRM')
  t.same(em.sentMail(), [])
  const errors = await syncDb(w.s.k.db).selectFrom('sync_log').select('message').where('action', '=', 'error').execute()
  t.same(errors, [])
})
