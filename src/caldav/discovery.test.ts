import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { DAV_NS, davClient, members, propText, propfindBody } from './test-client.ts'

// iOS/macOS: well-known → principal → home → Depth: 1 of the home (caldav-anchors §2).
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = davClient(s, 'alice')
const anon = davClient(s, null)

t.test('well-known redirects to the DAV root, anonymous requests get 401 with Basic', async t => {
  const wk = await anon('PROPFIND', '/.well-known/caldav', { headers: { depth: '0' } })
  t.equal(wk.status, 301)
  t.equal(wk.headers.get('location'), '/dav/')
  const wkGet = await anon('GET', '/.well-known/caldav')
  t.equal(wkGet.status, 301)
  const root = await anon('PROPFIND', '/dav/', { headers: { depth: '0' }, body: propfindBody('d:current-user-principal') })
  t.equal(root.status, 401)
  t.match(root.headers.get('www-authenticate'), /^Basic realm=/)
  t.match(root.headers.get('content-type'), /xml/, 'a DAV error body')
  const bare = await alice('PROPFIND', '/', { headers: { depth: '0' }, body: propfindBody('d:current-user-principal') })
  t.equal(bare.status, 207, 'the bare server address answers too (python-caldav, DAVx5 start there)')
  t.equal(propText(members(bare.xml)[0], '{DAV:}current-user-principal'), '/dav/principals/alice/')
  const wrong = await davClient(s, 'alice', 'wrong password')('PROPFIND', '/dav/', { headers: { depth: '0' } })
  t.equal(wrong.status, 401)
})

t.test('per-device app passwords work over CalDAV and stop when revoked', async t => {
  const made = (await s.as('alice')('/api/v1/app-passwords', { method: 'POST', json: { name: 'iPhone' } })).body_ as { id: number; password: string }
  const phone = davClient(s, 'alice', made.password)
  t.equal((await phone('PROPFIND', '/dav/calendars/alice/', { headers: { depth: '0' } })).status, 207)
  t.equal((await s.as('alice')(`/api/v1/app-passwords/${made.id}`, { method: 'DELETE' })).status, 204)
  s.k.signIn.forget()
  t.equal((await phone('PROPFIND', '/dav/calendars/alice/', { headers: { depth: '0' } })).status, 401)
})

t.test('OPTIONS names only what is implemented', async t => {
  const res = await anon('OPTIONS', '/dav/')
  t.equal(res.status, 200)
  const classes = res.headers.get('dav')!.split(',').map(c => c.trim())
  t.ok(classes.includes('1') && classes.includes('calendar-access'))
  t.notOk(classes.includes('calendar-auto-schedule'), 'no server-side scheduling is claimed')
  t.notOk(classes.includes('2'), 'no locks')
  t.match(res.headers.get('allow'), /REPORT/)
})

