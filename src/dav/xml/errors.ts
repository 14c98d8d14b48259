import type { QName } from './names.ts';

/**
 * The only error type thrown by src/dav/xml for any input.
 * `status` is the HTTP status a handler should answer with; `precondition`, when set, is the
 * RFC 4918 §16 precondition/postcondition element to report in a DAV:error body.
 */
export class DavXmlError extends Error {
  readonly status: number;
  readonly precondition: QName | undefined;

  constructor(message: string, options: { status?: number; precondition?: QName; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DavXmlError';
    this.precondition = options.precondition;
    this.status = options.status ?? (options.precondition ? 403 : 400);
  }
}
