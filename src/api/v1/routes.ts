import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Kalends } from '../../app.ts'
import type { User } from '../../db/schema.ts'
import { createApiToken, listApiTokens, revokeApiToken } from '../../auth/api-tokens.ts'
import { createAppPassword, listAppPasswords, revokeAppPassword } from '../../auth/app-passwords.ts'
import type { Actor } from '../../domain/actor.ts'
import { createAppointment, deleteAppointment, getAppointment, updateAppointment } from '../../domain/appointments.ts'
import { createCalendar, deleteCalendar, getCalendar, listCalendars, shareCalendar, sharesOf, updateCalendar } from '../../domain/calendars.ts'
import { createCase, createItemType, deleteCase, getCase, listCases, listItemTypes, updateCase } from '../../domain/cases.ts'
import { DomainError } from '../../domain/errors.ts'
import { changesSince } from '../../domain/journal.ts'
import { listAppointments, listTasks } from '../../domain/lists.ts'
import { createTask, deleteTask, getTask, updateTask } from '../../domain/tasks.ts'
import { createUser, getUser, listUsers, updateUser } from '../../domain/users.ts'
import { requireAdmin } from '../../domain/access.ts'
import { signedIn } from '../../http/authenticate.ts'
import * as S from './schemas.ts'
import { ifVersion, versioned } from './versions.ts'
import { appointmentView, calendarView, caseView, taskView, userView } from './views.ts'

declare module 'fastify' {
  interface FastifyRequest { user: User | null }
}

const actorOf = (request: FastifyRequest): Actor => ({ user: request.user!, origin: 'api' })


