import { parentPort, workerData } from 'node:worker_threads'
import type { PGlite } from '@electric-sql/pglite'
import { openLite } from './pglite-open.ts'
import { runExec, runQuery } from './pglite-pool.ts'
import { errorFields, type FromWorker, type ToWorker, type WorkerInit } from './pglite-worker-protocol.ts'

/**
 * The embedded database on a thread of its own (pglite-worker-pool.ts starts
 * it): PostgreSQL's statements run here while the main thread parses HTTP and
 * writes XML. PGlite is one connection, so borrowers take turns: each turn's
 * statements run in the order sent, and the next turn begins only when this
 * one is released. That hand-over happens here, without waiting for the main
 * thread to notice the release.
 */

const port = parentPort!
const init = workerData as WorkerInit
const send = (message: FromWorker) => port.postMessage(message)

/** a statement that ends the transaction, as Kysely sends it (not ROLLBACK TO SAVEPOINT, which goes on in it) */
const ENDS = /^\s*(commit|rollback)\s*;?\s*$/i

let lite: PGlite
try {
  lite = await openLite(init.dir)
} catch (err) {
  send({ op: 'failed', error: errorFields(err) })
  port.close()
  process.exit(1)
}

if (init.createOnly) {
  await lite.close()
  send({ op: 'ready' })
  port.close()
} else {
  /** the turns that have sent something, in the order their first message came; the first one runs */
  const turns = new Map<number, ToWorker[]>()
  let closing = false
  let running = false

  /** whether the statement ended a transaction, leaving the connection outside one */
  const run = async (m: ToWorker): Promise<boolean> => {
    switch (m.op) {
      case 'query':
      case 'exec':
        try {
          const result = m.op === 'query' ? await runQuery(lite, m.sql, m.params) : await runExec(lite, m.sql)
          send({ op: 'result', id: m.id, result })
          return ENDS.test(m.sql)
        } catch (err) {
          send({ op: 'error', id: m.id, error: errorFields(err) })
        }
        return false
      case 'release':
        // a borrower that gave the connection back broken leaves no transaction for the next one
        if (m.discard) await lite.exec('ROLLBACK').catch(() => {})
    }
    return false
  }

  const pump = async (): Promise<void> => {
    if (running) return
    running = true
    try {
      for (;;) {
        const [turn, queue] = turns.entries().next().value ?? []
        if (turn === undefined || queue === undefined) break
        const m = queue.shift()
        if (m === undefined) break // the turn's next statement is still on its way
        const ended = await run(m)
        if (m.op === 'release') turns.delete(turn)
        else if (ended && turns.size > 1) {
          // A transaction that has ended needs the connection no longer: the
          // next turn goes on now rather than after this borrower's release
          // has come back from the main thread (a CalDAV PUT waited for it on
          // every write). Whatever this borrower still sends waits for a turn
          // again, behind the others.
          turns.delete(turn)
          turns.set(turn, queue)
        }
      }
      if (closing && turns.size === 0) {
        await lite.close()
        send({ op: 'closed' })
        port.close()
      }
    } finally {
      running = false
    }
  }

  port.on('message', (m: ToWorker) => {
    if (m.op === 'close') closing = true
    else {
      const queue = turns.get(m.s)
      if (queue === undefined) turns.set(m.s, [m])
      else queue.push(m)
    }
    void pump()
  })
  send({ op: 'ready' })
}
