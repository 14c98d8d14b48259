import type { Config } from './config.ts'
import { openDatabase, type DbHandle, type DbTarget } from './db/connect.ts'
import { migrate, type MigrationReport } from './db/migrate.ts'
import { SignIn } from './auth/sign-in.ts'
import { SecretBox } from './auth/secrets.ts'

/** Everything a process holds open: the database and the services built on it. */
export type Kalends = {
  config: Config
  handle: DbHandle
  db: DbHandle['db']
  signIn: SignIn
  secrets: SecretBox | null
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
  return {
    config,
    handle,
    db: handle.db,
    signIn: new SignIn(handle.db, config.loginFailureLimit),
    secrets: config.secretKey === null ? null : new SecretBox(config.secretKey),
    migrations,
    close: () => handle.close()
  }
}
