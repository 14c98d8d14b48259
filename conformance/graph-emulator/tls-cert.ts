// A self-signed P-256 certificate for 127.0.0.1 and localhost, written in
// DER by hand (node:crypto signs but cannot build X.509), because MSAL
// refuses an authority that is not https ("authority_uri_insecure",
// msal-common src/url/UrlString.ts validateAsUri). The same builder makes
// the RSA certificates an app registration signs its client assertions
// with (certificate-credentials.md), with any validity window.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(ms: number): Buffer {
  const s = new Date(ms).toISOString();
  return tlv(0x17, Buffer.from(`${s.slice(2, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}Z`));
}

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

export type TestCertificate = { key: string; cert: string };

export type CertificateOptions = { commonName?: string; keyType?: 'ec' | 'rsa'; notBeforeMs?: number; notAfterMs?: number };

export function selfSignedCertificate(commonNameOrOptions: string | CertificateOptions = 'graph-emulator'): TestCertificate {
  const o = typeof commonNameOrOptions === 'string' ? { commonName: commonNameOrOptions } : commonNameOrOptions;
  const commonName = o.commonName ?? 'graph-emulator';
  const rsa = o.keyType === 'rsa';
  const { privateKey, publicKey } = rsa ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // sha256WithRSAEncryption carries a NULL parameter, ecdsa-with-SHA256 none (RFC 4055, RFC 5758)
  const signatureAlgorithm = rsa ? seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) : seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const san = seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost')));
  const extensions = tlv(0xa3, seq(seq(oid('2.5.29.17'), tlv(0x04, san))));
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    signatureAlgorithm,
    name,
    seq(utcTime(o.notBeforeMs ?? now - 3_600_000), utcTime(o.notAfterMs ?? now + 365 * 86_400_000)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: pem('CERTIFICATE', cert) };
}
