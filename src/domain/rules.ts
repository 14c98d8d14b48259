import type { Task, User } from '../db/schema.ts'
import { ruleBroken } from './errors.ts'

/**
 * The CRM's business rules. They win over every client: CalDAV refuses the
 * edit with 403, sync reverts it at the source, the API answers 422.
 */
const STARTED = new Set(['in_progress', 'review', 'done'])

const same = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null)

export function checkTaskChange (actor: User, before: Task, after: Task): void {
  if (!same(before.actual_start, after.actual_start) && STARTED.has(before.status)) {
    throw ruleBroken('actual-start-locked', `the actual start of a task that is ${label(before.status)} cannot change`, 'actualStart')
  }
  if (!same(before.actual_end, after.actual_end) && before.status === 'done') {
    throw ruleBroken('actual-end-locked', 'the actual end of a done task cannot change', 'actualEnd')
  }
  if (!actor.can_change_planned_dates) {
    if (!same(before.planned_start, after.planned_start)) throw ruleBroken('planned-dates-locked', `${actor.name} may not change planned dates`, 'plannedStart')
    if (!same(before.planned_end, after.planned_end)) throw ruleBroken('planned-dates-locked', `${actor.name} may not change planned dates`, 'plannedEnd')
  }
}

export function checkNewTask (actor: User, task: Pick<Task, 'planned_start' | 'planned_end'>): void {
  if (!actor.can_change_planned_dates && (task.planned_start !== null || task.planned_end !== null)) {
    throw ruleBroken('planned-dates-locked', `${actor.name} may not set planned dates`, task.planned_start !== null ? 'plannedStart' : 'plannedEnd')
  }
}

/** Admins rename cases; users only where the organisation allows it and they have the permission. */
export function checkCaseRename (actor: User, before: { title: string }, title: string, usersMayRename: boolean): void {
  if (before.title === title || actor.role === 'admin') return
  if (!usersMayRename) throw ruleBroken('case-title-locked', 'in this organisation only an administrator may change the title of a case', 'title')
  if (!actor.can_rename_cases) throw ruleBroken('case-title-locked', `${actor.name} may not change the title of a case`, 'title')
}

function label (status: string): string {
  return { in_progress: 'in progress', review: 'ready for review', done: 'done', open: 'open' }[status] ?? status
}
