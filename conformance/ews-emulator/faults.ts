import { backOffXml, SoapFault } from './soap.ts'

/**
 * Injected failures, for the next `times` calls of an operation (any when
 * none is named), as exchange-web-services/ews-throttling-in-exchange.md
 * describes them: `serverBusy` is ErrorServerBusy in a SOAP fault (HTTP 500)
 * with BackOffMilliseconds in MessageXml; `http503` is IIS queueing (no SOAP);
 * `http500` a bare internal error; `unauthorized` a 401 as for a revoked
 * password or token; `concurrentEdit` no failure of its own: the items the
 * request names get a new ChangeKey first, as when the user saves them in
 * Outlook between the client's read and its write (an UpdateItem under
 * NeverOverwrite then answers ErrorIrresolvableConflict).
 */
export type FaultKind = 'serverBusy' | 'http503' | 'http500' | 'unauthorized' | 'concurrentEdit'

export type FaultSpec = { kind: FaultKind; operation?: string; times?: number; backOffMs?: number }

export type FaultAction = { status: number; fault: SoapFault | null } | { touch: true }

export class Faults {
  #pending: (FaultSpec & { left: number })[] = []
  readonly injected: { operation: string; kind: FaultKind }[] = []

  add (spec: FaultSpec): void {
    this.#pending.push({ ...spec, left: spec.times ?? 1 })
  }

  clear (): void {
    this.#pending = []
  }

  /** The fault for this call, if one is due; consumes it. */
  take (operation: string): FaultAction | null {
    const f = this.#pending.find(p => p.left > 0 && (p.operation === undefined || p.operation === operation))
    if (f === undefined) return null
    f.left--
    this.#pending = this.#pending.filter(p => p.left > 0)
    this.injected.push({ operation, kind: f.kind })
    switch (f.kind) {
      case 'serverBusy': return { status: 500, fault: new SoapFault('ErrorServerBusy', 'The server cannot service this request right now. Try again later.', backOffXml(f.backOffMs ?? 30000)) }
      case 'http503': return { status: 503, fault: null }
      case 'http500': return { status: 500, fault: null }
      case 'unauthorized': return { status: 401, fault: null }
      case 'concurrentEdit': return { touch: true }
    }
  }
}
