import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs'

/**
 * PGlite has no lock of its own: two processes opening one data folder would
 * corrupt it. The first process writes its pid into kalends.lock; another
 * process finds it alive and stays out. A lock left by a dead process is taken over.
 */
export class DataDirLocked extends Error {
  readonly pid: number
  constructor (dir: string, pid: number) {
    super(`the embedded database in ${dir} is in use by process ${pid} (a running Kalends server)`)
    this.pid = pid
  }
}

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

export function lockDataDir (dir: string): () => void {
  const path = `${dir}/kalends.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(path, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(readFileSync(path, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataDirLocked(dir, pid)
      rmSync(path, { force: true })
    }
  }
  throw new Error(`cannot take the lock ${path}`)
}
