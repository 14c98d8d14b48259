import type { CallHeaders } from '../run-header.ts'
import { AuthFailed, Transient } from '../provider.ts'
import { child, childrenOf, el, NS, parse, tv, type XmlElement } from '../microsoft/ews-xml.ts'

/**
 * SOAP 1.1 over HTTP to an Exchange EWS endpoint. Every request names the
 * schema version it speaks (RequestServerVersion; web-service-reference/requestserverversion.md)
 * and, for a service account, the mailbox it acts for (ExchangeImpersonation;
 * web-service-reference/exchangeimpersonation.md). Failures become the
 * engine's errors: 401 and refused impersonation → AuthFailed, 503 / bare
 * 500 / network → Transient, ErrorServerBusy → wait BackOffMilliseconds and
 * retry (exchange-web-services/ews-throttling-in-exchange.md), Transient when
 * it keeps refusing. The HTTP exchange itself is a Transport, so NTLM
 * (a handshake on one kept-alive connection) plugs in beside Basic and Bearer.
 */

export const EWS_VERSIONS = ['Exchange2010_SP2', 'Exchange2013', 'Exchange2013_SP1', 'Exchange2016'] as const
export type EwsVersion = typeof EWS_VERSIONS[number]

export type EwsAuth =
  | { kind: 'basic' | 'ntlm'; username: string; password: string }
  | { kind: 'bearer'; token: string }

export type HttpAnswer = { status: number; body: string }
/** One POST of a SOAP envelope, authenticated; throws on network failure. */
export type Transport = (url: string, envelope: string, headers?: CallHeaders) => Promise<HttpAnswer>

export type EwsTarget = {
  url: string
  version: EwsVersion
  /** the mailbox to act for through ExchangeImpersonation, or null for the caller's own */
  impersonate: string | null
}

/** The server's TLS certificate was not trusted: no later run will do better until someone fixes it. */
export class EwsTlsRefused extends Error {}

/** Exchange refused the mailbox rather than the login (ErrorImpersonateUserDenied, ErrorNonExistentMailbox, ErrorAccessDenied). */
export class EwsMailboxRefused extends AuthFailed {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** Network failures that a later run may not meet; TLS and address problems are the administrator's to fix. */
const PERMANENT_NET = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|ERR_INVALID_URL/

/** A failed connection (fetch's, with the cause inside, or node:http's own) as the engine's error. */
export function describeNetwork (e: unknown): Error {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code ?? (e as { code?: string }).code ?? ''
  if (PERMANENT_NET.test(code)) return new EwsTlsRefused(`the Exchange server's TLS certificate was refused (${code}); check the EWS URL or the server's certificate`)
  return new Transient(`the Exchange server cannot be reached (${code === '' ? (e as Error).message : code})`)
}

const authorization = (auth: EwsAuth): string => auth.kind !== 'bearer'
  ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  : `Bearer ${auth.token}`

export function fetchTransport (auth: EwsAuth, timeoutMs = 60_000): Transport {
  return async (url, envelope, headers = {}) => {
    let res: Response
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'text/xml; charset=utf-8', authorization: authorization(auth) },
        body: envelope,
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (e) {
      throw describeNetwork(e)
    }
    return { status: res.status, body: await res.text() }
  }
}

/** An answer read as it arrives (GetStreamingEvents holds its response open for up to 30 minutes). */
export type StreamAnswer = { status: number; body: AsyncIterable<Uint8Array> }
export type StreamTransport = (url: string, envelope: string, signal: AbortSignal) => Promise<StreamAnswer>

export function fetchStreamTransport (auth: EwsAuth): StreamTransport {
  return async (url, envelope, signal) => {
    let res: Response
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', authorization: authorization(auth) }, body: envelope, signal })
    } catch (e) {
      if (signal.aborted) throw e
      throw describeNetwork(e)
    }
    return { status: res.status, body: (res.body ?? (async function * () {})()) as AsyncIterable<Uint8Array> }
  }
}

/** The end of one SOAP envelope in a stream of them, whatever its prefix. */
const ENVELOPE_END = /<\/(?:[A-Za-z_][\w.-]*:)?Envelope\s*>/

/** A per-item response message: ResponseClass, ResponseCode, MessageText and the element itself. */
export type Message = { ok: boolean; code: string; text: string; el: XmlElement }

/** An EWS error of the whole request (a SOAP fault) that the engine has no name for. */
export class EwsFault extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

const faultCode = (fault: XmlElement): string => fault.children.find(c => c.name === 'detail')?.children.find(c => c.name === 'ResponseCode')?.text ?? ''

