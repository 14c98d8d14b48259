import t from 'tap'
import type { Test } from 'tap'
import { syncSince } from './connections.ts'
import { syncDb } from './tables.ts'
import { PROVIDERS, startRemote, type Remote } from './testing-remote.ts'

/**
 * PRODUCT.md "Google and Exchange sync", rule by rule, for every provider:
 * the same test body runs against the Google emulator and the EWS emulator
 * (testing-remote.ts), and each ends with no mail sent by sync.
 */

type Task = { id: number; status: string; actualEnd: string | null; title: string; description: string; due: string | null }
type Appt = { id: number; title: string; ownerId: number; participantIds: number[] }

async function runAll (r: Remote, logins: string[]): Promise<void> {
  // two rounds: a change one connection brings in reaches the others' copies on the next
  for (let round = 0; round < 2; round++) {
    for (const l of logins) {
      const res = await r.run(l)
      if (res.state !== 'ok') throw new Error(`${r.label} run of ${l}: ${res.state} ${res.reason ?? ''}`)
    }
  }
}
const byRef = (id: number) => (e: { ref: string | null }) => e.ref === `appointment:${id}`
const crmTitles = async (r: Remote, login: string) =>
  ((await r.s.as(login)('/api/v1/appointments?from=2025-01-01T00:00:00Z&to=2028-01-01T00:00:00Z')).body_ as { items: { title: string }[] }).items.map(a => a.title).sort()
const remoteTitles = async (r: Remote, login: string, calendar?: string) => (await r.events(login, calendar)).map(e => e.title).sort()

function scenario (name: string, body: (t: Test, r: Remote) => Promise<void>): void {
  for (const provider of PROVIDERS) {
    t.test(`${provider}: ${name}`, async t => {
      const r = await startRemote(provider)
      t.teardown(() => r.close())
      await body(t, r)
      t.same(r.mail(), [], `${r.label}: no one was mailed`)
    })
  }
}

scenario('a business rule broken outside is reverted at the source, with the reason in the log', async (t, r) => {
  const alice = r.s.as('alice')
  const task = (await alice('/api/v1/tasks', { method: 'POST', json: { title: 'File the claim', due: '2026-12-10T09:00:00Z' } })).body_ as Task
  await alice(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { status: 'done', actualEnd: '2026-12-09T15:00:00Z' } })
  await r.connect('alice')
  await r.run('alice')
  const copy = (await r.tasks('alice')).find(x => x.title === 'File the claim')!
  t.equal(copy.done, true)
  t.equal(copy.due, '2026-12-10', 'due is a date')

  // reopening a done task would change its locked actual end
  await r.patchTask('alice', copy.id, { done: false })
  const run = await r.run('alice')
  t.equal(run.state, 'ok')
  const crm = (await alice(`/api/v1/tasks/${task.id}`)).body_ as Task
  t.equal(crm.status, 'done', 'the CRM keeps its state')
  t.equal(crm.actualEnd, '2026-12-09T15:00:00.000Z')
  t.equal((await r.tasks('alice')).find(x => x.id === copy.id)?.done, true, `${r.label} shows the task completed again`)
  const log = await syncDb(r.s.k.db).selectFrom('sync_log').selectAll().where('connection_id', '=', (await r.connection('alice')).id).where('action', '=', 'reverted').execute()
  t.equal(log.length, 1, 'one revert logged')
  t.match(log[0]!.message, /actual end of a done task cannot change/, 'with the rule\'s reason')
  t.same((await r.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'the revert is not read back as a change')

  // and a permitted edit of the same task comes through
  await r.patchTask('alice', copy.id, { title: 'File the claim (sent)' })
  await r.run('alice')
  t.equal(((await alice(`/api/v1/tasks/${task.id}`)).body_ as Task).title, 'File the claim (sent)')
})

