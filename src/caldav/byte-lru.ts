/**
 * A map bounded by the bytes its keys and values take, least recently used
 * dropped first; a value larger than `maxEntry` bytes is not kept. For the
 * DAV server's caches of written answers (response-cache.ts,
 * answer-cache.ts), whose entries are never stale by construction (their
 * keys hold everything the text is made of), so only memory bounds them.
 */
export class ByteLru<V> {
  readonly #entries = new Map<string, { value: V; size: number }>()
  readonly #maxBytes: number
  readonly #maxEntry: number
  readonly #sizeOf: (value: V) => number
  #bytes = 0

  constructor (opts: { maxBytes: number; maxEntry: number; sizeOf: (value: V) => number }) {
    this.#maxBytes = opts.maxBytes
    this.#maxEntry = opts.maxEntry
    this.#sizeOf = opts.sizeOf
  }

  get bytes (): number { return this.#bytes }

  get (key: string): V | undefined {
    const hit = this.#entries.get(key)
    if (hit === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, hit)
    return hit.value
  }

  set (key: string, value: V): void {
    // a JavaScript string's characters as two bytes each (V8 keeps most in one; the bound is the safe side)
    const size = this.#sizeOf(value) + key.length * 2
    if (size > this.#maxEntry) return
    this.delete(key)
    this.#entries.set(key, { value, size })
    this.#bytes += size
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= v.size
    }
  }

  delete (key: string): void {
    const old = this.#entries.get(key)
    if (old === undefined) return
    this.#entries.delete(key)
    this.#bytes -= old.size
  }
}