t.test('iOS discovery sequence', async t => {
  const root = await alice('PROPFIND', '/dav/', { headers: { depth: '0' }, body: propfindBody('d:current-user-principal', 'd:principal-URL', 'd:resourcetype') })
  t.equal(root.status, 207)
  const principal = propText(members(root.xml)[0], '{DAV:}current-user-principal')
  t.equal(principal, '/dav/principals/alice/')

  const p = await alice('PROPFIND', principal!, { headers: { depth: '0' }, body: propfindBody('c:calendar-home-set', 'c:calendar-user-address-set', 'd:displayname', 'd:principal-URL', 'd:current-user-principal', 'cs:email-address-set', 'c:schedule-inbox-URL') })
  t.equal(p.status, 207)
  const pm = members(p.xml)[0]!
  t.equal(pm.href, '/dav/principals/alice/')
  t.equal(propText(pm, '{urn:ietf:params:xml:ns:caldav}calendar-home-set'), '/dav/calendars/alice/')
  t.equal(propText(pm, '{DAV:}displayname'), 'Alice')
  t.equal(propText(pm, '{DAV:}current-user-principal'), '/dav/principals/alice/', 'current-user-principal everywhere')
  t.ok(pm.missing.has('{urn:ietf:params:xml:ns:caldav}schedule-inbox-URL'), 'no scheduling inbox: 404 propstat')

  const home = await alice('PROPFIND', '/dav/calendars/alice/', {
    headers: { depth: '1' },
    body: propfindBody('d:resourcetype', 'd:displayname', 'cs:getctag', 'd:sync-token', 'd:supported-report-set', 'c:supported-calendar-component-set', 'd:current-user-privilege-set', 'ical:calendar-color', 'ical:calendar-order', 'd:current-user-principal', 'd:owner')
  })
  t.equal(home.status, 207)
  const ms = members(home.xml)
  const self = ms.find(m => m.href === '/dav/calendars/alice/')!
  t.ok(self, 'the home itself')
  const homeReports = self.props.get('{DAV:}supported-report-set')!
  t.match(JSON.stringify(homeReports), /sync-collection/, 'sync-collection listed on the home (iCal checks it there)')
  const cal = ms.find(m => m.href === '/dav/calendars/alice/calendar/')!
  const tasks = ms.find(m => m.href === '/dav/calendars/alice/tasks/')!
  const company = ms.find(m => m.href.startsWith('/dav/calendars/alice/company~'))!
  t.ok(cal && tasks && company, 'own calendar, task list and company calendar in the home')
  t.match(JSON.stringify(cal.props.get('{DAV:}resourcetype')), /"calendar"/)
  t.ok(propText(cal, '{http://calendarserver.org/ns/}getctag'), 'getctag')
  t.match(propText(cal, '{DAV:}sync-token'), /^urn:kalends:sync:/)
  t.match(JSON.stringify(cal.props.get('{DAV:}supported-report-set')), /sync-collection/)
  t.match(JSON.stringify(tasks.props.get('{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set')), /"VTODO"/, 'a VTODO list for Reminders')
  t.notMatch(JSON.stringify(tasks.props.get('{urn:ietf:params:xml:ns:caldav}supported-calendar-component-set')), /VEVENT/)
  const companyPrivs = JSON.stringify(company.props.get('{DAV:}current-user-privilege-set'))
  t.match(companyPrivs, /"read"/)
  t.notMatch(companyPrivs, /"write/, 'the company calendar is read-only for a user: no write privileges')
  t.match(JSON.stringify(cal.props.get('{DAV:}current-user-privilege-set')), /"write-content"/)
  t.equal(propText(cal, '{DAV:}owner'), '/dav/principals/alice/')
})

t.test('calendar properties: PROPPATCH colour, order, name, description, dead properties', async t => {
  const body = `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate ${DAV_NS} xmlns:x="urn:example:x"><d:set><d:prop>
    <ical:calendar-color>#FF2968FF</ical:calendar-color><ical:calendar-order>3</ical:calendar-order>
    <d:displayname>Work</d:displayname><c:calendar-description>Work things</c:calendar-description>
    <x:flag x:a="1"><x:inner>kept</x:inner></x:flag></d:prop></d:set></d:propertyupdate>`
  const res = await alice('PROPPATCH', '/dav/calendars/alice/calendar/', { body })
  t.equal(res.status, 207)
  t.ok(members(res.xml)[0]!.propstatus.get('{http://apple.com/ns/ical/}calendar-color') === 200)
  const after = members((await alice('PROPFIND', '/dav/calendars/alice/calendar/', { headers: { depth: '0' }, body: propfindBody('ical:calendar-color', 'ical:calendar-order', 'd:displayname', 'c:calendar-description', 'x:flag').replace('<d:propfind ', '<d:propfind xmlns:x="urn:example:x" ') })).xml)[0]!
  t.equal(propText(after, '{http://apple.com/ns/ical/}calendar-color'), '#FF2968FF')
  t.equal(propText(after, '{http://apple.com/ns/ical/}calendar-order'), '3')
  t.equal(propText(after, '{DAV:}displayname'), 'Work')
  t.equal(propText(after, '{urn:ietf:params:xml:ns:caldav}calendar-description'), 'Work things')
  t.equal(after.props.get('{urn:example:x}flag')?.children[0]?.text, 'kept', 'dead property kept')

  const bad = await alice('PROPPATCH', '/dav/calendars/alice/calendar/', { body: `<d:propertyupdate ${DAV_NS}><d:set><d:prop><ical:calendar-color>red</ical:calendar-color><d:displayname>Nope</d:displayname></d:prop></d:set></d:propertyupdate>` })
  t.equal(bad.status, 207)
  const bm = members(bad.xml)[0]!
  t.equal(bm.propstatus.get('{http://apple.com/ns/ical/}calendar-color'), 409)
  t.equal(bm.propstatus.get('{DAV:}displayname'), 424, 'all or nothing')
  const still = members((await alice('PROPFIND', '/dav/calendars/alice/calendar/', { headers: { depth: '0' }, body: propfindBody('d:displayname') })).xml)[0]!
  t.equal(propText(still, '{DAV:}displayname'), 'Work')

  const rgb = await alice('PROPPATCH', '/dav/calendars/alice/calendar/', { body: `<d:propertyupdate ${DAV_NS}><d:set><d:prop><ical:calendar-color>#00AA00</ical:calendar-color></d:prop></d:set></d:propertyupdate>` })
  t.equal(members(rgb.xml)[0]!.propstatus.get('{http://apple.com/ns/ical/}calendar-color'), 200, '#RRGGBB too')
})

t.test('calendar time zone and sync-collection on the home', async t => {
  const tz = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n'
  const res = await alice('PROPPATCH', '/dav/calendars/alice/calendar/', { body: `<d:propertyupdate ${DAV_NS}><d:set><d:prop><c:calendar-timezone>${tz}</c:calendar-timezone></d:prop></d:set></d:propertyupdate>` })
  t.equal(members(res.xml)[0]!.propstatus.get('{urn:ietf:params:xml:ns:caldav}calendar-timezone'), 200)
  const got = members((await alice('PROPFIND', '/dav/calendars/alice/calendar/', { headers: { depth: '0' }, body: propfindBody('c:calendar-timezone-id', 'c:calendar-timezone') })).xml)[0]!
  t.equal(propText(got, '{urn:ietf:params:xml:ns:caldav}calendar-timezone-id'), 'Europe/Berlin', 'a Windows zone name becomes its IANA zone')
  t.match(propText(got, '{urn:ietf:params:xml:ns:caldav}calendar-timezone'), /BEGIN:VTIMEZONE\r\nTZID:Europe\/Berlin/)

  const sync = (token: string) => `<d:sync-collection ${DAV_NS}><d:sync-token>${token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><cs:getctag/><d:displayname/></d:prop></d:sync-collection>`
  const first = await alice('REPORT', '/dav/calendars/alice/', { body: sync('') })
  t.equal(first.status, 207)
  t.ok(members(first.xml).some(m => m.href === '/dav/calendars/alice/calendar/'), 'every calendar on a fresh sync')
  const token = first.xml!.children.find(c => c.name === 'sync-token')!.text
  const quiet = await alice('REPORT', '/dav/calendars/alice/', { body: sync(token) })
  t.equal(members(quiet.xml).length, 0, 'nothing changed')
  await alice('PUT', '/dav/calendars/alice/calendar/home-sync.ics', { body: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:home-sync\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' })
  const changed = await alice('REPORT', '/dav/calendars/alice/', { body: sync(token) })
  t.same(members(changed.xml).map(m => m.href), ['/dav/calendars/alice/calendar/'], 'only the calendar that changed')
})

t.test('MKCALENDAR, extended MKCOL and DELETE of a calendar', async t => {
  const mk = await alice('MKCALENDAR', '/dav/calendars/alice/projects/', { body: `<c:mkcalendar ${DAV_NS}><d:set><d:prop><d:displayname>Projects</d:displayname><ical:calendar-color>#123456</ical:calendar-color><c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>` })
  t.equal(mk.status, 201)
  const again = await alice('MKCALENDAR', '/dav/calendars/alice/projects/')
  t.equal(again.status, 405)
  t.match(again.text, /resource-must-be-null/)
  const col = await alice('MKCOL', '/dav/calendars/alice/other/', { body: `<d:mkcol ${DAV_NS}><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Other</d:displayname></d:prop></d:set></d:mkcol>` })
  t.equal(col.status, 201)
  const list = members((await alice('PROPFIND', '/dav/calendars/alice/', { headers: { depth: '1' }, body: propfindBody('d:displayname') })).xml)
  t.equal(propText(list.find(m => m.href === '/dav/calendars/alice/projects/'), '{DAV:}displayname'), 'Projects')
  t.ok(list.some(m => m.href === '/dav/calendars/alice/other/'))
  t.equal((await alice('DELETE', '/dav/calendars/alice/other/')).status, 204)
  t.equal((await alice('PROPFIND', '/dav/calendars/alice/other/', { headers: { depth: '0' } })).status, 404)
  t.equal((await alice('MKCOL', '/dav/calendars/alice/weird/', { body: 'afafafaf', headers: { 'content-type': 'xyz/invalid' } })).status, 415, 'MKCOL with a body that is not XML')
  t.equal((await alice('MKCOL', '/dav/calendars/alice/missing/deeper/')).status, 409, 'no intermediate collections')
  const inside = await alice('MKCOL', '/dav/calendars/alice/projects/sub/')
  t.equal(inside.status, 403, 'no collections inside a calendar (RFC 4918 §9.3.1)')
  t.match(inside.text, /calendar-collection-location-ok/)
  const elsewhere = await alice('MKCALENDAR', '/dav/calendars/bob/mine/')
  t.equal(elsewhere.status, 403, 'not in someone else\'s home')
  t.equal((await alice('DELETE', '/dav/calendars/alice/calendar/')).status, 403, 'the default calendar stays')
  const admin = davClient(s, 'admin')
  const company = members((await admin('PROPFIND', '/dav/calendars/admin/', { headers: { depth: '1' }, body: propfindBody('d:current-user-privilege-set') })).xml).find(m => m.href.includes('company~'))!
  t.match(JSON.stringify(company.props.get('{DAV:}current-user-privilege-set')), /"write-content"/, 'administrators write the company calendar')
  t.equal((await admin('DELETE', company.href)).status, 403, 'but do not delete it from a phone')
})

t.test('another user\'s home and calendars answer 404; Depth: infinity is refused', async t => {
  t.equal((await alice('PROPFIND', '/dav/calendars/bob/', { headers: { depth: '0' } })).status, 404)
  t.equal((await alice('PROPFIND', '/dav/calendars/bob/calendar/', { headers: { depth: '1' } })).status, 404)
  t.equal((await alice('GET', '/dav/calendars/bob/calendar/x.ics')).status, 404)
  t.equal((await alice('PUT', '/dav/calendars/bob/calendar/x.ics', { body: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' })).status, 404)
  const inf = await alice('PROPFIND', '/dav/calendars/alice/', { headers: { depth: 'infinity' } })
  t.equal(inf.status, 403)
  t.match(inf.text, /propfind-finite-depth/)
})

t.test('principal reports clients use to look up attendees', async t => {
  const search = await alice('REPORT', '/dav/principals/', { headers: { depth: '0' }, body: `<d:principal-property-search ${DAV_NS} test="anyof"><d:property-search><d:prop><d:displayname/></d:prop><d:match>bo</d:match></d:property-search><d:prop><d:displayname/><c:calendar-user-address-set/></d:prop></d:principal-property-search>` })
  t.equal(search.status, 207)
  const found = members(search.xml)
  t.same(found.map(m => m.href), ['/dav/principals/bob/'])
  const set = await alice('REPORT', '/dav/principals/', { body: `<d:principal-search-property-set xmlns:d="DAV:"/>` })
  t.equal(set.status, 200)
  t.match(set.text, /displayname/)
  const expand = await alice('REPORT', '/dav/principals/alice/', { headers: { depth: '0' }, body: `<d:expand-property xmlns:d="DAV:"><d:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"/><d:property name="current-user-principal"><d:property name="displayname"/></d:property></d:expand-property>` })
  t.equal(expand.status, 207)
  t.match(expand.text, /Alice/, 'the principal href was expanded into its displayname')
})