scenario('the first sync honours the start date; later changes come whatever their date', async (t, r) => {
  const alice = r.s.as('alice')
  const old = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Old CRM meeting', start: '2026-01-05T09:00:00Z', end: '2026-01-05T10:00:00Z' } })).body_ as Appt
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'New CRM meeting', start: '2026-12-05T09:00:00Z', end: '2026-12-05T10:00:00Z' } })
  await r.createEvent('alice', { title: 'Old outside meeting', start: '2026-01-06T09:00:00Z', end: '2026-01-06T10:00:00Z' })
  await r.createEvent('alice', { title: 'New outside meeting', start: '2026-12-06T09:00:00Z', end: '2026-12-06T10:00:00Z' })
  await r.connect('alice', { startDate: '2026-06-01' })
  await r.run('alice')
  t.same(await remoteTitles(r, 'alice'), ['New CRM meeting', 'New outside meeting', 'Old outside meeting'], 'only the CRM meeting after the start date went out')
  t.same(await crmTitles(r, 'alice'), ['New CRM meeting', 'New outside meeting', 'Old CRM meeting'], 'only the outside meeting after the start date came in')

  // an old item changed later is a change like any other
  await alice(`/api/v1/appointments/${old.id}`, { method: 'PATCH', json: { title: 'Old CRM meeting (revived)' } })
  await r.run('alice')
  t.ok((await remoteTitles(r, 'alice')).includes('Old CRM meeting (revived)'))
})

scenario('a days-before/after window bounds the first sync, both ways', async (t, r) => {
  const alice = r.s.as('alice')
  const day = 86_400_000
  const at = (d: number) => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + d * day).toISOString()
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Far past', start: at(-60), end: at(-59.9) } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Near', start: at(2), end: at(2.1) } })
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Far future', start: at(90), end: at(90.1) } })
  await r.createEvent('alice', { title: 'Outside, far past', start: at(-45), end: at(-44.9) })
  await r.createEvent('alice', { title: 'Outside, near', start: at(-3), end: at(-2.9) })
  await r.createEvent('alice', { title: 'Outside, far future', start: at(75), end: at(75.1) })
  await r.connect('alice', { daysBefore: 30, daysAfter: 30 })
  await r.run('alice')
  t.same(await remoteTitles(r, 'alice'), ['Near', 'Outside, far future', 'Outside, far past', 'Outside, near'], 'only the near CRM item went out')
  t.same(await crmTitles(r, 'alice'), ['Far future', 'Far past', 'Near', 'Outside, near'], 'only the near outside item came in')
})

scenario('CRM fields go into the external description below the user\'s own text; neither is lost', async (t, r) => {
  const alice = r.s.as('alice')
  const kase = (await alice('/api/v1/cases', { method: 'POST', json: { title: 'Smith v. Jones' } })).body_ as { id: number }
  const type = (await r.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Hearing', appliesTo: 'appointment' } })).body_ as { id: number }
  const appt = (await alice('/api/v1/appointments', { method: 'POST', json: { title: 'Hearing', description: 'Bring the originals', start: '2026-12-11T09:00:00Z', end: '2026-12-11T11:00:00Z', caseId: kase.id, typeId: type.id } })).body_ as { id: number }
  await r.connect('alice', { descriptionFields: ['case', 'type', 'link'] })
  await r.run('alice')
  const ev = (await r.events('alice'))[0]!
  t.equal(ev.description, `Bring the originals\n\n-- Kalends --\nCase: Smith v. Jones\nType: Hearing\n${r.s.url}/appointments/${appt.id}/edit`)

  // the user edits their part outside: the CRM gets their text, the block stays
  await r.patchEvent('alice', ev.id, { description: ev.description.replace('Bring the originals', 'Bring the originals and two copies') })
  await r.run('alice')
  const crm = (await alice(`/api/v1/appointments/${appt.id}`)).body_ as { description: string; caseId: number }
  t.equal(crm.description, 'Bring the originals and two copies', 'only the user\'s text reaches the CRM description')
  t.equal(crm.caseId, kase.id)
  // the case is renamed in the CRM: the block follows
  await r.s.as('admin')(`/api/v1/cases/${kase.id}`, { method: 'PATCH', json: { title: 'Smith v. Jones Ltd' } })
  await alice(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { location: 'Court 3' } })
  await r.run('alice')
  t.match((await r.events('alice'))[0]!.description, /^Bring the originals and two copies\n\n-- Kalends --\nCase: Smith v\. Jones Ltd\n/)
  t.same((await r.run('alice')), { state: 'ok', in: 0, out: 0, rerun: false }, 'settled: the block is not read back as the user\'s text')
})

