import { invalid } from '../domain/errors.ts'
import { dateOnly } from '../domain/values.ts'
import type { Window } from './provider.ts'

/** Which CRM contacts a Google connection pushes into the user's "Kalends" contact group (issue 13). */
export const CONTACT_SCOPES = ['off', 'company', 'cases'] as const
export type ContactScope = typeof CONTACT_SCOPES[number]

export const DESCRIPTION_FIELDS = ['case', 'type', 'status', 'participants', 'link'] as const
export type DescriptionField = typeof DESCRIPTION_FIELDS[number]

/** What the user chose for one connection. */
export type SyncOptions = {
  appointments: boolean
  tasks: boolean
  /** external calendar id ('primary' until chosen) */
  calendarId: string
  /** external task list id ('@default' until chosen) */
  taskListId: string
  /** CRM type given to items that arrive from outside */
  appointmentTypeId: number | null
  taskTypeId: number | null
  /** first bulk sync: from this date... */
  startDate: string | null
  /** ...or a window around today */
  daysBefore: number | null
  daysAfter: number | null
  /** CRM fields written into the external description, apart from the user's text */
  descriptionFields: DescriptionField[]
  /** how often to poll what cannot push (Google Tasks), and to reconcile the rest */
  pollMinutes: number
  /** contacts pushed to Google: none, all of the company's, or those of the user's cases */
  contacts: ContactScope
}

export const DEFAULT_OPTIONS: SyncOptions = {
  appointments: true,
  tasks: true,
  calendarId: 'primary',
  taskListId: '@default',
  appointmentTypeId: null,
  taskTypeId: null,
  startDate: null,
  daysBefore: null,
  daysAfter: null,
  descriptionFields: [],
  pollMinutes: 5,
  contacts: 'off'
}

const days = (field: string, v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 3650) throw invalid(field, 'must be a whole number of days from 0 to 3650')
  return n
}

const id = (field: string, v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw invalid(field, 'must be a type id')
  return n
}

const remoteId = (field: string, v: unknown, fallback: string): string => {
  if (v === undefined || v === null || v === '') return fallback
  if (typeof v !== 'string' || v.length > 1024 || /[\s/?#]/.test(v)) throw invalid(field, 'must be an id chosen from the list')
  return v
}

/** Validated options: what is missing keeps its current (or default) value. */
export function parseOptions (input: Record<string, unknown>, current: SyncOptions = DEFAULT_OPTIONS): SyncOptions {
  const o: SyncOptions = { ...current }
  if ('appointments' in input) o.appointments = Boolean(input.appointments)
  if ('tasks' in input) o.tasks = Boolean(input.tasks)
  if (!o.appointments && !o.tasks) throw invalid('appointments', 'choose appointments, tasks or both')
  if ('calendarId' in input) o.calendarId = remoteId('calendarId', input.calendarId, 'primary')
  if ('taskListId' in input) o.taskListId = remoteId('taskListId', input.taskListId, '@default')
  if ('appointmentTypeId' in input) o.appointmentTypeId = id('appointmentTypeId', input.appointmentTypeId)
  if ('taskTypeId' in input) o.taskTypeId = id('taskTypeId', input.taskTypeId)
  if ('startDate' in input) o.startDate = input.startDate === null || input.startDate === '' ? null : dateOnly('startDate', input.startDate)
  if ('daysBefore' in input) o.daysBefore = days('daysBefore', input.daysBefore)
  if ('daysAfter' in input) o.daysAfter = days('daysAfter', input.daysAfter)
  if ('descriptionFields' in input) {
    const list = Array.isArray(input.descriptionFields) ? input.descriptionFields : [input.descriptionFields]
    for (const f of list) if (!DESCRIPTION_FIELDS.includes(f as DescriptionField)) throw invalid('descriptionFields', `unknown field "${String(f)}"; one of ${DESCRIPTION_FIELDS.join(', ')}`)
    o.descriptionFields = [...new Set(list as DescriptionField[])]
  }
  if ('pollMinutes' in input) {
    const n = Number(input.pollMinutes)
    if (!Number.isInteger(n) || n < 1 || n > 1440) throw invalid('pollMinutes', 'must be from 1 to 1440 minutes')
    o.pollMinutes = n
  }
  if ('contacts' in input) {
    if (!CONTACT_SCOPES.includes(input.contacts as ContactScope)) throw invalid('contacts', `one of ${CONTACT_SCOPES.join(', ')}`)
    o.contacts = input.contacts as ContactScope
  }
  return o
}

export function optionsOf (stored: Record<string, unknown>): SyncOptions {
  return { ...DEFAULT_OPTIONS, ...stored } as SyncOptions
}

/** The first bulk sync's window; later incremental changes are taken whatever their date. */
export function windowOf (o: SyncOptions, now = new Date(), since: string | null = null): Window {
  const day = 86_400_000
  if (since !== null) return { from: new Date(`${since}T00:00:00Z`), to: null }
  if (o.startDate !== null) return { from: new Date(`${o.startDate}T00:00:00Z`), to: null }
  return {
    from: o.daysBefore === null ? null : new Date(now.getTime() - o.daysBefore * day),
    to: o.daysAfter === null ? null : new Date(now.getTime() + o.daysAfter * day)
  }
}
