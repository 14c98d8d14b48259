// Checks JSON the emulator answers with against Google's discovery schemas
// (copied into schemas/): every property must exist in the schema with the
// right JSON type and format, recursively through $ref; `kind` must match.
import { readFileSync } from 'node:fs';

export type SchemaNode = {
  type?: string;
  format?: string;
  default?: string;
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
};

type SchemaFile = { _source: { newerFields?: Record<string, string> }; schemas: Record<string, SchemaNode>; kinds?: Record<string, string> };

function load(name: string): SchemaFile {
  return JSON.parse(readFileSync(new URL(`./schemas/${name}.schemas.json`, import.meta.url), 'utf8')) as SchemaFile;
}

/** The error envelope every Google API answers failures with (not part of the discovery schemas). */
const ERROR_ENVELOPE: SchemaNode = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'integer' },
        message: { type: 'string' },
        status: { type: 'string' },
        details: { type: 'array', items: { type: 'object', additionalProperties: {} } },
        errors: {
          type: 'array',
          items: {
            type: 'object',
            properties: { domain: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' }, location: { type: 'string' }, locationType: { type: 'string' } },
          },
        },
      },
    },
  },
};

/**
 * Fields newer than the copied discovery revision that the emulator sends,
 * each present in the generated types of googleapis 188 (tasks_v1.Schema$Task).
 */
const NEWER_FIELDS: Record<string, Record<string, SchemaNode>> = {
  Task: { webViewLink: { type: 'string' } },
};

export class SchemaSet {
  schemas: Record<string, SchemaNode>;
  kinds: Record<string, string>;
  constructor(files: SchemaFile[]) {
    this.schemas = {};
    this.kinds = {};
    for (const file of files) {
      Object.assign(this.schemas, structuredClone(file.schemas));
      Object.assign(this.kinds, file.kinds ?? {});
      // Fields Google added after the published revision (e.g. Event.eventType).
      for (const path of Object.keys(file._source.newerFields ?? {})) {
        const [schema, field] = path.split('.');
        const props = this.schemas[schema!]?.properties;
        if (props && field && !props[field]) props[field] = { type: 'string' };
      }
    }
    for (const [schema, fields] of Object.entries(NEWER_FIELDS)) {
      const props = this.schemas[schema]?.properties;
      if (props) for (const [k, v] of Object.entries(fields)) props[k] ??= v;
    }
    this.schemas.ErrorEnvelope = ERROR_ENVELOPE;
  }

  static google(): SchemaSet {
    return new SchemaSet([load('calendar-v3'), load('tasks-v1'), load('people-v1')]);
  }

  /** Violations of `value` against the named schema, each with its JSON path. */
  check(value: unknown, schemaName: string): string[] {
    const problems: string[] = [];
    this.walk(value, { $ref: schemaName }, schemaName, problems);
    return problems;
  }

  private walk(value: unknown, node: SchemaNode, path: string, problems: string[]): void {
    let schemaName: string | undefined;
    while (node.$ref) {
      schemaName = node.$ref;
      const next = this.schemas[node.$ref];
      if (!next) return void problems.push(`${path}: no schema ${node.$ref}`);
      node = next;
    }
    const type = node.type;
    if (type === 'object') {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return void problems.push(`${path}: expected object`);
      for (const [k, v] of Object.entries(value)) {
        const child = node.properties?.[k] ?? node.additionalProperties;
        if (!child) problems.push(`${path}.${k}: not in the schema`);
        else this.walk(v, child, `${path}.${k}`, problems);
      }
      const kind = (value as { kind?: unknown }).kind;
      const expected = node.properties?.kind?.default ?? (schemaName ? this.kinds[schemaName] : undefined);
      if (expected && kind !== undefined && kind !== expected) problems.push(`${path}.kind: ${String(kind)} is not ${expected}`);
    } else if (type === 'array') {
      if (!Array.isArray(value)) return void problems.push(`${path}: expected array`);
      value.forEach((v, i) => this.walk(v, node.items ?? {}, `${path}[${i}]`, problems));
    } else if (type === 'string') {
      if (typeof value !== 'string') return void problems.push(`${path}: expected string, got ${JSON.stringify(value)}`);
      if (node.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) problems.push(`${path}: not RFC 3339: ${value}`);
      if (node.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) problems.push(`${path}: not a date: ${value}`);
      if (node.format === 'int64' && !/^-?\d+$/.test(value)) problems.push(`${path}: not an int64 string: ${value}`);
    } else if (type === 'integer') {
      if (!Number.isInteger(value)) problems.push(`${path}: expected integer, got ${JSON.stringify(value)}`);
    } else if (type === 'number') {
      if (typeof value !== 'number') problems.push(`${path}: expected number`);
    } else if (type === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`${path}: expected boolean, got ${JSON.stringify(value)}`);
    }
  }
}