scenario('items from outside get the connection\'s default type and no case', async (t, r) => {
  const alice = r.s.as('alice')
  const meeting = (await r.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'Meeting', appliesTo: 'appointment' } })).body_ as { id: number }
  const todo = (await r.s.as('admin')('/api/v1/types', { method: 'POST', json: { name: 'To do', appliesTo: 'task' } })).body_ as { id: number }
  await r.connect('alice', { appointmentTypeId: meeting.id, taskTypeId: todo.id })
  await r.createEvent('alice', { title: 'From outside', start: '2026-12-12T09:00:00Z', end: '2026-12-12T10:00:00Z' })
  await r.createTask('alice', { title: 'Task from outside', due: '2026-12-13' })
  await r.run('alice')
  const a = ((await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z')).body_ as { items: { title: string; typeId: number; caseId: number | null }[] }).items.find(x => x.title === 'From outside')!
  t.same([a.typeId, a.caseId], [meeting.id, null])
  const task = ((await alice('/api/v1/tasks')).body_ as { items: (Task & { typeId: number; caseId: number | null })[] }).items.find(x => x.title === 'Task from outside')!
  t.same([task.typeId, task.caseId], [todo.id, null])
  t.equal(task.due, '2026-12-12T23:00:00.000Z', 'a due date is midnight in the user\'s zone (Europe/Warsaw)')
  const withoutCase = (await alice('/api/v1/appointments?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z&withoutCase=true')).body_ as { items: { title: string }[] }
  t.ok(withoutCase.items.some(x => x.title === 'From outside'), 'listed under "without case"')
})

scenario('participants: one copy per person, no attendees; owner and participant edits reach every copy; a participant delete leaves, an owner delete removes all', async (t, r) => {
  const bob = r.s.users.bob!
  const appt = (await r.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Client visit', start: '2026-12-07T09:00:00Z', end: '2026-12-07T10:00:00Z', participantIds: [bob.id] } })).body_ as Appt
  await r.connect('alice')
  await r.connect('bob')
  await runAll(r, ['alice', 'bob'])
  const aliceCopy = (await r.events('alice')).find(byRef(appt.id))
  const bobCopy = (await r.events('bob')).find(byRef(appt.id))
  t.equal(aliceCopy?.title, 'Client visit', 'in the owner\'s calendar')
  t.equal(bobCopy?.title, 'Client visit', 'in the participant\'s calendar')
  t.same([aliceCopy?.attendees, bobCopy?.attendees], [0, 0], 'copies are made without attendees: nobody is invited by mail')

  await r.patchEvent('alice', aliceCopy!.id, { title: 'Client visit (room 2)' })
  await runAll(r, ['alice', 'bob'])
  t.equal((await r.events('bob')).find(byRef(appt.id))?.title, 'Client visit (room 2)', 'owner edit reaches the participant')

  await r.patchEvent('bob', bobCopy!.id, { location: 'Reception' })
  await runAll(r, ['bob', 'alice'])
  t.equal((await r.events('alice')).find(byRef(appt.id))?.location, 'Reception', 'participant edit reaches the owner')
  t.equal(((await r.s.as('alice')(`/api/v1/appointments/${appt.id}`)).body_ as { location: string }).location, 'Reception')

  await r.deleteEvent('bob', bobCopy!.id)
  await runAll(r, ['bob', 'alice'])
  t.same(((await r.s.as('alice')(`/api/v1/appointments/${appt.id}`)).body_ as Appt).participantIds, [], 'bob left the meeting')
  t.ok((await r.events('alice')).find(byRef(appt.id)), 'alice keeps it')
  t.notOk((await r.events('bob')).find(byRef(appt.id)), 'bob\'s copy stays deleted')

  // bob is invited again, then the owner deletes outside: gone everywhere
  await r.s.as('alice')(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { participantIds: [bob.id] } })
  await runAll(r, ['alice', 'bob'])
  t.equal((await r.events('bob')).filter(byRef(appt.id)).length, 1, 'bob has exactly one copy again')
  await r.deleteEvent('alice', aliceCopy!.id)
  await runAll(r, ['alice', 'bob'])
  t.equal((await r.s.as('alice')(`/api/v1/appointments/${appt.id}`)).status, 404, 'owner delete: gone from the CRM')
  t.notOk((await r.events('bob')).find(byRef(appt.id)), 'and from the participant\'s calendar')
})

