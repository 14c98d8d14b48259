import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Secrets at rest (OAuth refresh tokens, Exchange passwords) are sealed with
 * AES-256-GCM under KALENDS_SECRET_KEY; the stored form is versioned so the
 * scheme can change without guessing.
 */
export class SecretBox {
  readonly #key: Buffer
  constructor (key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes')
    this.#key = key
  }

  /**
   * A key for one purpose (HKDF-SHA256 of this one, RFC 5869): each use of
   * the secret key gets its own, and none of them gives the secret key away.
   */
  derive (purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `kalends:${purpose}`, 32))
  }

  seal (plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
  }

  open (sealed: string): string {
    const [v, iv, body, tag] = sealed.split('.')
    if (v !== 'v1' || iv === undefined || body === undefined || tag === undefined) throw new Error('not a sealed secret')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
  }
}
