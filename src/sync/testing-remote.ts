import type { TestServer } from '../testing/harness.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import type { RunOptions, RunResult } from './engine.ts'
import { dateIn } from './items.ts'
import type { Connection } from './tables.ts'
import { startEwsWorld, type EwsWorld } from './testing-ews.ts'
import { startGraphWorld, type GraphWorld } from './testing-graph.ts'
import { compareWith, exchangeSnapshot, googleSnapshot, graphSnapshot } from './testing-sides.ts'
import { startSyncWorld, type SyncWorld } from './testing.ts'

/**
 * One external calendar system as the scenario tests see it, whichever it is:
 * the user's own edits in Google's apps or Outlook, what is stored there, the
 * mail it would have sent, and the connection. A test body written against a
 * Remote runs for every provider (PROVIDERS), so one PRODUCT.md rule is one
 * test for Google, Exchange (EWS) and Microsoft 365 (Graph) alike.
 */
export type ProviderName = 'google' | 'exchange' | 'graph'
export const PROVIDERS: ProviderName[] = ['google', 'exchange', 'graph']

const ZONE = 'Europe/Warsaw'

/** Timed items have ISO instants, all-day items dates (end exclusive). */
export type RemoteEvent = { id: string; title: string; description: string; location: string; allDay: boolean; start: string; end: string; ref: string | null; attendees: number }
export type RemoteTask = { id: string; title: string; description: string; due: string | null; done: boolean }
/** `daily`: a series of that many days */
export type EventInput = { title: string; start: string; end: string; allDay?: boolean; description?: string; daily?: number }

export type Remote = {
  name: ProviderName
  /** what the user calls the system, for messages */
  label: string
  s: TestServer
  connect (login: string, options?: Record<string, unknown>): Promise<Connection>
  run (login: string, opts?: RunOptions): Promise<RunResult>
  connection (login: string): Promise<Connection>
  /** the default calendar / task list, or the one of that option id */
  events (login: string, calendar?: string): Promise<RemoteEvent[]>
  tasks (login: string, list?: string): Promise<RemoteTask[]>
  createEvent (login: string, e: EventInput, calendar?: string): Promise<string>
  patchEvent (login: string, id: string, patch: { title?: string; description?: string; location?: string }): Promise<void>
  deleteEvent (login: string, id: string): Promise<void>
  createTask (login: string, x: { title: string; due?: string }, list?: string): Promise<string>
  patchTask (login: string, id: string, patch: { title?: string; done?: boolean }): Promise<void>
  deleteTask (login: string, id: string): Promise<void>
  /** a second calendar / task list of the user's: its id as the connection's options take it */
  addCalendar (login: string, name: string): string
  addTaskList (login: string, name: string): string
  /** the incremental cursors are lost (Google's sync tokens, Exchange's SyncStates) */
  expireCursors (): void
  /** writes that mailed (or would have mailed) someone */
  mail (): unknown[]
  /** the user's CRM items and their copies here, one to one and the same (testing-sides.ts compareWith) */
  compare (login: string, zone?: string): ReturnType<typeof compareWith>
  close (): Promise<void>
}

/** A Remote's server, connect, run and connection, from a world whose connect takes the login and options. */
function worldOf (w: Pick<SyncWorld, 's' | 'connect' | 'run' | 'connection'> | Pick<GraphWorld, 's' | 'connect' | 'run' | 'connection'>): Pick<Remote, 's' | 'connect' | 'run' | 'connection'> {
  return {
    s: w.s,
    connect: async (login, options) => w.connect(login, options),
    run: async (login, opts) => w.run(login, opts),
    connection: async login => w.connection(login)
  }
}

