import { randomUUID } from 'node:crypto'
import { transact, type Db } from '../db/connect.ts'
import type { Task, TaskStatus, User } from '../db/schema.ts'
import { requireSameOrgUser, taskRole } from './access.ts'
import type { Actor } from './actor.ts'
import { defaultCalendarOf, writableCalendarFor } from './calendars.ts'
import { DomainError, invalid, notFound } from './errors.ts'
import { taskFields } from './ical-mapping.ts'
import { changedFields, record } from './journal.ts'
import { removeAllPlacements, requireFreeUid, syncPlacements, type ClientBody } from './objects.ts'
import { caseInOrg, typeInOrg } from './references.ts'
import { checkNewTask, checkTaskChange } from './rules.ts'
import { optionalInstant, text } from './values.ts'

export type TaskInput = {
  calendarId?: number
  uid?: string
  title?: string
  description?: string
  due?: string | null
  plannedStart?: string | null
  plannedEnd?: string | null
  actualStart?: string | null
  actualEnd?: string | null
  status?: TaskStatus
  typeId?: number | null
  caseId?: number | null
  assigneeId?: number
}

const STATUSES: TaskStatus[] = ['open', 'in_progress', 'review', 'done']

type Values = Omit<Task, 'id' | 'created_at' | 'updated_at' | 'version'>

async function normalize (tx: Db, actor: User, input: TaskInput, base: Values): Promise<Values> {
  const v: Values = { ...base }
  if (input.title !== undefined) v.title = text('title', input.title, { max: 1000, required: true })
  if (input.description !== undefined) v.description = text('description', input.description, { max: 100_000 })
  if (input.due !== undefined) v.due_at = optionalInstant('due', input.due)
  if (input.plannedStart !== undefined) v.planned_start = optionalInstant('plannedStart', input.plannedStart)
  if (input.plannedEnd !== undefined) v.planned_end = optionalInstant('plannedEnd', input.plannedEnd)
  if (input.actualStart !== undefined) v.actual_start = optionalInstant('actualStart', input.actualStart)
  if (input.actualEnd !== undefined) v.actual_end = optionalInstant('actualEnd', input.actualEnd)
  if (input.status !== undefined) {
    if (!STATUSES.includes(input.status)) throw invalid('status', `must be one of ${STATUSES.join(', ')}`)
    v.status = input.status
  }
  if (input.caseId !== undefined) v.case_id = input.caseId === null ? null : await caseInOrg(tx, actor, input.caseId, 'caseId')
  if (input.typeId !== undefined) v.type_id = input.typeId === null ? null : await typeInOrg(tx, actor, input.typeId, 'task', 'typeId')
  if (v.planned_start !== null && v.planned_end !== null && v.planned_end < v.planned_start) throw invalid('plannedEnd', 'must not be before plannedStart')
  if (v.actual_start !== null && v.actual_end !== null && v.actual_end < v.actual_start) throw invalid('actualEnd', 'must not be before actualStart')
  if (v.planned_start !== null && v.due_at !== null && v.due_at < v.planned_start) throw invalid('due', 'must not be before plannedStart')
  return v
}

async function snapshot (tx: Db, task: Task) {
  return { kind: 'task' as const, id: task.id, orgId: task.org_id, uid: task.uid, component: 'VTODO' as const, fields: await taskFields(tx, task) }
}

export async function createTask (db: Db, actor: Actor, input: TaskInput, opts: { clientBody?: ClientBody } = {}): Promise<Task> {
  return transact(db, async tx => {
    if (input.title === undefined) throw invalid('title', 'is required')
    const assigneeId = input.assigneeId ?? actor.user.id
    if (assigneeId !== actor.user.id) await requireSameOrgUser(tx, actor.user, assigneeId, 'assigneeId')
    // Assigning a task to a colleague puts it in their list; no share is needed for that.
    const calendarId = input.calendarId === undefined
      ? (await defaultCalendarOf(tx, assigneeId, 'tasks')).id
      : (await writableCalendarFor(tx, actor.user, input.calendarId, 'VTODO')).id
    const uid = input.uid === undefined ? randomUUID() : text('uid', input.uid, { max: 255, required: true, singleLine: true })
    await requireFreeUid(tx, calendarId, uid)
    const base: Values = {
      org_id: actor.user.org_id, uid, calendar_id: calendarId, title: '', description: '', due_at: null,
      planned_start: null, planned_end: null, actual_start: null, actual_end: null, status: 'open',
      type_id: null, case_id: null, assignee_id: assigneeId, created_by: actor.user.id
    }
    const values = await normalize(tx, actor.user, input, base)
    checkNewTask(actor.user, values)
    const task = await tx.insertInto('tasks').values(values).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: task.org_id, entity: 'task', entity_id: task.id, op: 'create', origin: actor.origin, actor_id: actor.user.id }])
    await syncPlacements(tx, await snapshot(tx, task), [{ calendarId: task.calendar_id }], { origin: actor.origin, actorId: actor.user.id, clientBody: opts.clientBody, op: 'create' })
    return task
  })
}

