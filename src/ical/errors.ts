/**
 * Codes are the CalDAV precondition names (RFC 4791 §5.3.2.1, §9.6.5
 * max-instances) so HTTP handlers can map them to 403/507 bodies directly.
 */
export type IcalErrorCode =
  | 'valid-calendar-data'
  | 'valid-calendar-object-resource'
  | 'supported-calendar-component'
  | 'too-many-instances';

export class IcalError extends Error {
  readonly code: IcalErrorCode;

  constructor(code: IcalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IcalError';
    this.code = code;
  }
}

export function isIcalError(e: unknown): e is IcalError {
  return e instanceof IcalError;
}
