import { startEwsEmulator, type EwsEmulator, type EwsEmulatorOptions } from '../../conformance/ews-emulator/server.ts'
import { startServer, type TestServer } from '../testing/harness.ts'
import { updateOptions } from './connections.ts'
import { syncConnection, type RunOptions, type RunResult } from './engine.ts'
import { connectExchange, type ExchangeLoginInput } from './ews/connect.ts'
import { saveExchangeIntegration, type ExchangeIntegrationInput } from './ews/integration.ts'
import { syncDb, type Connection } from './tables.ts'

/**
 * A Kalends server and the EWS emulator side by side, as testing.ts has it
 * for Google: users alice, bob, carol (and admin) with <login>@example.com
 * mailboxes whose Exchange password is `exchangePassword(login)`, and the
 * organisation's Exchange integration pointing at the emulator. The emulator
 * checks all traffic against Microsoft's schema, and no sync may mail anyone:
 * close() fails on a schema violation or on any meeting mail in its log, so
 * every test on an EwsWorld asserts both.
 */
export type EwsWorld = {
  s: TestServer
  em: EwsEmulator
  email (login: string): string
  exchangePassword (login: string): string
  /** connects with the user's own login (or as `input` says) */
  connect (login: string, input?: ExchangeLoginInput, options?: Record<string, unknown>): Promise<Connection>
  run (login: string, opts?: RunOptions): Promise<RunResult>
  connection (login: string): Promise<Connection>
  /** the user's calendar (or tasks) as the emulator stores it: item views, masters and single items */
  items (login: string, folder?: 'calendar' | 'tasks'): ReturnType<EwsEmulator['item']>[]
  close (): Promise<void>
}

/**
 * `server`: a test server of the caller's (a Google sync world's, for both
 * providers at once), which close() leaves running; `ewsUrl`: where Kalends
 * reaches the emulator (a proxy in front of it).
 */
export async function startEwsWorld (opts: { users?: string[]; integration?: ExchangeIntegrationInput; env?: Record<string, string>; emulator?: EwsEmulatorOptions; server?: TestServer; ewsUrl?: (em: EwsEmulator) => string } = {}): Promise<EwsWorld> {
  const em = await startEwsEmulator({ check: true, ...opts.emulator })
  const own = opts.server === undefined
  const s = opts.server ?? await startServer({ users: opts.users, env: opts.env })
  if (own) {
    s.k.config.publicUrl = s.url
    if (process.env.KALENDS_SYNC_DEBUG === '1') s.k.sync.engine.log = (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields ?? {})}
`)
  }
  const email = (login: string) => `${login}@example.com`
  const exchangePassword = (login: string) => `${login}-Exchange-1`
  for (const login of Object.keys(s.users)) {
    await s.k.db.updateTable('users').set({ email: email(login) }).where('id', '=', s.users[login]!.id).execute()
    s.users[login] = { ...s.users[login]!, email: email(login) }
    em.addMailbox(email(login), { name: login, password: exchangePassword(login) })
  }
  await saveExchangeIntegration(s.k.db, s.k.secrets, s.orgId, { ewsUrl: opts.ewsUrl?.(em) ?? em.ewsUrl, version: 'Exchange2013_SP1', auth: 'basic', ...opts.integration })
  const connection = async (login: string) => syncDb(s.k.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', s.users[login]!.id).where('provider', '=', 'exchange').executeTakeFirstOrThrow()
  return {
    s,
    em,
    email,
    exchangePassword,
    async connect (login, input, options) {
      const user = s.users[login]!
      const { connection: conn } = await connectExchange(s.k.sync.exchange, user, input ?? { password: exchangePassword(login) })
      if (options !== undefined) await updateOptions(s.k.db, user, conn.id, options)
      return connection(login)
    },
    async run (login, opts = { force: true }) {
      return syncConnection(s.k.sync.engine, (await connection(login)).id, opts)
    },
    connection,
    items (login, folder = 'calendar') {
      return em.items(email(login), folder).map(id => em.item(id))
    },
    async close () {
      if (own) await s.close()
      const mail = em.sentMail()
      await em.close()
      if (mail.length > 0) throw new Error(`sync sent meeting mail through Exchange: ${JSON.stringify(mail)}`)
    }
  }
}

/** The user's CRM appointments' titles, sorted. */
export async function crmTitles (w: EwsWorld, login: string): Promise<string[]> {
  const list = (await w.s.as(login)('/api/v1/appointments?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z')).body_ as { items: { title: string }[] }
  return list.items.map(a => a.title).sort()
}

/** Alice with one appointment made in the CRM and one in Outlook, connected and synced once. */
export async function seedAlice (w: EwsWorld): Promise<void> {
  await w.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'From the CRM', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z', timezone: 'Europe/Warsaw' } })
  w.em.userCreate(w.email('alice'), 'calendar', 'CalendarItem', '<t:Subject>From Outlook</t:Subject><t:Start>2026-12-02T12:00:00Z</t:Start><t:End>2026-12-02T13:00:00Z</t:End>')
  await w.connect('alice')
  const r = await w.run('alice')
  if (r.state !== 'ok') throw new Error(`the first run: ${r.state} ${r.reason ?? ''}`)
}
