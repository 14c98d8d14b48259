import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, propfindBody, syncTokenOf, vevent } from './test-client.ts'

// The request sequences of DAVx5 and Thunderbird as caldav-anchors §2 describes them.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const CAL = '/dav/calendars/alice/calendar/'

const sync = (token: string, props = '<d:getetag/><d:getcontenttype/>', limit?: number) =>
  `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level>${limit === undefined ? '' : `<d:limit><d:nresults>${limit}</d:nresults></d:limit>`}<d:prop>${props}</d:prop></d:sync-collection>`

const multiget = (hrefs: string[]) =>
  `<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget ${DAV_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>${hrefs.map(h => `<d:href>${h}</d:href>`).join('')}</c:calendar-multiget>`

t.test('DAVx5: create with If-None-Match, sync-collection, multiget in batches, edit with If-Match, stale ETag → 412', async t => {
  const etags = new Map<string, string>()
  for (let i = 0; i < 23; i++) {
    const res = await alice('PUT', `${CAL}davx5-${i}.ics`, { body: vevent(`davx5-${i}`, [], { summary: `Event ${i}`, start: `202606${String(10 + (i % 10)).padStart(2, '0')}T090000Z`, end: `202606${String(10 + (i % 10)).padStart(2, '0')}T100000Z` }), headers: { 'if-none-match': '*' } })
    t.equal(res.status, 201, `created ${i}`)
    t.match(res.headers.get('etag'), /^"[^"]+"$/, 'a strong ETag')
    etags.set(`${CAL}davx5-${i}.ics`, res.headers.get('etag')!)
  }
  const dup = await alice('PUT', `${CAL}davx5-0.ics`, { body: vevent('davx5-0'), headers: { 'if-none-match': '*' } })
  t.equal(dup.status, 412, 'If-None-Match: * on an existing object')

  // initial sync, then page through with a limit: 507 on the collection and a continuation token
  const first = await alice('REPORT', CAL, { body: sync('', '<d:getetag/>', 10) })
  t.equal(first.status, 207)
  const page1 = members(first.xml)
  t.equal(page1.filter(m => m.href !== CAL).length, 10)
  t.equal(page1.find(m => m.href === CAL)?.status, 507, 'truncated: 507 on the collection href')
  let token = syncTokenOf(first.xml)!
  const seen = new Set(page1.filter(m => m.href !== CAL).map(m => m.href))
  for (let round = 0; round < 5; round++) {
    const next = await alice('REPORT', CAL, { body: sync(token, '<d:getetag/>', 10) })
    const ms = members(next.xml)
    for (const m of ms) if (m.href !== CAL) { seen.add(m.href); t.ok(propText(m, '{DAV:}getetag'), 'every member carries its ETag') }
    token = syncTokenOf(next.xml)!
    if (!ms.some(m => m.href === CAL)) break
  }
  t.equal(seen.size, 23, 'every object once the pages are done')

  // multiget in batches of 10 (DAVx5's MULTIGET_BATCH_SIZE)
  const hrefs = [...etags.keys()]
  for (let i = 0; i < hrefs.length; i += 10) {
    const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: multiget(hrefs.slice(i, i + 10)) })
    t.equal(res.status, 207)
    const ms = members(res.xml)
    t.equal(ms.length, Math.min(10, hrefs.length - i))
    for (const m of ms) {
      t.equal(propText(m, '{DAV:}getetag'), etags.get(m.href))
      t.match(propText(m, '{urn:ietf:params:xml:ns:caldav}calendar-data'), /BEGIN:VCALENDAR/)
    }
  }
  const missing = await alice('REPORT', CAL, { body: multiget([`${CAL}nope.ics`]) })
  t.equal(members(missing.xml)[0]?.status, 404)

  // edit with If-Match; a stale ETag is refused and changes nothing
  const href = `${CAL}davx5-3.ics`
  const edited = vevent('davx5-3', ['LOCATION:Room 1'], { summary: 'Event 3 (edited)' })
  const ok = await alice('PUT', href, { body: edited, headers: { 'if-match': etags.get(href)! } })
  t.equal(ok.status, 204, 'replace answers 204')
  const newTag = ok.headers.get('etag')!
  t.not(newTag, etags.get(href))
  const stale = await alice('PUT', href, { body: vevent('davx5-3', [], { summary: 'lost update' }), headers: { 'if-match': etags.get(href)! } })
  t.equal(stale.status, 412)
  const got = await alice('GET', href)
  t.equal(got.text, edited, 'the first edit stands, byte for byte')
  t.equal(got.headers.get('etag'), newTag)

  // incremental sync shows only the change; a deletion comes as a 404 member without propstat
  const del = await alice('DELETE', `${CAL}davx5-5.ics`, { headers: { 'if-match': etags.get(`${CAL}davx5-5.ics`)! } })
  t.equal(del.status, 204)
  const inc = await alice('REPORT', CAL, { body: sync(token) })
  const changed = members(inc.xml)
  t.same(changed.map(m => m.href).sort(), [`${CAL}davx5-3.ics`, `${CAL}davx5-5.ics`])
  const gone = changed.find(m => m.href.endsWith('davx5-5.ics'))!
  t.equal(gone.status, 404)
  t.equal(gone.props.size + gone.missing.size, 0, 'no propstat for a deleted member')
  t.equal(propText(changed.find(m => m.href.endsWith('davx5-3.ics')), '{DAV:}getetag'), newTag)
  const again = await alice('REPORT', CAL, { body: sync(syncTokenOf(inc.xml)!) })
  t.equal(members(again.xml).length, 0, 'nothing new since the last token')

  const bad = await alice('REPORT', CAL, { body: sync('urn:kalends:sync:999-1') })
  t.equal(bad.status, 403)
  t.match(bad.text, /valid-sync-token/)
  const future = await alice('REPORT', CAL, { body: sync(`${syncTokenOf(inc.xml)!.replace(/-\d+$/, '-99999999')}`) })
  t.equal(future.status, 403, 'a token never handed out')
})

