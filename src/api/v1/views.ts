import type { Calendar, Case, Task, User } from '../../db/schema.ts'
import type { AppointmentView } from '../../domain/appointments.ts'
import type { VisibleCalendar } from '../../domain/access.ts'

/** The API's JSON shapes: camelCase, ISO dates, nothing internal. */
const iso = (d: Date | null) => d?.toISOString() ?? null

export const userView = (u: User) => ({
  id: u.id, login: u.login, name: u.name, email: u.email, role: u.role, disabled: u.disabled, timezone: u.timezone, language: u.language,
  canChangePlannedDates: u.can_change_planned_dates, canRenameCases: u.can_rename_cases, createdAt: iso(u.created_at)
})

export const calendarView = (c: Calendar | VisibleCalendar) => ({
  id: c.id, kind: c.kind, slug: c.slug, name: c.name, description: c.description, color: c.color, order: c.sort_order,
  timezone: c.timezone, components: c.components, ownerId: c.owner_id, isDefault: c.is_default,
  ...('access' in c ? { access: c.access } : {})
})

export const appointmentView = (a: AppointmentView) => ({
  id: a.id, uid: a.uid, calendarId: a.calendar_id, ownerId: a.owner_id, title: a.title, description: a.description,
  location: a.location, allDay: a.all_day,
  start: a.all_day ? a.start_date : iso(a.starts_at), end: a.all_day ? a.end_date : iso(a.ends_at),
  timezone: a.timezone, rrule: a.rrule, exdates: a.exdates, caseId: a.case_id, typeId: a.type_id, status: a.status,
  private: a.private, busy: a.busy, participantIds: a.participant_ids, createdBy: a.created_by,
  createdAt: iso(a.created_at), updatedAt: iso(a.updated_at), version: a.version
})

export const taskView = (t: Task) => ({
  id: t.id, uid: t.uid, calendarId: t.calendar_id, title: t.title, description: t.description, due: iso(t.due_at),
  plannedStart: iso(t.planned_start), plannedEnd: iso(t.planned_end), actualStart: iso(t.actual_start), actualEnd: iso(t.actual_end),
  status: t.status, typeId: t.type_id, caseId: t.case_id, assigneeId: t.assignee_id, createdBy: t.created_by,
  createdAt: iso(t.created_at), updatedAt: iso(t.updated_at), version: t.version
})

export const caseView = (c: Case) => ({ id: c.id, title: c.title, kind: c.kind, createdAt: iso(c.created_at), updatedAt: iso(c.updated_at) })
