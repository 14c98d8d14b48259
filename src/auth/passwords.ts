import argon2 from 'argon2'

// OWASP's argon2id baseline (19 MiB, 2 passes): cheap enough to verify per sign-in on 2 cores.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export function hashPassword (password: string): Promise<string> {
  return argon2.hash(password, OPTIONS)
}

export async function verifyPassword (hash: string, password: string): Promise<boolean> {
  try { return await argon2.verify(hash, password) } catch { return false }
}

// Verifying against this keeps the time of "no such user" the same as "wrong password".
let dummy: Promise<string> | undefined
export async function burnVerify (password: string): Promise<void> {
  dummy ??= hashPassword('kalends-timing-equaliser')
  await verifyPassword(await dummy, password)
}
