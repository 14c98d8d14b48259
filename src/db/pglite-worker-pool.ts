import { Worker } from 'node:worker_threads'
import type { LiteConnection, LitePool, LiteResult } from './pglite-pool.ts'
import { rebuildError, type FromWorker, type ToWorker, type WorkerInit } from './pglite-worker-protocol.ts'

const WORKER = new URL('./pglite-worker.ts', import.meta.url)

type Pending = { resolve (value: unknown): void; reject (err: Error): void }

/** Starts the worker and waits until its database is open (or fails to open). */
function startWorker (init: WorkerInit): Promise<Worker> {
  // V8's flags are the process's (the launcher's --liftoff-only holds here too)
  const worker = new Worker(WORKER, { workerData: init })
  return new Promise((resolve, reject) => {
    const early = (err: Error) => reject(err)
    const exited = (code: number) => reject(new Error(`the embedded database's thread exited (${code}) while opening`))
    worker.once('error', early)
    worker.once('exit', exited)
    worker.once('message', (m: FromWorker) => {
      worker.off('error', early)
      worker.off('exit', exited)
      if (m.op === 'ready') resolve(worker)
      else if (m.op === 'failed') reject(rebuildError(m.error))
      else reject(new Error(`the embedded database's thread said ${m.op} while opening`))
    })
  })
}

/**
 * Creates the embedded database in dir on a thread that then exits: PGlite
 * runs initdb as a second WebAssembly instance, and its memory, which stayed
 * referenced in a thread that went on to serve (536 MB against 152 MB when
 * opening an existing folder), goes with that thread.
 */
export async function createInWorker (dir: string): Promise<void> {
  const worker = await startWorker({ dir, createOnly: true })
  await new Promise(resolve => worker.once('exit', resolve))
}

/**
 * The embedded database on a worker thread (pglite-worker.ts), as the pool
 * Kysely and connect.ts borrow from. Each connect() is a turn on PGlite's one
 * connection, numbered; the worker runs turns one after another in the order
 * their statements arrive, so a transaction stays alone on the connection
 * just as PGlitePool keeps it on the main thread, and the next turn starts
 * the moment the worker sees a release, whatever the main thread is busy with.
 * The worker holds the process open only while a statement is in flight, as
 * PGlite on the main thread does.
 */
export class PGliteWorkerPool implements LitePool {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #nextId = 0
  #nextTurn = 0
  #borrowed = 0
  #dead: Error | null = null
  #drained: (() => void) | null = null
  #ended: Promise<void> | undefined
  #closed: (() => void) | null = null

  private constructor (worker: Worker) {
    this.#worker = worker
    worker.unref()
    worker.on('message', (m: FromWorker) => this.#receive(m))
    worker.on('error', err => this.#die(err))
    worker.on('exit', code => this.#die(new Error(`the embedded database's thread exited (${code})`)))
  }

  static async open (dir: string | undefined): Promise<PGliteWorkerPool> {
    return new PGliteWorkerPool(await startWorker({ dir, createOnly: false }))
  }

  #receive (m: FromWorker): void {
    if (m.op === 'closed') return this.#closed?.()
    if (m.op !== 'result' && m.op !== 'error') return
    const pending = this.#pending.get(m.id)
    if (pending === undefined) return
    this.#pending.delete(m.id)
    if (this.#pending.size === 0) this.#worker.unref()
    if (m.op === 'result') pending.resolve(m.result)
    else pending.reject(rebuildError(m.error))
  }

  /** The thread is gone (PostgreSQL aborted, or the pool ended): nothing in flight will be answered. */
  #die (err: Error): void {
    this.#dead ??= err
    for (const pending of this.#pending.values()) pending.reject(err)
    this.#pending.clear()
    this.#closed?.()
  }

  #ask<T> (message: ToWorker & { id: number }): Promise<T> {
    if (this.#dead !== null) return Promise.reject(this.#dead)
    return new Promise<T>((resolve, reject) => {
      // a parameter structured clone cannot copy throws here, before anything is sent
      this.#worker.postMessage(message)
      if (this.#pending.size === 0) this.#worker.ref()
      this.#pending.set(message.id, { resolve: resolve as (value: unknown) => void, reject })
    })
  }

  async connect (): Promise<LiteConnection> {
    if (this.#ended !== undefined) throw new Error('the embedded database is closed')
    const s = this.#nextTurn++
    this.#borrowed++
    let released = false
    return {
      query: (sql, params) => this.#ask<LiteResult>({ op: 'query', s, id: this.#nextId++, sql, params }),
      exec: sql => this.#ask<Record<string, unknown>[][]>({ op: 'exec', s, id: this.#nextId++, sql }),
      release: (discard?: unknown) => {
        if (released) return
        released = true
        if (this.#dead === null) this.#worker.postMessage({ op: 'release', s, discard: discard !== undefined && discard !== false } satisfies ToWorker)
        if (--this.#borrowed === 0) this.#drained?.()
      }
    }
  }

  /** Closes the database once every borrower has released its turn; later calls wait for the same close. */
  end (): Promise<void> {
    this.#ended ??= this.#end()
    return this.#ended
  }

  async #end (): Promise<void> {
    if (this.#borrowed > 0) await new Promise<void>(resolve => { this.#drained = resolve })
    if (this.#dead === null) {
      this.#worker.ref()
      const closed = new Promise<void>(resolve => { this.#closed = resolve })
      this.#worker.postMessage({ op: 'close' } satisfies ToWorker)
      await closed
    }
    await this.#worker.terminate()
  }
}
