import { Type } from 'typebox'

/** Request schemas: they validate input and become the OpenAPI document. */
// ids are bigint in the database and numbers here: JSON's safe integers are the common range
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
const Order = Type.Integer({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const DateTimeOrDate = Type.String({ description: 'ISO 8601 date-time with offset, or YYYY-MM-DD for all-day', maxLength: 40 })
const DateTime = Type.String({ description: 'ISO 8601 date-time with offset', maxLength: 40 })

export const IdParams = Type.Object({ id: Id })

export const ListQuery = Type.Object({
  from: Type.Optional(DateTime),
  to: Type.Optional(DateTime),
  calendarId: Type.Optional(Id),
  caseId: Type.Optional(Id),
  withoutCase: Type.Optional(Type.Boolean({ description: 'only items with no case, e.g. imported from outside' })),
  typeId: Type.Optional(Id),
  status: Type.Optional(Type.String({ maxLength: 20 })),
  ownerId: Type.Optional(Id),
  assigneeId: Type.Optional(Id),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 }))
}, { additionalProperties: false })

const appointmentFields = {
  calendarId: Type.Optional(Id),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  description: Type.Optional(Type.String({ maxLength: 100_000 })),
  location: Type.Optional(Type.String({ maxLength: 1000 })),
  allDay: Type.Optional(Type.Boolean()),
  start: Type.Optional(DateTimeOrDate),
  end: Type.Optional(DateTimeOrDate),
  timezone: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Warsaw' }))),
  rrule: Type.Optional(Nullable(Type.String({ maxLength: 1000, description: 'RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO' }))),
  exdates: Type.Optional(Type.Array(DateTimeOrDate, { maxItems: 1000 })),
  caseId: Type.Optional(Nullable(Id)),
  typeId: Type.Optional(Nullable(Id)),
  status: Type.Optional(Type.Union([Type.Literal('tentative'), Type.Literal('confirmed'), Type.Literal('cancelled')])),
  private: Type.Optional(Type.Boolean()),
  busy: Type.Optional(Type.Boolean()),
  ownerId: Type.Optional(Id),
  participantIds: Type.Optional(Type.Array(Id, { maxItems: 500 }))
}
export const AppointmentCreate = Type.Object({ ...appointmentFields, uid: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), title: Type.String({ minLength: 1, maxLength: 1000 }), start: DateTimeOrDate }, { additionalProperties: false })
export const AppointmentPatch = Type.Object(appointmentFields, { additionalProperties: false })

const taskFields = {
  calendarId: Type.Optional(Id),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  description: Type.Optional(Type.String({ maxLength: 100_000 })),
  due: Type.Optional(Nullable(DateTime)),
  plannedStart: Type.Optional(Nullable(DateTime)),
  plannedEnd: Type.Optional(Nullable(DateTime)),
  actualStart: Type.Optional(Nullable(DateTime)),
  actualEnd: Type.Optional(Nullable(DateTime)),
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('in_progress'), Type.Literal('review'), Type.Literal('done')])),
  typeId: Type.Optional(Nullable(Id)),
  caseId: Type.Optional(Nullable(Id)),
  assigneeId: Type.Optional(Id)
}
export const TaskCreate = Type.Object({ ...taskFields, uid: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), title: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false })
export const TaskPatch = Type.Object({ ...taskFields, createdBy: Type.Optional(Id), createdAt: Type.Optional(DateTime) }, { additionalProperties: false })

export const CalendarCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  color: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$' }))),
  order: Type.Optional(Order),
  timezone: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  components: Type.Optional(Type.Array(Type.Union([Type.Literal('VEVENT'), Type.Literal('VTODO')]), { minItems: 1, maxItems: 2 })),
  kind: Type.Optional(Type.Union([Type.Literal('personal'), Type.Literal('tasks'), Type.Literal('company')]))
}, { additionalProperties: false })
export const CalendarPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  color: Type.Optional(Nullable(Type.String({ pattern: '^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$' }))),
  order: Type.Optional(Order),
  timezone: Type.Optional(Nullable(Type.String({ maxLength: 64 })))
}, { additionalProperties: false })
export const ShareParams = Type.Object({ id: Id, userId: Id })
export const ShareBody = Type.Object({ access: Type.Union([Type.Literal('read'), Type.Literal('write')]) }, { additionalProperties: false })

export const CaseCreate = Type.Object({ title: Type.String({ minLength: 1, maxLength: 500 }), kind: Type.Optional(Type.Union([Type.Literal('matter'), Type.Literal('project'), Type.Literal('client')])) }, { additionalProperties: false })
export const CasePatch = Type.Object({ title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), kind: Type.Optional(Type.Union([Type.Literal('matter'), Type.Literal('project'), Type.Literal('client')])) }, { additionalProperties: false })
export const TypeCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), appliesTo: Type.Union([Type.Literal('appointment'), Type.Literal('task')]) }, { additionalProperties: false })

const userFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
  role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('user')])),
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 1000 })),
  timezone: Type.Optional(Type.String({ maxLength: 64 })),
  language: Type.Optional(Nullable(Type.Union(['en', 'pl', 'ro', 'ru', 'nl'].map(l => Type.Literal(l)), { description: 'the web pages\' language; null: the organisation\'s default' }))),
  disabled: Type.Optional(Type.Boolean()),
  canChangePlannedDates: Type.Optional(Type.Boolean()),
  canRenameCases: Type.Optional(Type.Boolean())
}
export const UserCreate = Type.Object({ ...userFields, login: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
export const UserPatch = Type.Object({
  ...userFields,
  login: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  currentPassword: Type.Optional(Type.String({ maxLength: 1000, description: 'required to change your own password' })),
  revokeCredentials: Type.Optional(Type.Boolean({ description: 'with password: also revoke the user\'s app passwords and API tokens' }))
}, { additionalProperties: false })
export const NamedSecret = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
