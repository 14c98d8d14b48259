import { el, esc, NS, tv } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * SOAP envelopes as Exchange writes them: ServerVersionInfo in the header
 * (web-service-reference/serverversioninfo.md), one ResponseMessage per
 * request element with ResponseClass Success/Warning/Error and a
 * ResponseCode (web-service-reference/responsecode.md), or a SOAP fault for
 * errors of the whole request (the ErrorSchemaValidation example in
 * web-service-reference/findconversation-operation.md).
 */

const SERVER_VERSION = el('t:ServerVersionInfo', { MajorVersion: 15, MinorVersion: 2, MajorBuildNumber: 1544, MinorBuildNumber: 4, Version: 'V2018_01_08' })

export function envelope (body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap}" xmlns:m="${NS.m}" xmlns:t="${NS.t}">` +
    `<soap:Header>${SERVER_VERSION}</soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
}

/** An EWS error: a ResponseCode, its message and the optional MessageXml. */
class EwsError extends Error {
  readonly code: string
  readonly messageXml: string | null
  constructor (code: string, message: string, messageXml: string | null = null) {
    super(message)
    this.code = code
    this.messageXml = messageXml
  }
}

/** A per-item error: the rest of the batch still succeeds. */
export class ItemError extends EwsError {}

/** An error of the whole request, answered as a SOAP fault with HTTP 500. */
export class SoapFault extends EwsError {}

export function faultXml (f: SoapFault): string {
  const code = el('faultcode', { 'xmlns:a': NS.t }, `a:${f.code}`)
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}"><s:Body><s:Fault>${code}` +
    el('faultstring', { 'xml:lang': 'en-US' }, esc(f.message)) +
    el('detail', {},
      el('e:ResponseCode', { 'xmlns:e': NS.e }, f.code),
      el('e:Message', { 'xmlns:e': NS.e }, esc(f.message)),
      f.messageXml === null ? null : el('t:MessageXml', { 'xmlns:t': NS.t }, f.messageXml)) +
    '</s:Fault></s:Body></s:Envelope>'
}

/** The back-off hint of ErrorServerBusy (exchange-web-services/ews-throttling-in-exchange.md, table 4). */
export const backOffXml = (ms: number): string => el('t:Value', { Name: 'BackOffMilliseconds' }, String(ms))

export type Outcome = { ok: string } | { error: ItemError }

/** Runs one element of a batch: an ItemError becomes that element's error message. */
export function attempt (fn: () => string): Outcome {
  try {
    return { ok: fn() }
  } catch (e) {
    if (e instanceof ItemError) return { error: e }
    throw e
  }
}

/** `<m:XResponseMessage>` for one outcome; `ok` holds the message's own elements after ResponseCode. */
export function responseMessage (operation: string, outcome: Outcome): string {
  const name = `m:${operation}ResponseMessage`
  if ('ok' in outcome) return el(name, { ResponseClass: 'Success' }, el('m:ResponseCode', {}, 'NoError'), outcome.ok)
  const e = outcome.error
  return el(name, { ResponseClass: 'Error' },
    el('m:MessageText', {}, esc(e.message)),
    el('m:ResponseCode', {}, e.code),
    el('m:DescriptiveLinkKey', {}, '0'),
    e.messageXml === null ? null : el('m:MessageXml', {}, e.messageXml),
    errorTail(operation))
}

/** Elements some response messages require even in error (SyncFolderItems: none; GetItem: an empty Items). */
function errorTail (operation: string): string | null {
  if (operation === 'GetItem' || operation === 'CreateItem' || operation === 'UpdateItem') return el('m:Items')
  if (operation === 'GetFolder' || operation === 'FindFolder') return operation === 'GetFolder' ? el('m:Folders') : null
  return null
}

export function response (operation: string, messages: string[]): string {
  return envelope(el(`m:${operation}Response`, {}, el('m:ResponseMessages', {}, ...messages)))
}

export { tv }
