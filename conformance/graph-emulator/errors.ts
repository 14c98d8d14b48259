// Error bodies as Graph and the Microsoft identity platform write them.
import { randomUUID } from 'node:crypto';

/**
 * A Graph failure: `{error: {code, message, innerError: {date, request-id,
 * client-request-id}}}` (microsoft-graph-docs-contrib: concepts/errors.md).
 */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  body(nowMs: number, clientRequestId?: string): unknown {
    // innerError.date has no offset and no fraction on the wire ("2023-06-21T08:03:35").
    const inner: Record<string, string> = { date: new Date(nowMs).toISOString().slice(0, 19), 'request-id': randomUUID() };
    inner['client-request-id'] = clientRequestId ?? inner['request-id']!;
    return { error: { code: this.code, message: this.message, innerError: inner } };
  }
}

export const graphErrors = {
  noToken: () => new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"' }),
  badToken: () => new GraphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).'),
  expiredToken: () => new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
  accessDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  meWithAppOnly: () => new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.'),
  notFound: () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  noResource: (path: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').filter(Boolean).pop() ?? ''}'.`),
  invalidRequest: (message: string) => new GraphError(400, 'ErrorInvalidRequest', message),
  badBody: (message = 'Empty Payload. JSON content expected.') => new GraphError(400, 'BadRequest', message),
  invalidProperty: (message: string) => new GraphError(400, 'ErrorInvalidProperty', message),
};

/**
 * An identity-platform failure. `error_description` starts "AADSTS<code>: "
 * and ends with the trace and correlation ids and the timestamp, as in the
 * documented token error (entra-docs: docs/identity-platform/v2-oauth2-auth-code-flow.md,
 * "Error response"); codes from docs/identity-platform/reference-error-codes.md.
 */
export class AadError extends Error {
  readonly status: number;
  readonly error: string;
  readonly aadsts: number;
  readonly suberror: string | undefined;
  constructor(status: number, error: string, aadsts: number, message: string, suberror?: string) {
    super(message);
    this.status = status;
    this.error = error;
    this.aadsts = aadsts;
    this.suberror = suberror;
  }

  body(nowMs: number, errorUriBase: string): Record<string, unknown> {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date(nowMs).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
    const out: Record<string, unknown> = {
      error: this.error,
      error_description: `AADSTS${this.aadsts}: ${this.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${errorUriBase}/error?code=${this.aadsts}`,
    };
    if (this.suberror) out.suberror = this.suberror;
    return out;
  }
}
