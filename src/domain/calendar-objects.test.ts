import t from 'tap'
import { startServer } from '../testing/harness.ts'
import { calendarsFor, committedSeq, getObject, listObjects, objectChanges, putObject } from './calendar-objects.ts'
import { vevent } from '../caldav/test-client.ts'

// A calendar list's decision stands in for the access check of the reads that
// follow it, but only for the user it was made for and only as access.ts made it.
const s = await startServer({ users: ['alice', 'bob'] })
t.teardown(() => s.close())
const alice = s.users.alice!
const bob = s.users.bob!
const actor = { user: alice, origin: 'caldav' as const }
const own = (await calendarsFor(s.k.db, alice)).find(c => c.owner_id === alice.id && c.components.includes('VEVENT'))!
await putObject(s.k.db, actor, own, 'a.ics', vevent('a'))

t.test('a calendar access.ts did not hand out to this user is checked again', async t => {
  const forged = { ...own, access: 'owner' as const }
  await t.rejects(getObject(s.k.db, bob, forged, 'a.ics'), { message: 'calendar not found' }, 'a copy with access set by hand')
  await t.rejects(listObjects(s.k.db, bob, own), { message: 'calendar not found' }, 'alice\'s decision does not count for bob')
  await t.rejects(objectChanges(s.k.db, bob, own, 0), { message: 'calendar not found' })
  await t.rejects(putObject(s.k.db, { user: bob, origin: 'caldav' }, own, 'b.ics', vevent('b')), { message: 'calendar not found' })
  t.equal((await getObject(s.k.db, alice, own, 'a.ics'))?.name, 'a.ics', 'the owner with the calendar she was given')
  t.equal((await getObject(s.k.db, alice, own.id, 'a.ics'))?.name, 'a.ics', 'and by id')
})

t.test('the committed horizon covers every change once no writer is at work', async t => {
  const before = await committedSeq(s.k.db)
  await putObject(s.k.db, actor, own, 'c.ics', vevent('c'))
  const after = await committedSeq(s.k.db)
  t.ok(after > before, 'moves on after a write')
  const changes = await objectChanges(s.k.db, alice, own, before)
  t.same(changes.changed.map(r => r.name), ['c.ics'], 'the change after the old horizon')
  t.ok(changes.seq <= after)
})

t.test('a VACUUM\'s lock on the journal does not hold the horizon back', { skip: s.k.handle.kind === 'postgres' ? false : 'needs concurrent connections (PostgreSQL)' }, async t => {
  let release!: () => void
  const held = new Promise<void>(resolve => { release = resolve })
  let locked!: () => void
  const started = new Promise<void>(resolve => { locked = resolve })
  const vacuum = s.k.handle.session(async query => {
    await query('BEGIN')
    await query('LOCK TABLE changes IN SHARE UPDATE EXCLUSIVE MODE') // what (auto)vacuum and ANALYZE hold
    locked()
    await held
    await query('COMMIT')
  })
  await started
  try {
    await putObject(s.k.db, actor, own, 'd.ics', vevent('d'))
    const d = await getObject(s.k.db, alice, own, 'd.ics', false)
    t.ok(await committedSeq(s.k.db) >= Number(d!.modified_seq), 'the horizon covers the change made meanwhile')
  } finally {
    release()
    await vacuum
  }
})
