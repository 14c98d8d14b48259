import { carddav, dav, element, MultistatusWriter, type AddressbookMultigetReport, type AddressbookQueryReport, type MultistatusResponse } from '../dav/xml/index.ts'
import { parseVCard } from '../vcard/model.ts'
import { matchesCardFilter } from '../vcard/filter.ts'
import { cardResponse } from './address-data.ts'
import { DavError } from './errors.ts'
import { parsePath } from './paths.ts'
import { addressBookBySegment, cardPages, type Ctx, type Resource } from './resources.ts'

/** CardDAV reports (RFC 6352 §8.6, §8.7) over the shared multistatus machinery. */

export async function addressbookMultiget (ctx: Ctx, target: Resource, req: AddressbookMultigetReport): Promise<MultistatusResponse[]> {
  if (target.kind !== 'addressbook' && target.kind !== 'card' && target.kind !== 'abhome') throw new DavError(403, 'addressbook-multiget applies to address books', dav('supported-report'))
  const withBody = req.props.kind === 'prop' && req.props.props.includes(carddav('address-data'))
  const bySegment = new Map<string, string[]>()
  for (const href of req.hrefs) {
    const p = parsePath(href)
    if (p.kind !== 'card' || p.login.toLowerCase() !== ctx.user.login.toLowerCase()) continue
    bySegment.set(p.book, [...(bySegment.get(p.book) ?? []), p.card])
  }
  const found = new Map<string, MultistatusResponse>()
  for (const [segment, names] of bySegment) {
    const book = await addressBookBySegment(ctx, segment)
    if (book === null) continue
    for (const card of await ctx.backend.cards(book, names, withBody)) {
      const r = await cardResponse(ctx, book, card, req.props, req.addressData)
      found.set(`${segment}/${card.name}`, r)
    }
  }
  return req.hrefs.map(href => {
    const p = parsePath(href)
    return (p.kind === 'card' ? found.get(`${p.book}/${p.card}`) : undefined) ?? { href, status: 404 }
  })
}

/** Cards the filter matches, a page of rows at a time; a limit (§8.6.1) ends the answer with a 507 when more would match. */
export async function addressbookQuery (ctx: Ctx, target: Resource, req: AddressbookQueryReport): Promise<MultistatusWriter> {
  if (target.kind !== 'addressbook') throw new DavError(403, 'addressbook-query applies to an address book', dav('supported-report'))
  const w = new MultistatusWriter()
  const book = target.book
  let count = 0
  for await (const rows of cardPages(ctx, book, true)) {
    for (const card of rows) {
      if (!matchesCardFilter(parseVCard(card.vcard!), req.filter)) continue
      if (req.limit !== undefined && count >= req.limit) {
        w.add({ href: target.path, status: 507, error: element(dav('error'), [element(dav('number-of-matches-within-limits'))]), responseDescription: `only the first ${req.limit} matches are returned` })
        return w
      }
      w.add(await cardResponse(ctx, book, card, req.props, req.addressData))
      count++
    }
  }
  return w
}