scenario('reassignment: the appointment leaves the old owner\'s calendar and appears in the new owner\'s; a task follows its assignee', async (t, r) => {
  const bob = r.s.users.bob!
  const appt = (await r.s.as('alice')('/api/v1/appointments', { method: 'POST', json: { title: 'Handover', start: '2026-12-08T09:00:00Z', end: '2026-12-08T09:30:00Z' } })).body_ as Appt
  const task = (await r.s.as('alice')('/api/v1/tasks', { method: 'POST', json: { title: 'Prepare the file', due: '2026-12-09T12:00:00Z' } })).body_ as { id: number }
  await r.connect('alice')
  await r.connect('bob')
  await runAll(r, ['alice', 'bob'])
  t.ok((await r.events('alice')).find(byRef(appt.id)))
  t.ok((await r.tasks('alice')).find(x => x.title === 'Prepare the file'))

  await r.s.as('alice')(`/api/v1/appointments/${appt.id}`, { method: 'PATCH', json: { ownerId: bob.id } })
  await r.s.as('alice')(`/api/v1/tasks/${task.id}`, { method: 'PATCH', json: { assigneeId: bob.id } })
  await runAll(r, ['alice', 'bob'])
  t.notOk((await r.events('alice')).find(byRef(appt.id)), 'left the old owner\'s calendar')
  t.equal((await r.events('bob')).filter(byRef(appt.id)).length, 1, 'in the new owner\'s calendar, once')
  t.notOk((await r.tasks('alice')).find(x => x.title === 'Prepare the file'), 'task left the old assignee\'s list')
  t.equal((await r.tasks('bob')).filter(x => x.title === 'Prepare the file').length, 1, 'task in the new assignee\'s list, once')
})

scenario('an unexpectedly empty calendar stops the sync instead of deleting the CRM\'s items; "sync since" copies them back', async (t, r) => {
  const alice = r.s.as('alice')
  for (const [i, title] of ['One', 'Two', 'Three'].entries()) {
    await alice('/api/v1/appointments', { method: 'POST', json: { title: `CRM ${title}`, start: `2026-12-1${i}T09:00:00Z`, end: `2026-12-1${i}T10:00:00Z` } })
  }
  for (const title of ['Four', 'Five']) await r.createEvent('alice', { title: `Outside ${title}`, start: '2026-12-20T09:00:00Z', end: '2026-12-20T10:00:00Z' })
  const ALL = ['CRM One', 'CRM Three', 'CRM Two', 'Outside Five', 'Outside Four']
  await r.connect('alice')
  await r.run('alice')
  t.same(await remoteTitles(r, 'alice'), ALL)
  // the calendar is emptied outside and the cursor is lost: a full listing finds nothing
  for (const e of await r.events('alice')) await r.deleteEvent('alice', e.id)
  r.expireCursors()
  const stopped = await r.run('alice')
  t.equal(stopped.state, 'error')
  t.match(stopped.reason, /came back empty while 5 items are linked/)
  t.same(await crmTitles(r, 'alice'), ALL, 'the CRM keeps everything')
  t.equal((await r.connection('alice')).state, 'error', 'red until someone looks')

  await syncSince(r.s.k.db, r.s.users.alice!, (await r.connection('alice')).id, '2026-01-01')
  const again = await r.run('alice')
  t.equal(again.state, 'ok', again.reason ?? 'green again')
  t.same(await remoteTitles(r, 'alice'), ALL, `${r.label} has every item back, once`)
  t.same(await crmTitles(r, 'alice'), ALL)
})

