import { chmodSync, existsSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Kalends } from '../app.ts'
import { DomainError } from '../domain/errors.ts'
import { problemOf } from '../http/problem.ts'
import { runAdminCommand, type AdminCommand } from './admin-commands.ts'

/**
 * With the embedded database the running server owns the data folder, so the
 * CLI's admin commands go through this Unix socket instead of opening it a
 * second time. The socket is readable by the folder's owner only.
 */
export const socketPath = (dataDir: string) => `${dataDir}/kalends.sock`

export async function listenAdminSocket (k: Kalends): Promise<FastifyInstance> {
  const path = socketPath(k.config.dataDir)
  if (existsSync(path)) rmSync(path)
  const app = Fastify({ logger: false })
  app.post('/command', async (request, reply) => {
    try {
      return await runAdminCommand(k, request.body as AdminCommand)
    } catch (err) {
      const p = problemOf(err)
      return reply.code(p.status).send(p)
    }
  })
  await app.listen({ path })
  chmodSync(path, 0o600)
  return app
}

export function sendAdminCommand (dataDir: string, command: AdminCommand): Promise<unknown> | null {
  const path = socketPath(dataDir)
  if (!existsSync(path)) return null
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: path, method: 'POST', path: '/command', headers: { 'content-type': 'application/json' } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { body += chunk })
      res.on('end', () => {
        const parsed = body === '' ? null : JSON.parse(body)
        if ((res.statusCode ?? 500) >= 400) reject(new DomainError(parsed?.status === 404 ? 'not-found' : 'invalid', parsed?.detail ?? parsed?.title ?? 'the server refused the command', { field: parsed?.field }))
        else resolve(parsed)
      })
    })
    req.on('error', err => reject(Object.assign(new Error(`the server's admin socket ${path} does not answer (${(err as NodeJS.ErrnoException).code}); is the server still running?`), { code: 'ESOCKET' })))
    req.end(JSON.stringify(command))
  })
}
