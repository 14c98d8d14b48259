import type { Config } from './config.ts'
import { openDatabase, type DbHandle, type DbTarget } from './db/connect.ts'
import { migrate, type MigrationReport } from './db/migrate.ts'
import { SignIn } from './auth/sign-in.ts'
import { SecretBox } from './auth/secrets.ts'
import { secretKeyFor } from './auth/secret-key.ts'
import { createSync, type Sync } from './sync/service.ts'

/** Everything a process holds open: the database and the services built on it. */
export type Kalends = {
  config: Config
  handle: DbHandle
  db: DbHandle['db']
  signIn: SignIn
  secrets: SecretBox
  sync: Sync
  migrations: MigrationReport
  close (): Promise<void>
}

export async function openKalends (config: Config, target: DbTarget = config.databaseUrl === null ? { dataDir: config.dataDir } : { url: config.databaseUrl }): Promise<Kalends> {
  const handle = await openDatabase(target)
  let migrations: MigrationReport
  try {
    migrations = await migrate(handle)
  } catch (err) {
    await handle.close()
    throw err
  }
  const secrets = new SecretBox(secretKeyFor(config, target))
  const sync = createSync(config, handle, secrets)
  return {
    config,
    handle,
    db: handle.db,
    signIn: new SignIn(handle.db, config.loginFailureLimit),
    secrets,
    sync,
    migrations,
    async close () {
      await sync.jobs.stop()
      await handle.close()
    }
  }
}
