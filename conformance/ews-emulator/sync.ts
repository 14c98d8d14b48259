import { folderIn, type Operation } from './context.ts'
import { renderItem, shapeOf } from './items.ts'
import type { Store } from './store.ts'
import { attempt, ItemError, response, responseMessage, SoapFault } from './soap.ts'
import { child, childrenOf, el, NS } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * SyncFolderItems (web-service-reference/syncfolderitems-operation.md,
 * exchange-web-services/mailbox-synchronization-and-ews-in-exchange.md):
 * no SyncState = everything in the folder as Create; then the net change of
 * each item since the state (created and deleted in between = nothing), in
 * the order of the changes, at most MaxChangesReturned (1-512, types.xsd
 * MaxSyncChangesReturnedType) per call, IncludesLastItemInRange false while
 * more remain. A state that is not one this server gave for this folder, or
 * one expired by the control API, answers ErrorInvalidSyncStateData
 * (web-service-reference/responsecode.md;
 * exchange-web-services/handling-synchronization-related-errors-in-ews-in-exchange.md).
 */

type Net = { itemId: string; kind: 'Create' | 'Update' | 'Delete' }

export const syncFolderItems: Operation = (ctx, req) => {
  const max = Number(child(req, NS.m, 'MaxChangesReturned')?.text ?? '')
  if (!Number.isInteger(max) || max < 1 || max > 512) {
    throw new SoapFault('ErrorSchemaValidation', 'The request failed schema validation: The \'MaxChangesReturned\' element is invalid - The value is invalid according to its datatype \'http://schemas.microsoft.com/exchange/services/2006/types:MaxSyncChangesReturnedType\' - The MaxInclusive constraint failed.')
  }
  const shape = shapeOf(child(req, NS.m, 'ItemShape'))
  const ignore = new Set(childrenOf(child(req, NS.m, 'Ignore'), NS.t, 'ItemId').map(i => i.attrs.Id))
  return response('SyncFolderItems', [responseMessage('SyncFolderItems', attempt(() => {
    const folder = folderIn(ctx, child(req, NS.m, 'SyncFolderId'))
    if (folder === null) throw new ItemError('ErrorFolderNotFound', 'The specified folder could not be found in the store.')
    const stateText = child(req, NS.m, 'SyncState')?.text ?? ''
    const from = stateText === '' ? 0 : ctx.store.readSyncState(folder, stateText)
    if (from === null) throw new ItemError('ErrorInvalidSyncStateData', 'Synchronization state data is corrupt or otherwise invalid.')
    const { changes, through, complete } = netChanges(ctx.store, folder.id, from, max)
    const rendered = changes.filter(c => !ignore.has(c.itemId)).map(c => {
      if (c.kind === 'Delete') return el('t:Delete', {}, el('t:ItemId', { Id: c.itemId }))
      const item = ctx.store.items.get(c.itemId)
      return item === undefined ? null : el(`t:${c.kind}`, {}, renderItem(ctx.store, item, shape))
    })
    return el('m:SyncState', {}, ctx.store.syncState(folder, through)) +
      el('m:IncludesLastItemInRange', {}, String(complete)) +
      el('m:Changes', {}, ...rendered)
  }))])
}

/**
 * Walks the change log after `from`, folding each item's changes into one,
 * until `max` items are covered; `through` is the last log entry consumed.
 */
function netChanges (store: Store, folderId: string, from: number, max: number): { changes: Net[]; through: number; complete: boolean } {
  const existedBefore = new Map<string, boolean>()
  const existsNow = new Map<string, boolean>()
  const order: string[] = []
  let through = from
  for (const change of store.log) {
    if (change.folderId !== folderId) {
      if (change.seq > from) through = change.seq
      continue
    }
    if (change.seq <= from) {
      existedBefore.set(change.itemId, change.exists)
      continue
    }
    if (!existsNow.has(change.itemId)) {
      if (order.length === max) return { changes: fold(order, existedBefore, existsNow), through, complete: false }
      order.push(change.itemId)
    }
    existsNow.set(change.itemId, change.exists)
    through = change.seq
  }
  return { changes: fold(order, existedBefore, existsNow), through: store.head, complete: true }
}

function fold (order: string[], before: Map<string, boolean>, now: Map<string, boolean>): Net[] {
  const out: Net[] = []
  for (const itemId of order) {
    const was = before.get(itemId) ?? false
    const is = now.get(itemId) ?? false
    if (!was && is) out.push({ itemId, kind: 'Create' })
    else if (was && is) out.push({ itemId, kind: 'Update' })
    else if (was && !is) out.push({ itemId, kind: 'Delete' })
  }
  return out
}
