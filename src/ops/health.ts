import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { Kalends } from '../app.ts'

export function registerHealth (app: FastifyInstance, k: Kalends): void {
  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`SELECT 1`.execute(k.db)
      return { status: 'ok', database: k.handle.kind }
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', database: k.handle.kind, reason: (err as Error).message })
    }
  })
}
