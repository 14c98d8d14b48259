import t from 'tap'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import { seededRandom } from '../../conformance/google-emulator/faults.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import { Transient } from './provider.ts'
import { syncDb } from './tables.ts'
import * as sidesOf from './testing-sides.ts'
import { startSyncWorld } from './testing.ts'

/**
 * Randomized convergence: three users change appointments and tasks at random
 * on both sides (the CRM through the REST API, Google through its API as the
 * user in Google's apps) while the emulator fails calls at random, and sync
 * runs in between, retried when they fail as the job queue would. Then, with
 * faults off, every connection runs until a full round changes nothing, and
 * both sides must hold the same items: no duplicate, nothing lost, nothing
 * deleted come back.
 *
 * Reproducible: the seed is printed; KALENDS_SEED=<n> repeats a run.
 * KALENDS_CONVERGENCE_ROUNDS / KALENDS_CONVERGENCE_OPS size it (defaults keep
 * it under three minutes on two cores; scripts/sync-convergence runs bigger).
 *
 * API-call bound (stated in docs/performance.md too): calls the engine makes,
 * faulted ones included, stay within 4 per propagated change (an item created,
 * updated or deleted on one side by a run) plus 4 listing calls per run attempt.
 */
const SEED = Number(process.env.KALENDS_SEED ?? Math.floor(Math.random() * 1_000_000))
const ROUNDS = Number(process.env.KALENDS_CONVERGENCE_ROUNDS ?? 26)
const OPS = Number(process.env.KALENDS_CONVERGENCE_OPS ?? 16)
const USERS = ['alice', 'bob', 'carol']
const ZONE = 'Europe/Warsaw'
const CALLS_PER_CHANGE = 4
const LIST_CALLS_PER_RUN = 4

type Owner = { kind: 'appointment' | 'task'; owner: string }

