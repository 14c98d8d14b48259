import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { davClient } from './test-client.ts'

// A PUT writes the journal and every copy in one statement: each copy must
// still carry the number of its own journal entry (what sync-collection and
// outbound sync read), the item's entry first, and each participant's
// calendar must report the change from a token taken before it.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const api = s.as('alice')
const dav = { alice: davClient(s, 'alice'), bob: davClient(s, 'bob') }
const db = s.k.db
const SYNC = (token: string) => `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
const TOKEN = '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'

/** every copy of the appointment, with the newest journal entry of its href */
async function copies (id: number) {
  const rows = await db.selectFrom('calendar_objects').select(['calendar_id', 'name', 'modified_seq', 'etag']).where('item_kind', '=', 'appointment').where('item_id', '=', id).orderBy('calendar_id').execute()
  return Promise.all(rows.map(async r => {
    const last = await db.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).where('calendar_id', '=', r.calendar_id).where('object_name', '=', r.name).executeTakeFirst()
    return { ...r, journal: Number(last?.seq) }
  }))
}

t.test('a meeting with a participant: created, then edited by CalDAV PUT', async t => {
  const res = await api('/api/v1/appointments', { method: 'POST', json: { title: 'Review', start: '2026-07-01T09:00:00Z', end: '2026-07-01T10:00:00Z', participantIds: [s.users.bob!.id] } })
  t.equal(res.status, 201)
  const id = (res.body_ as { id: number }).id
  const made = await copies(id)
  t.equal(made.length, 2, 'a copy in alice\'s and in bob\'s calendar')
  for (const c of made) t.equal(Number(c.modified_seq), c.journal, `created: calendar ${c.calendar_id}'s copy carries its journal entry's number`)

  const aliceCal = (await db.selectFrom('calendars').select('id').where('owner_id', '=', s.users.alice!.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()).id
  const mine = made.find(c => c.calendar_id === aliceCal)!
  const path = `/dav/calendars/alice/calendar/${encodeURIComponent(mine.name)}`
  const bobName = made.find(c => c !== mine)!.name
  const token = async (who: 'alice' | 'bob') => /sync-token>([^<]+)</.exec((await dav[who]('PROPFIND', `/dav/calendars/${who}/calendar/`, { body: TOKEN, headers: { depth: '0' } })).text)?.[1]
  const tokens = { alice: await token('alice'), bob: await token('bob') }
  t.ok(tokens.alice !== undefined && tokens.bob !== undefined, 'both calendars hand out a sync token')

  const got = await dav.alice('GET', path)
  t.equal(got.status, 200)
  const since = Number((await db.selectFrom('changes').select(eb => eb.fn.max('seq').as('seq')).executeTakeFirst())?.seq)
  const put = await dav.alice('PUT', path, { body: got.text.replace(/SUMMARY:[^\r\n]*/, 'SUMMARY:Review (moved room)'), headers: { 'if-match': got.headers.get('etag')! } })
  t.equal(put.status, 204)

  const entries = await db.selectFrom('changes').selectAll().where('seq', '>', since).where('entity', '=', 'appointment').where('entity_id', '=', id).orderBy('seq').execute()
  t.same(entries.map(e => [e.op, e.calendar_id === null ? null : 'copy']), [['update', null], ['update', 'copy'], ['update', 'copy']], 'the item\'s entry, then one per copy')
  const edited = await copies(id)
  for (const c of edited) {
    t.equal(Number(c.modified_seq), c.journal, `edited: calendar ${c.calendar_id}'s copy carries its journal entry's number`)
    t.ok(Number(c.modified_seq) > since, 'a number of this write')
  }
  t.equal(put.headers.get('etag'), edited.find(c => c.calendar_id === aliceCal)!.etag, 'the ETag answered is the stored one')

  for (const [who, name] of [['alice', mine.name], ['bob', bobName]] as const) {
    const r = await dav[who]('REPORT', `/dav/calendars/${who}/calendar/`, { body: SYNC(tokens[who]!), headers: { depth: '1' } })
    t.equal(r.status, 207)
    t.match(decodeURIComponent(r.text), name, `${who}'s calendar reports the edit since the token taken before it`)
  }
})