export async function apiV1 (app: FastifyInstance, k: Kalends): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>()
  const db = k.db

  api.addHook('onRequest', async (request, reply) => {
    const who = await signedIn(db, k.signIn, request)
    if (who === null) {
      reply.header('www-authenticate', 'Basic realm="Kalends", charset="UTF-8"')
      throw new DomainError('unauthorized', 'sign in with your user name and password, or an API token')
    }
    // a device's app password syncs calendars; it must not mint tokens or change the password
    if (who.credential === 'app-password') {
      throw new DomainError('forbidden', 'app passwords are for calendar and contact apps (CalDAV and feeds); the API takes your password or an API token (create one with POST /api/v1/tokens, signed in with your password)', { rule: 'app-password-not-for-api' })
    }
    request.user = who.user
  })

  api.get('/me', { schema: { tags: ['account'] } }, async request => userView(request.user!))

  // credentials
  api.get('/app-passwords', { schema: { tags: ['account'] } }, async request => (await listAppPasswords(db, request.user!)).map(p => ({ id: p.id, name: p.name, createdAt: p.created_at, lastUsedAt: p.last_used_at, lastUsedFrom: p.last_used_ip, revokedAt: p.revoked_at })))
  api.post('/app-passwords', { schema: { tags: ['account'], body: S.NamedSecret } }, async (request, reply) => reply.code(201).send(await createAppPassword(db, actorOf(request), request.body.name)))
  api.delete('/app-passwords/:id', { schema: { tags: ['account'], params: S.IdParams } }, async (request, reply) => { await revokeAppPassword(db, actorOf(request), request.params.id); return reply.code(204).send() })
  api.get('/tokens', { schema: { tags: ['account'] } }, async request => (await listApiTokens(db, request.user!)).map(t => ({ id: t.id, name: t.name, createdAt: t.created_at, lastUsedAt: t.last_used_at, revokedAt: t.revoked_at })))
  api.post('/tokens', { schema: { tags: ['account'], body: S.NamedSecret } }, async (request, reply) => reply.code(201).send(await createApiToken(db, actorOf(request), request.body.name)))
  api.delete('/tokens/:id', { schema: { tags: ['account'], params: S.IdParams } }, async (request, reply) => { await revokeApiToken(db, actorOf(request), request.params.id); return reply.code(204).send() })

  // users
  api.get('/users', { schema: { tags: ['users'] } }, async request => (await listUsers(db, request.user!)).map(userView))
  api.post('/users', { schema: { tags: ['users'], body: S.UserCreate } }, async (request, reply) => reply.code(201).send(userView(await createUser(db, actorOf(request), request.user!.org_id, request.body))))
  api.get('/users/:id', { schema: { tags: ['users'], params: S.IdParams } }, async request => userView(await getUser(db, request.user!, request.params.id)))
  api.patch('/users/:id', { schema: { tags: ['users'], params: S.IdParams, body: S.UserPatch } }, async request => {
    const user = await updateUser(db, actorOf(request), request.params.id, request.body, { confirmCurrent: (u, secret) => k.signIn.confirm(u, secret, request) })
    if (request.body.password !== undefined || request.body.disabled !== undefined) k.signIn.forget()
    return userView(user)
  })

  // calendars and shares
  api.get('/calendars', { schema: { tags: ['calendars'] } }, async request => (await listCalendars(db, request.user!)).map(calendarView))
  api.post('/calendars', { schema: { tags: ['calendars'], body: S.CalendarCreate } }, async (request, reply) => reply.code(201).send(calendarView(await createCalendar(db, actorOf(request), request.body))))
  api.get('/calendars/:id', { schema: { tags: ['calendars'], params: S.IdParams } }, async request => calendarView(await getCalendar(db, request.user!, request.params.id)))
  api.patch('/calendars/:id', { schema: { tags: ['calendars'], params: S.IdParams, body: S.CalendarPatch } }, async request => calendarView(await updateCalendar(db, actorOf(request), request.params.id, request.body)))
  api.delete('/calendars/:id', { schema: { tags: ['calendars'], params: S.IdParams } }, async (request, reply) => { await deleteCalendar(db, actorOf(request), request.params.id); return reply.code(204).send() })
  api.get('/calendars/:id/shares', { schema: { tags: ['calendars'], params: S.IdParams } }, async request => (await sharesOf(db, request.user!, request.params.id)).map(s => ({ userId: s.user_id, access: s.access, createdAt: s.created_at })))
  api.put('/calendars/:id/shares/:userId', { schema: { tags: ['calendars'], params: S.ShareParams, body: S.ShareBody } }, async (request, reply) => {
    await shareCalendar(db, actorOf(request), request.params.id, request.params.userId, request.body.access)
    return reply.code(204).send()
  })
  api.delete('/calendars/:id/shares/:userId', { schema: { tags: ['calendars'], params: S.ShareParams } }, async (request, reply) => {
    await shareCalendar(db, actorOf(request), request.params.id, request.params.userId, null)
    return reply.code(204).send()
  })

  // appointments
  api.get('/appointments', { schema: { tags: ['appointments'], querystring: S.ListQuery } }, async request => {
    const page = await listAppointments(db, request.user!, request.query)
    return { items: page.items.map(appointmentView), nextCursor: page.nextCursor }
  })
  api.post('/appointments', { schema: { tags: ['appointments'], body: S.AppointmentCreate } }, async (request, reply) => {
    const a = await createAppointment(db, actorOf(request), request.body)
    return versioned(reply.code(201), a).send(appointmentView(a))
  })
  api.get('/appointments/:id', { schema: { tags: ['appointments'], params: S.IdParams } }, async (request, reply) => {
    const a = await getAppointment(db, request.user!, request.params.id)
    return versioned(reply, a).send(appointmentView(a))
  })
  api.patch('/appointments/:id', { schema: { tags: ['appointments'], params: S.IdParams, body: S.AppointmentPatch } }, async (request, reply) => {
    const a = await updateAppointment(db, actorOf(request), request.params.id, request.body, { ifVersion: ifVersion(request) })
    return versioned(reply, a).send(appointmentView(a))
  })
  api.delete('/appointments/:id', { schema: { tags: ['appointments'], params: S.IdParams } }, async (request, reply) => {
    const result = await deleteAppointment(db, actorOf(request), request.params.id, { ifVersion: ifVersion(request) })
    return result === 'deleted' ? reply.code(204).send() : reply.code(200).send({ result })
  })

  // tasks
  api.get('/tasks', { schema: { tags: ['tasks'], querystring: S.ListQuery } }, async request => {
    const page = await listTasks(db, request.user!, request.query)
    return { items: page.items.map(taskView), nextCursor: page.nextCursor }
  })
  api.post('/tasks', { schema: { tags: ['tasks'], body: S.TaskCreate } }, async (request, reply) => {
    const t = await createTask(db, actorOf(request), request.body)
    return versioned(reply.code(201), t).send(taskView(t))
  })
  api.get('/tasks/:id', { schema: { tags: ['tasks'], params: S.IdParams } }, async (request, reply) => {
    const t = await getTask(db, request.user!, request.params.id)
    return versioned(reply, t).send(taskView(t))
  })
  api.patch('/tasks/:id', { schema: { tags: ['tasks'], params: S.IdParams, body: S.TaskPatch } }, async (request, reply) => {
    const t = await updateTask(db, actorOf(request), request.params.id, request.body, { ifVersion: ifVersion(request) })
    return versioned(reply, t).send(taskView(t))
  })
  api.delete('/tasks/:id', { schema: { tags: ['tasks'], params: S.IdParams } }, async (request, reply) => {
    await deleteTask(db, actorOf(request), request.params.id, { ifVersion: ifVersion(request) })
    return reply.code(204).send()
  })

  // cases and types
  api.get('/cases', { schema: { tags: ['cases'] } }, async request => (await listCases(db, request.user!)).map(caseView))
  api.post('/cases', { schema: { tags: ['cases'], body: S.CaseCreate } }, async (request, reply) => reply.code(201).send(caseView(await createCase(db, actorOf(request), request.body))))
  api.get('/cases/:id', { schema: { tags: ['cases'], params: S.IdParams } }, async request => caseView(await getCase(db, request.user!, request.params.id)))
  api.patch('/cases/:id', { schema: { tags: ['cases'], params: S.IdParams, body: S.CasePatch } }, async request => caseView(await updateCase(db, actorOf(request), request.params.id, request.body)))
  api.delete('/cases/:id', { schema: { tags: ['cases'], params: S.IdParams } }, async (request, reply) => { await deleteCase(db, actorOf(request), request.params.id); return reply.code(204).send() })
  api.get('/types', { schema: { tags: ['cases'] } }, async request => (await listItemTypes(db, request.user!)).map(t => ({ id: t.id, name: t.name, appliesTo: t.applies_to })))
  api.post('/types', { schema: { tags: ['cases'], body: S.TypeCreate } }, async (request, reply) => {
    const t = await createItemType(db, actorOf(request), request.body)
    return reply.code(201).send({ id: t.id, name: t.name, appliesTo: t.applies_to })
  })

  // the journal, for integrations that follow changes (admins)
  api.get('/changes', { schema: { tags: ['admin'], querystring: { type: 'object', properties: { since: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } }, additionalProperties: false } } }, async request => {
    requireAdmin(request.user!)
    const q = request.query as { since?: number; limit?: number }
    const rows = await changesSince(db, request.user!.org_id, q.since ?? 0, q.limit ?? 500)
    return rows.map(c => ({ seq: c.seq, entity: c.entity, entityId: c.entity_id, op: c.op, calendarId: c.calendar_id, objectName: c.object_name, origin: c.origin, actorId: c.actor_id, at: c.at, detail: c.detail }))
  })

  await app.register(import('./feeds.ts'), { k })
  await app.register(import('./connections.ts'), { k })
  await app.register(import('./contacts.ts'), { k })
}
