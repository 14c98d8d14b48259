import t from 'tap'
import { putObject } from '../domain/calendar-objects.ts'
import { startServer } from '../testing/harness.ts'
import { listing } from './resources.ts'
import { DAV_NS, davClient, members, propfindBody, vevent, type Member } from './test-client.ts'

// A PROPFIND Depth: 1 and a sync-collection of a calendar read only the columns
// their members' text needs (MemberRow: updated_at only for getlastmodified,
// the body only for calendar-data); every member must still say what a
// PROPFIND Depth: 0 of that object says, whatever is asked.
const s = await startServer({ users: ['alice'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const CAL = '/dav/calendars/alice/calendar/'
listing.pageWithoutBodies = 2
listing.page = 2
const cal = (await s.k.db.selectFrom('calendars').select('id').where('owner_id', '=', s.users.alice!.id).where('slug', '=', 'calendar').executeTakeFirstOrThrow()).id
const actor = { user: s.users.alice!, origin: 'api' as const }
for (let i = 0; i < 3; i++) await putObject(s.k.db, actor, cal, `e ${i}&.ics`, vevent(`e${i}`, [], { summary: `Event <${i}>` }))
await putObject(s.k.db, actor, cal, 'last.ics', vevent('last', ['LOCATION:Room "A" & B']))

const SELECTIONS = [
  ['d:getetag'],
  ['d:getetag', 'd:getcontenttype', 'd:resourcetype'],
  ['d:getlastmodified'],
  ['d:getetag', 'd:getlastmodified', 'd:getcontentlength', 'c:calendar-data'],
  ['c:calendar-data']
]
const shown = (m: Member) => [...m.props].map(([name, el]) => `${name}=${JSON.stringify(el)}`).sort()

async function alone (href: string, props: string[]): Promise<Member> {
  const r = await alice('PROPFIND', href, { headers: { depth: '0' }, body: propfindBody(...props) })
  t.equal(r.status, 207)
  return members(r.xml)[0]!
}

for (const props of SELECTIONS) {
  t.test(`PROPFIND Depth: 1 and sync-collection of ${props.join(', ')}: each member as its own PROPFIND has it`, async t => {
    const pf = await alice('PROPFIND', CAL, { headers: { depth: '1' }, body: propfindBody(...props) })
    const sync = await alice('REPORT', CAL, { headers: { depth: '1' }, body: `<?xml version="1.0" encoding="utf-8"?><d:sync-collection ${DAV_NS}><d:sync-token/><d:sync-level>1</d:sync-level><d:prop>${props.map(p => `<${p}/>`).join('')}</d:prop></d:sync-collection>` })
    for (const [how, r] of [['PROPFIND', pf], ['sync-collection', sync]] as const) {
      t.equal(r.status, 207, how)
      const objects = members(r.xml).filter(m => m.href.endsWith('.ics'))
      t.equal(objects.length, 4, `${how}: every object`)
      for (const m of objects) {
        t.same(m.missing.size, 0, `${how} ${m.href}: nothing missing`)
        t.equal(m.props.size, props.length, `${how} ${m.href}: every property asked for`)
        t.same(shown(m), shown(await alone(m.href, props)), `${how} ${m.href}: as its own PROPFIND`)
      }
      if (props.includes('d:getlastmodified')) t.ok(objects.every(m => m.props.has('{DAV:}getlastmodified')), `${how}: getlastmodified when asked`)
      else t.notOk(r.text.includes('getlastmodified'), `${how}: no getlastmodified when not asked`)
    }
  })
}
