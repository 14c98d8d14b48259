import { resolveItem, type Operation, type OpContext } from './context.ts'
import { renderItem, shapeOf } from './items.ts'
import { resolveOccurrence } from './occurrence.ts'
import { attempt, ItemError, response, responseMessage } from './soap.ts'
import type { Item } from './store.ts'
import { child, childrenOf, el, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * GetItem (web-service-reference/getitem-operation.md,
 * getitem-operation-calendar-item.md): one GetItemResponseMessage per id, in
 * request order; an unknown id fails alone (ErrorItemNotFound) and the batch
 * goes on. Extended properties come back only when AdditionalProperties
 * names them by ExtendedFieldURI (web-service-reference/additionalproperties.md).
 */
/** By ItemId, or an occurrence's exception by OccurrenceItemId (an unmodified occurrence is not emulated: README). */
function itemOf (ctx: OpContext, ref: XmlElement): Item {
  if (ref.name !== 'OccurrenceItemId') return resolveItem(ctx, ref)
  const found = resolveOccurrence(ctx, ref)
  if (found.exception === null) throw new ItemError('ErrorItemNotFound', 'The emulator keeps no item for an unmodified occurrence.')
  return found.exception
}

export const getItem: Operation = (ctx, req) => {
  const shape = shapeOf(child(req, NS.m, 'ItemShape'))
  const ids = childrenOf(child(req, NS.m, 'ItemIds'), NS.t)
  return response('GetItem', ids.map(ref => responseMessage('GetItem', attempt(() =>
    el('m:Items', {}, renderItem(ctx.store, itemOf(ctx, ref), shape))))))
}
