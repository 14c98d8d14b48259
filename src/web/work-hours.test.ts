import t from 'tap'
import { startServer, type TestServer } from '../testing/harness.ts'
import { WebClient, visible } from './test-client.ts'

/**
 * Working hours on the profile page, over HTTP: saved through the domain
 * (updateUser), refused with the reason in the user's language and nothing
 * written, and handed to the grid as its business hours.
 */
let s: TestServer
t.before(async () => { s = await startServer({ users: ['alice'] }) })
t.teardown(async () => { await s?.close() })

const stored = async () => s.k.db.selectFrom('users').select(['work_start', 'work_end', 'work_days']).where('login', '=', 'alice').executeTakeFirstOrThrow()

t.test('working hours: shown, saved, refused, given to the grid', async t => {
  const c = new WebClient(s)
  await c.signIn('alice')
  const form = await c.get('/profile')
  t.match(form.text, /<input type="time" id="workStart" name="workStart" value="08:00" required>/, 'the default day')
  t.match(form.text, /name="day1" value="1" checked> Monday/)
  t.match(form.text, /name="day7" value="1"> Sunday/, 'Sunday is not a working day by default')

  const saved = await c.post('/profile/hours', { workStart: '09:30', workEnd: '18:00', day1: '1', day2: '1', day4: '1', day6: '1' })
  t.equal(saved.status, 200)
  t.match(visible(saved.text), 'Your working hours are saved.')
  t.same(await stored(), { work_start: '09:30', work_end: '18:00', work_days: '1,2,4,6' })
  const week = (await c.get('/week?date=2026-04-08')).text
  t.match(week, /data-work-start="09:30" data-work-end="18:00" data-work-days="1,2,4,6"/, 'the grid\'s business hours')

  const backwards = await c.post('/profile/hours', { workStart: '17:00', workEnd: '08:00', day1: '1' })
  t.equal(backwards.status, 400)
  t.match(visible(backwards.text), 'Working day ends: the working day must end after it starts')
  t.match(backwards.text, /id="workEnd" name="workEnd" value="18:00" required aria-invalid="true"/, 'the field at fault is marked')
  t.equal((await c.post('/profile/hours', { workStart: '25:00', workEnd: '26:00', day1: '1' })).status, 400)
  const noDays = await c.post('/profile/hours', { workStart: '08:00', workEnd: '16:00' })
  t.equal(noDays.status, 400)
  t.same(await stored(), { work_start: '09:30', work_end: '18:00', work_days: '1,2,4,6' }, 'nothing written by a refusal')

  await c.post('/profile', { language: 'pl', timezone: 'Europe/Warsaw' })
  const polish = await c.post('/profile/hours', { workStart: '08:00', workEnd: '16:00' })
  t.match(visible(polish.text), 'Dni pracy: Wybierz co najmniej jeden dzień pracy.', 'the reason in the user\'s language')
  const form2 = (await c.get('/profile')).text
  t.match(visible(form2), 'Godziny pracy')
  t.match(form2, /name="day1" value="1" checked> poniedziałek/, 'weekday names in Polish, from Monday')
  await c.post('/profile', { language: 'en', timezone: 'Europe/Warsaw' })
})
