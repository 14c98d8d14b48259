import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { ntlm } from '../../src/sync/ews/ntlm.ts'
import type { Store } from './store.ts'

/**
 * Who is calling: Basic, NTLM or Bearer, as on-premises Exchange offers them
 * (exchange-web-services/authentication-and-ews-in-exchange.md). NTLM is
 * connection-oriented: Type 1 → 401 with a Type 2 challenge → Type 3 on the
 * same connection, which is then authenticated for its later requests
 * ([MS-NLMP] 2.2.1). The Type 3 message's NTLMv2 response is verified
 * against the mailbox's password with the server challenge sent on that
 * socket ([MS-NLMP] 3.3.2: NTOWFv2 and NTProofStr), the NT hash (MD4, which
 * Node's OpenSSL 3 lacks) taken from httpntlm's ntlm module: a wrong
 * password is refused. NTLMv1 responses (24 bytes) are refused, as servers
 * at LmCompatibilityLevel 5 do. Which schemes are accepted is settable
 * (`requireAuth`), so a test can demand NTLM as an IIS with Basic off does.
 */

export const AUTH_SCHEMES = ['basic', 'ntlm', 'bearer'] as const
export type AuthScheme = typeof AUTH_SCHEMES[number]

export type AuthResult =
  | { ok: true; mailbox: string }
  | { ok: false; challenge: string | null }

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1')
const NEGOTIATE_UNICODE = 0x1

const authenticated = new WeakMap<Socket, string>()
/** the server challenge last sent on a socket: its AUTHENTICATE must answer that one */
const challenges = new WeakMap<Socket, Buffer>()

function isNtlm (raw: Buffer, type: number): boolean {
  return raw.length >= 12 && raw.subarray(0, 8).equals(NTLMSSP) && raw.readUInt32LE(8) === type
}

/** A Type 2 (CHALLENGE) message: flags, a random server challenge and an empty target ([MS-NLMP] 2.2.1.2). */
function challengeMessage (serverChallenge: Buffer): string {
  const target = Buffer.from('EMULATOR', 'utf16le')
  const info = Buffer.concat([Buffer.from([2, 0, target.length, 0]), target, Buffer.from([0, 0, 0, 0])])
  const head = Buffer.alloc(48)
  NTLMSSP.copy(head, 0)
  head.writeUInt32LE(2, 8)
  head.writeUInt16LE(0, 12); head.writeUInt16LE(0, 14); head.writeUInt32LE(48, 16)
  // UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | TARGET_INFO
  head.writeUInt32LE(0x1 | 0x4 | 0x200 | 0x8000 | 0x80000 | 0x800000, 20)
  serverChallenge.copy(head, 24)
  head.writeUInt16LE(info.length, 40); head.writeUInt16LE(info.length, 42); head.writeUInt32LE(48, 44)
  return Buffer.concat([head, info]).toString('base64')
}

type Authenticate = { user: string; domain: string; nt: Buffer }

/** User, domain and NtChallengeResponse of a Type 3 (AUTHENTICATE) message ([MS-NLMP] 2.2.1.3). */
function authenticateFields (raw: Buffer): Authenticate | null {
  if (!isNtlm(raw, 3) || raw.length < 64) return null
  const flags = raw.readUInt32LE(60)
  const bytes = (at: number): Buffer | null => {
    const len = raw.readUInt16LE(at)
    const offset = raw.readUInt32LE(at + 4)
    return offset + len > raw.length ? null : raw.subarray(offset, offset + len)
  }
  const text = (b: Buffer | null) => b === null ? null : b.toString((flags & NEGOTIATE_UNICODE) !== 0 ? 'utf16le' : 'latin1')
  const nt = bytes(20)
  const domain = text(bytes(28))
  const user = text(bytes(36))
  return user === null || domain === null || nt === null ? null : { user, domain, nt }
}

const hmacMd5 = (key: Buffer, data: Buffer): Buffer => createHmac('md5', key).update(data).digest()

/**
 * NTLMv2: NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge ‖ temp), where
 * NTOWFv2 = HMAC_MD5(MD4(UNICODE(password)), UNICODE(Uppercase(User) ‖ UserDom))
 * and temp is the rest of the NtChallengeResponse ([MS-NLMP] 3.3.2).
 */
function ntlmV2Valid (msg: Authenticate, password: string, serverChallenge: Buffer): boolean {
  if (msg.nt.length <= 24) return false
  const key = hmacMd5(ntlm.create_NT_hashed_password(password), Buffer.from(msg.user.toUpperCase() + msg.domain, 'utf16le'))
  const proof = hmacMd5(key, Buffer.concat([serverChallenge, msg.nt.subarray(16)]))
  return timingSafeEqual(proof, msg.nt.subarray(0, 16))
}

/** A mailbox by user name as people type it: the SMTP address, user@domain, DOMAIN\user or the bare user. */
function mailboxOf (store: Store, name: string): string | null {
  const bare = name.includes('\\') ? name.slice(name.indexOf('\\') + 1) : name
  const lower = bare.toLowerCase()
  if (store.mailboxes.has(lower)) return lower
  for (const mb of store.mailboxes.keys()) if (mb.split('@')[0] === lower.split('@')[0]) return mb
  return null
}

export function authenticate (store: Store, tokens: Map<string, string>, req: IncomingMessage, schemes: ReadonlySet<AuthScheme> = new Set(AUTH_SCHEMES)): AuthResult {
  const header = req.headers.authorization ?? ''
  const [scheme = '', value = ''] = header.split(/\s+/, 2)
  const known = authenticated.get(req.socket)
  if (header === '' && known !== undefined) return { ok: true, mailbox: known }
  const kind = scheme.toLowerCase()
  if (!schemes.has(kind === 'negotiate' ? 'ntlm' : kind as AuthScheme)) return { ok: false, challenge: null }
  switch (kind) {
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
      authenticated.delete(req.socket)
      const raw = Buffer.from(value, 'base64')
      if (isNtlm(raw, 1)) {
        const serverChallenge = randomBytes(8)
        challenges.set(req.socket, serverChallenge)
        return { ok: false, challenge: `${scheme} ${challengeMessage(serverChallenge)}` }
      }
      const serverChallenge = challenges.get(req.socket)
      challenges.delete(req.socket)
      const fields = authenticateFields(raw)
      const mailbox = fields === null ? null : mailboxOf(store, fields.user)
      const password = mailbox === null ? null : store.mailboxes.get(mailbox)?.password ?? null
      if (fields === null || mailbox === null || password === null || serverChallenge === undefined || !ntlmV2Valid(fields, password, serverChallenge)) return { ok: false, challenge: null }
      authenticated.set(req.socket, mailbox)
      return { ok: true, mailbox }
    }
  }
  return { ok: false, challenge: null }
}

/** The schemes a 401 offers, as IIS in front of EWS lists them (NTLM's first). */
export const CHALLENGES = ['NTLM', 'Negotiate', 'Basic realm="emulator"', 'Bearer']

export function challengesFor (schemes: ReadonlySet<AuthScheme>): string[] {
  return CHALLENGES.filter(c => schemes.has(/^(ntlm|negotiate)/i.test(c) ? 'ntlm' : c.split(' ')[0]!.toLowerCase() as AuthScheme))
}