scenario('appointments only, tasks only, or both', async (t, r) => {
  for (const login of ['alice', 'bob', 'carol']) {
    await r.s.as(login)('/api/v1/appointments', { method: 'POST', json: { title: `${login}'s meeting`, start: '2026-12-14T09:00:00Z', end: '2026-12-14T10:00:00Z' } })
    await r.s.as(login)('/api/v1/tasks', { method: 'POST', json: { title: `${login}'s task` } })
    await r.createEvent(login, { title: `${login}'s outside meeting`, start: '2026-12-15T09:00:00Z', end: '2026-12-15T10:00:00Z' })
    await r.createTask(login, { title: `${login}'s outside task` })
  }
  await r.connect('alice', { tasks: false })
  await r.connect('bob', { appointments: false })
  await r.connect('carol')
  for (const login of ['alice', 'bob', 'carol']) t.equal((await r.run(login)).state, 'ok')
  const crmTasks = async (login: string) => ((await r.s.as(login)('/api/v1/tasks')).body_ as { items: { title: string }[] }).items.map(x => x.title).sort()
  const remoteTasks = async (login: string) => (await r.tasks(login)).map(x => x.title).sort()
  t.same([await remoteTitles(r, 'alice'), await remoteTasks('alice')], [['alice\'s meeting', 'alice\'s outside meeting'], ['alice\'s outside task']], 'appointments only: out')
  t.same([await crmTitles(r, 'alice'), await crmTasks('alice')], [['alice\'s meeting', 'alice\'s outside meeting'], ['alice\'s task']], 'appointments only: in')
  t.same([await remoteTitles(r, 'bob'), await remoteTasks('bob')], [['bob\'s outside meeting'], ['bob\'s outside task', 'bob\'s task']], 'tasks only: out')
  t.same([await crmTitles(r, 'bob'), await crmTasks('bob')], [['bob\'s meeting'], ['bob\'s outside task', 'bob\'s task']], 'tasks only: in')
  t.same([await remoteTitles(r, 'carol'), await remoteTasks('carol')], [['carol\'s meeting', 'carol\'s outside meeting'], ['carol\'s outside task', 'carol\'s task']], 'both')
  t.same([await crmTitles(r, 'carol'), await crmTasks('carol')], [['carol\'s meeting', 'carol\'s outside meeting'], ['carol\'s outside task', 'carol\'s task']], 'both')
})

scenario('a chosen calendar and task list are the ones synced; the defaults are left alone', async (t, r) => {
  const alice = r.s.as('alice')
  const work = r.addCalendar('alice', 'Work')
  const list = r.addTaskList('alice', 'CRM tasks')
  await r.createEvent('alice', { title: 'In the default calendar', start: '2026-12-15T09:00:00Z', end: '2026-12-15T10:00:00Z' })
  await r.createEvent('alice', { title: 'In Work', start: '2026-12-16T09:00:00Z', end: '2026-12-16T10:00:00Z' }, work)
  await r.createTask('alice', { title: 'In the default list' })
  await r.createTask('alice', { title: 'In CRM tasks', due: '2026-12-17' }, list)
  await alice('/api/v1/appointments', { method: 'POST', json: { title: 'From the CRM', start: '2026-12-14T09:00:00Z', end: '2026-12-14T10:00:00Z' } })
  await alice('/api/v1/tasks', { method: 'POST', json: { title: 'CRM task' } })
  await r.connect('alice', { calendarId: work, taskListId: list })
  t.equal((await r.run('alice')).state, 'ok')
  t.same(await remoteTitles(r, 'alice', work), ['From the CRM', 'In Work'])
  t.same(await remoteTitles(r, 'alice'), ['In the default calendar'], 'the default calendar untouched')
  t.same((await r.tasks('alice', list)).map(x => x.title).sort(), ['CRM task', 'In CRM tasks'])
  t.same((await r.tasks('alice')).map(x => x.title), ['In the default list'], 'the default list untouched')
  t.same(await crmTitles(r, 'alice'), ['From the CRM', 'In Work'])
  t.same(((await alice('/api/v1/tasks')).body_ as { items: { title: string }[] }).items.map(x => x.title).sort(), ['CRM task', 'In CRM tasks'])
})
