import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { DomainError } from '../domain/errors.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Sent by this host itself, not relayed: a reverse proxy on the same host adds Forwarded or X-Forwarded-For. */
function fromLoopback (request: FastifyRequest): boolean {
  const peer = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
  const loopback = peer === '::1' || (isIP(peer) === 4 && peer.startsWith('127.'))
  return loopback && request.headers.forwarded === undefined && request.headers['x-forwarded-for'] === undefined
}

/**
 * Who may read /metrics (route names, request counts, process figures): with
 * KALENDS_METRICS_TOKEN, whoever sends it as a Bearer token; without it, only
 * a scraper on this host.
 */
function requireScraper (request: FastifyRequest, token: string | null): void {
  if (token === null) {
    if (fromLoopback(request)) return
    throw new DomainError('forbidden', 'metrics are served to this host only; set KALENDS_METRICS_TOKEN to scrape them from elsewhere', { rule: 'metrics-loopback-only' })
  }
  const m = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')
  if (m === null || !timingSafeEqual(digest(m[1]!), digest(token))) throw new DomainError('unauthorized', 'send the metrics token as Authorization: Bearer <token>')
}

/** Prometheus metrics of one server: requests by route and status, latency, and the process's own. */
export function registerMetrics (app: FastifyInstance, token: string | null): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const requests = new Counter({ name: 'kalends_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [registry] })
  const latency = new Histogram({
    name: 'kalends_http_request_duration_seconds', help: 'Time to answer HTTP requests', labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry]
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ method: request.method, route, status: String(reply.statusCode) })
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    requireScraper(request, token)
    reply.type(registry.contentType)
    return registry.metrics()
  })
  return registry
}
