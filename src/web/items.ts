import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Case, ItemKind, Task } from '../db/schema.ts'
import { appointmentRole, visibleCalendars, allows } from '../domain/access.ts'
import { createAppointment, deleteAppointment, getAppointment, updateAppointment, type AppointmentInput, type AppointmentView } from '../domain/appointments.ts'
import { createCase, getCase, listCases, listItemTypes } from '../domain/cases.ts'
import { DomainError } from '../domain/errors.ts'
import { listAppointments, listTasks } from '../domain/lists.ts'
import { createTask, deleteTask, getTask, updateTask, type TaskInput } from '../domain/tasks.ts'
import { listUsers } from '../domain/users.ts'
import { html, raw, type Html } from './html.ts'
import { csrfField, postButton, swatch, when } from './layout.ts'
import { currentLang } from './locale.ts'
import { hasMessage, t, type MessageId } from './messages.ts'
import { dateQuery, idParam, optionalId } from './params.ts'
import type { Web } from './plugin.ts'
import { addDays, fromLocalInput, instantOf, localInput, localParts, todayIn, validDate } from './time.ts'
import { noticeOf } from './views.ts'
import { syncBadge } from './sync-badge.ts'

/**
 * Appointment and task forms, the task list and the "without case" list.
 * Every save is the domain's createX/updateX with origin "web"; what the
 * domain refuses (a business rule, a bad value) comes back in the form with
 * its reason, and nothing is changed.
 */
type Form = Record<string, string>

const FIELD_LABELS: Record<string, MessageId> = {
  title: 'appt.title', calendarId: 'appt.calendar', start: 'appt.start', end: 'appt.end', location: 'appt.location',
  description: 'appt.description', caseId: 'appt.case', status: 'appt.status', rrule: 'appt.repeat',
  due: 'tasks.due', plannedStart: 'tasks.plannedStart', plannedEnd: 'tasks.plannedEnd', actualStart: 'tasks.actualStart',
  actualEnd: 'tasks.actualEnd', assigneeId: 'tasks.assignee', typeId: 'types.field',
  currentPassword: 'profile.currentPassword', password: 'signIn.password', timezone: 'profile.timezone', language: 'profile.language',
  login: 'admin.login', email: 'admin.email', role: 'admin.role', defaultTimezone: 'admin.orgTimezone', defaultLanguage: 'admin.orgLanguage',
  workStart: 'finish.workStart', workEnd: 'finish.workEnd', workDays: 'finish.workDays'
}

/**
 * A refusal as the user reads it, in their language: the field's label,
 * then the reason. In English the domain's own words (the most precise);
 * in another language a business rule has its text (messages-rules.ts, by
 * the domain's stable code), and other refusals keep the domain's detail
 * inside a sentence of the user's language.
 */
export function reasonOf (err: DomainError, labels: Record<string, MessageId> = FIELD_LABELS, field = err.field): string {
  const label = field === undefined ? undefined : labels[field]
  const ruleText = `rule.${err.rule ?? ''}`
  const message = currentLang() === 'en'
    ? err.message
    : hasMessage(ruleText)
      ? t(ruleText)
      : err.kind === 'too-many-requests' && err.retryAfterSeconds !== undefined
        ? t('error.tooMany', { seconds: err.retryAfterSeconds })
        : err.kind === 'forbidden' ? t('error.forbidden') : t('error.invalidValue', { detail: err.message })
  return label === undefined ? message : t('error.field', { field: t(label), message })
}

const USER_ERRORS = new Set(['invalid', 'rule', 'forbidden', 'conflict', 'precondition-failed'])
const isUserError = (err: unknown): err is DomainError => err instanceof DomainError && USER_ERRORS.has(err.kind)

/** Runs a save; a refusal the user can act on shows the page again with its reason. */
export async function saving (save: () => Promise<FastifyReply>, again: (err: DomainError) => Promise<FastifyReply>): Promise<FastifyReply> {
  try { return await save() } catch (err) {
    if (isUserError(err)) return again(err)
    throw err
  }
}

