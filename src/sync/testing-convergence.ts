import type { Test } from 'tap'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import { seededRandom } from '../../conformance/google-emulator/faults.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import type { RunResult } from './engine.ts'
import { Transient } from './provider.ts'
import { syncDb, type Connection } from './tables.ts'
import { startEwsWorld, type EwsWorld } from './testing-ews.ts'
import { startGraphWorld, type GraphWorld } from './testing-graph.ts'
import type { ProviderName } from './testing-remote.ts'
import * as sidesOf from './testing-sides.ts'
import { startSyncWorld, type SyncWorld } from './testing.ts'

/**
 * Randomized convergence, for Google, Exchange, Microsoft 365 (Graph), or
 * several connected for the same users at once: three users change
 * appointments and tasks at random on every side (the CRM through the REST
 * API; Google and Graph through their APIs and Exchange through the
 * emulator, as the user in Google's apps or Outlook)
 * while the emulators fail calls at random, and sync runs in between,
 * retried when they fail as the job queue would. Then, with faults off,
 * every connection runs until a full round changes nothing, and every side
 * must hold the same items: no duplicate, nothing lost, nothing deleted
 * come back.
 *
 * Google's faults: 429, rate-limit 403, 500, timeouts. Exchange's:
 * ErrorServerBusy with a BackOffMilliseconds to wait, HTTP 503, a save in
 * Outlook between Kalends' read and its UpdateItem (ErrorIrresolvableConflict
 * under NeverOverwrite), and lost SyncStates (ErrorInvalidSyncStateData).
 * Graph's: 429 and 503 with a Retry-After (absorbed by the client's retries,
 * or more than it retries: the run ends Transient), a save in Outlook between
 * Kalends' read and its PATCH (412 on If-Match), and lost delta tokens (410).
 *
 * Reproducible: the seed is printed; KALENDS_SEED=<n> repeats a run.
 * KALENDS_CONVERGENCE_ROUNDS / KALENDS_CONVERGENCE_OPS size it
 * (scripts/sync-convergence runs bigger).
 *
 * API-call bound (stated in docs/performance.md too): calls the engine makes
 * to either system, faulted ones included, stay within 4 per propagated change
 * (an item created, updated or deleted on one side by a run) plus 4 listing
 * calls per run attempt of a connection.
 */
export const CALLS_PER_CHANGE = 4
export const LIST_CALLS_PER_RUN = 4
const USERS = ['alice', 'bob', 'carol']
const ZONE = 'Europe/Warsaw'
const WARSAW = '<t:StartTimeZone Id="Central European Standard Time"/><t:EndTimeZone Id="Central European Standard Time"/>'

type Owner = { kind: 'appointment' | 'task'; owner: string }

/** One connected system as the random phase drives it. */
type Outside = {
  name: ProviderName
  connection (login: string): Promise<Connection>
  calls (): number
  faultsOn (seed: number): void
  clearFaults (): void
  injected (): number
  expireCursors (): void
  snapshot (login: string): Promise<sidesOf.Snapshot>
  run (login: string): Promise<RunResult>
  ops: Record<'createEvent' | 'editEvent' | 'deleteEvent' | 'createTask' | 'editTask' | 'deleteTask', (login: string) => Promise<void>>
}

export type ConvergenceOptions = { providers: ProviderName[]; seed: number; rounds: number; ops: number }

