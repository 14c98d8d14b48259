import { startEwsEmulator, type EwsEmulator } from './server.ts'
import { child, childrenOf, NS, parse, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/** Helpers for tests that speak SOAP to the emulator the way Microsoft's examples do. */

export const PASSWORD = 'Secret-1'

export function envelope (body: string, header = '<t:RequestServerVersion Version="Exchange2013_SP1"/>'): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}">
  <soap:Header>${header}</soap:Header>
  <soap:Body>${body}</soap:Body>
</soap:Envelope>`
}

export const basic = (user: string, password = PASSWORD): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export type Answer = { status: number; text: string; xml: XmlElement | null; headers: Headers }

export async function post (em: EwsEmulator, xml: string, authorization: string | null = basic('alice@example.com')): Promise<Answer> {
  const res = await fetch(em.ewsUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', ...(authorization === null ? {} : { authorization }) }, body: xml })
  const text = await res.text()
  return { status: res.status, text, xml: text === '' ? null : parse(text), headers: res.headers }
}

/** An emulator that checks all its traffic against the schema on close, with alice@example.com. */
export async function startChecked (opts: Omit<Parameters<typeof startEwsEmulator>[0] & object, 'check'> = {}): Promise<EwsEmulator> {
  const em = await startEwsEmulator({ ...opts, check: true })
  em.addMailbox('alice@example.com', { name: 'Alice', password: PASSWORD })
  return em
}

/** The response messages of an answer. */
export function messages (a: Answer): XmlElement[] {
  const body = child(a.xml, NS.soap, 'Body')
  return childrenOf(child(body?.children[0], NS.m, 'ResponseMessages'), NS.m)
}

export const codeOf = (m: XmlElement | undefined): string | undefined => child(m, NS.m, 'ResponseCode')?.text

/** The SOAP fault's code and MessageXml of an answer. */
export function fault (a: Answer): { code: string; detail: XmlElement | null } {
  const f = child(child(a.xml, NS.soap, 'Body'), NS.soap, 'Fault')
  const detail = f?.children.find(c => c.name === 'detail') ?? null
  return { code: detail?.children.find(c => c.name === 'ResponseCode')?.text ?? '', detail }
}

/** Depth-first search for the first element of a name in the types namespace. */
export function find (e: XmlElement | null | undefined, name: string): XmlElement | null {
  if (e == null) return null
  if (e.ns === NS.t && e.name === name) return e
  for (const c of e.children) {
    const hit = find(c, name)
    if (hit !== null) return hit
  }
  return null
}

export function findAll (e: XmlElement | null | undefined, name: string, out: XmlElement[] = []): XmlElement[] {
  if (e == null) return out
  if (e.ns === NS.t && e.name === name) out.push(e)
  for (const c of e.children) findAll(c, name, out)
  return out
}

export const createCalendarItem = (props: string, send = 'SendToNone'): string => envelope(`
<m:CreateItem SendMeetingInvitations="${send}">
  <m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId>
  <m:Items><t:CalendarItem>${props}</t:CalendarItem></m:Items>
</m:CreateItem>`)

export const getItem = (ids: string[], shape = 'AllProperties', additional = ''): string => envelope(`
<m:GetItem>
  <m:ItemShape><t:BaseShape>${shape}</t:BaseShape>${additional === '' ? '' : `<t:AdditionalProperties>${additional}</t:AdditionalProperties>`}</m:ItemShape>
  <m:ItemIds>${ids.map(id => `<t:ItemId Id="${id}"/>`).join('')}</m:ItemIds>
</m:GetItem>`)

export const syncItems = (state: string | null, max = 512, folder = '<t:DistinguishedFolderId Id="calendar"/>'): string => envelope(`
<m:SyncFolderItems>
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>
  <m:SyncFolderId>${folder}</m:SyncFolderId>
  ${state === null ? '' : `<m:SyncState>${state}</m:SyncState>`}
  <m:MaxChangesReturned>${max}</m:MaxChangesReturned>
</m:SyncFolderItems>`)
