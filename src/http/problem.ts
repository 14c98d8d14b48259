import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError, asDomainError } from '../domain/errors.ts'
import { IcalError } from '../ical/errors.ts'
import { fromAcceptLanguage } from '../web/locale.ts'
import { hasMessage, tIn } from '../web/messages.ts'

/** RFC 9457 problem details: what every non-DAV error answers with. */
export type Problem = { type: string; title: string; status: number; detail?: string; field?: string; rule?: string; instance?: string }

const TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Sign-in required', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed',
  409: 'Conflict', 412: 'Precondition failed', 413: 'Payload too large', 415: 'Unsupported media type',
  422: 'Business rule violated', 429: 'Too many requests', 500: 'Internal error', 503: 'Unavailable'
}

export function problemOf (thrown: unknown): Problem {
  const err = asDomainError(thrown)
  if (err instanceof DomainError) {
    return clean({ type: `urn:kalends:problem:${err.rule ?? err.kind}`, title: TITLES[err.status] ?? 'Error', status: err.status, detail: err.message, field: err.field, rule: err.rule })
  }
  if (err instanceof IcalError) {
    return { type: `urn:kalends:problem:${err.code}`, title: 'Invalid iCalendar data', status: 400, detail: err.message }
  }
  const fe = err as FastifyError & { validation?: { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string }; message?: string }[]; validationContext?: string }
  if (fe.validation !== undefined && fe.validation.length > 0) {
    const v = fe.validation[0]!
    const path = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.')
    const leaf = v.params?.missingProperty ?? v.params?.additionalProperty
    const field = [path, leaf].filter(Boolean).join('.') || fe.validationContext || 'body'
    return { type: 'urn:kalends:problem:invalid', title: 'Bad request', status: 400, detail: `${field}: ${v.message ?? 'invalid'}`, field }
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500
  if (status === 500) return { type: 'about:blank', title: TITLES[500]!, status }
  const detail = fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError ? `the body is not valid JSON: ${fe.message}` : fe.message
  return { type: `urn:kalends:problem:${fe.code ?? 'http'}`, title: TITLES[status] ?? 'Error', status, detail, ...(status === 400 ? { field: 'body' } : {}) }
}

function clean (p: Problem): Problem {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Problem
}

export function sendProblem (reply: FastifyReply, request: FastifyRequest, problem: Problem, headers: Record<string, string> = {}) {
  return reply.code(problem.status).headers(headers).type('application/problem+json').send({ ...problem, instance: request.url })
}

/**
 * The problem in the caller's language (Accept-Language): the title, and
 * the detail of a business rule that has its own text. `type`, `rule` and
 * `field` stay the stable English codes clients match on; an English caller
 * gets the domain's precise detail unchanged.
 */
export function problemIn (request: FastifyRequest, problem: Problem): Problem {
  const lang = fromAcceptLanguage(request.headers['accept-language'])
  if (lang === 'en') return problem
  const title = `problem.${problem.status}`
  const rule = `rule.${problem.rule ?? ''}`
  return {
    ...problem,
    ...(hasMessage(title) ? { title: tIn(lang, title) } : {}),
    ...(hasMessage(rule) ? { detail: tIn(lang, rule) } : {})
  }
}
