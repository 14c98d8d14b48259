import { ItemError } from './soap.ts'
import type { Folder, Item, Store } from './store.ts'
import { child, childrenOf, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/** What an operation works with: the store and the mailbox the request acts as (the impersonated one, else the caller's). */
export type OpContext = {
  store: Store
  mailbox: string
  /** t:TimeZoneContext of the SOAP header, if any (web-service-reference/timezonecontext.md) */
  timeZoneContext: XmlElement | null
}

export type Operation = (ctx: OpContext, request: XmlElement) => string

/**
 * A t:FolderId or t:DistinguishedFolderId (with an optional Mailbox, for
 * delegate access) to a folder of a mailbox the caller may open
 * (web-service-reference/distinguishedfolderid.md).
 */
export function resolveFolder (ctx: OpContext, ref: XmlElement): Folder {
  if (ref.name === 'DistinguishedFolderId') {
    const other = child(child(ref, NS.t, 'Mailbox'), NS.t, 'EmailAddress')?.text?.toLowerCase()
    if (other !== undefined && other !== ctx.mailbox) throw new ItemError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.')
    const f = ctx.store.distinguished(ctx.mailbox, ref.attrs.Id ?? '')
    if (f === null) throw new ItemError('ErrorFolderNotFound', 'The specified folder could not be found in the store.')
    return f
  }
  const f = ctx.store.folders.get(ref.attrs.Id ?? '')
  if (f === undefined || f.mailbox !== ctx.mailbox) throw new ItemError('ErrorFolderNotFound', 'The specified folder could not be found in the store.')
  return f
}

/** The single folder reference inside a wrapper such as SyncFolderId or SavedItemFolderId. */
export function folderIn (ctx: OpContext, wrapper: XmlElement | null): Folder | null {
  const ref = childrenOf(wrapper, NS.t).find(c => c.name === 'FolderId' || c.name === 'DistinguishedFolderId')
  return ref === undefined ? null : resolveFolder(ctx, ref)
}

/** An item of the caller's mailbox by t:ItemId; a stale ChangeKey is the caller's business (UpdateItem checks it). */
export function resolveItem (ctx: OpContext, ref: XmlElement): Item {
  if (ref.name !== 'ItemId') throw new ItemError('ErrorInvalidIdMalformed', 'Id is malformed.')
  const id = ref.attrs.Id ?? ''
  const item = ctx.store.items.get(id)
  if (item === undefined || item.mailbox !== ctx.mailbox) {
    if (!/^[A-Za-z0-9+/=]+$/.test(id)) throw new ItemError('ErrorInvalidIdMalformed', 'Id is malformed.')
    throw new ItemError('ErrorItemNotFound', 'The specified object was not found in the store.')
  }
  return item
}
