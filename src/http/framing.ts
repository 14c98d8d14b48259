import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { sendProblem } from './problem.ts'

/**
 * The parts of HTTP/1.1 message handling Node's server leaves to the
 * application: it refuses a request without Host (requireHostHeader) but keeps
 * the first of several, and it destroys the socket of a CONNECT nobody listens for.
 */
export function guardFraming (app: FastifyInstance): void {
  // RFC 9112 §3.2: a server MUST respond 400 to a request with more than one Host
  // header field line. Two hosts may have routed it differently on the way here,
  // so the connection is closed too.
  app.addHook('onRequest', async (request, reply) => {
    if ((request.raw.headersDistinct.host?.length ?? 0) < 2) return
    reply.header('connection', 'close')
    return sendProblem(reply, request, { type: 'urn:kalends:problem:http', title: 'Bad request', status: 400, detail: 'the request has more than one Host header field' })
  })
  app.server.on('connect', refuseConnect)
}

/**
 * CONNECT asks for a tunnel, which only a proxy gives (RFC 9110 §9.3.6): 501, the
 * answer for a method the server supports for no resource (RFC 9110 §15.6.2),
 * rather than a connection closed without a word. Fastify never sees it.
 */
function refuseConnect (request: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => { /* the client went away first */ })
  const body = JSON.stringify({ type: 'about:blank', title: 'Not implemented', status: 501, detail: 'CONNECT opens tunnels through proxies; this server is not one' })
  socket.end([
    'HTTP/1.1 501 Not Implemented',
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `Date: ${new Date().toUTCString()}`,
    'Connection: close',
    '', body
  ].join('\r\n'))
  request.resume()
}
