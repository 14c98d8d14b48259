import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import type { Kalends } from './app.ts'
import { apiV1 } from './api/v1/routes.ts'
import { caldav } from './caldav/plugin.ts'
import { DomainError } from './domain/errors.ts'
import { guardFraming } from './http/framing.ts'
import { problemIn, problemOf, sendProblem } from './http/problem.ts'
import { notFoundPage } from './web/plugin.ts'
import { logSafeUrl } from './http/log-safe-url.ts'
import { validatorCompiler } from './http/validation.ts'
import { registerHealth } from './ops/health.ts'
import { registerMetrics } from './ops/metrics.ts'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** A browser asking for a page (not the API, DAV or a machine endpoint): it gets HTML, not problem+json. */
const MACHINE = /^\/(api|dav|\.well-known|feeds|sync|metrics|healthz)(\/|$|\?)/
function wantsPage (request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && !MACHINE.test(request.url) && /\btext\/html\b/.test(request.headers.accept ?? '')
}

/** The HTTP face of one process: API, operations endpoints and, as they land, DAV, feeds and pages. */
export async function buildServer (k: Kalends, opts: { logStream?: { write (line: string): void } } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: k.config.logLevel,
      ...(opts.logStream === undefined ? {} : { stream: opts.logStream }),
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: {
        req: request => ({ id: request.id, method: request.method, url: logSafeUrl(request.url), remoteAddress: request.ip, userAgent: request.headers['user-agent'] })
      }
    },
    bodyLimit: k.config.maxBodyBytes,
    trustProxy: k.config.trustProxy,
    // a caller's x-request-id is echoed and logged: taken only when it is a plain short id
    requestIdHeader: false,
    genReqId: request => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    routerOptions: { ignoreTrailingSlash: true }
  })
  guardFraming(app)
  app.setValidatorCompiler(validatorCompiler)
  app.decorateRequest('user', null)
  app.addHook('onSend', async (request, reply) => { reply.header('x-request-id', request.id) })

  app.setErrorHandler(async (err, request, reply) => {
    const problem = problemOf(err)
    if (problem.status >= 500) request.log.error({ err }, 'request failed')
    const headers: Record<string, string> = {}
    if (err instanceof DomainError && err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds)
    if (problem.status === 401) headers['www-authenticate'] = 'Basic realm="Kalends", charset="UTF-8"'
    return sendProblem(reply, request, problemIn(request, problem), headers)
  })
  app.setNotFoundHandler(async (request, reply) => {
    if (wantsPage(request)) return notFoundPage(k, request, reply)
    return sendProblem(reply, request, problemIn(request, { type: 'about:blank', title: 'Not found', status: 404, detail: `nothing at ${request.method} ${request.url}` }))
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Kalends API', version: '1', description: 'The CRM store of appointments, tasks, calendars and cases.' },
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ basic: [] }, { bearer: [] }]
    }
  })
  registerHealth(app, k)
  registerMetrics(app, k.config.metricsToken)
  await app.register(import('./feeds/http.ts'), { k })
  await app.register(async api => {
    api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
    await api.register(async authed => apiV1(authed, k))
  }, { prefix: '/api/v1' })
  await app.register(async dav => caldav(dav, k))
  await app.register(import('./sync/http.ts'), { k })
  await app.register(import('./web/plugin.ts'), { k })
  return app
}
