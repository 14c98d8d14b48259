import { messages } from '@electric-sql/pglite'

/**
 * What crosses between the main thread and the embedded database's worker
 * (pglite-worker.ts). s numbers a borrower's turn on the one connection:
 * the worker runs one turn's statements until its release, holding the others'.
 */
export type ToWorker =
  | { op: 'query'; s: number; id: number; sql: string; params: readonly unknown[] }
  | { op: 'exec'; s: number; id: number; sql: string }
  | { op: 'release'; s: number; discard: boolean }
  | { op: 'close' }

export type FromWorker =
  | { op: 'ready' }
  | { op: 'failed'; error: ErrorFields }
  | { op: 'result'; id: number; result: unknown }
  | { op: 'error'; id: number; error: ErrorFields }
  | { op: 'closed' }

export type WorkerInit = {
  dir: string | undefined
  /** create the database in dir and exit: initdb's memory goes with the thread */
  createOnly: boolean
}

/** An error as it crosses: structured clone keeps only name and message, and the domain reads code, constraint, detail. */
export type ErrorFields = { message: string; name: string; stack: string | undefined; database: boolean; fields: Record<string, string | number | boolean | null> }

export function errorFields (err: unknown): ErrorFields {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', stack: undefined, database: false, fields: {} }
  const fields: ErrorFields['fields'] = {}
  for (const [key, value] of Object.entries(err)) {
    // what PostgreSQL said (code, detail, constraint, ...): the statement's parameters stay behind
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value as string | number | boolean | null
  }
  return { message: err.message, name: err.name, stack: err.stack, database: err instanceof messages.DatabaseError, fields }
}

/** The worker's error as this thread's: PostgreSQL's own DatabaseError when it was one, with every field. */
export function rebuildError (e: ErrorFields): Error {
  const err: Error = e.database ? new messages.DatabaseError(e.message, 0, 'error') : new Error(e.message)
  Object.assign(err, e.fields)
  if (!e.database) err.name = e.name
  err.stack = `${e.name}: ${e.message}\n    (in the embedded database's worker thread)${e.stack?.replace(/^[^\n]*/, '') ?? ''}`
  return err
}