export function googleRemote (w: SyncWorld, own = true): Remote {
  const list = async (login: string, calendarId = 'primary') => (await w.calendar(login).events.list({ calendarId, maxResults: 2500 })).data.items ?? []
  const taskList = async (login: string, tasklist = '@default') => (await w.tasks(login).tasks.list({ tasklist, maxResults: 100, showHidden: true })).data.items ?? []
  const when = (allDay: boolean, v: string) => allDay ? { date: v } : { dateTime: v, timeZone: ZONE }
  return {
    name: 'google',
    label: 'Google',
    ...worldOf(w),
    async events (login, calendar) {
      return (await list(login, calendar)).map(e => ({
        id: e.id ?? '',
        title: e.summary ?? '',
        description: e.description ?? '',
        location: e.location ?? '',
        allDay: e.start?.date != null,
        start: e.start?.date ?? new Date(e.start?.dateTime ?? '').toISOString(),
        end: e.end?.date ?? new Date(e.end?.dateTime ?? '').toISOString(),
        ref: e.extendedProperties?.private?.kalendsItem ?? null,
        attendees: e.attendees?.length ?? 0
      }))
    },
    async tasks (login, tasklist) {
      return (await taskList(login, tasklist)).filter(x => x.deleted !== true).map(x => ({ id: x.id ?? '', title: x.title ?? '', description: x.notes ?? '', due: x.due == null ? null : x.due.slice(0, 10), done: x.status === 'completed' }))
    },
    async createEvent (login, e, calendarId = 'primary') {
      const recurrence = e.daily === undefined ? undefined : [`RRULE:FREQ=DAILY;COUNT=${e.daily}`]
      const made = await w.calendar(login).events.insert({ calendarId, sendUpdates: 'none', requestBody: { summary: e.title, description: e.description, start: when(e.allDay === true, e.start), end: when(e.allDay === true, e.end), recurrence } })
      return made.data.id ?? ''
    },
    async patchEvent (login, id, patch) {
      await w.calendar(login).events.patch({ calendarId: 'primary', eventId: id, sendUpdates: 'none', requestBody: { summary: patch.title, description: patch.description, location: patch.location } })
    },
    async deleteEvent (login, id) {
      await w.calendar(login).events.delete({ calendarId: 'primary', eventId: id, sendUpdates: 'none' })
    },
    async createTask (login, x, tasklist = '@default') {
      return (await w.tasks(login).tasks.insert({ tasklist, requestBody: { title: x.title, due: x.due === undefined ? undefined : `${x.due}T00:00:00.000Z` } })).data.id ?? ''
    },
    async patchTask (login, id, patch) {
      const done = patch.done === undefined ? {} : patch.done ? { status: 'completed' } : { status: 'needsAction', completed: null }
      await w.tasks(login).tasks.patch({ tasklist: '@default', task: id, requestBody: { title: patch.title, ...done } })
    },
    async deleteTask (login, id) {
      await w.tasks(login).tasks.delete({ tasklist: '@default', task: id })
    },
    addCalendar: (login, name) => w.g.addCalendar(w.email(login), name).id,
    addTaskList: (login, name) => w.g.addTaskList(w.email(login), name).id,
    expireCursors: () => w.g.expireSyncTokens(),
    mail: () => w.g.sendUpdates().filter(r => r.sendUpdates !== 'none'),
    compare: async (login, zone) => compareWith(w, await w.connection(login), login, googleSnapshot(w, login), { zone }),
    close: async () => { if (own) await w.close() }
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const WARSAW = '<t:StartTimeZone Id="Central European Standard Time"/><t:EndTimeZone Id="Central European Standard Time"/>'
/** connection options carry folder ids base64url (ews/provider.ts) */
const choiceId = (folderId: string) => folderId.replace(/\+/g, '-').replace(/\//g, '_')
const folderOf = (choice: string | undefined, distinguished: string) => choice === undefined ? distinguished : choice.replace(/-/g, '+').replace(/_/g, '/')

/** A daily series starting on the item's day in Warsaw. */
const series = (e: EventInput) => e.daily === undefined
  ? ''
  : `<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>${dateIn(new Date(e.start), ZONE)}</t:StartDate><t:NumberOfOccurrences>${e.daily}</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`

export function exchangeRemote (w: EwsWorld): Remote {
  const body = (text: string | undefined) => text === undefined ? '' : `<t:Body BodyType="Text">${esc(text)}</t:Body>`
  return {
    name: 'exchange',
    label: 'Exchange',
    s: w.s,
    connect: async (login, options) => w.connect(login, undefined, options),
    run: async (login, opts) => w.run(login, opts),
    connection: async login => w.connection(login),
    async events (login, calendar) {
      return w.em.items(w.email(login), folderOf(calendar, 'calendar')).map(id => w.em.item(id)).map(i => {
        const allDay = i.props.IsAllDayEvent === 'true'
        const at = (v: string | undefined) => allDay ? dateIn(new Date(v ?? ''), ZONE) : new Date(v ?? '').toISOString()
        return { id: i.id, title: i.props.Subject ?? '', description: i.props.Body ?? '', location: i.props.Location ?? '', allDay, start: at(i.props.Start), end: at(i.props.End), ref: i.extended[0]?.value ?? null, attendees: ['RequiredAttendees', 'OptionalAttendees'].filter(n => n in i.props).length }
      })
    },
    async tasks (login, list) {
      return w.em.items(w.email(login), folderOf(list, 'tasks')).map(id => w.em.item(id)).map(i => ({
        id: i.id,
        title: i.props.Subject ?? '',
        description: i.props.Body ?? '',
        // Outlook's due date is the day's midnight in the user's zone, in UTC
        due: i.props.DueDate === undefined ? null : new Date(Date.parse(i.props.DueDate) + 12 * 3_600_000).toISOString().slice(0, 10),
        done: i.props.Status === 'Completed'
      }))
    },
    async createEvent (login, e, calendar) {
      const times = e.allDay === true
        ? `<t:Start>${e.start}T00:00:00</t:Start><t:End>${e.end}T00:00:00</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent>${WARSAW}`
        : `<t:Start>${new Date(e.start).toISOString()}</t:Start><t:End>${new Date(e.end).toISOString()}</t:End>${series(e)}${WARSAW}`
      return w.em.userCreate(w.email(login), folderOf(calendar, 'calendar'), 'CalendarItem', `<t:Subject>${esc(e.title)}</t:Subject>${body(e.description)}${times}`)
    },
    async patchEvent (_login, id, patch) {
      const subject = patch.title === undefined ? '' : `<t:Subject>${esc(patch.title)}</t:Subject>`
      const location = patch.location === undefined ? '' : `<t:Location>${esc(patch.location)}</t:Location>`
      w.em.userUpdate(id, `${subject}${body(patch.description)}${location}`)
    },
    async deleteEvent (_login, id) { w.em.userDelete(id) },
    async createTask (login, x, list) {
      const due = x.due === undefined ? '' : `<t:DueDate>${wallToUtc(`${x.due}T00:00:00`, ZONE).toISOString()}</t:DueDate>`
      return w.em.userCreate(w.email(login), folderOf(list, 'tasks'), 'Task', `<t:Subject>${esc(x.title)}</t:Subject>${due}`)
    },
    async patchTask (_login, id, patch) {
      const subject = patch.title === undefined ? '' : `<t:Subject>${esc(patch.title)}</t:Subject>`
      const status = patch.done === undefined ? '' : `<t:Status>${patch.done ? 'Completed' : 'NotStarted'}</t:Status>`
      w.em.userUpdate(id, `${subject}${status}`, patch.done === false ? ['CompleteDate'] : [])
    },
    async deleteTask (_login, id) { w.em.userDelete(id) },
    addCalendar: (login, name) => choiceId(w.em.addFolder(w.email(login), 'calendar', name)),
    addTaskList: (login, name) => choiceId(w.em.addFolder(w.email(login), 'tasks', name, 'IPF.Task')),
    expireCursors: () => w.em.expireSyncStates(),
    mail: () => w.em.sentMail(),
    compare: async (login, zone) => compareWith(w, await w.connection(login), login, exchangeSnapshot(w, login, zone), { zone, rules: true }),
    close: async () => w.close()
  }
}

/** Microsoft 365 as the user sees it in Outlook and To Do, through Graph with a token of the user's own. */
export function graphRemote (w: GraphWorld, own = true): Remote {
  const CET = 'Central European Standard Time'
  const lists = new Map<string, string>()
  const tasksPath = async (login: string, list?: string) => {
    if (list !== undefined) return `/me/todo/lists/${list}/tasks`
    if (!lists.has(login)) lists.set(login, ((await w.api(login, 'GET', '/me/todo/lists')).body.value as { id: string; wellknownListName: string }[]).find(l => l.wellknownListName === 'defaultList')!.id)
    return `/me/todo/lists/${lists.get(login)}/tasks`
  }
  const eventsPath = (calendar?: string) => calendar === undefined || calendar === 'primary' ? '/me/events' : `/me/calendars/${calendar}/events`
  const call = async (login: string, method: string, path: string, body?: unknown) => {
    const res = await w.api(login, method, path, body)
    if (res.status >= 300) throw new Error(`${method} ${path} in Outlook: ${res.status} ${JSON.stringify(res.body)}`)
    return res.body
  }
  const text = (html: string | undefined) => (html ?? '').replace(/<[^>]*>/g, '').trim()
  const at = (v: { dateTime?: string } | undefined, allDay: boolean) => allDay ? String(v?.dateTime).slice(0, 10) : new Date(`${String(v?.dateTime).replace(/Z$/, '')}Z`).toISOString()
  return {
    name: 'graph',
    label: 'Microsoft 365',
    ...worldOf(w),
    async events (login, calendar) {
      const all = calendar === undefined ? await w.events(login) : (await call(login, 'GET', eventsPath(calendar))).value as any[]
      return all.map(e => ({
        id: String(e.id),
        title: e.subject ?? '',
        description: text(e.body?.content),
        location: e.location?.displayName ?? '',
        allDay: e.isAllDay === true,
        start: at(e.start, e.isAllDay === true),
        end: at(e.end, e.isAllDay === true),
        ref: e.singleValueExtendedProperties?.[0]?.value ?? null,
        attendees: e.attendees?.length ?? 0
      }))
    },
    async tasks (login, list) {
      return ((await call(login, 'GET', await tasksPath(login, list))).value as any[]).map(x => ({ id: String(x.id), title: x.title ?? '', description: text(x.body?.content), due: x.dueDateTime == null ? null : String(x.dueDateTime.dateTime).slice(0, 10), done: x.status === 'completed' }))
    },
    async createEvent (login, e, calendar) {
      const times = e.allDay === true
        ? { isAllDay: true, start: { dateTime: `${e.start}T00:00:00`, timeZone: CET }, end: { dateTime: `${e.end}T00:00:00`, timeZone: CET } }
        : { start: { dateTime: new Date(e.start).toISOString().slice(0, 19), timeZone: 'UTC' }, end: { dateTime: new Date(e.end).toISOString().slice(0, 19), timeZone: 'UTC' } }
      const recurrence = e.daily === undefined ? {} : { recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: dateIn(new Date(e.start), ZONE), numberOfOccurrences: e.daily, recurrenceTimeZone: CET } } }
      const made = await call(login, 'POST', eventsPath(calendar), { subject: e.title, ...(e.description === undefined ? {} : { body: { contentType: 'text', content: e.description } }), ...times, ...recurrence })
      return String(made.id)
    },
    async patchEvent (login, id, patch) {
      await call(login, 'PATCH', `/me/events/${encodeURIComponent(id)}`, {
        ...(patch.title === undefined ? {} : { subject: patch.title }),
        ...(patch.description === undefined ? {} : { body: { contentType: 'text', content: patch.description } }),
        ...(patch.location === undefined ? {} : { location: { displayName: patch.location } })
      })
    },
    async deleteEvent (login, id) { await call(login, 'DELETE', `/me/events/${encodeURIComponent(id)}`) },
    async createTask (login, x, list) {
      return String((await call(login, 'POST', await tasksPath(login, list), { title: x.title, ...(x.due === undefined ? {} : { dueDateTime: { dateTime: `${x.due}T00:00:00`, timeZone: CET } }) })).id)
    },
    async patchTask (login, id, patch) {
      await call(login, 'PATCH', `${await tasksPath(login)}/${encodeURIComponent(id)}`, { ...(patch.title === undefined ? {} : { title: patch.title }), ...(patch.done === undefined ? {} : { status: patch.done ? 'completed' : 'notStarted' }) })
    },
    async deleteTask (login, id) { await call(login, 'DELETE', `${await tasksPath(login)}/${encodeURIComponent(id)}`) },
    addCalendar: (login, name) => w.g.addCalendar(w.email(login), name),
    addTaskList: (login, name) => w.g.addTaskList(w.email(login), name),
    expireCursors: () => w.g.expireDeltaTokens(),
    mail: () => w.g.sentMail(),
    compare: async (login, zone) => compareWith(w, await w.connection(login), login, await graphSnapshot(w, login), { zone, rules: true }),
    close: async () => { if (own) await w.close() }
  }
}

/** A test server with the provider's emulator beside it: users alice, bob, carol and admin. */
export async function startRemote (name: ProviderName, opts: { users?: string[] } = {}): Promise<Remote> {
  if (name === 'graph') return graphRemote(await startGraphWorld(opts))
  return name === 'google' ? googleRemote(await startSyncWorld(opts)) : exchangeRemote(await startEwsWorld(opts))
}

/** Google and Exchange for the same users of one server at once. */
export async function startBoth (opts: { users?: string[] } = {}): Promise<{ google: Remote; exchange: Remote; g: SyncWorld; x: EwsWorld; close (): Promise<void> }> {
  const g = await startSyncWorld(opts)
  const x = await startEwsWorld({ server: g.s })
  return {
    google: googleRemote(g, false),
    exchange: exchangeRemote(x),
    g,
    x,
    async close () {
      await x.close()
      await g.close()
    }
  }
}
