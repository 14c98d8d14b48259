import { OAuth2Client } from 'google-auth-library'
import { calendar_v3 as calendarApi } from 'googleapis/build/src/apis/calendar/index.js'
import { tasks_v1 as tasksApi } from 'googleapis/build/src/apis/tasks/index.js'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import { startGoogleEmulator, type GoogleEmulator } from '../../conformance/google-emulator/server.ts'
import { startServer, type TestServer } from '../testing/harness.ts'
import { updateOptions } from './connections.ts'
import { syncConnection, type RunOptions, type RunResult } from './engine.ts'
import { completeConsent, consentUrl } from './google/consent.ts'
import { syncDb, type Connection } from './tables.ts'

/** Polls (every `every` ms) until fn yields something, for effects of background jobs. */
export async function until<T> (what: string, fn: () => Promise<T | undefined | null | false>, ms = 20_000, every = 100): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== null && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, every))
  }
}

export const CLIENT_ID = 'kalends-test.apps.googleusercontent.com'
export const CLIENT_SECRET = 'kalends-test-secret'

/**
 * A Kalends server and a Google emulator side by side: users alice, bob,
 * carol (and admin) with <login>@example.com accounts at "Google". The
 * server's own googleapis client talks to the emulator over HTTP; the test
 * plays the user in Google's apps with a second client of its own.
 */
export type SyncWorld = {
  s: TestServer
  g: GoogleEmulator
  email (login: string): string
  /** connect through the consent redirect, as the user would; returns the connection */
  connect (login: string, options?: Record<string, unknown>): Promise<Connection>
  /** one sync run of the user's Google connection, as a worker would do it (forced, as "sync now": polled task lists are read too) */
  run (login: string, opts?: RunOptions): Promise<RunResult>
  connection (login: string): Promise<Connection>
  /** the user's own Google Calendar and Tasks, as Google's apps would edit them */
  calendar (login: string): calendar_v3.Calendar
  tasks (login: string): tasks_v1.Tasks
  events (login: string): Promise<calendar_v3.Schema$Event[]>
  googleTasks (login: string): Promise<tasks_v1.Schema$Task[]>
  close (): Promise<void>
}

export async function startSyncWorld (opts: { users?: string[]; env?: Record<string, string> } = {}): Promise<SyncWorld> {
  const g = await startGoogleEmulator()
  g.registerClient(CLIENT_ID, CLIENT_SECRET)
  const s = await startServer({
    users: opts.users,
    env: { KALENDS_GOOGLE_BASE_URL: g.url, KALENDS_GOOGLE_CLIENT_ID: CLIENT_ID, KALENDS_GOOGLE_CLIENT_SECRET: CLIENT_SECRET, ...opts.env }
  })
  s.k.config.publicUrl = s.url
  if (process.env.KALENDS_SYNC_DEBUG === '1') s.k.sync.engine.log = (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields ?? {})}\n`)
  const email = (login: string) => `${login}@example.com`
  for (const login of Object.keys(s.users)) {
    await s.k.db.updateTable('users').set({ email: email(login) }).where('id', '=', s.users[login]!.id).execute()
    s.users[login] = { ...s.users[login]!, email: email(login) }
    g.addAccount(email(login), { timeZone: 'Europe/Warsaw' })
  }
  const auth = (login: string) => {
    const client = new OAuth2Client()
    client.setCredentials({ access_token: g.issueAccessToken(email(login), ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/tasks']), expiry_date: Date.now() + 3_600_000 })
    return client
  }
  const connection = async (login: string) => syncDb(s.k.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', s.users[login]!.id).where('provider', '=', 'google').executeTakeFirstOrThrow()
  const calendar = (login: string) => new calendarApi.Calendar({ rootUrl: `${g.url}/`, auth: auth(login), retry: false })
  const tasks = (login: string) => new tasksApi.Tasks({ rootUrl: `${g.url}/`, auth: auth(login), retry: false })
  return {
    s,
    g,
    email,
    async connect (login, options) {
      const user = s.users[login]!
      g.consent({ autoApprove: email(login) })
      const res = await fetch(await consentUrl(s.k.sync.google, user, { loginHint: email(login) }), { redirect: 'manual' })
      const back = new URL(res.headers.get('location') ?? '')
      const { connection: conn } = await completeConsent(s.k.sync.google, user, { code: back.searchParams.get('code') ?? undefined, state: back.searchParams.get('state') ?? undefined })
      if (options !== undefined) await updateOptions(s.k.db, user, conn.id, options)
      return connection(login)
    },
    async run (login, opts = { force: true }) {
      return syncConnection(s.k.sync.engine, (await connection(login)).id, opts)
    },
    connection,
    calendar,
    tasks,
    async events (login) {
      const items: calendar_v3.Schema$Event[] = []
      let pageToken: string | undefined
      do {
        const page = (await calendar(login).events.list({ calendarId: 'primary', pageToken, maxResults: 2500 })).data
        items.push(...(page.items ?? []))
        pageToken = page.nextPageToken ?? undefined
      } while (pageToken !== undefined)
      return items
    },
    async googleTasks (login) {
      const items: tasks_v1.Schema$Task[] = []
      let pageToken: string | undefined
      do {
        const page = (await tasks(login).tasks.list({ tasklist: '@default', pageToken, maxResults: 100, showHidden: true })).data
        items.push(...(page.items ?? []))
        pageToken = page.nextPageToken ?? undefined
      } while (pageToken !== undefined)
      return items
    },
    async close () {
      await s.close()
      await g.close()
    }
  }
}

/** The weekly series both providers' shape tests start from: ten Mondays at 10:00 Warsaw, 21 December deleted. */
export const WEEKLY_REVIEW = {
  title: 'Weekly review', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z', timezone: 'Europe/Warsaw',
  rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10', exdates: ['2026-12-21T09:00:00Z']
}

/**
 * A phone edits one occurrence of the series behind the stored object over
 * CalDAV: the 28 December 2026 one, shortened to 08:00–08:30 Warsaw time.
 * Both providers' shape tests send it out and check what arrives.
 */
export async function shortenDec28OverCalDav (s: TestServer, login: string, uid: string, stored: { name: string; calendar_id: number }): Promise<number> {
  const client = s.as(login)
  const slug = (await s.k.db.selectFrom('calendars').select('slug').where('id', '=', stored.calendar_id).executeTakeFirstOrThrow()).slug
  const path = `/dav/calendars/${login}/${slug}/${stored.name}`
  const got = await client(path)
  const body = String(got.body_).replace('END:VCALENDAR', [
    'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20261201T000000Z', 'RECURRENCE-ID;TZID=Europe/Warsaw:20261228T100000',
    'DTSTART;TZID=Europe/Warsaw:20261228T080000', 'DTEND;TZID=Europe/Warsaw:20261228T083000', 'SUMMARY:Weekly review (short)', 'END:VEVENT', 'END:VCALENDAR'
  ].join('\r\n'))
  const put = await client(path, { method: 'PUT', headers: { 'content-type': 'text/calendar', 'if-match': got.headers.get('etag') ?? '' }, body })
  return put.status
}
