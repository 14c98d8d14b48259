/**
 * What the domain refuses, and why, in a form every protocol can render:
 * REST as problem+json, CalDAV as a DAV:error precondition, sync as a revert.
 */
export type ErrorKind = 'not-found' | 'forbidden' | 'invalid' | 'conflict' | 'rule' | 'precondition-failed' | 'unauthorized' | 'too-many-requests' | 'too-large'

const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  forbidden: 403,
  invalid: 400,
  conflict: 409,
  rule: 422,
  'precondition-failed': 412,
  unauthorized: 401,
  'too-many-requests': 429,
  'too-large': 413
}

export class DomainError extends Error {
  readonly kind: ErrorKind
  /** the input field at fault, as the client named it */
  readonly field: string | undefined
  /** stable machine-readable id of the business rule or precondition */
  readonly rule: string | undefined
  readonly retryAfterSeconds: number | undefined

  constructor (kind: ErrorKind, message: string, opts: { field?: string; rule?: string; retryAfterSeconds?: number } = {}) {
    super(message)
    this.kind = kind
    this.field = opts.field
    this.rule = opts.rule
    this.retryAfterSeconds = opts.retryAfterSeconds
  }

  get status (): number { return STATUS[this.kind] }
}

export const notFound = (what: string) => new DomainError('not-found', `${what} not found`)
export const invalid = (field: string, message: string) => new DomainError('invalid', message, { field })
export const ruleBroken = (rule: string, message: string, field?: string) =>
  new DomainError('rule', message, field === undefined ? { rule } : { rule, field })

/**
 * Two requests that write the same thing at the same moment: PostgreSQL
 * refuses the later one (a unique index, a serialization failure or a
 * deadlock) and nothing of it is stored. That is the client's race, not a
 * server fault: a 409 it can retry, never a 500.
 */
const CONCURRENT_WRITE = new Set(['23505', '40001', '40P01'])

export function asDomainError (err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CONCURRENT_WRITE.has(code)) {
    return new DomainError('conflict', 'another request changed the same resource at the same moment; nothing of this one was stored, retry it', { rule: 'concurrent-write' })
  }
  return err
}
