import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { parse as parseDotenv } from 'dotenv'

export type Config = {
  mode: 'production' | 'development' | 'test'
  host: string
  port: number
  publicUrl: string
  dataDir: string
  databaseUrl: string | null
  /** 32-byte key that encrypts secrets at rest (OAuth tokens, provider passwords) */
  secretKey: Buffer | null
  logLevel: string
  maxBodyBytes: number
  /** Most members one sync-collection answer carries; the rest follow after a 507 with a continuation token */
  syncPageSize: number
  /**
   * Failed password sign-ins allowed per account and address, and per
   * address, before each further try waits (1 s, doubling, at most
   * maxDelaySeconds); counts are forgotten windowSeconds after the first.
   */
  loginFailureLimit: { perAccount: number; perAddress: number; windowSeconds: number; maxDelaySeconds: number }
  /** Fastify's trustProxy: false, true (any proxy) or the proxies' addresses and CIDR ranges */
  trustProxy: boolean | string
  /** sync runs this process works on at once (0: it only enqueues, workers elsewhere run them) */
  syncWorkers: number
  /** Bearer token /metrics asks for; null: /metrics answers on loopback only */
  metricsToken: string | null
  /**
   * Google defaults: an OAuth client for organisations that set none (admins
   * set their own under Integrations), and where Google is (tests point it at
   * the emulator).
   */
  google: { baseUrl: string | null; clientId: string | null; clientSecret: string | null; pushAddress: string | null }
  /** Exchange: the Autodiscover addresses to try, `{domain}` replaced (null: Microsoft's two, https://{domain}/… and https://autodiscover.{domain}/…) */
  exchange: { autodiscoverUrls: string[] | null }
  /**
   * Where Microsoft's identity platform and Graph are (tests point them at
   * conformance/graph-emulator), and a CA certificate file to trust besides
   * the system's (the emulator's test certificate).
   */
  graph: { authorityHost: string; baseUrl: string; caFile: string | null }
}

export class ConfigError extends Error {
  readonly variable: string
  constructor (variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.variable = variable
  }
}

type Env = Record<string, string | undefined>

/** Environment first; a `.env` file in the working directory fills what it lacks. */
export function loadEnv (env: Env = process.env, cwd = process.cwd()): Env {
  const file = `${cwd}/.env`
  if (!existsSync(file)) return env
  return { ...parseDotenv(readFileSync(file)), ...env }
}

function int (env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`)
  return n
}

/** true, false, or the reverse proxies' addresses ("127.0.0.1,10.0.0.0/8"): only they may set X-Forwarded-For. */
function trustProxy (raw: string | undefined): boolean | string {
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  const ranges = raw.split(',').map(r => r.trim())
  if (ranges.every(r => isIP(r.replace(/\/\d{1,3}$/, '')) !== 0)) return ranges.join(',')
  throw new ConfigError('KALENDS_TRUST_PROXY', `must be true, false or the proxies' addresses ("127.0.0.1,10.0.0.0/8"), got "${raw}"`)
}

function secretKey (env: Env, mode: Config['mode']): Buffer | null {
  const raw = env.KALENDS_SECRET_KEY
  if (raw === undefined || raw === '') {
    if (mode === 'production') {
      throw new ConfigError('KALENDS_SECRET_KEY', 'is required in production to encrypt stored secrets; generate one with `openssl rand -base64 32`')
    }
    return null
  }
  const key = Buffer.from(raw, 'base64')
  if (key.length !== 32) throw new ConfigError('KALENDS_SECRET_KEY', `must be 32 bytes in base64 (got ${key.length} bytes); generate one with \`openssl rand -base64 32\``)
  return key
}

function metricsToken (env: Env): string | null {
  const raw = env.KALENDS_METRICS_TOKEN
  if (raw === undefined || raw === '') return null
  if (!/^[\x21-\x7e]{16,}$/.test(raw)) throw new ConfigError('KALENDS_METRICS_TOKEN', 'must be at least 16 printable characters without spaces; generate one with `openssl rand -hex 32`')
  return raw
}

export function readConfig (env: Env = loadEnv()): Config {
  const nodeEnv = env.NODE_ENV ?? 'development'
  if (!['production', 'development', 'test'].includes(nodeEnv)) throw new ConfigError('NODE_ENV', `must be production, development or test, got "${nodeEnv}"`)
  const mode = nodeEnv as Config['mode']
  const host = env.HOST || '127.0.0.1'
  const port = int(env, 'PORT', 8080, 0, 65535)
  const databaseUrl = env.DATABASE_URL || null
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL')
  const publicUrl = (env.KALENDS_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '')
  try {
    const u = new URL(publicUrl)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme')
  } catch {
    throw new ConfigError('KALENDS_PUBLIC_URL', `must be an http:// or https:// URL, got "${publicUrl}"`)
  }
  const level = env.LOG_LEVEL || (mode === 'test' ? 'silent' : 'info')
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) throw new ConfigError('LOG_LEVEL', `unknown level "${level}"`)
  return {
    mode,
    host,
    port,
    publicUrl,
    dataDir: env.KALENDS_DATA_DIR || './data',
    databaseUrl,
    secretKey: secretKey(env, mode),
    logLevel: level,
    maxBodyBytes: int(env, 'KALENDS_MAX_BODY_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    syncPageSize: int(env, 'KALENDS_SYNC_PAGE_SIZE', 10_000, 1, 1_000_000),
    syncWorkers: int(env, 'KALENDS_SYNC_WORKERS', mode === 'test' ? 0 : 2, 0, 64),
    metricsToken: metricsToken(env),
    google: {
      baseUrl: env.KALENDS_GOOGLE_BASE_URL || null,
      clientId: env.KALENDS_GOOGLE_CLIENT_ID || null,
      clientSecret: env.KALENDS_GOOGLE_CLIENT_SECRET || null,
      pushAddress: env.KALENDS_GOOGLE_PUSH_ADDRESS || null
    },
    exchange: {
      autodiscoverUrls: env.KALENDS_EXCHANGE_AUTODISCOVER_URLS ? env.KALENDS_EXCHANGE_AUTODISCOVER_URLS.split(/\s*,\s*/).filter(u => u !== '') : null
    },
    graph: {
      authorityHost: (env.KALENDS_GRAPH_AUTHORITY_HOST || 'https://login.microsoftonline.com').replace(/\/+$/, ''),
      baseUrl: (env.KALENDS_GRAPH_BASE_URL || 'https://graph.microsoft.com/v1.0').replace(/\/+$/, ''),
      caFile: env.KALENDS_GRAPH_CA_FILE || null
    },
    loginFailureLimit: {
      perAccount: int(env, 'KALENDS_LOGIN_FAILURES_PER_ACCOUNT', 10, 1, 1_000_000),
      perAddress: int(env, 'KALENDS_LOGIN_FAILURES_PER_ADDRESS', 50, 1, 1_000_000),
      windowSeconds: int(env, 'KALENDS_LOGIN_FAILURE_WINDOW', 900, 1, 86_400),
      maxDelaySeconds: int(env, 'KALENDS_LOGIN_MAX_DELAY', 60, 1, 3600)
    },
    trustProxy: trustProxy(env.KALENDS_TRUST_PROXY)
  }
}
