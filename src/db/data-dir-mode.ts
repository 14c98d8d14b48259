import { chmodSync, lstatSync, mkdirSync, readdirSync, realpathSync } from 'node:fs'
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
 * earlier version, or a mkdir under a loose umask). A folder open to others
 * that this process may not close stops the start, as PostgreSQL's own
 * check of its data directory does.
 */
export function makeDataDirPrivate (dir: string): () => string | null {
  process.umask(OTHERS)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const real = realpathSync(dir)
  const mode = lstatSync(real).mode & 0o777
  if ((mode & OTHERS) !== 0) {
    try {
      chmodSync(real, mode & 0o700)
    } catch (err) {
      throw new Error(`the data folder ${dir} is open to other local users (mode ${octal(mode)}) and this process may not close it (${(err as NodeJS.ErrnoException).code}): give it to the server's user, or chmod 700 it`, { cause: err })
    }
  }
  return () => {
    const changed = tighten(real)
    if ((mode & OTHERS) === 0) return null
    return `the data folder ${dir} was open to other local users (mode ${octal(mode)}): it is now 0700, and ${changed} files and folders in it no longer grant group or other access`
  }
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0')

/**
 * Takes group and other bits off everything under dir; counts what changed.
 * Symlinks are left alone (chmod would follow them), and so is what this
 * process may not change: inside a 0700 folder nobody else reaches it anyway.
 */
function tighten (path: string): number {
  const stat = lstatSync(path)
  if (stat.isSymbolicLink()) return 0
  let changed = 0
  if ((stat.mode & OTHERS) !== 0) {
    try {
      chmodSync(path, stat.mode & 0o7700)
      changed++
    } catch { /* not this process's to change */ }
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) changed += tighten(join(path, name))
  return changed
}
