import type { FastifyReply, FastifyRequest } from 'fastify'
import { DomainError } from '../../domain/errors.ts'

/** If-Match on the API carries the version an edit was based on: "v<version>". */
export function ifVersion (request: FastifyRequest): number | undefined {
  const h = request.headers['if-match']
  if (h === undefined || h === '*') return undefined
  const m = /^(?:W\/)?"v(\d+)"$/.exec(h.trim())
  if (m === null) throw new DomainError('precondition-failed', 'If-Match must be an ETag this API handed out, e.g. "v3"')
  return Number(m[1])
}

export const versioned = <T extends { version: number }>(reply: FastifyReply, item: T) => reply.header('etag', `"v${item.version}"`)
