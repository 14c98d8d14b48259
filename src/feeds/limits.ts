/**
 * Token buckets for the feed rate limits, one per key (a feed secret's hash,
 * a client address). Kept in this process's memory: each process of a
 * cluster limits on its own, which is enough to stop one client hammering.
 */
export class RateLimiter {
  readonly #perSecond: number
  readonly #burst: number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  /** perMinute 0 switches the limit off. */
  constructor (perMinute: number, burst = perMinute) {
    this.#perSecond = perMinute / 60
    this.#burst = Math.max(1, burst)
  }

  /** 0 when the request may go ahead, else the whole seconds to wait. */
  take (key: string, now = Date.now()): number {
    if (this.#perSecond === 0) return 0
    let b = this.#buckets.get(key)
    if (b === undefined) {
      if (this.#buckets.size >= 100_000) this.prune(now)
      b = { tokens: this.#burst, at: now }
      this.#buckets.set(key, b)
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) / 1000 * this.#perSecond)
      b.at = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#perSecond))
  }

  /** Forgets buckets that have filled up again: they would start full anyway. */
  prune (now = Date.now()): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) / 1000 * this.#perSecond >= this.#burst) this.#buckets.delete(key)
    }
  }
}
