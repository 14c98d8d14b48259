import type pg from 'pg'

/** What a pool client does in place of pg's own `query`, and what else its release must reset. */
export type ClientQuery = {
  query: (text: unknown, values?: unknown) => Promise<unknown>
  released?: () => void
}

/**
 * A pool whose clients' `query` is `wrap`'s, the same wrapped client for the
 * same connection each time it comes out of the pool; everything else is
 * pg's. How deferred-begin.ts and prepared-statements.ts change what goes on
 * the wire without Kysely knowing.
 */
export function wrapPoolClients (pool: pg.Pool, wrap: (client: pg.PoolClient) => ClientQuery): pg.Pool {
  const clients = new WeakMap<pg.PoolClient, pg.PoolClient>()
  return new Proxy(pool, {
    get (target, prop) {
      if (prop === 'connect') {
        return async () => {
          const client = await target.connect()
          let wrapped = clients.get(client)
          if (wrapped === undefined) clients.set(client, wrapped = withQuery(client, wrap(client)))
          return wrapped
        }
      }
      return bound(target, prop)
    }
  })
}

function withQuery (client: pg.PoolClient, { query, released }: ClientQuery): pg.PoolClient {
  return new Proxy(client, {
    get (target, prop) {
      if (prop === 'query') return query
      if (prop === 'release' && released !== undefined) return (err?: Error | boolean) => { released(); return target.release(err) }
      return bound(target, prop)
    }
  })
}

function bound (target: object, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target) as unknown
  return typeof value === 'function' ? value.bind(target) : value
}
