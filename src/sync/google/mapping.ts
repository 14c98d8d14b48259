import { createHash } from 'node:crypto'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import type { ItemKind } from '../../db/schema.ts'
import { wallToUtc } from '../../domain/ical-mapping.ts'
import { formatUtc } from '../../ical/time.ts'
import type { EventData, TaskData } from '../items.ts'
import type { Override } from '../overrides.ts'
import type { ItemRef, RemoteItem } from '../provider.ts'
import { MARKER, withExtras, withoutExtras } from '../description.ts'

/**
 * Google Calendar and Tasks resources <-> the engine's item data. The CRM
 * fields a connection writes go below a marker line in the description
 * (../description.ts), so the user's own text above it survives both ways.
 */
const REF_KEY = 'kalendsItem'

/**
 * Google lets the client choose event ids (base32hex, 5-1024 chars): one
 * derived from the CRM item makes a retried or repeated create a 409 instead
 * of a duplicate, and a reconnect finds the same events again.
 */
export function eventIdFor (ref: ItemRef): string {
  const digest = createHash('sha256').update(`${ref.kind}:${ref.uid}`).digest()
  let out = ''
  for (const byte of digest.subarray(0, 15)) out += byte.toString(32).padStart(2, '0')
  return `kal${out}`
}

function refOf (props: { [key: string]: string } | undefined | null): { kind: ItemKind; id: number } | null {
  const raw = props?.[REF_KEY]
  const m = raw === undefined ? null : /^(appointment|task):(\d+)$/.exec(raw)
  return m === null ? null : { kind: m[1] as ItemKind, id: Number(m[2]) }
}

export function toGoogleEvent (e: EventData, ref: ItemRef, extras: string[]): calendar_v3.Schema$Event {
  const recurrence: string[] = []
  if (e.rrule !== null) {
    recurrence.push(`RRULE:${e.rrule}`)
    for (const d of e.exdates) recurrence.push(e.allDay || !d.includes('T') ? `EXDATE;VALUE=DATE:${d.replace(/-/g, '')}` : `EXDATE:${formatUtc(Date.parse(d))}`)
  }
  return {
    summary: e.title,
    description: withExtras(e.description, extras),
    location: e.location,
    start: e.allDay ? { date: e.start } : { dateTime: e.start, timeZone: e.timezone ?? 'UTC' },
    end: e.allDay ? { date: e.end } : { dateTime: e.end, timeZone: e.timezone ?? 'UTC' },
    recurrence,
    status: e.status,
    visibility: e.private ? 'private' : 'default',
    transparency: e.busy ? 'opaque' : 'transparent',
    extendedProperties: { private: { [REF_KEY]: `${ref.kind}:${ref.id}` } }
  }
}

function instantOf (t: calendar_v3.Schema$EventDateTime | undefined): string {
  if (t?.dateTime != null) return new Date(t.dateTime).toISOString()
  return t?.date ?? ''
}

/** A wall time in a zone as an instant; UTC when the zone is unknown to this runtime. */
function instantIn (local: string, zone: string | null): string {
  if (zone !== null) {
    try {
      return wallToUtc(local, zone).toISOString()
    } catch {}
  }
  return new Date(`${local}Z`).toISOString()
}

/** EXDATEs as other clients write them too: UTC, dates, or wall times with TZID (else in the event's zone). */
function exdatesOf (lines: string[], eventZone: string | null): string[] {
  const out: string[] = []
  for (const line of lines) {
    const m = /^EXDATE(;[^:]*)?:(.*)$/i.exec(line)
    if (m === null) continue
    const tzid = /;TZID=([^;:]+)/i.exec(m[1] ?? '')?.[1] ?? null
    for (const v of (m[2] ?? '').split(',')) {
      const d = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(v.trim())
      if (d === null) continue
      out.push(d[4] === undefined ? `${d[1]}-${d[2]}-${d[3]}` : instantIn(`${d[1]}-${d[2]}-${d[3]}T${d[4]}:${d[5]}:${d[6]}`, d[7] === 'Z' ? null : (tzid ?? eventZone)))
    }
  }
  return out.sort()
}

