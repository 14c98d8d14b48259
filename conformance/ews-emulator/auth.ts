import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Store } from './store.ts'

/**
 * Who is calling: Basic, NTLM or Bearer, as on-premises Exchange offers them
 * (exchange-web-services/authentication-and-ews-in-exchange.md). NTLM is
 * connection-oriented: Type 1 → 401 with a Type 2 challenge → Type 3 on the
 * same connection, which is then authenticated for its later requests
 * ([MS-NLMP] 2.2.1). The Type 3 message is parsed for the user and domain
 * only: its NTLMv2 response is NOT verified (that needs MD4, which Node's
 * OpenSSL 3 no longer offers, and no maintained npm package does it
 * server-side), so any password of a known user passes NTLM (README).
 */

export type AuthResult =
  | { ok: true; mailbox: string }
  | { ok: false; challenge: string | null }

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1')
const NEGOTIATE_UNICODE = 0x1

const authenticated = new WeakMap<Socket, string>()

function isNtlm (raw: Buffer, type: number): boolean {
  return raw.length >= 12 && raw.subarray(0, 8).equals(NTLMSSP) && raw.readUInt32LE(8) === type
}

/** A Type 2 (CHALLENGE) message: flags, a random server challenge and an empty target ([MS-NLMP] 2.2.1.2). */
function challengeMessage (): string {
  const target = Buffer.from('EMULATOR', 'utf16le')
  const info = Buffer.concat([Buffer.from([2, 0, target.length, 0]), target, Buffer.from([0, 0, 0, 0])])
  const head = Buffer.alloc(48)
  NTLMSSP.copy(head, 0)
  head.writeUInt32LE(2, 8)
  head.writeUInt16LE(0, 12); head.writeUInt16LE(0, 14); head.writeUInt32LE(48, 16)
  // UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | TARGET_INFO
  head.writeUInt32LE(0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000, 20)
  randomBytes(8).copy(head, 24)
  head.writeUInt16LE(info.length, 40); head.writeUInt16LE(info.length, 42); head.writeUInt32LE(48, 44)
  return Buffer.concat([head, info]).toString('base64')
}

/** User and domain of a Type 3 (AUTHENTICATE) message ([MS-NLMP] 2.2.1.3). */
function authenticateFields (raw: Buffer): { user: string; domain: string } | null {
  if (!isNtlm(raw, 3) || raw.length < 64) return null
  const flags = raw.readUInt32LE(60)
  const field = (at: number): string | null => {
    const len = raw.readUInt16LE(at)
    const offset = raw.readUInt32LE(at + 4)
    if (offset + len > raw.length) return null
    return raw.subarray(offset, offset + len).toString((flags & NEGOTIATE_UNICODE) !== 0 ? 'utf16le' : 'latin1')
  }
  const domain = field(28)
  const user = field(36)
  return user === null || domain === null ? null : { user, domain }
}

/** A mailbox by user name as people type it: the SMTP address, user@domain, DOMAIN\user or the bare user. */
function mailboxOf (store: Store, name: string): string | null {
  const bare = name.includes('\\') ? name.slice(name.indexOf('\\') + 1) : name
  const lower = bare.toLowerCase()
  if (store.mailboxes.has(lower)) return lower
  for (const mb of store.mailboxes.keys()) if (mb.split('@')[0] === lower.split('@')[0]) return mb
  return null
}

export function authenticate (store: Store, tokens: Map<string, string>, req: IncomingMessage): AuthResult {
  const header = req.headers.authorization ?? ''
  const [scheme = '', value = ''] = header.split(/\s+/, 2)
  const known = authenticated.get(req.socket)
  if (header === '' && known !== undefined) return { ok: true, mailbox: known }
  switch (scheme.toLowerCase()) {
    case 'basic': {
      const plain = Buffer.from(value, 'base64').toString()
      const colon = plain.indexOf(':')
      const mailbox = mailboxOf(store, plain.slice(0, colon))
      const password = plain.slice(colon + 1)
      if (colon > 0 && mailbox !== null && store.mailboxes.get(mailbox)?.password === password) return { ok: true, mailbox }
      return { ok: false, challenge: null }
    }
    case 'bearer': {
      const mailbox = tokens.get(value)
      return mailbox === undefined ? { ok: false, challenge: null } : { ok: true, mailbox }
    }
    case 'ntlm':
    case 'negotiate': {
      const raw = Buffer.from(value, 'base64')
      if (isNtlm(raw, 1)) return { ok: false, challenge: `${scheme} ${challengeMessage()}` }
      const fields = authenticateFields(raw)
      const mailbox = fields === null ? null : mailboxOf(store, fields.user)
      if (mailbox === null) return { ok: false, challenge: null }
      authenticated.set(req.socket, mailbox)
      return { ok: true, mailbox }
    }
  }
  return { ok: false, challenge: null }
}

/** The schemes a 401 offers, as IIS in front of EWS lists them. */
export const CHALLENGES = ['Negotiate', 'NTLM', 'Basic realm="emulator"', 'Bearer']