t.test(`random edits on both sides converge (seed ${SEED})`, async t => {
  t.comment(`seed ${SEED} (repeat with KALENDS_SEED=${SEED}); ${ROUNDS} rounds x ${USERS.length} users x ${OPS} operations`)
  const random = seededRandom(SEED)
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  const pick = <T>(xs: T[]): T | undefined => xs.length === 0 ? undefined : xs[Math.floor(random() * xs.length)]
  const chance = (p: number) => random() < p

  const w = await startSyncWorld()
  t.teardown(() => w.close())
  const db = w.s.k.db
  const ids = Object.fromEntries(USERS.map(u => [u, w.s.users[u]!.id]))
  const loginOf = new Map(USERS.map(u => [ids[u]!, u]))
  for (const u of USERS) await w.connect(u)

  // the model: every item by its token (the title's first word), who owns it, and what was deleted
  const items = new Map<string, Owner>()
  const deleted = new Set<string>()
  let serial = 0
  const token = (side: string) => `k${side}${++serial}`
  const tokenOf = (title: string | null | undefined) => (title ?? '').split(' ')[0] ?? ''
  const stats = { ops: 0, refused: 0, runs: 0, ok: 0, transient: 0, calls: 0 }
  const unexpected: string[] = []

  // ---- sync runs, with the emulator failing calls at random ----
  const faultsOn = (n: number) => {
    const seed = SEED * 1000 + n
    w.g.faultRate({ kind: '429', probability: 0.008, seed: seed + 1 })
    w.g.faultRate({ kind: 'rateLimit403', probability: 0.008, seed: seed + 2 })
    w.g.faultRate({ kind: '500', probability: 0.008, seed: seed + 3 })
    w.g.faultRate({ kind: 'timeout', probability: 0.004, seed: seed + 4, delayMs: 150 })
  }
  const run = async (login: string, faults: boolean): Promise<{ ok: boolean; changed: number }> => {
    stats.runs++
    if (faults) faultsOn(stats.runs)
    const before = w.g.calls().total
    try {
      const r = await w.run(login)
      if (r.state !== 'ok') unexpected.push(`${login}: run ended ${r.state}: ${r.reason ?? ''}`)
      else stats.ok++
      return { ok: r.state === 'ok', changed: r.in + r.out + (r.rerun ? 1 : 0) }
    } catch (err) {
      if (err instanceof Transient) stats.transient++
      else unexpected.push(`${login}: ${(err as Error).stack ?? String(err)}`)
      return { ok: false, changed: 1 }
    } finally {
      stats.calls += w.g.calls().total - before
      w.g.clearFaults()
    }
  }

  const crmAppointments = (login: string) => sidesOf.crmAppointments(w, login)
  const crmTasks = (login: string) => sidesOf.crmTasks(w, login)
  const googleSide = (login: string) => sidesOf.googleSide(w, login)

  // ---- random data ----
  const day = () => { // Dec 2026 - Feb 2027: one UTC offset (+01:00) all along
    const d = new Date(Date.UTC(2026, 11, 1) + int(0, 88) * 86_400_000)
    return d.toISOString().slice(0, 10)
  }
  const plusDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
  const timed = () => {
    const start = wallToUtc(`${day()}T${String(int(7, 18)).padStart(2, '0')}:${pick(['00', '15', '30', '45'])}:00`, ZONE)
    return { start, end: new Date(start.getTime() + int(1, 8) * 15 * 60_000) }
  }
  const basic = (at: Date) => `${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`
  const recurrenceRule = () => pick(['FREQ=WEEKLY;COUNT=5', 'FREQ=DAILY;COUNT=4', 'FREQ=WEEKLY;INTERVAL=2;COUNT=3'])!
  const stepDays = (rrule: string) => rrule.startsWith('FREQ=DAILY') ? 1 : rrule.includes('INTERVAL=2') ? 14 : 7
  const others = (login: string) => USERS.filter(u => u !== login)

  // ---- the CRM side, through the REST API as the user ----
  const crm = {
    async createAppointment (login: string) {
      const tok = token('c')
      const body: Record<string, unknown> = { title: `${tok} ${login}'s meeting`, timezone: ZONE }
      const shape = int(0, 3)
      if (shape === 0) { // all-day
        const d = day()
        Object.assign(body, { allDay: true, start: d, end: plusDays(d, int(1, 3)) })
      } else {
        const { start, end } = timed()
        Object.assign(body, { start: start.toISOString(), end: end.toISOString() })
        if (shape === 3) {
          const rrule = recurrenceRule()
          Object.assign(body, { rrule, exdates: [new Date(start.getTime() + stepDays(rrule) * 86_400_000).toISOString()] })
        }
      }
      if (chance(0.3)) body.participantIds = others(login).filter(() => chance(0.6)).map(u => ids[u])
      const res = await w.s.as(login)('/api/v1/appointments', { method: 'POST', json: body })
      if (res.status !== 201) throw new Error(`create appointment ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body_)}`)
      items.set(tok, { kind: 'appointment', owner: login })
    },
    async editAppointment (login: string) {
      const a = pick((await crmAppointments(login)).filter(x => x.owner_id === ids[login]))
      if (a === undefined) return crm.createAppointment(login)
      const tok = tokenOf(a.title)
      const patch: Record<string, unknown> = {}
      const what = int(0, 3)
      if (what === 0) patch.title = `${tok} edited in the CRM ${int(1, 999)}`
      else if (what === 1 && !a.all_day) {
        const { start, end } = timed()
        Object.assign(patch, { start: start.toISOString(), end: end.toISOString() })
      } else if (what === 1) {
        const d = day()
        Object.assign(patch, { start: d, end: plusDays(d, int(1, 2)) })
      } else if (what === 2 && a.rrule !== null && !a.all_day) {
        patch.exdates = [...a.exdates, new Date((a.starts_at as Date).getTime() + 2 * stepDays(a.rrule) * 86_400_000).toISOString()]
      } else if (what === 2 && a.rrule === null && !a.all_day) { // timed -> all-day
        const d = day()
        Object.assign(patch, { allDay: true, start: d, end: plusDays(d, 1) })
      } else {
        patch.title = `${tok} renamed ${int(1, 999)}`
        patch.location = `Room ${int(1, 30)}`
      }
      const res = await w.s.as(login)(`/api/v1/appointments/${a.id}`, { method: 'PATCH', json: patch })
      if (res.status !== 200) stats.refused++
    },
    async deleteAppointment (login: string) {
      const a = pick(await crmAppointments(login))
      if (a === undefined) return
      const res = await w.s.as(login)(`/api/v1/appointments/${a.id}`, { method: 'DELETE' })
      if (res.status >= 300) { stats.refused++; return }
      if (a.owner_id === ids[login]) deleted.add(tokenOf(a.title)) // a participant only leaves
    },
    async createTask (login: string) {
      const tok = token('c')
      const body: Record<string, unknown> = { title: `${tok} task of ${login}`, assigneeId: ids[login] }
      if (chance(0.7)) body.due = wallToUtc(`${day()}T${String(int(8, 17)).padStart(2, '0')}:00:00`, ZONE).toISOString()
      const res = await w.s.as(login)('/api/v1/tasks', { method: 'POST', json: body })
      if (res.status !== 201) throw new Error(`create task: ${res.status} ${JSON.stringify(res.body_)}`)
      items.set(tok, { kind: 'task', owner: login })
    },
    async editTask (login: string) {
      const x = pick(await crmTasks(login))
      if (x === undefined) return crm.createTask(login)
      const tok = tokenOf(x.title)
      const what = int(0, 4)
      let patch: Record<string, unknown>
      if (what === 0) patch = { title: `${tok} task renamed ${int(1, 999)}` }
      else if (what === 1) patch = { due: wallToUtc(`${day()}T09:00:00`, ZONE).toISOString() }
      else if (what === 2) patch = { due: null }
      else if (what === 3) patch = { status: x.status === 'done' ? 'open' : 'done' }
      else {
        const to = pick(others(login))!
        patch = { assigneeId: ids[to] }
      }
      const res = await w.s.as(login)(`/api/v1/tasks/${x.id}`, { method: 'PATCH', json: patch })
      if (res.status !== 200) { stats.refused++; return }
      if (patch.assigneeId !== undefined) {
        items.set(tok, { kind: 'task', owner: loginOf.get(patch.assigneeId as number)! })
        deleted.delete(tok) // a deletion of the old assignee's Google copy not synced yet no longer concerns the task
      }
    },
    async deleteTask (login: string) {
      const x = pick(await crmTasks(login))
      if (x === undefined) return
      const res = await w.s.as(login)(`/api/v1/tasks/${x.id}`, { method: 'DELETE' })
      if (res.status >= 300) { stats.refused++; return }
      deleted.add(tokenOf(x.title))
    }
  }

  // ---- the Google side, as the user in Google's apps ----
  const google = {
    async createEvent (login: string) {
      const tok = token('g')
      const body: calendar_v3.Schema$Event = { summary: `${tok} made in Google by ${login}` }
      const shape = int(0, 3)
      if (shape === 0) {
        const d = day()
        Object.assign(body, { start: { date: d }, end: { date: plusDays(d, int(1, 3)) } })
      } else {
        const { start, end } = timed()
        Object.assign(body, { start: { dateTime: start.toISOString(), timeZone: ZONE }, end: { dateTime: end.toISOString(), timeZone: ZONE } })
        if (shape === 3) {
          const rrule = recurrenceRule()
          const ex = new Date(start.getTime() + stepDays(rrule) * 86_400_000)
          // as other clients write it: the wall time in the event's zone, or UTC
          const exdate = chance(0.5)
            ? `EXDATE;TZID=${ZONE}:${new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, dateStyle: 'short', timeStyle: 'medium' }).format(ex).replace(/[-:]/g, '').replace(' ', 'T')}`
            : `EXDATE:${basic(ex)}`
          body.recurrence = [`RRULE:${rrule}`, exdate]
        }
      }
      if (chance(0.25)) body.attendees = others(login).filter(() => chance(0.6)).map(u => ({ email: w.email(u) }))
      await w.calendar(login).events.insert({ calendarId: 'primary', requestBody: body })
      items.set(tok, { kind: 'appointment', owner: login })
    },
    async editEvent (login: string) {
      const ev = pick(googleSide(login).masters)
      if (ev === undefined) return google.createEvent(login)
      const tok = tokenOf(ev.summary)
      const what = int(0, 3)
      const cal = w.calendar(login)
      if (what === 0) {
        await cal.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { summary: `${tok} edited in Google ${int(1, 999)}` } })
      } else if (what === 1 && ev.start?.dateTime != null) {
        const { start, end } = timed()
        await cal.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { start: { dateTime: start.toISOString(), timeZone: ZONE }, end: { dateTime: end.toISOString(), timeZone: ZONE } } })
      } else if (what === 1) {
        const d = day()
        await cal.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { start: { date: d }, end: { date: plusDays(d, 1) } } })
      } else if (what === 2 && ev.recurrence != null && ev.recurrence.length > 0) {
        // "delete this occurrence" in Google's apps: a cancelled instance
        const instances = (await cal.events.instances({ calendarId: 'primary', eventId: ev.id! })).data.items ?? []
        const inst = pick(instances.slice(1))
        if (inst !== undefined) await cal.events.delete({ calendarId: 'primary', eventId: inst.id! })
      } else {
        await cal.events.patch({ calendarId: 'primary', eventId: ev.id!, requestBody: { summary: `${tok} moved rooms ${int(1, 999)}`, location: `Hall ${int(1, 9)}` } })
      }
    },
    async deleteEvent (login: string) {
      const ev = pick(googleSide(login).masters)
      if (ev === undefined) return
      await w.calendar(login).events.delete({ calendarId: 'primary', eventId: ev.id! })
      const tok = tokenOf(ev.summary)
      if (items.get(tok)?.owner === login) deleted.add(tok) // a participant's copy: they leave the meeting
    },
    async createTask (login: string) {
      const tok = token('g')
      const body: tasks_v1.Schema$Task = { title: `${tok} Google task of ${login}` }
      if (chance(0.7)) body.due = `${day()}T00:00:00.000Z`
      await w.tasks(login).tasks.insert({ tasklist: '@default', requestBody: body })
      items.set(tok, { kind: 'task', owner: login })
    },
    async editTask (login: string) {
      const x = pick(googleSide(login).tasks)
      if (x === undefined) return google.createTask(login)
      const tok = tokenOf(x.title)
      const what = int(0, 3)
      let body: tasks_v1.Schema$Task
      if (what === 0) body = { title: `${tok} retitled in Google ${int(1, 999)}` }
      else if (what === 1) body = { due: `${day()}T00:00:00.000Z` }
      else if (what === 2) body = x.status === 'completed' ? { status: 'needsAction', completed: null } : { status: 'completed' }
      else body = { due: null }
      await w.tasks(login).tasks.patch({ tasklist: '@default', task: x.id!, requestBody: body })
    },
    async deleteTask (login: string) {
      const x = pick(googleSide(login).tasks)
      if (x === undefined) return
      await w.tasks(login).tasks.delete({ tasklist: '@default', task: x.id! })
      const tok = tokenOf(x.title)
      if (items.get(tok)?.owner === login) deleted.add(tok) // a copy left from before a reassignment: the task stays the new assignee's
    }
  }

  const ops: [number, (login: string) => Promise<void>][] = [
    [12, crm.createAppointment], [10, crm.editAppointment], [4, crm.deleteAppointment],
    [9, crm.createTask], [8, crm.editTask], [3, crm.deleteTask],
    [12, google.createEvent], [10, google.editEvent], [4, google.deleteEvent],
    [9, google.createTask], [8, google.editTask], [3, google.deleteTask]
  ]
  const weight = ops.reduce((s, [n]) => s + n, 0)
  const randomOp = () => {
    let r = random() * weight
    for (const [n, fn] of ops) if ((r -= n) < 0) return fn
    return ops[0]![1]
  }

  for (const u of USERS) await run(u, false)
  const started = Date.now()
  for (let round = 0; round < ROUNDS; round++) {
    for (const u of USERS) {
      for (let i = 0; i < OPS; i++) {
        await randomOp()(u)
        stats.ops++
      }
    }
    if (round === Math.floor(ROUNDS / 2)) w.g.expireSyncTokens()
    for (const u of USERS) {
      if (chance(0.85)) await run(u, true)
      if (chance(0.2)) await run(u, true)
    }
  }
  t.comment(`random phase: ${stats.ops} operations, ${stats.runs} runs (${stats.transient} failed on injected faults), ${w.g.injectedFaults().length} faults, ${Date.now() - started} ms`)

  // quiescence: no faults; every connection runs until a full round changes nothing
  let quietRounds = 0
  for (let round = 0; round < 12; round++) {
    let changed = 0
    for (const u of USERS) changed += (await run(u, false)).changed
    if (changed === 0) { quietRounds++; break }
  }
  t.equal(quietRounds, 1, 'a full round without faults changes nothing within 12 rounds')
  t.same(unexpected, [], 'no run failed other than on an injected fault')

  // ---- both sides hold the same items ----
  const crmTokens = new Map<string, number>()
  let compared = 0
  for (const u of USERS) {
    const r = await sidesOf.compareSides(w, u, ZONE)
    compared += r.compared
    t.same(r.problems, [], `${u}: ${r.appointments.length} appointments <-> ${r.google.masters.length} events, ${r.tasks.length} tasks <-> ${r.google.tasks.length} Google tasks, one to one`)
    t.same(r.mismatches, [], `${u}: ${r.compared} linked items hold the same title, times, all-day, dates, recurrence, due date and completion on both sides`)
    for (const row of [...r.appointments, ...r.tasks]) crmTokens.set(tokenOf(row.title), (crmTokens.get(tokenOf(row.title)) ?? 0) + ('assignee_id' in row || row.owner_id === ids[u] ? 1 : 0))
    const zombies = [...r.google.masters.map(e => e.summary), ...r.google.tasks.map(x => x.title)].filter(title => deleted.has(tokenOf(title)))
    t.same(zombies, [], `${u}: nothing deleted came back in Google`)
  }
  const lost = [...items.keys()].filter(tok => !deleted.has(tok) && crmTokens.get(tok) !== 1)
  t.same(lost, [], 'every item made on either side and not deleted is in the CRM exactly once (and so in Google)')
  const revived = [...deleted].filter(tok => crmTokens.has(tok))
  t.same(revived, [], 'nothing deleted came back in the CRM')

  // ---- API calls ----
  const conns = await syncDb(db).selectFrom('sync_connections').select(['items_in', 'items_out']).execute()
  const changes = conns.reduce((s, c) => s + c.items_in + c.items_out, 0)
  const bound = CALLS_PER_CHANGE * changes + LIST_CALLS_PER_RUN * stats.runs
  t.comment(`${stats.ops} operations, ${items.size} items made, ${deleted.size} deleted, ${compared} compared; ${changes} changes propagated in ${stats.runs} runs (${stats.ok} ok, ${stats.transient} transient); ${stats.calls} API calls = ${(stats.calls / Math.max(1, changes)).toFixed(2)} per change (bound ${bound}); ${stats.refused} edits refused by the CRM`)
  t.ok(stats.calls <= bound, `${stats.calls} API calls <= ${CALLS_PER_CHANGE} x ${changes} changes + ${LIST_CALLS_PER_RUN} x ${stats.runs} runs`)
  t.ok(stats.ops >= 1000 || process.env.KALENDS_CONVERGENCE_OPS !== undefined || process.env.KALENDS_CONVERGENCE_ROUNDS !== undefined, `${stats.ops} operations`)
})