t.test('Thunderbird: sync-level 1 with Depth: 1, getcontenttype present; ctag PROPFIND fallback', async t => {
  await alice('PUT', `${CAL}tb-1.ics`, { body: vevent('tb-1') })
  const res = await alice('REPORT', CAL, { headers: { depth: '1' }, body: sync('') })
  t.equal(res.status, 207)
  const ms = members(res.xml)
  t.ok(ms.length > 0)
  for (const m of ms) t.match(propText(m, '{DAV:}getcontenttype'), /^text\/calendar/, 'Thunderbird ignores items without text/calendar')
  const ctag = await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: propfindBody('cs:getctag', 'd:current-user-privilege-set', 'd:supported-report-set', 'd:resourcetype') })
  const c = members(ctag.xml)[0]!
  t.ok(propText(c, '{http://calendarserver.org/ns/}getctag'))
  const listing = await alice('PROPFIND', CAL, { headers: { depth: '1' }, body: propfindBody('d:getetag', 'd:getcontenttype') })
  const objects = members(listing.xml).filter(m => m.href !== CAL)
  t.ok(objects.length > 0)
  for (const m of objects) {
    t.match(propText(m, '{DAV:}getetag'), /^"/)
    t.match(propText(m, '{DAV:}getcontenttype'), /^text\/calendar/)
  }
  const before = propText(c, '{http://calendarserver.org/ns/}getctag')
  await alice('PUT', `${CAL}tb-2.ics`, { body: vevent('tb-2') })
  const after = propText(members((await alice('PROPFIND', CAL, { headers: { depth: '0' }, body: propfindBody('cs:getctag') })).xml)[0], '{http://calendarserver.org/ns/}getctag')
  t.not(after, before, 'the ctag moves with every change')
})

t.test('Thunderbird names objects after the UID; quoted and unquoted If-Match both work', async t => {
  const put = await alice('PUT', `${CAL}tb_uid_with_spaces.ics`, { body: vevent('tb uid with spaces') })
  t.equal(put.status, 201)
  const tag = put.headers.get('etag')!
  const unquoted = await alice('PUT', `${CAL}tb_uid_with_spaces.ics`, { body: vevent('tb uid with spaces', ['LOCATION:x']), headers: { 'if-match': tag.replaceAll('"', '') } })
  t.equal(unquoted.status, 204, 'ETag without quotes (CalDAV Synchronizer option)')
  const tag2 = unquoted.headers.get('etag')!
  const escaped = await alice('PUT', `${CAL}tb_uid_with_spaces.ics`, { body: vevent('tb uid with spaces', ['LOCATION:y']), headers: { 'if-match': tag2.replaceAll('"', '\\"') } })
  t.equal(escaped.status, 204, 'Evolution\'s backslash-escaped quotes')
})

t.test('a change still committing is not skipped by a token handed out meanwhile', { skip: s.k.handle.kind === 'postgres' ? false : 'needs concurrent connections (PostgreSQL)' }, async t => {
  const cals = (await s.as('alice')('/api/v1/calendars')).body_ as { id: number; slug: string; kind: string }[]
  const calId = cals.find(c => c.slug === 'calendar' && c.kind !== 'company')!.id
  /** a writer that takes its sequence number first and commits after `ms` */
  async function slowWriter (name: string, ms: number, during: () => Promise<void>) {
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    let begun!: () => void
    const started = new Promise<void>(resolve => { begun = resolve })
    const slow = s.k.handle.session(async query => {
      await query('BEGIN')
      await query(`INSERT INTO changes (org_id, entity, entity_id, op, calendar_id, object_name, origin) VALUES ($1, 'appointment', 0, 'delete', $2, $3, 'system')`, [s.orgId, calId, name])
      begun()
      await held
      await query('COMMIT')
    })
    await started
    const done = during()
    await new Promise(resolve => setTimeout(resolve, ms))
    release()
    await slow
    await done
  }
  const names = (xml: Parameters<typeof members>[0]) => members(xml).map(m => m.href.split('/').pop()).sort()

  let token = syncTokenOf((await alice('REPORT', CAL, { body: sync('') })).xml)!
  await slowWriter('slow-1.ics', 100, async () => {
    t.equal((await alice('PUT', `${CAL}fast-1.ics`, { body: vevent('fast-1') })).status, 201, 'a later change commits first')
    const res = await alice('REPORT', CAL, { body: sync(token) })
    t.same(names(res.xml), ['fast-1.ics', 'slow-1.ics'], 'the answer waited for the earlier change instead of jumping past it')
    token = syncTokenOf(res.xml)!
  })

  // a writer that holds on longer than the wait: the answer comes anyway, staler but with nothing skipped
  await slowWriter('slow-2.ics', 1500, async () => {
    t.equal((await alice('PUT', `${CAL}fast-2.ics`, { body: vevent('fast-2') })).status, 201)
    const res = await alice('REPORT', CAL, { body: sync(token) })
    // answered while the slow writer still holds its change: waiting for it would have brought fast-2 too
    t.notOk(names(res.xml).includes('fast-2.ics'), 'did not wait for the slow writer: the later change waits for the next sync')
    token = syncTokenOf(res.xml)!
  })
  const after = await alice('REPORT', CAL, { body: sync(token) })
  t.same(names(after.xml), ['fast-2.ics', 'slow-2.ics'], 'once committed, both come')
})