export function fromGoogleEvent (ev: calendar_v3.Schema$Event): RemoteItem {
  const deleted = ev.status === 'cancelled'
  const allDay = ev.start?.date != null
  const rrule = (ev.recurrence ?? []).find(l => /^RRULE:/i.test(l))?.slice(6) ?? null
  const data: EventData | null = deleted
    ? null
    : {
        title: ev.summary ?? '',
        description: withoutExtras(ev.description ?? ''),
        location: ev.location ?? '',
        allDay,
        start: instantOf(ev.start),
        end: instantOf(ev.end ?? ev.start),
        timezone: allDay ? null : (ev.start?.timeZone ?? 'UTC'),
        rrule,
        exdates: rrule === null ? [] : exdatesOf(ev.recurrence ?? [], ev.start?.timeZone ?? null),
        status: ev.status === 'tentative' ? 'tentative' : 'confirmed',
        private: ev.visibility === 'private' || ev.visibility === 'confidential',
        busy: ev.transparency !== 'transparent',
        overrides: []
      }
  return {
    remoteId: ev.id ?? '',
    etag: ev.etag ?? null,
    deleted,
    data,
    ref: refOf(ev.extendedProperties?.private),
    uid: ev.iCalUID ?? null,
    attendees: (ev.attendees ?? []).filter(a => a.self !== true && a.resource !== true && a.email != null).map(a => a.email as string),
    updated: ev.updated == null ? null : new Date(ev.updated)
  }
}

/** Tasks have no hidden properties: the CRM reference rides in the notes' Kalends block. */
const TASK_REF = /^kalends:task:(\d+)$/m

export function toGoogleTask (t: TaskData, ref: ItemRef, extras: string[]): tasks_v1.Schema$Task {
  return {
    title: t.title,
    notes: withExtras(t.notes, [...extras, `kalends:task:${ref.id}`]),
    due: t.due === null ? null : `${t.due}T00:00:00.000Z`,
    status: t.completed === null ? 'needsAction' : 'completed',
    completed: t.completed
  }
}

export function fromGoogleTask (t: tasks_v1.Schema$Task): RemoteItem {
  const deleted = t.deleted === true
  const notes = t.notes ?? ''
  const m = TASK_REF.exec(notes.slice(Math.max(0, notes.lastIndexOf(MARKER))))
  const data: TaskData | null = deleted
    ? null
    : {
        title: t.title ?? '',
        notes: withoutExtras(notes),
        due: t.due == null ? null : t.due.slice(0, 10),
        completed: t.status === 'completed' ? new Date(t.completed ?? t.updated ?? Date.now()).toISOString() : null
      }
  return {
    remoteId: t.id ?? '',
    etag: t.etag ?? null,
    deleted,
    data,
    ref: m === null ? null : { kind: 'task', id: Number(m[1]) },
    uid: null,
    attendees: [],
    updated: t.updated == null ? null : new Date(t.updated)
  }
}

/**
 * A master and its exceptions as one item: cancelled instances join the
 * EXDATEs, edited ones become overrides.
 */
export function seriesItem (master: calendar_v3.Schema$Event, exceptions: calendar_v3.Schema$Event[]): RemoteItem {
  const item = fromGoogleEvent(master)
  const data = item.data as EventData | null
  if (data === null || data.rrule === null) return item
  const withOriginal = exceptions.filter(ev => ev.originalStartTime != null)
  const cancelled = withOriginal.filter(ev => ev.status === 'cancelled').map(ev => instantOf(ev.originalStartTime))
  const exdates = [...new Set([...data.exdates, ...cancelled])].sort()
  const overrides: Override[] = withOriginal.filter(ev => ev.status !== 'cancelled').map(ev => ({
    recurrenceId: instantOf(ev.originalStartTime),
    title: ev.summary ?? '',
    start: instantOf(ev.start),
    end: instantOf(ev.end ?? ev.start),
    location: ev.location ?? '',
    description: withoutExtras(ev.description ?? '')
  })).sort((a, b) => a.recurrenceId.localeCompare(b.recurrenceId))
  return { ...item, data: { ...data, exdates, overrides } }
}

/** Google's id for one occurrence of a series: the master's id and the original start. */
export function instanceId (masterId: string, recurrenceId: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(recurrenceId)
    ? `${masterId}_${recurrenceId.replace(/-/g, '')}`
    : `${masterId}_${formatUtc(Date.parse(recurrenceId))}`
}

/** The fields of one edited occurrence, as an instance update. */
export function toGoogleInstance (o: Override, e: EventData): calendar_v3.Schema$Event {
  const at = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) ? { date: v } : { dateTime: v, timeZone: e.timezone ?? 'UTC' }
  return { summary: o.title, location: o.location, description: o.description, start: at(o.start), end: at(o.end), originalStartTime: at(o.recurrenceId) }
}
