import { resolveItem, type Operation } from './context.ts'
import { renderItem, shapeOf } from './items.ts'
import { attempt, response, responseMessage } from './soap.ts'
import { child, childrenOf, el, NS } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * GetItem (web-service-reference/getitem-operation.md,
 * getitem-operation-calendar-item.md): one GetItemResponseMessage per id, in
 * request order; an unknown id fails alone (ErrorItemNotFound) and the batch
 * goes on. Extended properties come back only when AdditionalProperties
 * names them by ExtendedFieldURI (web-service-reference/additionalproperties.md).
 */
export const getItem: Operation = (ctx, req) => {
  const shape = shapeOf(child(req, NS.m, 'ItemShape'))
  const ids = childrenOf(child(req, NS.m, 'ItemIds'), NS.t)
  return response('GetItem', ids.map(ref => responseMessage('GetItem', attempt(() =>
    el('m:Items', {}, renderItem(ctx.store, resolveItem(ctx, ref), shape))))))
}
