// Writes schemas/people-v1.schemas.json from the generated People API types of
// googleapis (build/src/apis/people/v1.d.ts, generated from Google's discovery
// document discovery/people-v1.json): each Schema$X interface becomes a schema
// with its property names and JSON types, in the shape schema-check.ts reads.
// Run: node conformance/google-emulator/people-schemas-from-types.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SchemaNode } from './schema-check.ts';

const require = createRequire(import.meta.url);
const pkgPath = require.resolve('googleapis/package.json');
const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
const dts = readFileSync(pkgPath.replace(/package\.json$/, 'build/src/apis/people/v1.d.ts'), 'utf8');

function typeNode(t: string): SchemaNode {
  t = t.replace(/\s*\|\s*null$/, '').trim();
  const map = /^\{\s*\[key: string\]: (.+);\s*\}$/s.exec(t);
  if (map) return { type: 'object', additionalProperties: typeNode(map[1]!) };
  if (t.endsWith('[]')) return { type: 'array', items: typeNode(t.slice(0, -2)) };
  if (t.startsWith('Schema$')) return { $ref: PREFIX + t.slice('Schema$'.length) };
  if (/^Array<\{ \[key: string\]: any; \}>$/.test(t)) return { type: 'array', items: { type: 'object' } };
  if (t === 'string') return { type: 'string' };
  if (t === 'boolean') return { type: 'boolean' };
  if (t === 'number') return { type: 'integer' };
  throw new Error(`unknown type ${t}`);
}

// Calendar's and People's discovery documents both name an `Event`: People's go under their own prefix
const PREFIX = 'people.';
const schemas: Record<string, SchemaNode> = {};
for (const m of dts.matchAll(/export interface Schema\$(\w+) \{(?:\n {4}\}|\n([\s\S]*?)\n {4}\})/g)) {
  const body = (m[2] ?? '').replace(/\/\*\*[\s\S]*?\*\//g, '') + '\n';
  const properties: Record<string, SchemaNode> = {};
  for (const p of body.matchAll(/^\s+(\w+)\?: ([\s\S]*?);\n(?=\s+\w+\?:|\s*$)/gm)) properties[p[1]!] = typeNode(p[2]!.replace(/\n\s*/g, ' '));
  schemas[PREFIX + m[1]!] = { type: 'object', properties };
}
const out = {
  _source: {
    what: 'Schemas of the People API v1, property names and JSON types, from the types googleapis generates from the discovery document (formats are not in the types; int64/int32 both read as integer).',
    repository: 'googleapis/google-api-nodejs-client',
    path: 'discovery/people-v1.json (as generated into the googleapis npm package, build/src/apis/people/v1.d.ts)',
    package: `googleapis@${version}`,
    generator: 'conformance/google-emulator/people-schemas-from-types.ts',
  },
  schemas,
};
writeFileSync(new URL('./schemas/people-v1.schemas.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`${Object.keys(schemas).length} schemas`);
