import { createHash } from 'node:crypto'
import type { Appointment, Task } from '../db/schema.ts'
import { wallToUtc } from '../domain/ical-mapping.ts'
import { wallClock } from '../domain/values.ts'
import type { Override } from './overrides.ts'

/**
 * The provider-independent shape of what is synced. Providers map their
 * resources to and from it; the engine compares, hashes and applies it. The
 * description holds only the user's own text: the CRM fields a connection
 * writes into the external description are added and stripped by the
 * provider's mapping, so neither side's text is lost.
 */
export type EventData = {
  title: string
  description: string
  location: string
  allDay: boolean
  /** ISO instant, or a date (YYYY-MM-DD) when all-day */
  start: string
  /** exclusive end: ISO instant, or a date */
  end: string
  /** IANA zone of a timed event */
  timezone: string | null
  rrule: string | null
  /** ISO instants, or dates for all-day series */
  exdates: string[]
  status: 'confirmed' | 'tentative'
  private: boolean
  busy: boolean
  /** occurrences edited on their own, by original start */
  overrides: Override[]
}

export type TaskData = {
  title: string
  notes: string
  /** date only: the one thing Google Tasks keeps of a due time */
  due: string | null
  /** ISO instant when completed */
  completed: string | null
}

export type ItemData = EventData | TaskData

export function hashOf (data: ItemData | string[]): string {
  const sorted = Array.isArray(data) ? data : Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)))
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 32)
}

/** The date of an instant on the wall clock of a zone. */
export const dateIn = (instant: Date, zone: string): string => wallClock(instant, zone).date

export function eventOf (a: Appointment, overrides: Override[] = []): EventData {
  return {
    title: a.title,
    description: a.description,
    location: a.location,
    allDay: a.all_day,
    start: a.all_day ? String(a.start_date) : (a.starts_at as Date).toISOString(),
    end: a.all_day ? String(a.end_date) : (a.ends_at as Date).toISOString(),
    timezone: a.all_day ? null : (a.timezone ?? 'UTC'),
    rrule: a.rrule,
    exdates: [...a.exdates].sort(),
    // a cancelled appointment stays visible outside: Google reads "cancelled" as deleted
    status: a.status === 'tentative' ? 'tentative' : 'confirmed',
    private: a.private,
    busy: a.busy,
    overrides: a.rrule === null ? [] : overrides
  }
}

export function taskOf (t: Task, zone: string): TaskData {
  return {
    title: t.title,
    notes: t.description,
    due: t.due_at === null ? null : dateIn(t.due_at, zone),
    completed: t.status === 'done' ? (t.actual_end ?? t.updated_at).toISOString() : null
  }
}

/** Appointment input for the domain layer from synced event data. */
export function appointmentInput (e: EventData, current?: Appointment) {
  return {
    title: e.title.trim() === '' ? 'Untitled' : e.title,
    description: e.description,
    location: e.location,
    allDay: e.allDay,
    start: e.start,
    end: e.end,
    timezone: e.allDay ? null : e.timezone,
    rrule: e.rrule,
    exdates: e.exdates,
    // keep a CRM-side "cancelled": the outside world has no such state for a live event
    status: current?.status === 'cancelled' && e.status === 'confirmed' ? 'cancelled' as const : e.status,
    private: e.private,
    busy: e.busy
  }
}

/** Task input for the domain layer; a due date keeps the CRM's time of day when the day is unchanged. */
export function taskInput (d: TaskData, zone: string, current?: Task) {
  let due: string | null = null
  if (d.due !== null) {
    due = current?.due_at != null && dateIn(current.due_at, zone) === d.due
      ? current.due_at.toISOString()
      : wallToUtc(`${d.due}T00:00:00`, zone).toISOString()
  }
  const input: { title: string; description: string; due: string | null; status?: Task['status']; actualEnd?: string | null } = {
    title: d.title.trim() === '' ? 'Untitled' : d.title,
    description: d.notes,
    due
  }
  const wasDone = current?.status === 'done'
  if (d.completed !== null && !wasDone) Object.assign(input, { status: 'done', actualEnd: d.completed })
  // a task that stays done keeps the CRM's actual end: it is locked (rules.ts), and To Do
  // keeps its own completion time, so copying it back would revert every later edit made there
  if (d.completed === null && wasDone) Object.assign(input, { status: 'open', actualEnd: null })
  return input
}
