import type { FastifyRequest } from 'fastify'
import { DomainError, notFound } from '../domain/errors.ts'
import type { MessageId } from './messages.ts'
import { validDate } from './time.ts'

/** The :id of a page URL; anything but a positive whole number is simply not there. */
export function idParam (request: FastifyRequest, name = 'id'): number {
  const raw = (request.params as Record<string, string>)[name]
  const n = Number(raw)
  if (raw === undefined || !/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw notFound('page')
  return n
}

/** An optional id from a form field: '' is none. */
export function optionalId (value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined
  if (value === '') return null
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : -1
}

/** A page's own refusal of its address (a bad date in the URL): the error page shows it in the user's language. */
export class PageError extends DomainError {
  readonly messageId: MessageId
  readonly vars: Record<string, string>
  constructor (messageId: MessageId, vars: Record<string, string>, field: string) {
    super('invalid', `${field}: ${Object.values(vars).join(' ')}`, { field })
    this.messageId = messageId
    this.vars = vars
  }
}

/** A YYYY-MM-DD date from the query string; absent is null, anything else a 400 page that says so. */
export function dateQuery (request: FastifyRequest, name = 'date'): string | null {
  const value = (request.query as Record<string, unknown>)[name]
  if (value === undefined || value === '') return null
  const date = validDate(value)
  if (date === null) throw new PageError('error.badDate', { value: String(value).slice(0, 40) }, name)
  return date
}
