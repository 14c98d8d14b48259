// Checks Graph JSON against Microsoft Graph's own service metadata (the v1.0
// CSDL of microsoftgraph/msgraph-metadata, in ../shared/data/graph-csdl):
// every property must be declared on the type or a BaseType ancestor, with
// the JSON shape its Edm type, enum or Collection(...) names, and no null
// where Nullable="false". OData control annotations (@odata.*, x@odata.*,
// @removed on delta entries) are not properties and are skipped.
//
// The CSDL is regular, machine-written XML (one element per line, attributes
// in double quotes), so a tag scanner is enough; fast-xml-parser is not a
// dependency of this project (see the README).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CSDL_ENV = 'KALENDS_GRAPH_CSDL';
const RELATIVE = join('shared', 'data', 'graph-csdl', 'v1.0-Prod.csdl');

/**
 * Where v1.0-Prod.csdl is: $KALENDS_GRAPH_CSDL, else the first
 * shared/data/graph-csdl/v1.0-Prod.csdl walking up from the repository
 * (CI lays shared/ beside the clone; a worktree finds the workspace's).
 */
export function graphCsdlPath(): string {
  const fromEnv = process.env[CSDL_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (;;) {
    const candidate = join(dir, RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Graph CSDL not found: no ${RELATIVE} above the repository; set ${CSDL_ENV}`);
    dir = parent;
  }
}

type Prop = { type: string; nullable: boolean };
type StructuredType = { kind: 'entity' | 'complex'; name: string; base?: string; open: boolean; props: Map<string, Prop> };
type EnumType = { flags: boolean; members: Set<string> };

function attrs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

export class Csdl {
  readonly structured = new Map<string, StructuredType>();
  readonly enums = new Map<string, EnumType>();

  static #cache: Csdl | undefined;
  static load(path = graphCsdlPath()): Csdl {
    if (!Csdl.#cache) Csdl.#cache = new Csdl(readFileSync(path, 'utf8'));
    return Csdl.#cache;
  }

  constructor(xml: string) {
    let namespace = '';
    const aliases = new Map<string, string>();
    let current: StructuredType | undefined;
    let currentEnum: EnumType | undefined;
    const pending: StructuredType[] = [];
    for (const m of xml.matchAll(/<(\/?)(Schema|EntityType|ComplexType|EnumType|Property|NavigationProperty|Member)\b([^>]*?)(\/?)>/g)) {
      const [, closing, tag, rest, selfClosing] = m;
      if (closing) {
        if (tag === 'EntityType' || tag === 'ComplexType') current = undefined;
        if (tag === 'EnumType') currentEnum = undefined;
        continue;
      }
      const a = attrs(rest!);
      if (tag === 'Schema') {
        namespace = a.Namespace!;
        if (a.Alias) aliases.set(a.Alias, namespace);
      } else if (tag === 'EntityType' || tag === 'ComplexType') {
        const t: StructuredType = { kind: tag === 'EntityType' ? 'entity' : 'complex', name: `${namespace}.${a.Name}`, open: a.OpenType === 'true', props: new Map() };
        if (a.BaseType) t.base = a.BaseType;
        this.structured.set(t.name, t);
        pending.push(t);
        current = selfClosing ? undefined : t;
      } else if (tag === 'EnumType') {
        const e: EnumType = { flags: a.IsFlags === 'true', members: new Set() };
        this.enums.set(`${namespace}.${a.Name}`, e);
        currentEnum = selfClosing ? undefined : e;
      } else if ((tag === 'Property' || tag === 'NavigationProperty') && current) {
        current.props.set(a.Name!, { type: a.Type!, nullable: a.Nullable !== 'false' });
      } else if (tag === 'Member' && currentEnum) {
        currentEnum.members.add(a.Name!);
      }
    }
    // Resolve aliases ("graph.event" → "microsoft.graph.event") once, after all schemas are read.
    const unalias = (t: string): string => {
      const coll = /^Collection\((.+)\)$/.exec(t);
      if (coll) return `Collection(${unalias(coll[1]!)})`;
      const dot = t.indexOf('.');
      const head = t.slice(0, dot);
      return aliases.has(head) ? `${aliases.get(head)}${t.slice(dot)}` : t;
    };
    for (const t of pending) {
      if (t.base) t.base = unalias(t.base);
      for (const p of t.props.values()) p.type = unalias(p.type);
    }
  }

  /** The property of a type, looked up through BaseType ancestors. */
  property(typeName: string, prop: string): Prop | undefined {
    for (let t = this.structured.get(typeName); t; t = t.base ? this.structured.get(t.base) : undefined) {
      const p = t.props.get(prop);
      if (p) return p;
    }
    return undefined;
  }

  isSubtype(typeName: string, of: string): boolean {
    for (let t = this.structured.get(typeName); t; t = t.base ? this.structured.get(t.base) : undefined) if (t.name === of) return true;
    return false;
  }

  /**
   * Problems of a JSON value as the named type ("microsoft.graph.event",
   * "Collection(microsoft.graph.todoTask)", "Edm.String"), each as
   * "path: what is wrong". Open types are checked as closed: the emulator
   * must not invent properties even where OData would allow dynamic ones,
   * except on types that declare none (resourceData).
   */
  check(value: unknown, typeName: string, path = '$'): string[] {
    if (value === null) return [];
    const coll = /^Collection\((.+)\)$/.exec(typeName);
    if (coll) {
      if (!Array.isArray(value)) return [`${path}: expected an array (${typeName})`];
      return value.flatMap((v, i) => (v === null ? [`${path}[${i}]: null in a collection`] : this.check(v, coll[1]!, `${path}[${i}]`)));
    }
    if (typeName.startsWith('Edm.')) return checkPrimitive(value, typeName, path);
    const en = this.enums.get(typeName);
    if (en) {
      if (typeof value !== 'string') return [`${path}: expected a ${typeName} member string`];
      const names = en.flags ? value.split(',').map((s) => s.trim()) : [value];
      return names.filter((n) => !en.members.has(n)).map((n) => `${path}: '${n}' is not a member of ${typeName}`);
    }
    let t = this.structured.get(typeName);
    if (!t) return [`${path}: unknown type ${typeName}`];
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object (${typeName})`];
    const obj = value as Record<string, unknown>;
    const declared = obj['@odata.type'];
    // resourceData is open and untyped: Graph annotates it with the changed resource's type.
    if (typeof declared === 'string' && !(t.open && t.props.size === 0)) {
      const derived = declared.replace(/^#/, '');
      const resolved = [...this.structured.keys()].find((k) => k.toLowerCase() === derived.toLowerCase());
      if (!resolved || !this.isSubtype(resolved, t.name)) return [`${path}: @odata.type ${declared} is not ${typeName} or derived from it`];
      t = this.structured.get(resolved)!;
    }
    const problems: string[] = [];
    for (const [key, v] of Object.entries(obj)) {
      if (key.startsWith('@') || key.includes('@')) continue;
      const p = this.property(t.name, key);
      if (!p) {
        if (!(t.open && t.props.size === 0)) problems.push(`${path}.${key}: not a property of ${t.name}`);
        continue;
      }
      if (v === null) {
        if (!p.nullable) problems.push(`${path}.${key}: null but Nullable="false" in ${t.name}`);
        continue;
      }
      problems.push(...this.check(v, p.type, `${path}.${key}`));
    }
    return problems;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkPrimitive(value: unknown, type: string, path: string): string[] {
  const bad = (what: string) => [`${path}: expected ${what} (${type}), got ${JSON.stringify(value)}`];
  switch (type) {
    case 'Edm.String':
      return typeof value === 'string' ? [] : bad('a string');
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? [] : bad('a boolean');
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Byte':
      return Number.isInteger(value) ? [] : bad('an integer');
    case 'Edm.Int64':
      // IEEE754Compatible=true would render it as a string of digits.
      return Number.isInteger(value) || (typeof value === 'string' && /^-?\d+$/.test(value)) ? [] : bad('an integer');
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      return typeof value === 'number' ? [] : bad('a number');
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && DATE_TIME_OFFSET.test(value) && !Number.isNaN(Date.parse(value)) ? [] : bad('an ISO 8601 date-time with offset');
    case 'Edm.Date':
      return typeof value === 'string' && DATE.test(value) ? [] : bad('a date');
    case 'Edm.TimeOfDay':
      return typeof value === 'string' && /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? [] : bad('a time of day');
    case 'Edm.Duration':
      return typeof value === 'string' && /^-?P/.test(value) ? [] : bad('an ISO 8601 duration');
    case 'Edm.Guid':
      return typeof value === 'string' && GUID.test(value) ? [] : bad('a GUID');
    case 'Edm.Binary':
      return typeof value === 'string' && /^[A-Za-z0-9+/_-]*=*$/.test(value) ? [] : bad('base64');
    default:
      return [];
  }
}
