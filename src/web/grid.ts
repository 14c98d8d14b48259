import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Task, User } from '../db/schema.ts'
import { allows } from '../domain/access.ts'
import { updateAppointment, type AppointmentInput } from '../domain/appointments.ts'
import { editOccurrence } from '../domain/series.ts'
import { listCases, listItemTypes } from '../domain/cases.ts'
import { DomainError } from '../domain/errors.ts'
import { listTasks } from '../domain/lists.ts'
import { getTask, updateTask, type TaskInput } from '../domain/tasks.ts'
import { listUsers } from '../domain/users.ts'
import { html, type Html } from './html.ts'
import { reasonOf } from './items.ts'
import { currentLang, firstDayOfWeek, intlLocale, type Lang } from './locale.ts'
import { t } from './messages.ts'
import { itemUrl, occurrences } from './occurrences.ts'
import type { Web } from './plugin.ts'
import { addDays, instantOf, localParts, validDate } from './time.ts'

/**
 * The calendar grid: FullCalendar (MIT, served from the project) over the
 * server-rendered week and month lists, which stay as the page without
 * scripts. The grid reads GET /calendar/events (occurrences expanded by
 * src/ical, tasks on their due day and over their planned span, in the
 * user's zone) and writes through POST /calendar/move, which calls the same
 * domain updates as the forms: a refusal answers with the rule's reason and
 * the page puts the item back.
 */
export type GridView = 'timeGridWeek' | 'timeGridDay' | 'dayGridMonth'

export type GridEvent = {
  id: string
  title: string
  start: string
  end: string | null
  allDay: boolean
  color?: string
  editable: boolean
  durationEditable: boolean
  url?: string
  classNames: string[]
  extendedProps: {
    kind: 'appointment' | 'task'
    itemId: number
    part: 'appointment' | 'due' | 'planned'
    recurring: boolean
    occurrence?: string
    details: string[]
  }
}

const COLOR = /^#[0-9A-Fa-f]{6}$/
/**
 * A calendar's or type's colour for a card with white text: only when white
 * on it is readable (WCAG AA, 4.5:1); a light colour leaves the default.
 */
function colour (c: string | null | undefined): string | undefined {
  if (c == null || !COLOR.test(c.slice(0, 7))) return undefined
  const [r, g, b] = [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16) / 255).map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
  const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
  return 1.05 / (luminance + 0.05) >= 4.5 ? c.slice(0, 7) : undefined
}

/** The days of the week as FullCalendar counts them (0 = Sunday) from the stored "1,2,3,4,5" (ISO, 7 = Sunday). */
function workDays (user: User): number[] {
  return user.work_days.split(',').map(Number).filter(d => d >= 1 && d <= 7).map(d => d % 7)
}

/** The element the grid script mounts on; everything it needs is in data attributes (no inline script under the CSP). */
export function gridMount (user: User, csrf: string, view: GridView, date: string): Html {
  return html`<p id="grid-status" class="grid-status" role="status" aria-live="polite"></p>
    <div id="grid" class="grid" hidden data-view="${view}" data-date="${date}" data-zone="${user.timezone}"
    data-locale="${intlLocale()}" data-first-day="${String(firstDayOfWeek() % 7)}"
    data-csrf="${csrf}" data-work-start="${user.work_start}" data-work-end="${user.work_end}" data-work-days="${workDays(user).join(',')}"
    data-refused="${t('grid.refused')}" data-saved="${t('grid.saved')}" data-today="${t('grid.today')}" data-day="${t('grid.day')}"
    data-week="${t('grid.week')}" data-month="${t('grid.month')}" data-all-day="${t('grid.allDay')}" role="region" aria-label="${t('grid.label')}"></div>`
}

/** FullCalendar's own locale file (its button texts and week rules) for each of our languages. */
export const FULLCALENDAR_LOCALES: Record<Lang, string> = { en: 'en-gb', pl: 'pl', ro: 'ro', ru: 'ru', nl: 'nl' }

/** Scripts and styles of the grid pages, with FullCalendar's locale file of the request's language. */
export function gridAssets (): { styles: string[]; scripts: string[] } {
  return {
    styles: ['/static/fullcalendar/skeleton.css', '/static/fullcalendar/theme.css', '/static/fullcalendar/palette.css'],
    scripts: ['/static/fullcalendar/global.js', `/static/fullcalendar/locales/${FULLCALENDAR_LOCALES[currentLang()]}.js`, '/static/fullcalendar/theme.js', '/static/grid.js']
  }
}

