import type { ColumnType, Generated, Selectable } from 'kysely'

type Id = Generated<number>
type CreatedAt = ColumnType<Date, Date | string | undefined, never>
type Timestamp = ColumnType<Date, Date | string, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type DateOnly = ColumnType<string | null, string | null | undefined, string | null>
type Json<T> = ColumnType<T, string | undefined, string>

export type Role = 'admin' | 'user'
export type CalendarKind = 'personal' | 'company' | 'tasks'
export type Access = 'read' | 'write'
export type ItemKind = 'appointment' | 'task'
export type TaskStatus = 'open' | 'in_progress' | 'review' | 'done'
export type AppointmentStatus = 'tentative' | 'confirmed' | 'cancelled'

export interface OrgsTable { id: Id; name: string; settings: Json<Record<string, unknown>>; created_at: CreatedAt }

export interface UsersTable {
  id: Id
  org_id: number
  login: string
  name: string
  email: string | null
  role: Role
  password_hash: string | null
  disabled: Generated<boolean>
  can_change_planned_dates: Generated<boolean>
  can_rename_cases: Generated<boolean>
  timezone: Generated<string>
  created_at: CreatedAt
}

export interface AppPasswordsTable {
  id: Id
  user_id: number
  name: string
  prefix: string
  secret_hash: string
  created_at: CreatedAt
  last_used_at: NullableTimestamp
  last_used_ip: string | null
  revoked_at: NullableTimestamp
}

export interface ApiTokensTable {
  id: Id
  user_id: number
  name: string
  token_sha256: string
  created_at: CreatedAt
  last_used_at: NullableTimestamp
  revoked_at: NullableTimestamp
}

export interface LoginFailuresTable { key: string; window_start: Timestamp; failures: number; last_failure_at: Timestamp }

export interface CasesTable {
  id: Id
  org_id: number
  title: string
  kind: Generated<'matter' | 'project' | 'client'>
  created_at: CreatedAt
  updated_at: Generated<Date>
}

export interface ItemTypesTable { id: Id; org_id: number; applies_to: ItemKind; name: string }

export interface CalendarsTable {
  id: Id
  org_id: number
  owner_id: number | null
  kind: CalendarKind
  slug: string
  name: string
  description: Generated<string>
  color: string | null
  sort_order: Generated<number>
  timezone: string | null
  components: string[]
  dead_props: Json<Record<string, string>>
  is_default: Generated<boolean>
  created_at: CreatedAt
  deleted_at: NullableTimestamp
}

export interface CalendarSharesTable { calendar_id: number; user_id: number; access: Access; created_at: CreatedAt }

export interface AppointmentsTable {
  id: Id
  org_id: number
  uid: string
  calendar_id: number
  owner_id: number
  title: string
  description: Generated<string>
  location: Generated<string>
  all_day: Generated<boolean>
  starts_at: NullableTimestamp
  ends_at: NullableTimestamp
  start_date: DateOnly
  end_date: DateOnly
  timezone: string | null
  rrule: string | null
  exdates: Generated<string[]>
  case_id: number | null
  type_id: number | null
  status: Generated<AppointmentStatus>
  private: Generated<boolean>
  busy: Generated<boolean>
  created_by: number | null
  created_at: CreatedAt
  updated_at: Generated<Date>
  span_start: NullableTimestamp
  span_end: NullableTimestamp
  version: Generated<number>
}

export interface AppointmentParticipantsTable { appointment_id: number; user_id: number }

export interface TasksTable {
  id: Id
  org_id: number
  uid: string
  calendar_id: number
  title: string
  description: Generated<string>
  due_at: NullableTimestamp
  planned_start: NullableTimestamp
  planned_end: NullableTimestamp
  actual_start: NullableTimestamp
  actual_end: NullableTimestamp
  status: Generated<TaskStatus>
  type_id: number | null
  case_id: number | null
  assignee_id: number
  created_by: number
  created_at: CreatedAt
  updated_at: Generated<Date>
  version: Generated<number>
}

export interface CalendarObjectsTable {
  id: Id
  calendar_id: number
  name: string
  item_kind: ItemKind
  item_id: number
  uid: string
  component: 'VEVENT' | 'VTODO'
  ical: string
  etag: string
  size: number
  first_start: NullableTimestamp
  last_end: NullableTimestamp
  modified_seq: number
  updated_at: Generated<Date>
}

export interface ChangesTable {
  seq: Id
  org_id: number
  entity: string
  entity_id: number
  op: 'create' | 'update' | 'delete'
  calendar_id: number | null
  object_name: string | null
  origin: string
  actor_id: number | null
  at: Generated<Date>
  detail: Json<Record<string, unknown> | null> | null
  address_book_id: number | null
}

export type AddressBookKind = 'personal' | 'company'
export type ContactKind = 'person' | 'company'

export interface AddressBooksTable {
  id: Id
  org_id: number
  owner_id: number | null
  kind: AddressBookKind
  slug: string
  name: string
  description: Generated<string>
  dead_props: Json<Record<string, string>>
  is_default: Generated<boolean>
  created_at: CreatedAt
  deleted_at: NullableTimestamp
}

export interface AddressBookSharesTable { address_book_id: number; user_id: number; access: Access; created_at: CreatedAt }

export type ContactEmail = { type: string; value: string }
export type ContactPhone = { type: string; value: string }
export type ContactWebsite = { type: string; value: string }
export type ContactAddress = { type: string; poBox: string; extended: string; street: string; locality: string; region: string; postalCode: string; country: string }

export interface ContactsTable {
  id: Id
  org_id: number
  address_book_id: number
  name: string
  uid: string
  kind: ContactKind
  display_name: string
  prefix: string
  given_name: string
  middle_name: string
  family_name: string
  suffix: string
  organization: string
  company_id: number | null
  job_title: string
  emails: Json<ContactEmail[]>
  phones: Json<ContactPhone[]>
  addresses: Json<ContactAddress[]>
  websites: Json<ContactWebsite[]>
  birthday: string | null
  notes: string
  photo: string | null
  search: string
  vcard: string
  vcard_version: '3.0' | '4.0'
  etag: string
  size: number
  modified_seq: number
  created_by: number | null
  created_at: CreatedAt
  updated_at: Generated<Date>
  version: Generated<number>
}

export interface ContactCasesTable { contact_id: number; case_id: number }

export interface Database {
  orgs: OrgsTable
  users: UsersTable
  app_passwords: AppPasswordsTable
  api_tokens: ApiTokensTable
  login_failures: LoginFailuresTable
  cases: CasesTable
  item_types: ItemTypesTable
  calendars: CalendarsTable
  calendar_shares: CalendarSharesTable
  appointments: AppointmentsTable
  appointment_participants: AppointmentParticipantsTable
  tasks: TasksTable
  calendar_objects: CalendarObjectsTable
  changes: ChangesTable
  address_books: AddressBooksTable
  address_book_shares: AddressBookSharesTable
  contacts: ContactsTable
  contact_cases: ContactCasesTable
}

export type User = Selectable<UsersTable>
export type Calendar = Selectable<CalendarsTable>
export type Appointment = Selectable<AppointmentsTable>
export type Task = Selectable<TasksTable>
export type Case = Selectable<CasesTable>
export type CalendarObject = Selectable<CalendarObjectsTable>
export type Change = Selectable<ChangesTable>
export type AddressBook = Selectable<AddressBooksTable>
export type Contact = Selectable<ContactsTable>
