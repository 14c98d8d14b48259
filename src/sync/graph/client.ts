import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { rootCertificates } from 'node:tls'
import type { INetworkModule, NetworkResponse } from '@azure/msal-node'
import type { Config } from '../../config.ts'
import { AuthFailed, CursorExpired, RemoteConflict, Transient } from '../provider.ts'

/**
 * Where Microsoft lives: the identity platform's host, Graph's base URL and
 * a CA to trust besides the system's. Production uses Microsoft's own; tests
 * point MSAL and every Graph call at conformance/graph-emulator (over TLS,
 * since MSAL accepts only https authorities).
 */
export type GraphEndpoints = { authorityHost: string; baseUrl: string; ca: string[] | undefined }

export function graphEndpoints (cfg: Config['graph']): GraphEndpoints {
  return {
    authorityHost: cfg.authorityHost,
    baseUrl: cfg.baseUrl,
    ca: cfg.caFile === null ? undefined : [...rootCertificates, readFileSync(cfg.caFile, 'utf8')]
  }
}

export type HttpAnswer = { status: number; headers: Record<string, string>; text: string }

const flat = (h: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]))

/** One HTTP exchange (MSAL's token calls and Graph's alike), trusting the configured CA. */
export function send (ep: GraphEndpoints, method: string, url: string, headers: Record<string, string>, body?: string, timeoutMs = 30_000): Promise<HttpAnswer> {
  const u = new URL(url)
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(ep.ca === undefined ? {} : { ca: ep.ca }), timeout: timeoutMs }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: flat(res.headers), text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** MSAL's network module over send(): MSAL's own uses fetch, which cannot be told to trust a test CA. */
export function networkModule (ep: GraphEndpoints): INetworkModule {
  const exchange = async <T>(method: string, url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> => {
    const ask = () => send(ep, method, url, options?.headers ?? {}, options?.body)
    // MSAL's discovery GETs meet the same closed kept-alive sockets as GraphClient.call
    const res = await ask().catch(async (e: { code?: string }) => { if (method === 'GET' && e.code === 'ECONNRESET') return ask(); throw e })
    let body: unknown = {}
    try { body = res.text === '' ? {} : JSON.parse(res.text) } catch {}
    return { status: res.status, headers: res.headers, body: body as T }
  }
  return {
    sendGetRequestAsync: (url, options) => exchange('GET', url, options),
    sendPostRequestAsync: (url, options) => exchange('POST', url, options)
  }
}

/** Graph refused in a way not worth retrying (400, 403, 404 ...): a plain error to the engine. */
export class GraphRefused extends Error {
  readonly status: number
  readonly code: string
  constructor (message: string, status: number, code: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** A Graph error answer, sorted into what the engine does about it (errors.md, throttling.md, delta-query-overview.md). */
export function classify (status: number, code: string, message: string, what: string): Error {
  if (status === 401) return new AuthFailed(`Microsoft 365 refused the access token (${code}); reconnect the account`)
  if (status === 403 && (code === 'ErrorAccessDenied' || code === 'Authorization_RequestDenied')) return new AuthFailed(`Microsoft 365 denied access to ${what}; reconnect and allow calendars and tasks, or ask an admin to grant the app's permissions`)
  if (status === 410 || code === 'syncStateNotFound' || code === 'resyncRequired' || code === 'SyncStateNotFound') return new CursorExpired(`${what}: the delta token expired (${code})`)
  if (status === 412) return new RemoteConflict(`${what}: changed meanwhile`)
  if (status === 429 || status >= 500) return new Transient(`Microsoft 365 answered ${status} (${code}) to ${what}`)
  return new GraphRefused(`Microsoft 365 answered ${status} (${code}) to ${what}: ${message}`, status, code)
}

/** The access token for a call; `renew` after Graph refused the last one (401). */
export type TokenSource = (renew: boolean) => Promise<string>

export type GraphRequest = { method: string; path: string; body?: unknown; etag?: string | null; headers?: Record<string, string> }
export type GraphAnswer<T = Record<string, unknown>> = { status: number; body: T; headers: Record<string, string> }

/** How long a Retry-After is waited for in the run; a longer one ends the run as Transient (the job queue retries later). */
const MAX_WAIT_S = 30
const MAX_BATCH = 20 // concepts/json-batching.md

/**
 * Graph over HTTPS: immutable ids (outlook-immutable-id.md) and UTC times on
 * every call, If-Match when an etag is given, one token renewal on 401, and
 * 429/503 waited out as their Retry-After says (throttling.md) before the
 * run gives up as Transient. Ids and links Graph hands back (nextLink,
 * deltaLink) are used as given.
 */
export class GraphClient {
  readonly #ep: GraphEndpoints
  readonly #token: TokenSource
  readonly #headers: Record<string, string>
  /** Waits between throttled attempts (tests observe them instead of sleeping). */
  readonly sleep: (seconds: number) => Promise<void>

  constructor (ep: GraphEndpoints, token: TokenSource, headers: Record<string, string> = {}, sleep = (s: number) => new Promise<void>(resolve => setTimeout(resolve, s * 1000))) {
    this.#ep = ep
    this.#token = token
    this.#headers = headers
    this.sleep = sleep
  }

  url (path: string): string {
    return /^https?:/.test(path) ? path : `${this.#ep.baseUrl}${path}`
  }

  #requestHeaders (r: GraphRequest, token: string): Record<string, string> {
    return {
      ...this.#headers,
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      prefer: 'IdType="ImmutableId", outlook.timezone="UTC"',
      ...(r.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(r.etag == null ? {} : { 'if-match': r.etag }),
      ...r.headers
    }
  }

  /** One request; error answers come back as they are (status ≥ 400) only when `raw`, else thrown classified. */
  async call<T = Record<string, unknown>> (what: string, r: GraphRequest, raw = false): Promise<GraphAnswer<T>> {
    let renewed = false
    let resent = false
    for (let attempt = 0; ; attempt++) {
      const token = await this.#token(renewed)
      let res: HttpAnswer
      try {
        res = await send(this.#ep, r.method, this.url(r.path), this.#requestHeaders(r, token), r.body === undefined ? undefined : JSON.stringify(r.body))
      } catch (e) {
        // a kept-alive socket the server closed while the run worked (a long first import): a GET is asked again once, on a new one
        if (r.method === 'GET' && (e as { code?: string }).code === 'ECONNRESET' && !resent) { resent = true; continue }
        throw new Transient(`no answer from Microsoft 365 to ${what}: ${(e as Error).message}`)
      }
      let body: unknown
      try { body = res.text === '' ? undefined : JSON.parse(res.text) } catch { body = res.text }
      if (res.status === 401 && !renewed) { renewed = true; continue }
      if ((res.status === 429 || res.status === 503) && attempt < 3) {
        const wait = retryAfter(res.headers['retry-after'])
        if (wait <= MAX_WAIT_S) { await this.sleep(wait); continue }
      }
      if (res.status >= 400 && !raw) {
        const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error
        throw classify(res.status, err?.code ?? '', err?.message ?? res.text.slice(0, 200), what)
      }
      return { status: res.status, body: body as T, headers: res.headers }
    }
  }

  /**
   * JSON batching (json-batching.md): at most 20 requests a batch; answers
   * matched by id (Graph promises no order); a throttled inner request is
   * sent again after its Retry-After. Answers in the order of `requests`.
   */
  async batch<T = Record<string, unknown>> (what: string, requests: GraphRequest[]): Promise<GraphAnswer<T>[]> {
    const out: GraphAnswer<T>[] = new Array(requests.length)
    let pending = requests.map((_, i) => i)
    for (let round = 0; pending.length > 0; round++) {
      const throttled: number[] = []
      let wait = 0
      for (let at = 0; at < pending.length; at += MAX_BATCH) {
        const chunk = pending.slice(at, at + MAX_BATCH)
        const res = await this.call<{ responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] }>(what, {
          method: 'POST',
          path: '/$batch',
          body: {
            requests: chunk.map(i => {
              const r = requests[i]!
              const headers = { prefer: 'IdType="ImmutableId", outlook.timezone="UTC"', ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...(r.etag == null ? {} : { 'if-match': r.etag }), ...r.headers }
              return { id: String(i), method: r.method, url: r.path.replace(this.#ep.baseUrl, ''), headers, ...(r.body === undefined ? {} : { body: r.body }) }
            })
          }
        })
        for (const answer of res.body.responses) {
          const i = Number(answer.id)
          if ((answer.status === 429 || answer.status === 503) && round < 3) {
            throttled.push(i)
            wait = Math.max(wait, retryAfter(answer.headers?.['Retry-After'] ?? answer.headers?.['retry-after']))
            continue
          }
          out[i] = { status: answer.status, body: answer.body as T, headers: answer.headers ?? {} }
        }
      }
      if (throttled.length > 0) {
        if (wait > MAX_WAIT_S) throw new Transient(`Microsoft 365 throttled ${what} for ${wait} s`)
        await this.sleep(wait)
      }
      pending = throttled
    }
    return out
  }

  /** Every page of a collection (@odata.nextLink), and the deltaLink that ends a delta round. */
  async pages<T> (what: string, path: string, headers: Record<string, string> = {}): Promise<{ items: T[]; deltaLink: string | null }> {
    const items: T[] = []
    let next: string | null = path
    for (;;) {
      const res: GraphAnswer<{ value?: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }> = await this.call(what, { method: 'GET', path: next, headers })
      items.push(...(res.body.value ?? []))
      next = res.body['@odata.nextLink'] ?? null
      if (next === null) return { items, deltaLink: res.body['@odata.deltaLink'] ?? null }
    }
  }
}

/** Retry-After in seconds (throttling.md gives seconds); a missing or odd one waits a little. */
function retryAfter (header: string | undefined): number {
  const n = Number(header)
  if (Number.isFinite(n) && n >= 0) return n
  const at = Date.parse(header ?? '')
  return Number.isNaN(at) ? 2 : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

/** An answer of a batch or raw call as a thrown error when it failed. */
export function ok<T> (what: string, a: GraphAnswer<T>): T {
  if (a.status < 400) return a.body
  const err = (a.body as { error?: { code?: string; message?: string } } | undefined)?.error
  throw classify(a.status, err?.code ?? '', err?.message ?? '', what)
}

const gone = (e: unknown): boolean => e instanceof GraphRefused && (e.status === 404 || e.status === 410)

/** A read that may find the item gone: null then. */
export async function unlessGone<T> (fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn()
  } catch (e) {
    if (gone(e)) return null
    throw e
  }
}

/** A write to an item that must still be there: gone means a conflict the engine resolves by reading again. */
export async function updateExisting<T> (what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (gone(e)) throw new RemoteConflict(`${what}: it is gone`)
    throw e
  }
}

/**
 * A delete: an item already gone is done; one changed outside since we last
 * saw it (412) is deleted anyway, since the CRM's deletion still stands.
 */
export async function removeRemote (remove: (etag: string | null) => Promise<unknown>, etag: string | null): Promise<void> {
  try {
    await remove(etag)
  } catch (e) {
    if (gone(e)) return
    if (e instanceof RemoteConflict && etag !== null) return removeRemote(remove, null)
    throw e
  }
}
