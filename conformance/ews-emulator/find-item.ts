import { resolveFolder, type Operation } from './context.ts'
import { fieldName, renderItem, sameExtended, shapeOf } from './items.ts'
import { attempt, ItemError, response, responseMessage } from './soap.ts'
import type { Item } from './store.ts'
import { child, childrenOf, el, NS, type XmlElement } from '../../src/sync/microsoft/ews-xml.ts'

/**
 * FindItem (web-service-reference/finditem-operation.md, restriction.md,
 * isequalto.md, constant.md): the items of each parent folder (Shallow:
 * masters and single items, as a calendar folder lists them without a
 * CalendarView) that satisfy the restriction, in the requested shape, one
 * FindItemResponseMessage per folder with a RootFolder holding t:Items.
 * Emulated restrictions: IsEqualTo / IsNotEqualTo of a property (FieldURI of
 * a stored property, or ExtendedFieldURI) and a Constant, combined with
 * And / Or / Not; anything else answers ErrorUnsupportedQueryFilter.
 * Extended properties still come back only when the shape names them.
 */

type Test = (item: Item) => boolean

function valueOf (item: Item, path: XmlElement): string | null {
  if (path.name === 'ExtendedFieldURI') {
    const p = item.extended.find(x => sameExtended(x.uri, path.attrs))
    return p === undefined ? null : (p.value ?? p.values?.join(' ') ?? null)
  }
  if (path.name === 'FieldURI') return item.props.get(fieldName(path.attrs.FieldURI ?? ''))?.text ?? null
  throw new ItemError('ErrorUnsupportedPathForQuery', `The property path ${path.name} is not supported in a restriction by this emulator.`)
}

function compile (e: XmlElement): Test {
  switch (e.name) {
    case 'And':
    case 'Or': {
      const parts = childrenOf(e, NS.t).map(compile)
      return e.name === 'And' ? item => parts.every(p => p(item)) : item => parts.some(p => p(item))
    }
    case 'Not': {
      const inner = childrenOf(e, NS.t)[0]
      if (inner === undefined) throw new ItemError('ErrorInvalidRestriction', 'Not needs one expression.')
      const p = compile(inner)
      return item => !p(item)
    }
    case 'IsEqualTo':
    case 'IsNotEqualTo': {
      const path = childrenOf(e, NS.t).find(c => c.name === 'FieldURI' || c.name === 'ExtendedFieldURI' || c.name === 'IndexedFieldURI')
      const constant = child(child(e, NS.t, 'FieldURIOrConstant'), NS.t, 'Constant')
      if (path === undefined || constant === null) throw new ItemError('ErrorUnsupportedQueryFilter', 'Only comparisons of a property with a Constant are emulated.')
      const wanted = constant.attrs.Value ?? ''
      const equal = e.name === 'IsEqualTo'
      return item => (valueOf(item, path) === wanted) === equal
    }
  }
  throw new ItemError('ErrorUnsupportedQueryFilter', `The restriction ${e.name} is not emulated.`)
}

export const findItem: Operation = (ctx, req) => {
  const shape = shapeOf(child(req, NS.m, 'ItemShape'))
  const expression = childrenOf(child(req, NS.m, 'Restriction'), NS.t)[0]
  const parents = childrenOf(child(req, NS.m, 'ParentFolderIds'), NS.t)
  return response('FindItem', parents.map(ref => responseMessage('FindItem', attempt(() => {
    const folder = resolveFolder(ctx, ref)
    const test = expression === undefined ? () => true : compile(expression)
    const found = ctx.store.itemsIn(folder.id).filter(test)
    return el('m:RootFolder', { TotalItemsInView: found.length, IncludesLastItemInRange: true },
      el('t:Items', {}, ...found.map(item => renderItem(ctx.store, item, shape))))
  }))))
}
