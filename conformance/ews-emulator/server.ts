import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AUTH_SCHEMES, authenticate, challengesFor, type AuthScheme } from './auth.ts'
import { AUTODISCOVER_PATH, autodiscover, SOAP_AUTODISCOVER_PATH, soapAutodiscover, type AutodiscoverRedirect } from './autodiscover.ts'
import type { Operation, OpContext } from './context.ts'
import { control } from './control.ts'
import { deleteItem } from './delete-item.ts'
import { Faults } from './faults.ts'
import { findFolder, getFolder } from './folders.ts'
import { findItem } from './find-item.ts'
import { getItem } from './get-item.ts'
import { createItem } from './create-item.ts'
import { updateItem } from './update-item.ts'
import { SoapRecorder } from './schema-check.ts'
import { Notifications, type NotificationOptions } from './notifications.ts'
import { faultXml, SoapFault } from './soap.ts'
import { Store } from './store.ts'
import { syncFolderItems } from './sync.ts'
import { child, childrenOf, NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * An Exchange Web Services endpoint (POST /EWS/Exchange.asmx) on 127.0.0.1,
 * in memory, for the EWS provider's tests. Control methods are on the
 * returned object and at POST /__emulator/<method> (JSON array of arguments).
 */

const OPERATIONS: Record<string, Operation> = {
  GetFolder: getFolder,
  FindFolder: findFolder,
  FindItem: findItem,
  SyncFolderItems: syncFolderItems,
  GetItem: getItem,
  CreateItem: createItem,
  UpdateItem: updateItem,
  DeleteItem: deleteItem
}

export const EWS_PATH = '/EWS/Exchange.asmx'

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

type Parsed = { operation: string; header: XmlElement | null; request: XmlElement }

function parseEnvelope (body: string): Parsed {
  let env: XmlElement
  try {
    env = parse(body)
  } catch (e) {
    throw new SoapFault('ErrorSchemaValidation', `The request failed schema validation: ${(e as Error).message}`)
  }
  const soapBody = child(env, NS.soap, 'Body')
  if (env.ns !== NS.soap || env.name !== 'Envelope' || soapBody === null) throw new SoapFault('ErrorSchemaValidation', 'The request failed schema validation: a SOAP 1.1 Envelope with a Body is expected.')
  const request = soapBody.children[0]
  if (request === undefined || request.ns !== NS.m) throw new SoapFault('ErrorSchemaValidation', 'The request failed schema validation: the Body holds no EWS request.')
  return { operation: request.name, header: child(env, NS.soap, 'Header'), request }
}

/** Every ItemId a request names, at any depth. */
function itemIdsIn (e: XmlElement): string[] {
  return e.ns === NS.t && e.name === 'ItemId' && e.attrs.Id !== undefined ? [e.attrs.Id] : e.children.flatMap(itemIdsIn)
}

/**
 * The mailbox the request acts as: the ExchangeImpersonation header's, when
 * the caller holds the right for it (ErrorImpersonateUserDenied otherwise;
 * web-service-reference/exchangeimpersonation.md, responsecode.md).
 */
function actingMailbox (store: Store, caller: string, header: XmlElement | null): string {
  const sid = child(child(header, NS.t, 'ExchangeImpersonation'), NS.t, 'ConnectingSID')
  if (sid === null) return caller
  const by = childrenOf(sid, NS.t)[0]
  const target = by === undefined
    ? undefined
    : by.name === 'SID'
      ? [...store.mailboxes.values()].find(m => m.sid === by.text)?.smtp
      : by.name === 'PrincipalName'
        ? [...store.mailboxes.keys()].find(m => m === by.text.toLowerCase() || m.split('@')[0] === by.text.toLowerCase().split('@')[0])
        : by.text.toLowerCase()
  if (target === undefined || !store.mailboxes.has(target)) throw new SoapFault('ErrorNonExistentMailbox', 'The SMTP address has no mailbox associated with it.')
  if (target === caller) return caller
  const rights = store.impersonation.get(caller)
  if (rights === undefined || !(rights.has('*') || rights.has(target))) {
    throw new SoapFault('ErrorImpersonateUserDenied', 'The account does not have permission to impersonate the requested user.')
  }
  return target
}

export type EwsEmulatorOptions = {
  /** validate every request and response with xmllint against Microsoft's schema; close() rejects on a violation */
  check?: boolean
  /** subscription and stream timing (notifications.ts) */
  notifications?: NotificationOptions
}

export async function startEwsEmulator (opts: EwsEmulatorOptions = {}) {
  const store = new Store()
  const tokens = new Map<string, string>()
  const faults = new Faults()
  const schemes = new Set<AuthScheme>(AUTH_SCHEMES)
  const ctl = {
    ...control(store, tokens, faults),
    /** The schemes accepted from now on (all three at the start), e.g. ['ntlm'] for an IIS with Basic switched off. */
    requireAuth (only: AuthScheme[]) {
      schemes.clear()
      for (const s of only) schemes.add(s)
    }
  }
  const recorder = opts.check === true ? new SoapRecorder() : null
  const calls: string[] = []
  let ntlmChallenges = 0
  const refuse = (res: ServerResponse, challenge: string | null): void => {
    if (challenge !== null) ntlmChallenges++
    res.setHeader('www-authenticate', challenge === null ? challengesFor(schemes) : [challenge])
  }
  const notifications = new Notifications(store, (label, xml) => recorder?.record(label, xml), opts.notifications)
  const operations: Record<string, Operation> = { ...OPERATIONS, Subscribe: notifications.subscribe, Unsubscribe: notifications.unsubscribe, GetEvents: notifications.getEvents }

  function send (res: ServerResponse, status: number, xml: string | null, label: string): void {
    if (xml !== null) recorder?.record(`${label} response`, xml)
    res.writeHead(status, xml === null ? {} : { 'content-type': 'text/xml; charset=utf-8' })
    res.end(xml ?? '')
  }

  async function ews (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const auth = authenticate(store, tokens, req, schemes)
    if (!auth.ok) {
      refuse(res, auth.challenge)
      send(res, 401, null, '')
      return
    }
    let parsed: Parsed
    try {
      parsed = parseEnvelope(body)
    } catch (e) {
      send(res, 500, faultXml(e as SoapFault), 'unparsed')
      return
    }
    const { operation, header, request } = parsed
    calls.push(operation)
    // a request the emulator itself refuses as schema-invalid is meant to be invalid: it stays out of the record
    const recordRequest = () => recorder?.record(`${operation} request`, body)
    const injected = faults.take(operation)
    if (injected !== null && 'touch' in injected) {
      for (const id of itemIdsIn(request)) {
        const it = store.items.get(id)
        if (it !== undefined) store.touch(it)
      }
    } else if (injected !== null) {
      recordRequest()
      if (injected.status === 401) res.setHeader('www-authenticate', challengesFor(schemes))
      send(res, injected.status, injected.fault === null ? null : faultXml(injected.fault), operation)
      return
    }
    try {
      const ctx: OpContext = { store, mailbox: actingMailbox(store, auth.mailbox, header), timeZoneContext: child(header, NS.t, 'TimeZoneContext') }
      if (operation === 'GetStreamingEvents') {
        // answered in chunks as events happen; each envelope is recorded as it goes out
        notifications.stream(ctx, request, res)
        recordRequest()
        return
      }
      const op = operations[operation]
      if (op === undefined) throw new SoapFault('ErrorInvalidRequest', `The operation ${operation} is not emulated.`)
      send(res, 200, op(ctx, request), operation)
      recordRequest()
    } catch (e) {
      if (!(e instanceof SoapFault)) throw e
      if (e.code !== 'ErrorSchemaValidation') recordRequest()
      send(res, 500, faultXml(e), operation)
    }
  }

  /** Addresses Autodiscover redirects (both services); SOAP Autodiscover off answers 404, as Exchange 2007 or a proxy passing only .xml. */
  const redirects = new Map<string, AutodiscoverRedirect>()
  let soapOn = true

  /** POX and SOAP Autodiscover, signed in like EWS (autodiscover.ts). */
  async function discover (req: IncomingMessage, res: ServerResponse, soap: boolean): Promise<void> {
    const body = await readBody(req)
    if (soap && !soapOn) {
      res.writeHead(404).end()
      return
    }
    const auth = authenticate(store, tokens, req, schemes)
    if (!auth.ok) {
      refuse(res, auth.challenge)
      res.writeHead(401).end()
      return
    }
    calls.push(soap ? 'GetUserSettings' : 'Autodiscover')
    const answer = (soap ? soapAutodiscover : autodiscover)(store, body, `${url}${EWS_PATH}`, redirects)
    res.writeHead(answer.status, { 'content-type': 'text/xml; charset=utf-8' }).end(answer.xml)
  }

  async function controlCall (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const fn = (ctl as Record<string, unknown>)[method]
    if (typeof fn !== 'function') {
      res.writeHead(404).end()
      return
    }
    const raw = await readBody(req)
    const parsed: unknown = raw === '' ? [] : JSON.parse(raw)
    const result: unknown = (fn as (...a: unknown[]) => unknown).apply(ctl, Array.isArray(parsed) ? parsed : [parsed])
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? null))
  }

  let url = ''
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const work = url.pathname.startsWith('/__emulator/')
      ? controlCall(req, res, url.pathname.slice('/__emulator/'.length))
      : url.pathname.toLowerCase() === EWS_PATH.toLowerCase() && req.method === 'POST'
        ? ews(req, res)
        : (url.pathname.toLowerCase() === AUTODISCOVER_PATH || url.pathname.toLowerCase() === SOAP_AUTODISCOVER_PATH) && req.method === 'POST'
          ? discover(req, res, url.pathname.toLowerCase() === SOAP_AUTODISCOVER_PATH)
          : Promise.resolve(void res.writeHead(404).end())
    work.catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String((e as Error).stack ?? e))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    ...ctl,
    url,
    autodiscoverUrl: `${url}${AUTODISCOVER_PATH}`,
    soapAutodiscoverUrl: `${url}${SOAP_AUTODISCOVER_PATH}`,
    /** Autodiscover answers for `email` with a redirect to another address or Autodiscover URL (null: answers again) */
    autodiscoverRedirect: (email: string, to: AutodiscoverRedirect | null) => { if (to === null) redirects.delete(email.toLowerCase()); else redirects.set(email.toLowerCase(), to) },
    /** SOAP Autodiscover answers 404 while off: POX only */
    soapAutodiscover: (on: boolean) => { soapOn = on },
    ewsUrl: `${url}${EWS_PATH}`,
    store,
    calls: () => [...calls],
    /** NTLM CHALLENGE messages sent so far: one per handshake */
    ntlmChallenges: () => ntlmChallenges,
    /** notification subscriptions alive now, with their open streams */
    subscriptions: () => notifications.subscriptions(),
    /** subscriptions lapse now (one, or all): streams close, later calls answer ErrorSubscriptionNotFound */
    expireSubscriptions: (id?: string) => { notifications.expire(id) },
    /** open GetStreamingEvents connections end, 'dropped' (no closing envelope) or 'closed' (as at their timeout); returns how many */
    endStreams: (how?: 'closed' | 'dropped') => notifications.endStreams(how),
    /** Subscribe refuses streaming subscriptions (ErrorInvalidRequest) while set: pull only */
    refuseStreaming: (refuse = true) => { notifications.refuseStreaming = refuse },
    /** GetStreamingEvents connections opened so far */
    streamsOpened: () => notifications.opened,
    injectedFaults: () => [...faults.injected],
    /** Schema violations of the traffic so far (when started with check), clearing the record. */
    async schemaProblems (): Promise<string[]> {
      return recorder === null ? [] : await recorder.check()
    },
    async close (): Promise<void> {
      notifications.endStreams('dropped')
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      const problems = recorder === null ? [] : await recorder.check()
      if (problems.length > 0) throw new Error(`EWS emulator traffic broke the schema:\n${problems.join('\n\n')}`)
    }
  }
}

export type EwsEmulator = Awaited<ReturnType<typeof startEwsEmulator>>