function backOffOf (fault: XmlElement): number | null {
  const detail = fault.children.find(c => c.name === 'detail')
  const xml = detail?.children.find(c => c.name === 'MessageXml')
  const value = xml?.children.find(c => c.name === 'Value' && c.attrs.Name === 'BackOffMilliseconds')?.text
  const ms = Number(value)
  return value === undefined || !Number.isFinite(ms) ? null : ms
}

export type ClientOptions = {
  /** the longest ErrorServerBusy back-off waited for within a run; longer ones end the run as Transient */
  maxBackOffMs?: number
  /** how often to wait and retry a busy server within one call */
  busyRetries?: number
  sleep?: (ms: number) => Promise<void>
  /** how answers that arrive in pieces are read (streaming notifications); without it stream() refuses */
  stream?: StreamTransport
  /** sent with every call (not with streams, which outlive a run): the run's id */
  headers?: CallHeaders
}

export class EwsClient {
  readonly target: EwsTarget
  /** the Exchange build of the last answer, from its ServerVersionInfo header (web-service-reference/serverversioninfo.md) */
  serverVersion: string | null = null
  readonly #transport: Transport
  readonly #opts: Required<Omit<ClientOptions, 'stream'>>
  readonly #stream: StreamTransport | null

  constructor (target: EwsTarget, transport: Transport, opts: ClientOptions = {}) {
    this.target = target
    this.#transport = transport
    this.#opts = {
      maxBackOffMs: opts.maxBackOffMs ?? 30_000,
      busyRetries: opts.busyRetries ?? 3,
      headers: opts.headers ?? {},
      sleep: opts.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)))
    }
    this.#stream = opts.stream ?? null
  }

  envelope (body: string): string {
    const impersonation = this.target.impersonate === null
      ? ''
      : el('t:ExchangeImpersonation', {}, el('t:ConnectingSID', {}, tv('PrimarySmtpAddress', this.target.impersonate)))
    return '<?xml version="1.0" encoding="utf-8"?>' +
      `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}">` +
      `<soap:Header>${el('t:RequestServerVersion', { Version: this.target.version })}${impersonation}</soap:Header>` +
      `<soap:Body>${body}</soap:Body></soap:Envelope>`
  }

  /** whether answers can be read as they arrive (GetStreamingEvents) */
  get canStream (): boolean { return this.#stream !== null }

  /** Sends one request (`body` is the m:Operation element) and returns its response messages in order. */
  async call (what: string, body: string): Promise<Message[]> {
    for (let attempt = 0; ; attempt++) {
      const read = this.#read(what, await this.#transport(this.target.url, this.envelope(body), this.#opts.headers))
      if (Array.isArray(read)) return read
      const wait = read.busyMs ?? this.#opts.maxBackOffMs
      if (attempt >= this.#opts.busyRetries || wait > this.#opts.maxBackOffMs) throw new Transient(`Exchange is busy (ErrorServerBusy, back off ${wait} ms) during ${what}`)
      await this.#opts.sleep(wait)
    }
  }

  /** The response messages of one answer, or how long ErrorServerBusy asks to wait; every other failure thrown as the engine's error. */
  #read (what: string, answer: HttpAnswer): Message[] | { busyMs: number | null } {
    if (answer.status === 401) {
      throw new AuthFailed(this.target.impersonate === null
        ? 'Exchange refused the login: the password is wrong or was changed, or the account is locked; enter it again'
        : 'Exchange refused the service account\'s login: an administrator has to enter its password again')
    }
    if (answer.status === 503 || answer.status === 502 || answer.status === 504) throw new Transient(`Exchange is unavailable (HTTP ${answer.status}) during ${what}`)
    let env: XmlElement
    try {
      env = parse(answer.body)
    } catch {
      if (answer.status >= 500) throw new Transient(`Exchange failed (HTTP ${answer.status}) during ${what}`)
      throw new Error(`Exchange answered ${what} with HTTP ${answer.status} and no SOAP: is the EWS URL right?`)
    }
    const info = child(child(env, NS.soap, 'Header'), NS.t, 'ServerVersionInfo')
    if (info !== null) this.serverVersion = ['MajorVersion', 'MinorVersion', 'MajorBuildNumber', 'MinorBuildNumber'].map(a => info.attrs[a] ?? '0').join('.')
    const soapBody = child(env, NS.soap, 'Body')
    const fault = child(soapBody, NS.soap, 'Fault')
    if (fault !== null) {
      const code = faultCode(fault)
      if (code === 'ErrorServerBusy') return { busyMs: backOffOf(fault) }
      throw faultError(code, fault, what, this.target.impersonate)
    }
    const response = soapBody?.children[0]
    return childrenOf(child(response, NS.m, 'ResponseMessages'), NS.m).map(m => ({
      ok: m.attrs.ResponseClass !== 'Error',
      code: child(m, NS.m, 'ResponseCode')?.text ?? '',
      text: child(m, NS.m, 'MessageText')?.text ?? '',
      el: m
    }))
  }

  /**
   * A request whose answer comes as a series of SOAP envelopes on one HTTP
   * response (GetStreamingEvents): each envelope's response messages go to
   * `each` as they arrive. Returns when the server ends the response.
   */
  async stream (what: string, body: string, signal: AbortSignal, each: (messages: Message[]) => Promise<void>): Promise<void> {
    if (this.#stream === null) throw new Error(`${what} needs a streaming connection, which this Exchange login's transport cannot hold`)
    const answer = await this.#stream(this.target.url, this.envelope(body), signal)
    const decoder = new TextDecoder()
    let buffered = ''
    if (answer.status !== 200) {
      // a refusal (401, a SOAP fault, 503) is one answer: read it whole
      for await (const chunk of answer.body) buffered += decoder.decode(chunk, { stream: true })
      await this.#each(what, answer.status, buffered, each)
      return
    }
    const flush = async (final: boolean) => {
      for (let m = ENVELOPE_END.exec(buffered); m !== null; m = ENVELOPE_END.exec(buffered)) {
        const end = m.index + m[0].length
        await this.#each(what, answer.status, buffered.slice(0, end), each)
        buffered = buffered.slice(end)
      }
      if (final && buffered.trim() !== '') await this.#each(what, answer.status, buffered, each)
    }
    const chunks = answer.body[Symbol.asyncIterator]()
    for (;;) {
      let next: IteratorResult<Uint8Array>
      try {
        next = await chunks.next()
      } catch (e) {
        if (signal.aborted) throw e
        throw describeNetwork(e)
      }
      if (next.done === true) break
      buffered += decoder.decode(next.value, { stream: true })
      await flush(false)
    }
    await flush(true)
  }

  async #each (what: string, status: number, xml: string, each: (messages: Message[]) => Promise<void>): Promise<void> {
    const read = this.#read(what, { status, body: xml.replace(/^\s*(<\?xml[^>]*\?>)?/, '') })
    if (!Array.isArray(read)) throw new Transient(`Exchange is busy (ErrorServerBusy, back off ${read.busyMs ?? '?'} ms) during ${what}`)
    await each(read)
  }

  /** One request with one response message that must succeed. */
  async one (what: string, body: string): Promise<XmlElement> {
    const [m] = await this.call(what, body)
    if (m === undefined) throw new Error(`Exchange answered ${what} without a response message`)
    if (!m.ok) throw messageError(m, what)
    return m.el
  }
}

