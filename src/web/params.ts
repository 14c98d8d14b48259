import type { FastifyRequest } from 'fastify'
import { notFound } from '../domain/errors.ts'

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
