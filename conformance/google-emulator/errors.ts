// Google API errors in the JSON shape Calendar v3 and Tasks v1 answer with:
// {"error":{"code":N,"message":"…","errors":[{domain,reason,message,…}],"status":"…"}}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'FAILED_PRECONDITION',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export type ErrorItem = {
  domain: string;
  reason: string;
  message: string;
  location?: string;
  locationType?: string;
};

export class GoogleApiError extends Error {
  code: number;
  item: ErrorItem;
  headers: Record<string, string>;
  topMessage: string;
  /** the google.rpc status name when it is not the one the HTTP code implies (People API: 400 FAILED_PRECONDITION) */
  status?: string;
  /** google.rpc details (People API: ErrorInfo with its reason) */
  details?: object[];
  constructor(code: number, item: ErrorItem, headers: Record<string, string> = {}, topMessage = item.message) {
    super(topMessage);
    this.code = code;
    this.item = item;
    this.headers = headers;
    this.topMessage = topMessage;
  }
  body(): object {
    return {
      error: {
        code: this.code,
        message: this.topMessage,
        errors: [this.item],
        status: this.status ?? STATUS_NAMES[this.code] ?? 'UNKNOWN',
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

function fail(code: number, reason: string, message: string, domain = 'global', extra: Partial<ErrorItem> = {}): GoogleApiError {
  return new GoogleApiError(code, { domain, reason, message, ...extra });
}

export const errors = {
  required: (message: string) => fail(400, 'required', message),
  invalid: (message: string) => fail(400, 'invalid', message),
  badRequest: (message: string, reason = 'badRequest') => fail(400, reason, message),
  timeRangeEmpty: () => fail(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar'),
  notFound: () => fail(404, 'notFound', 'Not Found'),
  deleted: () => fail(410, 'deleted', 'Resource has been deleted'),
  duplicate: () => fail(409, 'duplicate', 'The requested identifier already exists.'),
  conditionNotMet: () => fail(412, 'conditionNotMet', 'Precondition Failed', 'global', { location: 'If-Match', locationType: 'header' }),
  fullSyncRequired: () => fail(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.'),
  authError: () =>
    new GoogleApiError(
      401,
      {
        domain: 'global',
        reason: 'authError',
        message: 'Invalid Credentials',
        location: 'Authorization',
        locationType: 'header',
      },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    ),
  loginRequired: () =>
    new GoogleApiError(
      401,
      { domain: 'global', reason: 'required', message: 'Login Required.', location: 'Authorization', locationType: 'header' },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    ),
  insufficientPermissions: () =>
    new GoogleApiError(
      403,
      { domain: 'global', reason: 'insufficientPermissions', message: 'Insufficient Permission' },
      { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' },
      'Request had insufficient authentication scopes.',
    ),
  rateLimit403: () => fail(403, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits'),
  userRateLimit403: () => fail(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits'),
  rateLimit429: () => fail(429, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits'),
  backendError: () => fail(500, 'backendError', 'Backend Error'),
  unavailable: () => fail(503, 'backendError', 'The service is currently unavailable.'),
};

/**
 * An error as the People API (a newer, gRPC-transcoded API) answers it: the
 * google.rpc status name, `errors[].reason` in lowerCamel as the client
 * libraries surface it, and an ErrorInfo detail when Google documents a reason
 * (e.g. EXPIRED_SYNC_TOKEN, RATE_LIMIT_EXCEEDED).
 */
export function peopleError(code: number, status: string, message: string, info?: { reason: string; metadata?: Record<string, string> }): GoogleApiError {
  const reason = status.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const e = new GoogleApiError(code, { domain: 'global', reason, message });
  e.status = status;
  if (info) e.details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: info.reason, domain: 'people.googleapis.com', metadata: info.metadata ?? {} }];
  return e;
}
