import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Validates SOAP envelopes against Microsoft's EWS schema (messages.xsd,
 * which imports types.xsd) with `xmllint --schema`. The XSDs describe the
 * messages, not the envelope, and types.xsd refers to `xml:lang` without a
 * schemaLocation (libxml2 then fails to compile it), so a thin wrapper schema
 * is written once per process: the SOAP 1.1 envelope (Header and Body
 * children checked strictly against the EWS declarations, Fault detail lax)
 * plus the one attribute of the XML namespace. Many documents go through one
 * xmllint run, since compiling the 700 kB schema dominates the cost.
 */

const SCHEMA_DIR_ENV = 'KALENDS_EWS_SCHEMA_DIR'
const RELATIVE = join('shared', 'data', 'ews-schema')

/**
 * Where messages.xsd is: $KALENDS_EWS_SCHEMA_DIR, else the first
 * shared/data/ews-schema found walking up from the repository (CI lays
 * shared/ beside the clone, a worktree finds the workspace's shared/).
 */
export function ewsSchemaDir (): string {
  const fromEnv = process.env[SCHEMA_DIR_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
  for (;;) {
    const candidate = join(dir, RELATIVE)
    if (existsSync(join(candidate, 'messages.xsd'))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`EWS schema not found: no ${RELATIVE}/messages.xsd above the repository; set ${SCHEMA_DIR_ENV}`)
    dir = parent
  }
}

const SOAP = 'http://schemas.xmlsoap.org/soap/envelope/'

function wrapperSchema (schemaDir: string): string {
  const href = (name: string) => `file://${join(schemaDir, name).split('/').map(encodeURIComponent).join('/')}`
  return `<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:soap="${SOAP}" targetNamespace="${SOAP}" elementFormDefault="qualified">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="xml.xsd"/>
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/types" schemaLocation="${href('types.xsd')}"/>
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages" schemaLocation="${href('messages.xsd')}"/>
  <xs:element name="Envelope">
    <xs:complexType><xs:sequence>
      <xs:element ref="soap:Header" minOccurs="0"/>
      <xs:element ref="soap:Body"/>
    </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType>
  </xs:element>
  <xs:element name="Header">
    <xs:complexType><xs:sequence>
      <xs:any namespace="##other" processContents="strict" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType>
  </xs:element>
  <xs:element name="Body">
    <xs:complexType><xs:choice>
      <xs:element ref="soap:Fault"/>
      <xs:any namespace="http://schemas.microsoft.com/exchange/services/2006/messages" processContents="strict"/>
    </xs:choice></xs:complexType>
  </xs:element>
  <xs:element name="Fault">
    <xs:complexType><xs:sequence>
      <xs:element name="faultcode" type="xs:QName" form="unqualified"/>
      <xs:element name="faultstring" form="unqualified">
        <xs:complexType><xs:simpleContent><xs:extension base="xs:string">
          <xs:attribute ref="xml:lang"/>
        </xs:extension></xs:simpleContent></xs:complexType>
      </xs:element>
      <xs:element name="faultactor" type="xs:anyURI" minOccurs="0" form="unqualified"/>
      <xs:element name="detail" minOccurs="0" form="unqualified">
        <xs:complexType><xs:sequence>
          <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>
`
}

// The one declaration of the XML namespace that types.xsd uses (xml:lang on ReplyBody).
const XML_XSD = `<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang"><xs:simpleType><xs:union memberTypes="xs:language"><xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value=""/></xs:restriction></xs:simpleType></xs:union></xs:simpleType></xs:attribute>
</xs:schema>
`

let wrapperDir: string | null = null

function wrapperPath (): string {
  if (wrapperDir === null) {
    const schemaDir = ewsSchemaDir()
    wrapperDir = mkdtempSync(join(tmpdir(), 'ews-schema-'))
    writeFileSync(join(wrapperDir, 'xml.xsd'), XML_XSD)
    writeFileSync(join(wrapperDir, 'envelope.xsd'), wrapperSchema(schemaDir))
    const dir = wrapperDir
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return join(wrapperDir, 'envelope.xsd')
}

export type SchemaProblem = { index: number; errors: string[] }

/**
 * Every document that breaks the schema, by its index in `docs`, with
 * xmllint's messages (line numbers are the document's own).
 */
export async function validateSoap (docs: string[]): Promise<SchemaProblem[]> {
  if (docs.length === 0) return []
  const schema = wrapperPath()
  const dir = mkdtempSync(join(tmpdir(), 'ews-docs-'))
  try {
    const files = docs.map((doc, i) => {
      const file = join(dir, `${i}.xml`)
      writeFileSync(file, doc)
      return file
    })
    const stderr = await new Promise<string>((resolveRun, reject) => {
      execFile('xmllint', ['--noout', '--nonet', '--schema', schema, ...files], { maxBuffer: 64 * 1024 * 1024 }, (err, _out, errText) => {
        const code = (err as { code?: unknown } | null)?.code
        if (code === 'ENOENT') reject(new Error('xmllint not found: install libxml2-utils (scripts/setup-debian.sh)'))
        else if (err !== null && code !== 3 && code !== 4 && code !== 1) reject(new Error(`xmllint failed (${String(code)}): ${errText}`))
        else resolveRun(errText)
      })
    })
    if (/failed to compile/.test(stderr)) throw new Error(`EWS schema did not compile: ${stderr.slice(0, 2000)}`)
    const byFile = new Map<number, string[]>()
    for (const line of stderr.split('\n')) {
      const m = /^(.*?)(\d+)\.xml[: ](.*)$/.exec(line)
      if (m === null || !line.startsWith(dir)) continue
      const index = Number(m[2])
      if (/^\s*validates$/.test(m[3] ?? '')) continue
      if (!byFile.has(index)) byFile.set(index, [])
      if (!/fails to validate$/.test(line)) byFile.get(index)?.push(line.slice(dir.length + 1))
    }
    return [...byFile.entries()].map(([index, errors]) => ({ index, errors })).sort((a, b) => a.index - b.index)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Collects SOAP traffic and checks all of it in one xmllint run. */
export class SoapRecorder {
  readonly #docs: { label: string; xml: string }[] = []

  record (label: string, xml: string): void {
    this.#docs.push({ label, xml })
  }

  get size (): number {
    return this.#docs.length
  }

  /** The failures, each as "label: xmllint message", with the offending document once. */
  async check (): Promise<string[]> {
    const docs = this.#docs.splice(0)
    const problems = await validateSoap(docs.map(d => d.xml))
    return problems.map(p => `${docs[p.index]?.label ?? '?'}: ${p.errors.join('; ')}\n${docs[p.index]?.xml ?? ''}`)
  }
}
