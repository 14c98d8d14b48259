// The emulator's notion of now: real time plus an offset tests can move, so
// token lifetimes, code expiry and subscription expiry need no waiting.
export class Clock {
  #offsetMs = 0;
  now(): number {
    return Date.now() + this.#offsetMs;
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}