export async function convergence (t: Test, o: ConvergenceOptions): Promise<void> {
  const { seed: SEED, rounds: ROUNDS, ops: OPS } = o
  t.comment(`seed ${SEED} (repeat with KALENDS_SEED=${SEED}); ${o.providers.join(' + ')}; ${ROUNDS} rounds x ${USERS.length} users x ${OPS} operations`)
  const random = seededRandom(SEED)
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  const pick = <T>(xs: T[]): T | undefined => xs.length === 0 ? undefined : xs[Math.floor(random() * xs.length)]
  const chance = (p: number) => random() < p

  const gw: SyncWorld | null = o.providers.includes('google') ? await startSyncWorld() : null
  const xw: EwsWorld | null = o.providers.includes('exchange') ? await startEwsWorld({ server: gw?.s }) : null
  const mw: GraphWorld | null = o.providers.includes('graph') ? await startGraphWorld({ server: gw?.s ?? xw?.s }) : null
  t.teardown(async () => {
    await mw?.close()
    await xw?.close()
    await gw?.close()
  })
  const s = (gw?.s ?? xw?.s ?? mw?.s)!
  const db = s.k.db
  const ids = Object.fromEntries(USERS.map(u => [u, s.users[u]!.id]))
  const loginOf = new Map(USERS.map(u => [ids[u]!, u]))
  const email = (login: string) => `${login}@example.com`

  // the model: every item by its token (the title's first word), who owns it, and what was deleted
  const items = new Map<string, Owner>()
  const deleted = new Set<string>()
  /** The test driver's own edits, with KALENDS_SYNC_DEBUG=1, beside the sync log it prints: what a finding's item went through. */
  const trace = (line: string) => { if (process.env.KALENDS_SYNC_DEBUG === '1') process.stderr.write(`driver ${line}\n`) }
  /**
   * Tasks whose copy a user deleted outside (token → the copy's remote id),
   * by side and user, until the engine has taken the deletion in: a task
   * handed away and back to them before that is still deleted by it (seed
   * 272440, kg5). A run that fails on an injected fault may have taken it in
   * before it failed, while the task was someone else's, and then it only
   * dropped a stale copy (seed 837765, kg174): the sync log says which.
   */
  const unsyncedTaskDeletes = new Map<string, Map<string, string>>()
  const taskDeletedOutside = (side: string, login: string, title: string | null | undefined, remoteId: string) => {
    const tok = tokenOf(title)
    trace(`${side}: ${login} deletes the task "${title ?? ''}" (its assignee in the CRM: ${items.get(tok)?.owner ?? 'none'})`)
    const key = `${side}:${login}`
    unsyncedTaskDeletes.set(key, (unsyncedTaskDeletes.get(key) ?? new Map()).set(tok, remoteId))
    if (items.get(tok)?.owner === login) deleted.add(tok) // a copy left from before a reassignment: the task stays the new assignee's
  }
  const deletedOutsideBy = (login: string, tok: string) => [...unsyncedTaskDeletes].some(([key, toks]) => key.endsWith(`:${login}`) && toks.has(tok))
  let serial = 0
  const token = (side: string) => `k${side}${++serial}`
  const tokenOf = (title: string | null | undefined) => (title ?? '').split(' ')[0] ?? ''
  const stats = { ops: 0, refused: 0, runs: 0, ok: 0, transient: 0, calls: 0 }
  const unexpected: string[] = []

  const crmAppointments = (login: string) => sidesOf.crmAppointments({ s }, login)
  const crmTasks = (login: string) => sidesOf.crmTasks({ s }, login)

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
      const res = await s.as(login)('/api/v1/appointments', { method: 'POST', json: body })
      if (res.status !== 201) throw new Error(`create appointment ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body_)}`)
      items.set(tok, { kind: 'appointment', owner: login })
    },
    async editAppointment (login: string) {
      const a = pick((await crmAppointments(login)).filter(x => x.owner_id === ids[login]))
      if (a === undefined) return crm.createAppointment(login)
      const tok = tokenOf(a.title)
      const patch: Record<string, unknown> = {}
      const what = int(0, 3)
      trace(`crm: ${login} edits "${a.title}" (${a.id}), kind ${what}`)
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
      const res = await s.as(login)(`/api/v1/appointments/${a.id}`, { method: 'PATCH', json: patch })
      if (res.status !== 200) stats.refused++
    },
    async deleteAppointment (login: string) {
      const a = pick(await crmAppointments(login))
      if (a === undefined) return
      const res = await s.as(login)(`/api/v1/appointments/${a.id}`, { method: 'DELETE' })
      if (res.status >= 300) { stats.refused++; return }
      if (a.owner_id === ids[login]) deleted.add(tokenOf(a.title)) // a participant only leaves
    },
    async createTask (login: string) {
      const tok = token('c')
      const body: Record<string, unknown> = { title: `${tok} task of ${login}`, assigneeId: ids[login] }
      if (chance(0.7)) body.due = wallToUtc(`${day()}T${String(int(8, 17)).padStart(2, '0')}:00:00`, ZONE).toISOString()
      const res = await s.as(login)('/api/v1/tasks', { method: 'POST', json: body })
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
      const res = await s.as(login)(`/api/v1/tasks/${x.id}`, { method: 'PATCH', json: patch })
      if (res.status !== 200) { stats.refused++; return }
      if (patch.assigneeId !== undefined) {
        const to = loginOf.get(patch.assigneeId as number)!
        trace(`crm: ${login} gives the task "${x.title}" to ${to}`)
        items.set(tok, { kind: 'task', owner: to })
        // a deletion of the old assignee's copy not synced yet no longer concerns the task; the new one's does
        if (deletedOutsideBy(to, tok)) deleted.add(tok)
        else deleted.delete(tok)
      }
    },
    async deleteTask (login: string) {
      const x = pick(await crmTasks(login))
      if (x === undefined) return
      const res = await s.as(login)(`/api/v1/tasks/${x.id}`, { method: 'DELETE' })
      if (res.status >= 300) { stats.refused++; return }
      deleted.add(tokenOf(x.title))
    }
  }

  // ---- the Google side, as the user in Google's apps ----
  const google = gw === null ? null : {
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
      if (chance(0.25)) body.attendees = others(login).filter(() => chance(0.6)).map(u => ({ email: gw!.email(u) }))
      await gw!.calendar(login).events.insert({ calendarId: 'primary', requestBody: body })
      items.set(tok, { kind: 'appointment', owner: login })
    },
    async editEvent (login: string) {
      const ev = pick(sidesOf.googleSide(gw!, login).masters)
      if (ev === undefined) return google!.createEvent(login)
      const tok = tokenOf(ev.summary)
      const what = int(0, 3)
      trace(`google: ${login} edits "${ev.summary}" (${ev.id}), kind ${what}`)
      const cal = gw!.calendar(login)
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
      const ev = pick(sidesOf.googleSide(gw!, login).masters)
      if (ev === undefined) return
      await gw!.calendar(login).events.delete({ calendarId: 'primary', eventId: ev.id! })
      const tok = tokenOf(ev.summary)
      if (items.get(tok)?.owner === login) deleted.add(tok) // a participant's copy: they leave the meeting
    },
    async createTask (login: string) {
      const tok = token('g')
      const body: tasks_v1.Schema$Task = { title: `${tok} Google task of ${login}` }
      if (chance(0.7)) body.due = `${day()}T00:00:00.000Z`
      await gw!.tasks(login).tasks.insert({ tasklist: '@default', requestBody: body })
      items.set(tok, { kind: 'task', owner: login })
    },
    async editTask (login: string) {
      const x = pick(sidesOf.googleSide(gw!, login).tasks)
      if (x === undefined) return google!.createTask(login)
      const tok = tokenOf(x.title)
      const what = int(0, 3)
      let body: tasks_v1.Schema$Task
      if (what === 0) body = { title: `${tok} retitled in Google ${int(1, 999)}` }
      else if (what === 1) body = { due: `${day()}T00:00:00.000Z` }
      else if (what === 2) body = x.status === 'completed' ? { status: 'needsAction', completed: null } : { status: 'completed' }
      else body = { due: null }
      await gw!.tasks(login).tasks.patch({ tasklist: '@default', task: x.id!, requestBody: body })
    },
    async deleteTask (login: string) {
      const x = pick(sidesOf.googleSide(gw!, login).tasks)
      if (x === undefined) return
      await gw!.tasks(login).tasks.delete({ tasklist: '@default', task: x.id! })
      taskDeletedOutside('google', login, x.title, x.id!)
    }
  }

  // ---- Exchange, as the user in Outlook (edits straight into the emulator's store, journalled for SyncFolderItems) ----
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const exchangeItems = (login: string, folder: 'calendar' | 'tasks') => xw!.em.items(email(login), folder).map(id => xw!.em.item(id))
  const stepOf = (id: string) => {
    const r = xw!.em.store.items.get(id)?.props.get('Recurrence')
    const pattern = r?.children[0]
    const interval = Number(pattern?.children.find(c => c.name === 'Interval')?.text ?? 1)
    return (pattern?.name === 'DailyRecurrence' ? 1 : 7) * interval
  }
  const exchange = xw === null ? null : {
    async createEvent (login: string) {
      const tok = token('x')
      let xml = `<t:Subject>${tok} made in Outlook by ${login}</t:Subject>`
      const shape = int(0, 3)
      let deleteOne: string | null = null
      if (shape === 0) {
        const d = day()
        xml += `<t:Start>${d}T00:00:00</t:Start><t:End>${plusDays(d, int(1, 3))}T00:00:00</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent>`
      } else {
        const { start, end } = timed()
        xml += `<t:Start>${start.toISOString()}</t:Start><t:End>${end.toISOString()}</t:End>`
        if (shape === 3) {
          const rrule = recurrenceRule()
          const wall = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, weekday: 'long' }).format(start)
          const localDay = new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, dateStyle: 'short' }).format(start)
          const count = /COUNT=(\d+)/.exec(rrule)?.[1] ?? '1'
          const pattern = rrule.startsWith('FREQ=DAILY')
            ? '<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>'
            : `<t:WeeklyRecurrence><t:Interval>${rrule.includes('INTERVAL=2') ? 2 : 1}</t:Interval><t:DaysOfWeek>${wall}</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence>`
          xml += `<t:Recurrence>${pattern}<t:NumberedRecurrence><t:StartDate>${localDay}</t:StartDate><t:NumberOfOccurrences>${count}</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`
          deleteOne = new Date(start.getTime() + stepDays(rrule) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
        }
      }
      if (chance(0.25)) {
        const invited = others(login).filter(() => chance(0.6)).map(u => `<t:Attendee><t:Mailbox><t:EmailAddress>${email(u)}</t:EmailAddress></t:Mailbox></t:Attendee>`)
        if (invited.length > 0) xml += `<t:RequiredAttendees>${invited.join('')}</t:RequiredAttendees>`
      }
      const id = xw!.em.userCreate(email(login), 'calendar', 'CalendarItem', xml + WARSAW)
      if (deleteOne !== null) xw!.em.userDeleteOccurrence(id, deleteOne)
      items.set(tok, { kind: 'appointment', owner: login })
    },
    async editEvent (login: string) {
      const ev = pick(exchangeItems(login, 'calendar'))
      if (ev === undefined) return exchange!.createEvent(login)
      const tok = tokenOf(ev.props.Subject)
      const what = int(0, 3)
      const recurring = 'Recurrence' in ev.props
      if (what === 0 || (what === 1 && recurring)) {
        xw!.em.userUpdate(ev.id, `<t:Subject>${tok} edited in Outlook ${int(1, 999)}</t:Subject>`)
      } else if (what === 1 && ev.props.IsAllDayEvent !== 'true') {
        const { start, end } = timed()
        xw!.em.userUpdate(ev.id, `<t:Start>${start.toISOString()}</t:Start><t:End>${end.toISOString()}</t:End>`)
      } else if (what === 1) {
        const d = day()
        xw!.em.userUpdate(ev.id, `<t:Start>${d}T00:00:00</t:Start><t:End>${plusDays(d, 1)}T00:00:00</t:End>${WARSAW}`)
      } else if (what === 2 && recurring) {
        // "delete this occurrence" in Outlook: one of the series after the first
        const count = Number(xw!.em.store.items.get(ev.id)?.props.get('Recurrence')?.children[1]?.children.find(c => c.name === 'NumberOfOccurrences')?.text ?? 2)
        const k = int(1, Math.max(1, count - 1))
        xw!.em.userDeleteOccurrence(ev.id, new Date(Date.parse(ev.props.Start ?? '') + k * stepOf(ev.id) * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'))
      } else {
        xw!.em.userUpdate(ev.id, `<t:Subject>${tok} moved rooms ${int(1, 999)}</t:Subject><t:Location>Hall ${int(1, 9)}</t:Location>`)
      }
    },
    async deleteEvent (login: string) {
      const ev = pick(exchangeItems(login, 'calendar'))
      if (ev === undefined) return
      xw!.em.userDelete(ev.id)
      const tok = tokenOf(ev.props.Subject)
      if (items.get(tok)?.owner === login) deleted.add(tok) // a participant's copy: they leave the meeting
    },
    async createTask (login: string) {
      const tok = token('x')
      const due = chance(0.7) ? `<t:DueDate>${wallToUtc(`${day()}T00:00:00`, ZONE).toISOString()}</t:DueDate>` : ''
      xw!.em.userCreate(email(login), 'tasks', 'Task', `<t:Subject>${tok} Outlook task of ${login}</t:Subject>${due}`)
      items.set(tok, { kind: 'task', owner: login })
    },
    async editTask (login: string) {
      const x = pick(exchangeItems(login, 'tasks'))
      if (x === undefined) return exchange!.createTask(login)
      const tok = tokenOf(x.props.Subject)
      const what = int(0, 3)
      if (what === 0) xw!.em.userUpdate(x.id, `<t:Subject>${esc(tok)} retitled in Outlook ${int(1, 999)}</t:Subject>`)
      else if (what === 1) xw!.em.userUpdate(x.id, `<t:DueDate>${wallToUtc(`${day()}T00:00:00`, ZONE).toISOString()}</t:DueDate>`)
      else if (what === 2) xw!.em.userUpdate(x.id, x.props.Status === 'Completed' ? '<t:Status>NotStarted</t:Status>' : '<t:Status>Completed</t:Status>', x.props.Status === 'Completed' ? ['CompleteDate'] : [])
      else xw!.em.userUpdate(x.id, '', ['DueDate'])
    },
    async deleteTask (login: string) {
      const x = pick(exchangeItems(login, 'tasks'))
      if (x === undefined) return
      xw!.em.userDelete(x.id)
      taskDeletedOutside('exchange', login, x.props.Subject, x.id)
    }
  }

  // ---- Microsoft 365, as the user in Outlook and To Do (through Graph, with a token of the user's own) ----
  const CET = 'Central European Standard Time'
  const wall = (at: Date) => new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, dateStyle: 'short', timeStyle: 'medium' }).format(at).replace(' ', 'T')
  const ok = (what: string, res: { status: number; body: unknown }) => { if (res.status >= 300) throw new Error(`${what} in Outlook: ${res.status} ${JSON.stringify(res.body)}`) }
  const todoLists = new Map<string, string>()
  const todoPath = async (login: string) => {
    if (!todoLists.has(login)) todoLists.set(login, ((await mw!.api(login, 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]).find(l => l.wellknownListName === 'defaultList')!.id)
    return `/me/todo/lists/${todoLists.get(login)}/tasks`
  }
  const outlookTimes = (start: Date, end: Date) => chance(0.5)
    ? { start: { dateTime: wall(start), timeZone: CET }, end: { dateTime: wall(end), timeZone: CET } }
    : { start: { dateTime: start.toISOString().slice(0, 19), timeZone: 'UTC' }, end: { dateTime: end.toISOString().slice(0, 19), timeZone: 'UTC' } }
  const allDayTimes = (d: string, n: number) => ({ isAllDay: true, start: { dateTime: `${d}T00:00:00`, timeZone: CET }, end: { dateTime: `${plusDays(d, n)}T00:00:00`, timeZone: CET } })
  const cancelOccurrence = async (login: string, masterId: string, k: number) => {
    const from = '2026-11-01T00:00:00Z'
    const to = '2027-06-01T00:00:00Z'
    const instances = (await mw!.api(login, 'GET', `/me/events/${encodeURIComponent(masterId)}/instances?startDateTime=${from}&endDateTime=${to}`)).body.value as { id: string; start: { dateTime: string } }[]
    const sorted = instances.sort((a, b) => a.start.dateTime.localeCompare(b.start.dateTime))
    const inst = sorted[Math.min(k, sorted.length - 1)]
    if (inst !== undefined && sorted.length > 1) {
      trace(`graph: ${login} deletes the occurrence at ${inst.start.dateTime} of ${masterId}`)
      ok('delete an occurrence', await mw!.api(login, 'DELETE', `/me/events/${encodeURIComponent(inst.id)}`))
    }
  }
  const outlook = mw === null ? null : {
    async createEvent (login: string) {
      const tok = token('m')
      const body: Record<string, unknown> = { subject: `${tok} made in Outlook on the web by ${login}` }
      const shape = int(0, 3)
      let series = false
      if (shape === 0) {
        Object.assign(body, allDayTimes(day(), int(1, 3)))
      } else {
        const { start, end } = timed()
        Object.assign(body, outlookTimes(start, end))
        if (shape === 3) {
          const rrule = recurrenceRule()
          const weekday = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, weekday: 'long' }).format(start).toLowerCase()
          const pattern = rrule.startsWith('FREQ=DAILY') ? { type: 'daily', interval: 1 } : { type: 'weekly', interval: rrule.includes('INTERVAL=2') ? 2 : 1, daysOfWeek: [weekday], firstDayOfWeek: 'monday' }
          body.recurrence = { pattern, range: { type: 'numbered', startDate: wall(start).slice(0, 10), numberOfOccurrences: Number(/COUNT=(\d+)/.exec(rrule)?.[1] ?? 1), recurrenceTimeZone: CET } }
          series = true
        }
      }
      if (chance(0.25)) {
        const invited = others(login).filter(() => chance(0.6)).map(u => ({ type: 'required', emailAddress: { address: mw!.email(u), name: u } }))
        if (invited.length > 0) body.attendees = invited
      }
      const made = await mw!.api(login, 'POST', '/me/events', body)
      ok('create an event', made)
      items.set(tok, { kind: 'appointment', owner: login })
      if (series) await cancelOccurrence(login, String(made.body.id), 1)
    },
    async editEvent (login: string) {
      const ev = pick(await mw!.events(login))
      if (ev === undefined) return outlook!.createEvent(login)
      const tok = tokenOf(ev.subject)
      const what = int(0, 3)
      const recurring = ev.type === 'seriesMaster'
      trace(`graph: ${login} edits "${ev.subject}" (${ev.id}), kind ${what}`)
      const patch = async (body: unknown) => ok('edit an event', await mw!.api(login, 'PATCH', `/me/events/${encodeURIComponent(ev.id)}`, body))
      if (what === 0 || (what === 1 && recurring)) await patch({ subject: `${tok} edited in Outlook ${int(1, 999)}` })
      else if (what === 1 && ev.isAllDay !== true) {
        const { start, end } = timed()
        await patch(outlookTimes(start, end))
      } else if (what === 1) await patch(allDayTimes(day(), 1))
      else if (what === 2 && recurring) await cancelOccurrence(login, ev.id, int(1, 3)) // "delete this occurrence" in Outlook
      else await patch({ subject: `${tok} moved rooms ${int(1, 999)}`, location: { displayName: `Hall ${int(1, 9)}` } })
    },
    async deleteEvent (login: string) {
      const ev = pick(await mw!.events(login))
      if (ev === undefined) return
      ok('delete an event', await mw!.api(login, 'DELETE', `/me/events/${encodeURIComponent(ev.id)}`))
      const tok = tokenOf(ev.subject)
      if (items.get(tok)?.owner === login) deleted.add(tok) // a participant's copy: they leave the meeting
    },
    async createTask (login: string) {
      const tok = token('m')
      const body: Record<string, unknown> = { title: `${tok} To Do task of ${login}` }
      if (chance(0.7)) body.dueDateTime = { dateTime: `${day()}T00:00:00`, timeZone: CET }
      ok('create a task', await mw!.api(login, 'POST', await todoPath(login), body))
      items.set(tok, { kind: 'task', owner: login })
    },
    async editTask (login: string) {
      const x = pick(await mw!.todo(login))
      if (x === undefined) return outlook!.createTask(login)
      const tok = tokenOf(x.title)
      const what = int(0, 3)
      const body = what === 0
        ? { title: `${tok} retitled in To Do ${int(1, 999)}` }
        : what === 1 ? { dueDateTime: { dateTime: `${day()}T00:00:00`, timeZone: CET } } : what === 2 ? { status: x.status === 'completed' ? 'notStarted' : 'completed' } : { dueDateTime: null }
      ok('edit a task', await mw!.api(login, 'PATCH', `${await todoPath(login)}/${encodeURIComponent(x.id)}`, body))
    },
    async deleteTask (login: string) {
      const x = pick(await mw!.todo(login))
      if (x === undefined) return
      ok('delete a task', await mw!.api(login, 'DELETE', `${await todoPath(login)}/${encodeURIComponent(x.id)}`))
      taskDeletedOutside('graph', login, x.title, x.id)
    }
  }

  // ---- the systems, each with its faults ----
  const outside: Outside[] = []
  if (gw !== null && google !== null) {
    outside.push({
      name: 'google',
      connection: async login => gw.connection(login),
      calls: () => gw.g.calls().total,
      faultsOn (seed) {
        gw.g.faultRate({ kind: '429', probability: 0.008, seed: seed + 1 })
        gw.g.faultRate({ kind: 'rateLimit403', probability: 0.008, seed: seed + 2 })
        gw.g.faultRate({ kind: '500', probability: 0.008, seed: seed + 3 })
        gw.g.faultRate({ kind: 'timeout', probability: 0.004, seed: seed + 4, delayMs: 150 })
      },
      clearFaults: () => gw.g.clearFaults(),
      injected: () => gw.g.injectedFaults().length,
      expireCursors: () => gw.g.expireSyncTokens(),
      snapshot: async login => sidesOf.googleSnapshot(gw, login),
      run: async login => gw.run(login),
      ops: google
    })
  }
  if (xw !== null && exchange !== null) {
    const writes = ['CreateItem', 'UpdateItem', 'DeleteItem']
    outside.push({
      name: 'exchange',
      connection: async login => xw.connection(login),
      calls: () => xw.em.calls().length,
      faultsOn () {
        // the same random source as the edits: a run of a seed meets the same faults
        if (chance(0.12)) xw.em.fault({ kind: 'serverBusy', operation: pick(['SyncFolderItems', 'GetItem', ...writes]), times: int(1, 2), backOffMs: int(1, 25) })
        if (chance(0.05)) xw.em.fault({ kind: 'http503', operation: pick(['SyncFolderItems', 'GetItem', ...writes]) })
        if (chance(0.15)) xw.em.fault({ kind: 'concurrentEdit', operation: 'UpdateItem' })
        if (chance(0.03)) xw.em.expireSyncStates(email(pick(USERS)!))
      },
      clearFaults: () => xw.em.clearFaults(),
      injected: () => xw.em.injectedFaults().length,
      expireCursors: () => xw.em.expireSyncStates(),
      snapshot: async login => sidesOf.exchangeSnapshot(xw, login, ZONE),
      run: async login => xw.run(login),
      ops: exchange
    })
  }
  if (mw !== null && outlook !== null) {
    outside.push({
      name: 'graph',
      connection: async login => mw.connection(login),
      calls: () => mw.calls.length,
      faultsOn () {
        // the same random source as the edits: a run of a seed meets the same faults
        if (chance(0.12)) mw.g.throttle({ status: pick([429, 503] as const)!, retryAfter: 0, times: int(1, 2), pathIncludes: pick([undefined, '/todo/', '/events', 'alendarView']) })
        if (chance(0.04)) mw.g.throttle({ status: 503, retryAfter: 0, times: 4 }) // more than the client waits out: the run ends Transient
        if (chance(0.15)) mw.g.concurrentEdit()
        if (chance(0.03)) mw.g.expireDeltaTokens()
      },
      clearFaults: () => mw.g.clearFaults(),
      injected: () => mw.g.throttled(),
      expireCursors: () => mw.g.expireDeltaTokens(),
      snapshot: async login => sidesOf.graphSnapshot(mw, login),
      run: async login => mw.run(login),
      ops: outlook
    })
  }
  for (const u of USERS) {
    if (gw !== null) await gw.connect(u)
    if (xw !== null) await xw.connect(u)
    if (mw !== null) await mw.connect(u)
  }

  // ---- sync runs, with the emulators failing calls at random ----
  const run = async (login: string, faults: boolean): Promise<{ ok: boolean; changed: number }> => {
    let ok = true
    let changed = 0
    // both connections of the user, in a random order
    for (const side of chance(0.5) ? outside : [...outside].reverse()) {
      stats.runs++
      if (faults) side.faultsOn(SEED * 1000 + stats.runs)
      const before = side.calls()
      try {
        const r = await runOne(side, login)
        trace(`run ${side.name} ${login}: ${r.state}, ${r.in} in, ${r.out} out`)
        if (r.state === 'ok') unsyncedTaskDeletes.delete(`${side.name}:${login}`)
        if (r.state !== 'ok') { unexpected.push(`${login} (${side.name}): run ended ${r.state}: ${r.reason ?? ''}`); ok = false } else stats.ok++
        changed += r.in + r.out + (r.rerun ? 1 : 0)
      } catch (err) {
        ok = false
        changed++
        await forgetTakenDeletes(side, login)
        if (err instanceof Transient) stats.transient++
        else unexpected.push(`${login} (${side.name}): ${(err as Error).stack ?? String(err)}`)
      } finally {
        stats.calls += side.calls() - before
        side.clearFaults()
      }
    }
    return { ok, changed }
  }
  const runOne = async (side: Outside, login: string) => side.run(login)
  /** After a failed run: the deletions outside it took in before it failed are no longer pending. */
  const forgetTakenDeletes = async (side: Outside, login: string) => {
    const pending = unsyncedTaskDeletes.get(`${side.name}:${login}`)
    if (pending === undefined || pending.size === 0) return
    const conn = await side.connection(login)
    const taken = new Set((await syncDb(db).selectFrom('sync_log').select('remote_id')
      .where('connection_id', '=', conn.id).where('direction', '=', 'in').where('action', '=', 'deleted').where('item_kind', '=', 'task')
      .where('remote_id', 'in', [...pending.values()]).execute()).map(r => r.remote_id))
    for (const [tok, remoteId] of pending) {
      if (!taken.has(remoteId)) continue
      trace(`run ${side.name} ${login} failed after taking in the deletion of "${tok}"`)
      pending.delete(tok)
    }
  }

  const ops: [number, (login: string) => Promise<void>][] = [
    [12, crm.createAppointment], [10, crm.editAppointment], [4, crm.deleteAppointment],
    [9, crm.createTask], [8, crm.editTask], [3, crm.deleteTask]
  ]
  for (const side of outside) {
    const share = 1 / outside.length
    ops.push([12 * share, side.ops.createEvent], [10 * share, side.ops.editEvent], [4 * share, side.ops.deleteEvent],
      [9 * share, side.ops.createTask], [8 * share, side.ops.editTask], [3 * share, side.ops.deleteTask])
  }
  const weight = ops.reduce((sum, [n]) => sum + n, 0)
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
    if (round === Math.floor(ROUNDS / 2)) for (const side of outside) side.expireCursors()
    for (const u of USERS) {
      if (chance(0.85)) await run(u, true)
      if (chance(0.2)) await run(u, true)
    }
  }
  const faults = outside.map(x => `${x.injected()} ${x.name}`).join(' + ')
  t.comment(`random phase: ${stats.ops} operations, ${stats.runs} runs (${stats.transient} failed on injected faults), faults ${faults}, ${Date.now() - started} ms`)

  // quiescence: no faults; every connection runs until a full round changes nothing
  let quietRounds = 0
  for (let round = 0; round < 12; round++) {
    let changed = 0
    for (const u of USERS) changed += (await run(u, false)).changed
    if (changed === 0) { quietRounds++; break }
  }
  t.equal(quietRounds, 1, 'a full round without faults changes nothing within 12 rounds')
  t.same(unexpected, [], 'no run failed other than on an injected fault')

  // ---- every side holds the same items ----
  const crmTokens = new Map<string, number>()
  let compared = 0
  for (const u of USERS) {
    for (const side of outside) {
      const r = await sidesOf.compareWith({ s }, await side.connection(u), u, await side.snapshot(u), { zone: ZONE, rules: side.name !== 'google' })
      compared += r.compared
      // KALENDS_SYNC_DEBUG=1: the whole sync log, to follow a problem item's history
      if (process.env.KALENDS_SYNC_DEBUG === '1' && r.problems.length + r.mismatches.length > 0) for (const l of await syncDb(db).selectFrom('sync_log').selectAll().orderBy('id').execute()) process.stderr.write(`${JSON.stringify(l)}\n`)
      t.same(r.problems, [], `${u}: ${r.appointments.length} appointments <-> ${r.remote.appointments.length} ${side.name} events, ${r.tasks.length} tasks <-> ${r.remote.tasks.length} ${side.name} tasks, one to one`)
      t.same(r.mismatches, [], `${u}: ${r.compared} items linked to ${side.name} hold the same title, times, all-day, dates, recurrence, due date and completion on both sides`)
      const zombies = [...r.remote.appointments, ...r.remote.tasks].map(x => x.side.title).filter(title => deleted.has(tokenOf(title)))
      t.same(zombies, [], `${u}: nothing deleted came back in ${side.name}`)
      if (side !== outside[0]) continue
      for (const row of [...r.appointments, ...r.tasks]) crmTokens.set(tokenOf(row.title), (crmTokens.get(tokenOf(row.title)) ?? 0) + ('assignee_id' in row || row.owner_id === ids[u] ? 1 : 0))
    }
  }
  const lost = [...items.keys()].filter(tok => !deleted.has(tok) && crmTokens.get(tok) !== 1)
  t.same(lost, [], 'every item made on any side and not deleted is in the CRM exactly once (and so on every side)')
  const revived = [...deleted].filter(tok => crmTokens.has(tok))
  t.same(revived, [], 'nothing deleted came back in the CRM')

  // ---- API calls ----
  const conns = await syncDb(db).selectFrom('sync_connections').select(['items_in', 'items_out']).execute()
  const changes = conns.reduce((sum, c) => sum + c.items_in + c.items_out, 0)
  const bound = CALLS_PER_CHANGE * changes + LIST_CALLS_PER_RUN * stats.runs
  t.comment(`${o.providers.join(' + ')}, seed ${SEED}: ${stats.ops} operations, ${items.size} items made, ${deleted.size} deleted, ${compared} compared; ${changes} changes propagated in ${stats.runs} runs (${stats.ok} ok, ${stats.transient} transient); ${stats.calls} API calls = ${(stats.calls / Math.max(1, changes)).toFixed(2)} per change (bound ${bound}); ${stats.refused} edits refused by the CRM`)
  t.ok(stats.calls <= bound, `${stats.calls} API calls <= ${CALLS_PER_CHANGE} x ${changes} changes + ${LIST_CALLS_PER_RUN} x ${stats.runs} runs`)
}