export async function loadTask (tx: Db, actor: User, id: number, need: 'read' | 'write'): Promise<Task> {
  // a writer locks the row, so a concurrent edit waits and then sees the new version
  let q = tx.selectFrom('tasks').selectAll().where('id', '=', id)
  if (need === 'write') q = q.forUpdate()
  const task = await q.executeTakeFirst()
  if (task === undefined) throw notFound('task')
  const role = await taskRole(tx, actor, task)
  if (!role.canRead) throw notFound('task')
  if (need === 'write' && !role.canWrite) throw new DomainError('forbidden', 'this task is in a list shared with you read-only', { rule: 'need-privileges' })
  return task
}

export async function getTask (db: Db, actor: User, id: number): Promise<Task> {
  return loadTask(db, actor, id, 'read')
}

export async function updateTask (db: Db, actor: Actor, id: number, input: TaskInput & { createdBy?: unknown; createdAt?: unknown }, opts: { ifVersion?: number; clientBody?: ClientBody } = {}): Promise<Task> {
  return transact(db, async tx => {
    const before = await loadTask(tx, actor.user, id, 'write')
    if (opts.ifVersion !== undefined && opts.ifVersion !== before.version) throw new DomainError('precondition-failed', `the task changed since version ${opts.ifVersion} (now ${before.version})`)
    if (input.createdBy !== undefined && input.createdBy !== before.created_by) throw invalid('createdBy', 'is set by the CRM when the task is created and cannot change')
    if (input.createdAt !== undefined && new Date(String(input.createdAt)).getTime() !== before.created_at.getTime()) throw invalid('createdAt', 'is set by the CRM when the task is created and cannot change')
    const { id: _id, created_at: _c, updated_at: _u, version: _v, ...base } = before
    const values = await normalize(tx, actor.user, input, base)
    if (input.assigneeId !== undefined && input.assigneeId !== before.assignee_id) {
      await requireSameOrgUser(tx, actor.user, input.assigneeId, 'assigneeId')
      values.assignee_id = input.assigneeId
      // Reassignment moves the task out of the old assignee's list into the new one's.
      const home = await tx.selectFrom('calendars').select('owner_id').where('id', '=', before.calendar_id).executeTakeFirstOrThrow()
      if (home.owner_id === before.assignee_id && input.calendarId === undefined) values.calendar_id = (await defaultCalendarOf(tx, input.assigneeId, 'tasks')).id
    }
    if (input.calendarId !== undefined && input.calendarId !== before.calendar_id) values.calendar_id = (await writableCalendarFor(tx, actor.user, input.calendarId, 'VTODO')).id
    checkTaskChange(actor.user, before, { ...before, ...values })
    const task = await tx.updateTable('tasks').set({ ...values, updated_at: new Date(), version: before.version + 1 })
      .where('id', '=', id).returningAll().executeTakeFirstOrThrow()
    await record(tx, [{ org_id: task.org_id, entity: 'task', entity_id: id, op: 'update', origin: actor.origin, actor_id: actor.user.id, detail: changedFields(before, task) }])
    await syncPlacements(tx, await snapshot(tx, task), [{ calendarId: task.calendar_id }], { origin: actor.origin, actorId: actor.user.id, clientBody: opts.clientBody, op: 'update' })
    return task
  })
}

export async function deleteTask (db: Db, actor: Actor, id: number, opts: { ifVersion?: number } = {}): Promise<void> {
  await transact(db, async tx => {
    const task = await loadTask(tx, actor.user, id, 'write')
    if (opts.ifVersion !== undefined && opts.ifVersion !== task.version) throw new DomainError('precondition-failed', 'the task changed meanwhile')
    await removeAllPlacements(tx, { kind: 'task', id, orgId: task.org_id }, { origin: actor.origin, actorId: actor.user.id })
    await tx.deleteFrom('tasks').where('id', '=', id).execute()
    await record(tx, [{ org_id: task.org_id, entity: 'task', entity_id: id, op: 'delete', origin: actor.origin, actor_id: actor.user.id, detail: { uid: task.uid } }])
  })
}
