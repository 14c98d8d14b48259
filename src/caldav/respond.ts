import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { MultistatusWriter, serializeXml, type MultistatusResponse, type XmlElement } from '../dav/xml/index.ts'
import { DavError } from './errors.ts'

export const XML = 'application/xml; charset=utf-8'

export function sendXml (reply: FastifyReply, status: number, el: XmlElement) {
  return reply.code(status).header('content-type', XML).send(serializeXml(el))
}

export function sendMultistatus (reply: FastifyReply, responses: MultistatusResponse[], syncToken?: string) {
  const w = new MultistatusWriter()
  for (const r of responses) w.add(r)
  return sendWritten(reply, w, syncToken)
}

/**
 * A 207 from responses written as they were produced (MultistatusWriter).
 * A long answer goes out chunk by chunk with its Content-Length, so it is
 * never copied into one string.
 */
export function sendWritten (reply: FastifyReply, w: MultistatusWriter, syncToken?: string) {
  const chunks = w.finishChunks(syncToken)
  reply.code(207).header('content-type', XML)
  if (chunks.length === 1) return reply.send(chunks[0])
  let length = 0
  for (const c of chunks) length += Buffer.byteLength(c)
  return reply.header('content-length', String(length)).send(Readable.from(encoded(chunks), { objectMode: false }))
}

function * encoded (chunks: string[]): Generator<Buffer> {
  for (const c of chunks) yield Buffer.from(c)
}

/** The propstat pair of one resource: 200 for what it has, 404 for what it lacks. */
export function propResponse (href: string, found: XmlElement[], missing: XmlElement[]): MultistatusResponse {
  const propstats = []
  if (found.length > 0 || missing.length === 0) propstats.push({ status: 200, props: found })
  if (missing.length > 0) propstats.push({ status: 404, props: missing })
  return { href, propstats }
}

export type Depth = '0' | '1' | 'infinity'

export function depthOf (header: string | string[] | undefined, fallback: Depth): Depth {
  const v = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase()
  if (v === undefined || v === '') return fallback
  if (v === '0' || v === '1' || v === 'infinity') return v
  throw new DavError(400, `Depth must be 0, 1 or infinity, not "${v}"`)
}

/** ETags in If-Match / If-None-Match: '*' or a list; Evolution's backslash-escaped quotes are undone. */
export function etagList (header: string | string[] | undefined): string[] | '*' | undefined {
  if (header === undefined) return undefined
  const raw = (Array.isArray(header) ? header.join(',') : header).replaceAll('\\"', '"').trim()
  if (raw === '*') return '*'
  const tags = [...raw.matchAll(/(?:W\/)?("[^"]*")/g)].map(m => m[1]!)
  if (tags.length > 0) return tags
  // some clients (CalDAV Synchronizer's option) send ETags without quotes
  return raw.split(',').map(t => t.trim()).filter(t => t !== '').map(t => `"${t}"`)
}
