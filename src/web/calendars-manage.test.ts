import t from 'tap'
import { startServer, PASSWORD, type TestServer } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/** Calendars made, renamed, recoloured, described and deleted from the page; each with its own CalDAV address. */
let s: TestServer
t.before(async () => {
  s = await startServer({ users: ['alice', 'bob'] })
  s.k.config.publicUrl = s.url
})
t.teardown(async () => { await s?.close() })

t.test('create, rename, recolour, describe, delete; the CalDAV address answers', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  await c.get('/calendars')
  let res = await c.post('/calendars', { name: 'Court dates', description: 'Hearings only', color: '#b42318', holds: 'VEVENT' })
  t.equal(res.status, 200)
  t.match(visible(res.text), 'The calendar “Court dates” is created.')
  const cal = await s.k.db.selectFrom('calendars').selectAll().where('name', '=', 'Court dates').executeTakeFirstOrThrow()
  t.match(cal, { description: 'Hearings only', color: '#b42318', components: ['VEVENT'] })
  t.match(res.text, new RegExp(`id="cal-color-${cal.id}" name="color" value="#b42318"`), 'a real colour input with the colour')
  t.match(res.text, 'style="--c:#b42318"', 'the swatch is that colour')
  const address = new RegExp(`id="dav-${cal.id}" value="(${s.url}/dav/calendars/alice/[^"]+/)"`).exec(res.text)?.[1]
  t.ok(address, 'its own CalDAV address')
  const propfind = await fetch(address!, { method: 'PROPFIND', headers: { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`, depth: '0' } })
  t.equal(propfind.status, 207, 'the address is the calendar a client finds')
  t.match(await propfind.text(), 'Court dates')
  res = await c.post(`/calendars/${cal.id}`, { name: 'Court', description: 'Hearings and deadlines', color: '#0b5cad' })
  t.match(visible(res.text), 'The calendar “Court” is saved.')
  t.match(await s.k.db.selectFrom('calendars').selectAll().where('id', '=', cal.id).executeTakeFirstOrThrow(), { name: 'Court', description: 'Hearings and deadlines', color: '#0b5cad' })
  res = await c.post(`/calendars/${cal.id}`, { name: ' ', color: '#0b5cad' })
  t.equal(res.status, 400)
  t.match(visible(res.text), 'A calendar needs a name.')
  const bob = new WebClient(s)
  await bob.signIn('bob')
  t.equal((await bob.post(`/calendars/${cal.id}`, { name: 'Mine now' })).status, 404, 'someone else\'s calendar is not there')
  t.equal((await bob.post(`/calendars/${cal.id}/delete`, {})).status, 404)
  const def = await s.k.db.selectFrom('calendars').select('id').where('owner_id', '=', s.users.alice!.id).where('is_default', '=', true).where('kind', '=', 'personal').executeTakeFirstOrThrow()
  res = await c.post(`/calendars/${def.id}/delete`, {})
  t.equal(res.status, 403, 'the default calendar stays')
  res = await c.post(`/calendars/${cal.id}/delete`, {})
  t.match(visible(res.text), 'The calendar is deleted.')
  t.notMatch(visible(res.text), 'Court')
})