const RESPONSE_SCHEMAS: [RegExp, string][] = [
  [/^GET \/calendar\/v3\/users\/me\/calendarList$/, 'CalendarList'],
  [/^GET \/calendar\/v3\/users\/me\/calendarList\/\{calendarId\}$/, 'CalendarListEntry'],
  [/^\w+ \/calendar\/v3\/calendars(\/\{calendarId\})?$/, 'Calendar'],
  [/^GET \/calendar\/v3\/calendars\/\{calendarId\}\/events(\/\{eventId\}\/instances)?$/, 'Events'],
  [/^POST \/calendar\/v3\/calendars\/\{calendarId\}\/events\/watch$/, 'Channel'],
  [/^\w+ \/calendar\/v3\/calendars\/\{calendarId\}\/events(\/import|\/\{eventId\}(\/move)?)?$/, 'Event'],
  [/^GET \/tasks\/v1\/users\/@me\/lists$/, 'TaskLists'],
  [/^\w+ \/tasks\/v1\/users\/@me\/lists(\/\{tasklist\})?$/, 'TaskList'],
  [/^GET \/tasks\/v1\/lists\/\{tasklist\}\/tasks$/, 'Tasks'],
  [/^\w+ \/tasks\/v1\/lists\/\{tasklist\}\/tasks(\/\{task\}(\/move)?)?$/, 'Task'],
  [/^GET \/v1\/contactGroups$/, 'people.ListContactGroupsResponse'],
  [/^(GET|POST|PUT) \/v1\/contactGroups(\/\{groupId\})?$/, 'people.ContactGroup'],
  [/^DELETE \/v1\/contactGroups\/\{groupId\}$/, 'people.Empty'],
  [/^POST \/v1\/contactGroups\/\{groupId\}\/members:modify$/, 'people.ModifyContactGroupMembersResponse'],
  [/^GET \/v1\/people\/\{personId\}\/connections$/, 'people.ListConnectionsResponse'],
  [/^POST \/v1\/people:batchCreateContacts$/, 'people.BatchCreateContactsResponse'],
  [/^POST \/v1\/people:batchUpdateContacts$/, 'people.BatchUpdateContactsResponse'],
  [/^POST \/v1\/people:batchDeleteContacts$/, 'people.Empty'],
  [/^DELETE \/v1\/people\/\{personId\}:deleteContact$/, 'people.Empty'],
  [/^GET \/v1\/people:batchGet$/, 'people.GetPeopleResponse'],
  [/^(GET \/v1\/people\/\{personId\}|POST \/v1\/people:createContact|PATCH \/v1\/people\/\{personId\}:updateContact)$/, 'people.Person'],
];

/** The schema an API answer must follow: the route's resource, or the error envelope. */
export function responseSchema(method: string, template: string, status: number): string | undefined {
  if (status >= 400) return 'ErrorEnvelope';
  const key = `${method} ${template}`;
  return RESPONSE_SCHEMAS.find(([re]) => re.test(key))?.[1];
}
