import t from 'tap'
import { syncConnection } from '../sync/engine.ts'
import { saveConnection } from '../sync/connections.ts'
import type { Provider, RemoteCollection, RemoteItem } from '../sync/provider.ts'
import { syncDb } from '../sync/tables.ts'
import { startServer, type TestServer } from '../testing/harness.ts'
import { WebClient } from './test-client.ts'

/**
 * "Sync now" during a run, over HTTP: the progress route reads the running
 * sync's figure (read, written, left) that the engine records in the
 * connection row, here watched from inside a first bulk sync by a provider
 * that asks the page at each item it is given.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice'] }) })
t.teardown(async () => { await s?.close() })

type Progress = { running: boolean; text: string; run: { in: number; out: number; left: number } | null }
const N = 30

t.test('a first sync shows what is left, from the engine\'s own count, and nothing once it ends', async t => {
  for (let i = 0; i < N; i++) {
    const day = String(10 + (i % 15)).padStart(2, '0')
    const res = await s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: `item ${i}`, start: `2026-12-${day}T09:00:00Z`, end: `2026-12-${day}T10:00:00Z` } })
    t.equal(res.status, 201)
  }
  const { connection } = await saveConnection(s.k.db, s.users.alice!, 'google', 'alice@example.com', 'password', null, undefined)
  const page = new WebClient(s)
  await page.signIn('alice')
  const seen: Progress[] = []
  let made = 0
  const events: RemoteCollection = {
    kind: 'appointment',
    changes: async () => ({ items: [], cursor: 'c1', full: true }),
    get: async () => null,
    async create (data, ref) {
      seen.push(JSON.parse((await page.get(`/connections/${connection.id}/progress`)).text) as Progress)
      made++
      return { remoteId: `r${made}`, etag: 'e', deleted: false, data, ref, uid: null, attendees: [], updated: null } satisfies RemoteItem
    },
    update: async () => { throw new Error('not asked') },
    remove: async () => {}
  }
  const fake: Provider = { name: 'google', open: async () => ({ collections: [events] }) } as unknown as Provider
  const result = await syncConnection({ ...s.k.sync.engine, providers: new Map([['google', fake]]) }, connection.id)
  t.equal(result.state, 'ok')
  t.equal(made, N, 'every item written')
  t.match(seen[0], { running: true, text: `Syncing: 0 read, 0 written so far, ${N} left…`, run: { in: 0, out: 0, left: N } }, 'before the first item: all of them left')
  const later = seen.at(-1)!
  t.equal(later.run!.out, 25, 'recorded again after 25 items, not at every item')
  t.equal(later.run!.left, N - 25)
  t.match(later.text, `${N - 25} left`)
  t.ok(seen.every((p, i) => i === 0 || p.run!.left <= seen[i - 1]!.run!.left), 'left only falls')
  const after = JSON.parse((await page.get(`/connections/${connection.id}/progress`)).text) as Progress
  t.equal(after.running, false)
  t.equal(after.run, null, 'the figure goes with the run')
  t.match(after.text, `${N} written`)
  t.equal((await syncDb(s.k.db).selectFrom('sync_connections').select('progress').where('id', '=', connection.id).executeTakeFirstOrThrow()).progress, null)
})