function instantParam (value: unknown): Date | null {
  if (typeof value !== 'string') return null
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

async function events (web: Web, user: User, from: Date, to: Date): Promise<GridEvent[]> {
  const db = web.k.db
  const [list, tasks, cases, types, people] = await Promise.all([
    occurrences(db, user, from, to),
    listTasks(db, user, { from: from.toISOString(), to: to.toISOString(), limit: 1000 }),
    listCases(db, user), listItemTypes(db, user), listUsers(db, user)
  ])
  const caseOf = new Map(cases.map(c => [c.id, c.title]))
  const typeOf = new Map(types.map(ty => [ty.id, ty]))
  const nameOf = new Map(people.map(p => [p.id, p.name]))
  const out: GridEvent[] = []
  for (const o of list) {
    const a = o.appointment
    const writable = !o.hidden && (o.calendar === undefined ? a.participant_ids.includes(user.id) : allows(o.calendar.access, 'write') || a.participant_ids.includes(user.id))
    const type = a.type_id === null ? undefined : typeOf.get(a.type_id)
    const details = o.hidden
      ? []
      : [
          a.case_id === null ? '' : t('grid.case', { case: caseOf.get(a.case_id) ?? '' }),
          type === undefined ? '' : t('grid.type', { type: type.name }),
          a.location === '' ? '' : t('grid.location', { location: a.location }),
          a.participant_ids.length === 0 ? '' : t('grid.participants', { names: a.participant_ids.map(id => nameOf.get(id) ?? '?').join(', ') })
        ].filter(x => x !== '')
    const startKey = o.start.toISOString()
    out.push({
      id: `appointment:${a.id}:${startKey}`,
      title: o.title,
      start: o.allDay ? localParts(o.start, 'UTC').date : startKey,
      end: o.allDay ? localParts(o.end, 'UTC').date : o.end.toISOString(),
      allDay: o.allDay,
      color: colour(type?.color) ?? colour(o.calendar?.color),
      // a recurring card is one occurrence: a drag changes that occurrence alone (an exception), as its page's "this occurrence" does
      editable: writable,
      durationEditable: writable,
      url: o.hidden ? undefined : itemUrl(o),
      classNames: ['kind-appointment', ...(o.recurring ? ['recurring'] : [])],
      extendedProps: { kind: 'appointment', itemId: a.id, part: 'appointment', recurring: o.recurring, occurrence: o.recurring ? o.occurrence : undefined, details }
    })
  }
  for (const task of tasks.items) {
    const type = task.type_id === null ? undefined : typeOf.get(task.type_id)
    const details = [
      t(`tasks.status.${task.status}`),
      task.case_id === null ? '' : t('grid.case', { case: caseOf.get(task.case_id) ?? '' }),
      type === undefined ? '' : t('grid.type', { type: type.name }),
      t('grid.assignee', { name: nameOf.get(task.assignee_id) ?? '?' })
    ].filter(x => x !== '')
    const base = { editable: true, durationEditable: false, url: `/tasks/${task.id}/edit`, color: colour(type?.color) }
    if (task.due_at !== null && task.due_at >= from && task.due_at < to) {
      const day = localParts(task.due_at, user.timezone).date
      out.push({
        ...base, id: `task:${task.id}:due`, title: t('grid.due', { title: task.title }), start: day, end: addDays(day, 1), allDay: true,
        classNames: ['kind-task', `status-${task.status}`],
        extendedProps: { kind: 'task', itemId: task.id, part: 'due', recurring: false, details: [t('grid.dueAt', { time: localParts(task.due_at, user.timezone).time }), ...details] }
      })
    }
    if (task.planned_start !== null && task.planned_end !== null && task.planned_start < to && task.planned_end > from) {
      out.push({
        ...base, durationEditable: true, id: `task:${task.id}:planned`, title: t('grid.planned', { title: task.title }),
        start: task.planned_start.toISOString(), end: task.planned_end.toISOString(), allDay: false,
        classNames: ['kind-task', 'planned', `status-${task.status}`],
        extendedProps: { kind: 'task', itemId: task.id, part: 'planned', recurring: false, details }
      })
    }
  }
  return out
}

/** The due time of day stays when a task is moved to another day. */
function movedDue (task: Task, day: string, zone: string): string | null {
  if (task.due_at === null) return null
  return instantOf(day, localParts(task.due_at, zone).time, zone).toISOString()
}

export function gridRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web

  app.get('/calendar/events', async (request, reply) => {
    const user = web.session(request).user
    const q = request.query as { start?: string; end?: string }
    const from = instantParam(q.start)
    const to = instantParam(q.end)
    if (from === null || to === null || to <= from || to.getTime() - from.getTime() > 62 * 86_400_000) {
      return reply.code(400).type('application/problem+json').send({ type: 'about:blank', title: t('grid.badRange'), status: 400 })
    }
    return reply.type('application/json').send(await events(web, user, from, to))
  })

  const refuse = (reply: FastifyReply, status: number, reason: string) => reply.code(status).type('application/json').send({ ok: false, reason })

  app.post('/calendar/move', async (request: FastifyRequest, reply) => {
    const user = web.session(request).user
    const f = web.form(request)
    const id = Number(f.id)
    if (!Number.isSafeInteger(id) || id < 1) return refuse(reply, 400, t('grid.badMove'))
    const allDay = f.allDay === '1'
    const start = allDay ? validDate(f.start) : instantParam(f.start)?.toISOString() ?? null
    const end = allDay ? validDate(f.end) : instantParam(f.end)?.toISOString() ?? null
    if (start === null || (f.part !== 'due' && end === null)) return refuse(reply, 400, t('grid.badMove'))
    try {
      if (f.kind === 'appointment' && typeof f.occurrence === 'string' && f.occurrence !== '') {
        await editOccurrence(k.db, web.actor(request), id, f.occurrence, { start, end: end! })
      } else if (f.kind === 'appointment') {
        const input: AppointmentInput = allDay
          ? { allDay: true, start, end: end! }
          : { allDay: false, start, end: end!, timezone: user.timezone }
        await updateAppointment(k.db, web.actor(request), id, input)
      } else if (f.kind === 'task' && (f.part === 'due' || f.part === 'planned')) {
        const task = await getTask(k.db, user, id)
        const input: TaskInput = f.part === 'due'
          ? { due: movedDue(task, allDay ? start : localParts(new Date(start), user.timezone).date, user.timezone) }
          : { plannedStart: start, plannedEnd: end }
        await updateTask(k.db, web.actor(request), id, input)
      } else {
        return refuse(reply, 400, t('grid.badMove'))
      }
    } catch (err) {
      if (err instanceof DomainError && err.status < 500) return refuse(reply, err.status, reasonOf(err))
      throw err
    }
    return reply.type('application/json').send({ ok: true })
  })
}