function faultError (code: string, fault: XmlElement, what: string, impersonate: string | null): Error {
  const text = fault.children.find(c => c.name === 'faultstring')?.text ?? code
  switch (code) {
    case 'ErrorImpersonateUserDenied':
      return new EwsMailboxRefused(code, `the service account may not act for ${impersonate ?? 'this mailbox'}: an Exchange administrator has to grant it the ApplicationImpersonation role`)
    case 'ErrorNonExistentMailbox':
      return new EwsMailboxRefused(code, `Exchange has no mailbox ${impersonate ?? ''}`.trim())
    case 'ErrorAccessDenied':
      return new EwsMailboxRefused(code, `Exchange denied access during ${what}: ${text}`)
    case 'ErrorInternalServerTransientError':
    case 'ErrorMailboxStoreUnavailable':
    case 'ErrorTimeoutExpired':
      return new Transient(`Exchange failed for now during ${what} (${code})`)
  }
  return new EwsFault(code, `Exchange refused ${what}: ${code}: ${text}`)
}

/** A failed response message as an error; callers handle the codes they expect before this. */
export function messageError (m: Message, what: string): Error {
  if (m.code === 'ErrorServerBusy' || m.code === 'ErrorInternalServerTransientError' || m.code === 'ErrorMailboxStoreUnavailable') {
    return new Transient(`Exchange failed for now during ${what} (${m.code})`)
  }
  return new EwsFault(m.code, `Exchange refused ${what}: ${m.code}: ${m.text}`)
}
