import type { RunContext } from './run-context.ts'
import { syncDb } from './tables.ts'

/** What "Sync now" shows of a running sync, provider-neutral (migration 0014): read and written so far, and what this pass still has to go through. */
export type RunProgress = { in: number; out: number; left: number }

/** Items between two writes of the figure: a first sync of thousands costs dozens of updates, never one an item. */
const STEP = 25

export type ProgressRecorder = (left: number, opts?: { force?: boolean }) => Promise<void>

/**
 * The run's figure in the connection row, where the progress route of any
 * process reads it: written when a pass starts (force) and then every STEP
 * items; the run's last update clears it.
 */
export function progressRecorder (rc: RunContext): ProgressRecorder {
  let written: number | null = null
  return async (left, opts = {}) => {
    if (opts.force !== true && written !== null && Math.abs(written - left) < STEP && left !== 0) return
    if (opts.force !== true && written === left) return
    written = left
    const progress: RunProgress = { in: rc.counts.in, out: rc.counts.out, left }
    await syncDb(rc.db).updateTable('sync_connections').set({ progress: JSON.stringify(progress) }).where('id', '=', rc.conn.id).execute()
  }
}
