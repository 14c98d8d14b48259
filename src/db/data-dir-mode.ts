import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const OTHERS = 0o077

/**
 * The embedded database's folder is the server user's alone: on a shared
 * host every local user could otherwise read or rewrite the whole database.
 * PGlite creates new files with the process umask, so that becomes 0077
 * before it opens anything (it creates files as long as it runs: WAL
 * segments, relations); but the files of a new database come out of its
 * bundled template as 0666 whatever the umask, so once it is open the folder
 * is walked and every group or other bit taken off (a few milliseconds for
 * its ~1,000 files).
 *
 * Call this before PGlite opens dir, and what it returns once it has: that
 * gives a warning to log when the folder had been left open to others (by an
 * earlier version, or a mkdir under a loose umask).
 */
export function makeDataDirPrivate (dir: string): () => string | null {
  process.umask(OTHERS)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const mode = lstatSync(dir).mode & 0o777
  return () => {
    const changed = tighten(dir)
    if ((mode & OTHERS) === 0) return null
    return `the data folder ${dir} was open to other local users (mode ${mode.toString(8).padStart(4, '0')}): it is now 0700, and ${changed} files and folders in it no longer grant group or other access`
  }
}

/** Takes group and other bits off dir and everything under it (symlinks are left alone: chmod would follow them); counts what changed. */
function tighten (path: string): number {
  const stat = lstatSync(path)
  if (stat.isSymbolicLink()) return 0
  let changed = 0
  if ((stat.mode & OTHERS) !== 0) {
    chmodSync(path, stat.mode & 0o7700)
    changed++
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) changed += tighten(join(path, name))
  return changed
}
