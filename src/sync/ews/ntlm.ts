import type { CallHeaders } from '../run-header.ts'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { createRequire } from 'node:module'
import { describeNetwork, type HttpAnswer, type Transport } from './client.ts'

/**
 * NTLM over HTTP for on-premises Exchange ([MS-NLMP]; IIS in front of EWS
 * offers "Negotiate, NTLM"). The messages and the NTLMv2 response come from
 * httpntlm's ntlm module (maintained, MIT), not from code of our own. NTLM
 * authenticates the TCP connection, not the request: NEGOTIATE → 401 with a
 * CHALLENGE → AUTHENTICATE with the body, on one kept-alive socket, which
 * IIS then treats as signed in for the requests that follow. So requests go
 * one at a time over an agent of one socket, without a header while that
 * socket is known good, and the handshake runs again whenever a 401 says it
 * is not (a new socket, a server restart, a changed password).
 */

type Type2 = { serverChallenge: Buffer; negotiateFlags: number; targetInfo?: Buffer }
type NtlmOptions = { username: string; password: string; domain: string; workstation: string }
export type NtlmModule = {
  createType1Message (o: NtlmOptions): string
  parseType2Message (header: string, onError: (e: Error) => void): Type2 | null
  createType3Message (msg2: Type2, o: NtlmOptions): string
  create_NT_hashed_password (password: string): Buffer
}

export const ntlm = (createRequire(import.meta.url)('httpntlm') as { ntlm: NtlmModule }).ntlm

export type NtlmLogin = { username: string; password: string }

/** DOMAIN\user splits into its parts; user@domain (a UPN) is sent whole with no domain, as Windows does. */
export function ntlmOptions (login: NtlmLogin): NtlmOptions {
  const slash = login.username.indexOf('\\')
  return slash > 0
    ? { username: login.username.slice(slash + 1), domain: login.username.slice(0, slash), password: login.password, workstation: '' }
    : { username: login.username, domain: '', password: login.password, workstation: '' }
}

function send (url: URL, agent: HttpAgent, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpAnswer & { challenge: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'keep-alive', ...headers },
      timeout: timeoutMs
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const challenge = (res.headersDistinct['www-authenticate'] ?? []).find(h => /^NTLM\s+\S/i.test(h.trim())) ?? ''
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), challenge: challenge.trim() })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(body)
  })
}

export function ntlmTransport (login: NtlmLogin, timeoutMs = 60_000): Transport {
  const options = ntlmOptions(login)
  const agents = new Map<string, HttpAgent>()
  const agentFor = (url: URL) => {
    let agent = agents.get(url.protocol)
    if (agent === undefined) {
      agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1 }) : new HttpAgent({ keepAlive: true, maxSockets: 1 })
      agents.set(url.protocol, agent)
    }
    return agent
  }
  let signedIn = false
  let queue: Promise<unknown> = Promise.resolve()

  async function exchange (target: string, envelope: string, headers: CallHeaders): Promise<HttpAnswer> {
    const url = new URL(target)
    const agent = agentFor(url)
    try {
      if (signedIn) {
        const answer = await send(url, agent, headers, envelope, timeoutMs)
        if (answer.status !== 401) return answer
        signedIn = false
      }
      // NEGOTIATE carries no body: the server answers it with the challenge only ([MS-NLMP] 3.1.5.1.1)
      const first = await send(url, agent, { ...headers, authorization: ntlm.createType1Message({ ...options }) }, '', timeoutMs)
      if (first.status !== 401 || first.challenge === '') return { status: first.status === 401 ? 401 : first.status, body: first.body }
      let failed: Error | null = null
      const type2 = ntlm.parseType2Message(first.challenge, e => { failed = e })
      if (type2 === null) return { status: 401, body: failed === null ? '' : (failed as Error).message }
      const answer = await send(url, agent, { ...headers, authorization: ntlm.createType3Message(type2, { ...options }) }, envelope, timeoutMs)
      signedIn = answer.status !== 401
      return answer
    } catch (e) {
      signedIn = false
      throw describeNetwork(e)
    }
  }

  return (url, envelope, headers = {}) => {
    const next = queue.then(() => exchange(url, envelope, headers))
    queue = next.catch(() => undefined)
    return next
  }
}