/** The field the domain named is marked invalid and pointed at the error message, for screen readers. */
export function markInvalid (field: string | undefined, body: Html): Html {
  if (field === undefined || !/^\w+$/.test(field)) return body
  return raw(body.text.replace(`id="${field}" name="${field}"`, `id="${field}" name="${field}" aria-invalid="true" aria-describedby="form-error"`))
}

const REPEATS = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const

const field = (id: string, label: string, input: Html, hint?: string) =>
  html`<div class="field"><label for="${id}">${label}</label>${input}${hint === undefined ? '' : html`<span class="muted">${hint}</span>`}</div>`
const text = (name: string, value: string, opts: { type?: string; required?: boolean } = {}) =>
  html`<input type="${opts.type ?? 'text'}" id="${name}" name="${name}" value="${value}"${opts.required === true ? html` required` : ''}>`
const select = (name: string, value: string, options: [string, string][], id = name) =>
  html`<select id="${id}" name="${name}">${options.map(([v, label]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${label}</option>`)}</select>`
/** The types offered for an item: those in use, and the item's own even if it is retired. */
async function typeOptions (web: Web, user: Parameters<typeof listItemTypes>[1], kind: ItemKind, current: string | undefined): Promise<[string, string][]> {
  const types = (await listItemTypes(web.k.db, user)).filter(ty => ty.applies_to === kind && (!ty.retired || String(ty.id) === current))
  return [['', t('common.none')], ...types.map(ty => [String(ty.id), ty.name] as [string, string])]
}
const caseOptions = (cases: Case[]): [string, string][] => [['', t('common.none')], ...cases.map(c => [String(c.id), `${c.title} (${t(`cases.kind.${c.kind}`)})`] as [string, string])]

// ---- appointments

function apptForm (a: AppointmentView, zone: string): Form {
  const s = a.all_day ? { date: a.start_date!, time: '09:00' } : localParts(a.starts_at!, zone)
  const e = a.all_day ? { date: addDays(a.end_date!, -1), time: '10:00' } : localParts(a.ends_at!, zone)
  const simple = a.rrule === null ? '' : REPEATS.find(r => a.rrule === `FREQ=${r}`) ?? 'keep'
  return {
    title: a.title, calendarId: String(a.calendar_id), allDay: a.all_day ? '1' : '', date: s.date, start: s.time,
    endDate: e.date, end: e.time, location: a.location, description: a.description, caseId: a.case_id === null ? '' : String(a.case_id),
    typeId: a.type_id === null ? '' : String(a.type_id),
    status: a.status, repeat: simple, private: a.private ? '1' : '',
    participants: a.participant_ids.filter(id => id !== a.owner_id).join(','),
    ownerId: String(a.owner_id), ownerTakesPart: a.participant_ids.includes(a.owner_id) ? '1' : ''
  }
}

/** Colleagues ticked as participants (checkboxes "participant-<id>"), as the form's "participants" list. */
function withParticipants (f: Form): Form {
  if (f.participants !== undefined) return f
  const ids = Object.keys(f).flatMap(key => /^participant-(\d+)$/.exec(key)?.[1] ?? []).map(Number).sort((a, b) => a - b)
  return { ...f, participants: ids.join(',') }
}

/** The domain input for what the form changed (all of it for a new appointment). */
function apptInput (f: Form, zone: string, before: Form | null): AppointmentInput {
  const changed = (...keys: string[]) => before === null || keys.some(key => (f[key] ?? '') !== (before[key] ?? ''))
  const input: AppointmentInput = {}
  if (changed('title')) input.title = f.title ?? ''
  if (changed('calendarId') && f.calendarId !== undefined && f.calendarId !== '') input.calendarId = Number(f.calendarId)
  if (changed('location')) input.location = f.location ?? ''
  if (changed('description')) input.description = f.description ?? ''
  if (changed('caseId')) input.caseId = optionalId(f.caseId) ?? null
  if (changed('typeId') && f.typeId !== undefined) input.typeId = optionalId(f.typeId) ?? null
  if (changed('status') && f.status !== undefined) input.status = f.status as AppointmentInput['status']
  if (changed('private')) input.private = f.private === '1'
  if (changed('participants') && (before !== null || f.participants !== '')) {
    const ids = (f.participants ?? '').split(',').filter(x => x !== '').map(Number)
    // the owner stays in the meeting: only colleagues are ticked on the form
    input.participantIds = before?.ownerTakesPart === '1' ? [...new Set([...ids, Number(before.ownerId)])] : ids
  }
  if (changed('repeat') && f.repeat !== 'keep') input.rrule = f.repeat === '' || f.repeat === undefined ? null : `FREQ=${f.repeat}`
  const allDay = f.allDay === '1'
  const date = f.date ?? ''
  if (changed('allDay', 'date', 'start', 'end', 'endDate')) {
    input.allDay = allDay
    if (allDay) {
      input.start = date
      const last = validDate(f.endDate) ?? date
      input.end = validDate(last) === null ? last : addDays(last < date ? date : last, 1)
    } else if (validDate(date) !== null && /^\d{2}:\d{2}$/.test(f.start ?? '') && /^\d{2}:\d{2}$/.test(f.end ?? '')) {
      input.start = instantOf(date, f.start!, zone).toISOString()
      input.end = instantOf(validDate(f.endDate) ?? date, f.end!, zone).toISOString()
      input.timezone = zone
    } else {
      input.start = `${date}T${f.start ?? ''}` // the domain names what is wrong with it
    }
  }
  return input
}

/** What a participant who does not organise the meeting cannot change stays as it was (domain: requireOrganiser). */
function organiserFieldsOf (f: Form, before: Form): Form {
  return { ...f, participants: before.participants ?? '', calendarId: before.calendarId ?? '' }
}

async function apptPage (web: Web, request: FastifyRequest, reply: FastifyReply, o: { id?: number; form: Form; organises?: boolean; error?: string; invalid?: string; status?: number }) {
  const s = web.session(request)
  const user = s.user
  const [cals, cases, people] = await Promise.all([visibleCalendars(web.k.db, user), listCases(web.k.db, user), listUsers(web.k.db, user)])
  const writable = cals.filter(c => c.components.includes('VEVENT') && allows(c.access, 'write'))
  const f = withParticipants(o.form)
  // A participant may edit an appointment homed in a calendar they cannot write (or see): it stays there unless they pick another.
  const calendarOptions: [string, string][] = writable.map(c => [String(c.id), c.name])
  if (f.calendarId !== undefined && f.calendarId !== '' && !calendarOptions.some(([id]) => id === f.calendarId)) {
    calendarOptions.unshift([f.calendarId, cals.find(c => String(c.id) === f.calendarId)?.name ?? t('appt.ownersCalendar')])
  }
  const ticked = new Set((f.participants ?? '').split(','))
  // the owner is not ticked: they are in the meeting anyway
  const owner = Number(f.ownerId ?? user.id)
  const colleagues = people.filter(p => p.id !== owner && (!p.disabled || ticked.has(String(p.id))))
  const organises = o.organises ?? true
  const types = await typeOptions(web, user, 'appointment', f.typeId)
  const repeatOptions: [string, string][] = [['', t('appt.repeat.none')], ...REPEATS.map(r => [r, t(`appt.repeat.${r}`)] as [string, string])]
  if (f.repeat === 'keep') repeatOptions.push(['keep', t('appt.repeat.custom', { rule: f.rrule ?? '' })])
  return web.render(request, reply, {
    title: o.id === undefined ? t('appt.new') : t('appt.edit'), current: '/week', error: o.error ?? null,
    body: markInvalid(o.invalid, html`<form method="post" action="${o.id === undefined ? '/appointments' : `/appointments/${o.id}`}" class="stack">${csrfField(s.csrf)}
      ${field('title', t('appt.title'), text('title', f.title ?? '', { required: true }))}
      ${organises
        ? field('calendarId', t('appt.calendar'), select('calendarId', f.calendarId ?? '', calendarOptions))
        : html`<p class="muted">${t('appt.organisedBy')}</p>`}
      <label class="check"><input type="checkbox" id="allDay" name="allDay" value="1"${f.allDay === '1' ? html` checked` : ''}> ${t('appt.allDay')}</label>
      <div class="row">${field('date', t('appt.date'), text('date', f.date ?? '', { type: 'date', required: true }))}
        ${field('endDate', t('appt.endDate'), text('endDate', f.endDate ?? '', { type: 'date' }))}</div>
      <div class="row">${field('start', t('appt.start'), text('start', f.start ?? '', { type: 'time' }))}
        ${field('end', t('appt.end'), text('end', f.end ?? '', { type: 'time' }))}</div>
      <p class="muted">${t('appt.timesIn', { zone: user.timezone })}</p>
      ${field('repeat', t('appt.repeat'), select('repeat', f.repeat ?? '', repeatOptions))}
      ${field('location', t('appt.location'), text('location', f.location ?? ''))}
      ${field('description', t('appt.description'), html`<textarea id="description" name="description" rows="4">${f.description ?? ''}</textarea>`)}
      <div class="row">${field('caseId', t('appt.case'), select('caseId', f.caseId ?? '', caseOptions(cases)))}
        ${field('status', t('appt.status'), select('status', f.status ?? 'confirmed', (['confirmed', 'tentative', 'cancelled'] as const).map(v => [v, t(`appt.status.${v}`)])))}</div>
      ${field('typeId', t('types.field'), select('typeId', f.typeId ?? '', types))}
      ${colleagues.length === 0 ? '' : organises
        ? html`<fieldset class="participants"><legend>${t('appt.participants')}</legend>
        ${colleagues.map(p => html`<label class="check"><input type="checkbox" name="participant-${p.id}" value="1"${ticked.has(String(p.id)) ? html` checked` : ''}> ${p.name}</label>`)}</fieldset>`
        : html`<p>${t('appt.participants')}: ${colleagues.filter(p => ticked.has(String(p.id))).map(p => p.name).join(', ')}</p>`}
      <label class="check"><input type="checkbox" name="private" value="1"${f.private === '1' ? html` checked` : ''}> ${t('appt.private')}</label>
      <div class="toolbar"><button type="submit">${t('common.save')}</button> <a href="/week?date=${f.date ?? ''}">${t('common.cancel')}</a></div>
    </form>
    ${o.id === undefined ? '' : postButton(`/appointments/${o.id}/delete`, s.csrf, t('common.delete'), { cls: 'danger' })}`)
  }, o.status ?? 200)
}

// ---- tasks

const TASK_STATUSES = ['open', 'in_progress', 'review', 'done'] as const
const TASK_TIMES = ['due', 'plannedStart', 'plannedEnd', 'actualStart', 'actualEnd'] as const

function taskForm (task: Task, zone: string): Form {
  return {
    title: task.title, description: task.description, calendarId: String(task.calendar_id), status: task.status,
    caseId: task.case_id === null ? '' : String(task.case_id), assigneeId: String(task.assignee_id), typeId: task.type_id === null ? '' : String(task.type_id),
    due: localInput(task.due_at, zone), plannedStart: localInput(task.planned_start, zone), plannedEnd: localInput(task.planned_end, zone),
    actualStart: localInput(task.actual_start, zone), actualEnd: localInput(task.actual_end, zone)
  }
}

function taskInput (f: Form, zone: string, before: Form | null): TaskInput {
  const changed = (key: string) => before === null ? (f[key] ?? '') !== '' || key === 'title' : (f[key] ?? '') !== (before[key] ?? '')
  const input: TaskInput = {}
  if (changed('title')) input.title = f.title ?? ''
  if (changed('description')) input.description = f.description ?? ''
  if (changed('calendarId') && f.calendarId !== '') input.calendarId = Number(f.calendarId)
  if (changed('status')) input.status = f.status as TaskInput['status']
  if (changed('caseId')) input.caseId = optionalId(f.caseId) ?? null
  if (changed('typeId')) input.typeId = optionalId(f.typeId) ?? null
  if (changed('assigneeId') && f.assigneeId !== '') input.assigneeId = Number(f.assigneeId)
  for (const key of TASK_TIMES) if (changed(key)) input[key] = fromLocalInput(f[key], zone)
  return input
}

async function taskPage (web: Web, request: FastifyRequest, reply: FastifyReply, o: { task?: Task; form: Form; error?: string; invalid?: string; status?: number }) {
  const s = web.session(request)
  const user = s.user
  const [cals, cases, people] = await Promise.all([visibleCalendars(web.k.db, user), listCases(web.k.db, user), listUsers(web.k.db, user)])
  const lists = cals.filter(c => c.components.includes('VTODO') && allows(c.access, 'write'))
  const f = o.form
  const creator = o.task === undefined ? undefined : people.find(p => p.id === o.task!.created_by)
  const types = await typeOptions(web, user, 'task', f.typeId)
  return web.render(request, reply, {
    title: o.task === undefined ? t('tasks.new') : t('tasks.edit'), current: '/tasks', error: o.error ?? null,
    body: markInvalid(o.invalid, html`${o.task === undefined ? '' : html`<p class="muted">${t('tasks.createdBy', { name: creator?.name ?? '?', when: when(o.task.created_at, user.timezone) })}</p>`}
    <form method="post" action="${o.task === undefined ? '/tasks' : `/tasks/${o.task.id}`}" class="stack">${csrfField(s.csrf)}
      ${field('title', t('appt.title'), text('title', f.title ?? '', { required: true }))}
      <div class="row">${field('status', t('tasks.status'), select('status', f.status ?? 'open', TASK_STATUSES.map(v => [v, t(`tasks.status.${v}`)])))}
        ${field('calendarId', t('tasks.list'), select('calendarId', f.calendarId ?? '', [['', t('common.none')], ...lists.map(c => [String(c.id), c.name] as [string, string])]))}</div>
      <div class="row">${field('assigneeId', t('tasks.assignee'), select('assigneeId', f.assigneeId ?? String(user.id), people.filter(p => !p.disabled).map(p => [String(p.id), p.name])))}
        ${field('caseId', t('appt.case'), select('caseId', f.caseId ?? '', caseOptions(cases)))}</div>
      ${field('typeId', t('types.field'), select('typeId', f.typeId ?? '', types))}
      ${field('due', t('tasks.due'), text('due', f.due ?? '', { type: 'datetime-local' }))}
      <div class="row">${field('plannedStart', t('tasks.plannedStart'), text('plannedStart', f.plannedStart ?? '', { type: 'datetime-local' }))}
        ${field('plannedEnd', t('tasks.plannedEnd'), text('plannedEnd', f.plannedEnd ?? '', { type: 'datetime-local' }))}</div>
      <div class="row">${field('actualStart', t('tasks.actualStart'), text('actualStart', f.actualStart ?? '', { type: 'datetime-local' }))}
        ${field('actualEnd', t('tasks.actualEnd'), text('actualEnd', f.actualEnd ?? '', { type: 'datetime-local' }))}</div>
      <p class="muted">${t('appt.timesIn', { zone: user.timezone })}</p>
      ${field('description', t('appt.description'), html`<textarea id="description" name="description" rows="4">${f.description ?? ''}</textarea>`)}
      <div class="toolbar"><button type="submit">${t('common.save')}</button> <a href="/tasks">${t('common.cancel')}</a></div>
    </form>
    ${o.task === undefined ? '' : postButton(`/tasks/${o.task.id}/delete`, s.csrf, t('common.delete'), { cls: 'danger' })}`)
  }, o.status ?? 200)
}

export function itemRoutes (app: FastifyInstance, web: Web): void {
  const { k } = web
  const zoneOf = (request: FastifyRequest) => web.session(request).user.timezone

  app.get('/appointments/new', async (request, reply) => {
    const user = web.session(request).user
    // a range selected in the grid arrives as ?date=&start=&endDate=&end= (or &allDay=1)
    const q = request.query as { start?: string; end?: string; allDay?: string }
    const date = dateQuery(request) ?? todayIn(user.timezone)
    const endDate = dateQuery(request, 'endDate') ?? date
    const time = (v: string | undefined, d: string) => (typeof v === 'string' && /^([01]\d|2[0-3]):[0-5]\d$/.test(v) ? v : d)
    const def = (await visibleCalendars(k.db, user)).find(c => c.owner_id === user.id && c.kind === 'personal' && c.is_default)
    return apptPage(web, request, reply, {
      form: { date, endDate: endDate < date ? date : endDate, start: time(q.start, '09:00'), end: time(q.end, '10:00'), allDay: q.allDay === '1' ? '1' : '', status: 'confirmed', calendarId: def === undefined ? '' : String(def.id) }
    })
  })

  app.post('/appointments', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      await createAppointment(k.db, web.actor(request), apptInput(withParticipants(f), zoneOf(request), null))
      return reply.code(303).header('location', `/week?date=${validDate(f.date) ?? ''}&done=saved`).send()
    }, async err => apptPage(web, request, reply, { form: f, error: reasonOf(err), invalid: err.field, status: err.status }))
  })

  app.get('/appointments/:id/edit', async (request, reply) => {
    const user = web.session(request).user
    const a = await getAppointment(k.db, user, idParam(request))
    const { canOrganise } = await appointmentRole(k.db, user, a)
    return apptPage(web, request, reply, { id: a.id, form: { ...apptForm(a, zoneOf(request)), rrule: a.rrule ?? '' }, organises: canOrganise })
  })

  app.post('/appointments/:id', async (request, reply) => {
    const id = idParam(request)
    const user = web.session(request).user
    const before = await getAppointment(k.db, user, id)
    const { canOrganise } = await appointmentRole(k.db, user, before)
    const was = apptForm(before, user.timezone)
    const f = canOrganise ? withParticipants(web.form(request)) : organiserFieldsOf(web.form(request), was)
    return saving(async () => {
      await updateAppointment(k.db, web.actor(request), id, apptInput(f, user.timezone, was))
      return reply.code(303).header('location', `/week?date=${validDate(f.date) ?? ''}&done=saved`).send()
    }, async err => apptPage(web, request, reply, { id, form: { ...f, rrule: before.rrule ?? '', ownerId: String(before.owner_id) }, organises: canOrganise, error: reasonOf(err), invalid: err.field, status: err.status }))
  })

  app.post('/appointments/:id/delete', async (request, reply) => {
    const result = await deleteAppointment(k.db, web.actor(request), idParam(request))
    return reply.code(303).header('location', `/week?done=${result}`).send()
  })

  // tasks
  app.get('/tasks', async (request, reply) => {
    const user = web.session(request).user
    const q = request.query as { status?: string; withoutCase?: string; typeId?: string; caseId?: string; createdBy?: string }
    const status = TASK_STATUSES.find(s => s === q.status)
    const withoutCase = q.withoutCase === '1'
    const idOf = (v: string | undefined) => { const n = optionalId(v); return n === null || n === undefined || n < 0 ? undefined : n }
    const typeId = idOf(q.typeId)
    const caseId = withoutCase ? undefined : idOf(q.caseId)
    const createdBy = idOf(q.createdBy)
    const [page, cases, people, types] = await Promise.all([
      listTasks(k.db, user, { status, withoutCase, typeId, caseId, createdBy, limit: 500 }), listCases(k.db, user), listUsers(k.db, user), listItemTypes(k.db, user)
    ])
    const caseOf = new Map(cases.map(c => [c.id, c.title]))
    const nameOf = new Map(people.map(p => [p.id, p.name]))
    const typeOf = new Map(types.map(ty => [ty.id, ty]))
    const filter = (id: string, name: string, label: string, value: number | undefined, options: [number, string][]) =>
      field(id, label, html`<select id="${id}" name="${name}"><option value="">${t('tasks.filterAny')}</option>${options.map(([v, l]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${l}</option>`)}</select>`)
    return web.render(request, reply, {
      title: t('tasks.title'), current: '/tasks', notice: noticeOf(request),
      body: html`${await syncBadge(web, user)}<div class="toolbar"><a class="button" href="/tasks/new">${t('tasks.new')}</a></div>
      <form method="get" action="/tasks" class="inline filters">
        ${field('status-filter', t('tasks.filter'), html`<select id="status-filter" name="status"><option value="">${t('tasks.filter.all')}</option>${TASK_STATUSES.map(v => html`<option value="${v}"${v === status ? html` selected` : ''}>${t(`tasks.status.${v}`)}</option>`)}</select>`)}
        ${filter('type-filter', 'typeId', t('tasks.filterType'), typeId, types.filter(ty => ty.applies_to === 'task').map(ty => [ty.id, ty.name]))}
        ${filter('case-filter', 'caseId', t('tasks.filterCase'), caseId, cases.map(c => [c.id, c.title]))}
        ${filter('creator-filter', 'createdBy', t('tasks.filterCreator'), createdBy, people.map(p => [p.id, p.name]))}
        <label class="check"><input type="checkbox" name="withoutCase" value="1"${withoutCase ? html` checked` : ''}> ${t('tasks.withoutCaseOnly')}</label>
        <button type="submit" class="secondary">${t('tasks.filter.apply')}</button></form>
      ${page.items.length === 0 ? html`<p>${t('tasks.empty')}</p>` : html`<div class="table-wrap"><table class="list"><thead><tr>
        <th scope="col">${t('appt.title')}</th><th scope="col">${t('types.field')}</th><th scope="col">${t('tasks.status')}</th><th scope="col">${t('tasks.due')}</th><th scope="col">${t('appt.case')}</th><th scope="col">${t('tasks.assignee')}</th><th scope="col">${t('tasks.createdByCol')}</th><th scope="col">${t('tasks.createdAtCol')}</th></tr></thead><tbody>
        ${page.items.map(task => {
          const type = task.type_id === null ? undefined : typeOf.get(task.type_id)
          return html`<tr><td><a href="/tasks/${task.id}/edit">${task.title}</a></td>
          <td data-label="${t('types.field')}">${type === undefined ? '' : html`${swatch(type.color)}${type.name}`}</td>
          <td data-label="${t('tasks.status')}">${t(`tasks.status.${task.status}`)}</td>
          <td data-label="${t('tasks.due')}">${task.due_at === null ? '' : when(task.due_at, user.timezone)}</td>
          <td data-label="${t('appt.case')}">${task.case_id === null ? t('common.none') : caseOf.get(task.case_id) ?? ''}</td>
          <td data-label="${t('tasks.assignee')}">${nameOf.get(task.assignee_id) ?? ''}</td>
          <td data-label="${t('tasks.createdByCol')}">${nameOf.get(task.created_by) ?? ''}</td>
          <td data-label="${t('tasks.createdAtCol')}">${when(task.created_at, user.timezone)}</td></tr>`
        })}
        </tbody></table></div>`}`
    })
  })

  app.get('/tasks/new', async (request, reply) => taskPage(web, request, reply, { form: { status: 'open', assigneeId: String(web.session(request).user.id), calendarId: '' } }))

  app.post('/tasks', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      await createTask(k.db, web.actor(request), taskInput(f, zoneOf(request), null))
      return reply.code(303).header('location', '/tasks?done=task-saved').send()
    }, async err => taskPage(web, request, reply, { form: f, error: reasonOf(err), invalid: err.field, status: err.status }))
  })

  app.get('/tasks/:id/edit', async (request, reply) => {
    const task = await getTask(k.db, web.session(request).user, idParam(request))
    return taskPage(web, request, reply, { task, form: taskForm(task, zoneOf(request)) })
  })

  app.post('/tasks/:id', async (request, reply) => {
    const id = idParam(request)
    const user = web.session(request).user
    const task = await getTask(k.db, user, id)
    const f = web.form(request)
    return saving(async () => {
      await updateTask(k.db, web.actor(request), id, taskInput(f, user.timezone, taskForm(task, user.timezone)))
      return reply.code(303).header('location', '/tasks?done=task-saved').send()
    }, async err => taskPage(web, request, reply, { task, form: f, error: reasonOf(err), invalid: err.field, status: err.status }))
  })

  app.post('/tasks/:id/delete', async (request, reply) => {
    await deleteTask(k.db, web.actor(request), idParam(request))
    return reply.code(303).header('location', '/tasks?done=task-deleted').send()
  })

  // without case
  async function withoutCase (request: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string } = {}, status = 200) {
    const s = web.session(request)
    const user = s.user
    const [appts, tasks, cases] = await Promise.all([
      listAppointments(k.db, user, { withoutCase: true, limit: 500 }), listTasks(k.db, user, { withoutCase: true, limit: 500 }), listCases(k.db, user)
    ])
    const assign = (kind: 'appointments' | 'tasks', id: number, title: string) => cases.length === 0 ? '' : html`<form method="post" action="/${kind}/${id}/case" class="inline">${csrfField(s.csrf)}
      <label for="case-${kind}-${id}" class="visually-hidden">${t('cases.assignLabel', { title })}</label>
      <select id="case-${kind}-${id}" name="caseId" required><option value="">${t('cases.choose')}</option>${cases.map(c => html`<option value="${c.id}">${c.title}</option>`)}</select>
      <button type="submit" class="secondary">${t('cases.assign')}</button></form>`
    const startOf = (a: AppointmentView) => a.all_day ? a.start_date ?? '' : when(a.starts_at, user.timezone)
    return web.render(request, reply, {
      title: t('cases.title'), current: '/without-case', notice: extra.notice ?? null, error: extra.error ?? null,
      body: html`<p>${t('cases.intro')}</p>
      ${cases.length === 0 ? html`<p class="muted">${t('cases.noCases')}</p>` : ''}
      <h2>${t('cases.appointments')}</h2>
      ${appts.items.length === 0 ? html`<p>${t('cases.none')}</p>` : html`<div class="table-wrap"><table class="list"><tbody>
        ${appts.items.map(a => html`<tr><td><a href="/appointments/${a.id}/edit">${a.title}</a></td><td data-label="${t('appt.date')}">${startOf(a)}</td><td>${assign('appointments', a.id, a.title)}</td></tr>`)}</tbody></table></div>`}
      <h2>${t('cases.tasks')}</h2>
      ${tasks.items.length === 0 ? html`<p>${t('cases.none')}</p>` : html`<div class="table-wrap"><table class="list"><tbody>
        ${tasks.items.map(task => html`<tr><td><a href="/tasks/${task.id}/edit">${task.title}</a></td><td data-label="${t('tasks.status')}">${t(`tasks.status.${task.status}`)}</td><td>${assign('tasks', task.id, task.title)}</td></tr>`)}</tbody></table></div>`}
      <section class="card" aria-labelledby="newcase-h"><h2 id="newcase-h">${t('cases.newCase')}</h2>
        <form method="post" action="/cases" class="inline">${csrfField(s.csrf)}
          ${field('case-title', t('cases.caseTitle'), html`<input type="text" id="case-title" name="title" required maxlength="500">`)}
          ${field('case-kind', t('cases.kind'), select('kind', 'matter', (['matter', 'project', 'client'] as const).map(v => [v, t(`cases.kind.${v}`)]), 'case-kind'))}
          <button type="submit">${t('cases.create')}</button></form></section>`
    }, status)
  }

  app.get('/without-case', async (request, reply) => withoutCase(request, reply))

  for (const kind of ['appointments', 'tasks'] as const) {
    app.post(`/${kind}/:id/case`, async (request, reply) => {
      const id = idParam(request)
      const user = web.session(request).user
      const caseId = optionalId(web.form(request).caseId)
      return saving(async () => {
        if (caseId === undefined || caseId === null) throw new DomainError('invalid', 'choose a case', { field: 'caseId' })
        const item = kind === 'appointments'
          ? await updateAppointment(k.db, web.actor(request), id, { caseId })
          : await updateTask(k.db, web.actor(request), id, { caseId })
        const c = await getCase(k.db, user, caseId)
        return withoutCase(request, reply, { notice: t('cases.assigned', { title: item.title, case: c.title }) })
      }, async err => withoutCase(request, reply, { error: reasonOf(err) }, err.status))
    })
  }

  app.post('/cases', async (request, reply) => {
    const f = web.form(request)
    return saving(async () => {
      const c = await createCase(k.db, web.actor(request), { title: f.title, kind: f.kind as 'matter' })
      return withoutCase(request, reply, { notice: t('cases.createdCase', { title: c.title }) })
    }, async err => withoutCase(request, reply, { error: reasonOf(err) }, err.status))
  })
}

