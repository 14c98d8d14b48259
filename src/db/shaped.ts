import { isDeepStrictEqual } from 'node:util'
import { CompiledQuery, type Compilable, type RawBuilder } from 'kysely'
import type { Db } from './connect.ts'

/**
 * A statement of the hot path, built by Kysely once per shape instead of at
 * every request: building and compiling a query is most of what Kysely costs,
 * and a PUT's statements cost half a millisecond of the server's one thread
 * that way (docs/performance.md, "Sixth pass").
 *
 * The first call of a shape builds the statement with a marker in place of
 * each argument and remembers its SQL text and which parameter is which
 * argument; later calls send that text with their own arguments. So a builder
 * must pass its arguments through as parameters, unchanged, and anything that
 * changes the text (an optional filter, the length of a list) belongs in the
 * shape's name. Under tap (or KALENDS_CHECK_SHAPES=1) every call is also built
 * with its real arguments and must give the same text and parameters, so a
 * builder that breaks that rule fails the tests instead of sending wrong SQL.
 */
export type Part<T> = {
  /** what decides the part's text */
  shape: string
  args: readonly unknown[]
  /** the part, from `args` or from markers standing for them, in order */
  build (...args: any[]): T
}

type Template = { sql: string; slots: Array<{ arg: number } | { value: unknown }> }

// a NUL starts no real argument: PostgreSQL text cannot hold one
const MARK = '\u0000kalends-arg\u0000'
const marker = (i: number) => `${MARK}${i}`
const CHECK = process.env.KALENDS_CHECK_SHAPES === '1' || (process.env.TAP === '1' && process.env.KALENDS_CHECK_SHAPES !== '0')
const MAX_SHAPES = 500
const templates = new Map<string, Template>()

/**
 * Runs the statement `build` makes of `args`, built once per `shape` (a name
 * unique in the whole program: start it with the module's own name). `build`
 * may close over what the shape's name says and nothing else.
 */
export async function runShaped<R> (db: Db, shape: string, args: readonly unknown[], build: (...args: any[]) => Compilable<R> | RawBuilder<R>): Promise<R[]> {
  let t = templates.get(shape)
  if (t === undefined) {
    const marked = compiled(build(...args.map((_, i) => marker(i))), db)
    t = {
      sql: marked.sql,
      slots: marked.parameters.map(p => typeof p === 'string' && p.startsWith(MARK) ? { arg: Number(p.slice(MARK.length)) } : { value: p })
    }
    if (templates.size < MAX_SHAPES) templates.set(shape, t)
  }
  const parameters = t.slots.map(s => 'arg' in s ? args[s.arg] : s.value)
  if (CHECK) {
    const real = compiled(build(...args), db)
    if (real.sql !== t.sql || !isDeepStrictEqual(real.parameters, parameters)) {
      throw new Error(`statement shape "${shape}" does not hold for these arguments:\n${real.sql}\n${JSON.stringify(real.parameters)}\nbut the shape sends\n${t.sql}\n${JSON.stringify(parameters)}`)
    }
  }
  return (await db.executeQuery<R>(CompiledQuery.raw(t.sql, parameters as unknown[]))).rows
}

/** A builder's query, or a raw statement, as Kysely compiles it (a raw one compiles against `db`). */
function compiled<R> (q: Compilable<R> | RawBuilder<R>, db: Db): CompiledQuery<R> {
  // a query builder compiles with the executor it was made by and takes no argument; a raw statement needs one
  return (q as RawBuilder<R>).compile(db)
}

/**
 * Records (rows to insert, columns to set) as a shape's arguments: their
 * columns, and where an expression stands instead of a value, name the shape;
 * their values are the arguments, in order. `records` gives them back from
 * those arguments (or the markers standing for them), expressions in place.
 */
export function recordArgs<T extends Record<string, unknown>> (rows: readonly T[]): { shape: string; args: unknown[]; records (args: readonly unknown[]): T[] } {
  const args: unknown[] = []
  const shape = rows.map(r => Object.entries(r).map(([k, v]) => {
    if (isExpression(v)) return `${k}=`
    args.push(v)
    return k
  }).join(',')).join(';')
  return {
    shape: `[${shape}]`,
    args,
    records (given) {
      let i = 0
      return rows.map(r => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, isExpression(v) ? v : given[i++]])) as T)
    }
  }
}

const isExpression = (v: unknown) => typeof v === 'object' && v !== null && 'toOperationNode' in v
