-- The CRM store: organisations, people, calendars, appointments, tasks, and
-- the change journal every write records itself in.

CREATE TABLE orgs (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             bigserial PRIMARY KEY,
  org_id         bigint NOT NULL REFERENCES orgs(id),
  login          text NOT NULL,
  name           text NOT NULL,
  email          text,
  role           text NOT NULL CHECK (role IN ('admin', 'user')),
  password_hash  text,
  disabled       boolean NOT NULL DEFAULT false,
  -- per-user permissions the business rules consult
  can_change_planned_dates boolean NOT NULL DEFAULT true,
  can_rename_cases         boolean NOT NULL DEFAULT true,
  timezone       text NOT NULL DEFAULT 'UTC',
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login ON users (lower(login));

CREATE TABLE app_passwords (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL,
  -- the first 8 characters are a lookup prefix; the whole secret is argon2id-hashed
  prefix        text NOT NULL,
  secret_hash   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  last_used_ip  text,
  revoked_at    timestamptz
);
CREATE INDEX app_passwords_user ON app_passwords (user_id);

CREATE TABLE api_tokens (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL,
  token_sha256  text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- failed sign-ins, counted per key ("login:<name>" or "ip:<addr>") in a window
CREATE TABLE login_failures (
  key           text PRIMARY KEY,
  window_start  timestamptz NOT NULL,
  failures      integer NOT NULL
);

CREATE TABLE cases (
  id          bigserial PRIMARY KEY,
  org_id      bigint NOT NULL REFERENCES orgs(id),
  title       text NOT NULL,
  kind        text NOT NULL DEFAULT 'matter' CHECK (kind IN ('matter', 'project', 'client')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE item_types (
  id        bigserial PRIMARY KEY,
  org_id    bigint NOT NULL REFERENCES orgs(id),
  applies_to text NOT NULL CHECK (applies_to IN ('appointment', 'task')),
  name      text NOT NULL,
  UNIQUE (org_id, applies_to, name)
);

CREATE TABLE calendars (
  id           bigserial PRIMARY KEY,
  org_id       bigint NOT NULL REFERENCES orgs(id),
  -- null for the organisation's company calendar
  owner_id     bigint REFERENCES users(id),
  kind         text NOT NULL CHECK (kind IN ('personal', 'company', 'tasks')),
  slug         text NOT NULL,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  color        text,
  sort_order   integer NOT NULL DEFAULT 0,
  timezone     text,
  components   text[] NOT NULL,
  -- WebDAV dead properties as the client sent them: {"{ns}name": "<xml>"}
  dead_props   jsonb NOT NULL DEFAULT '{}'::jsonb,
  is_default   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz
);
CREATE UNIQUE INDEX calendars_slug ON calendars (org_id, coalesce(owner_id, 0), slug) WHERE deleted_at IS NULL;

CREATE TABLE calendar_shares (
  calendar_id  bigint NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  access       text NOT NULL CHECK (access IN ('read', 'write')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (calendar_id, user_id)
);
CREATE INDEX calendar_shares_user ON calendar_shares (user_id);

CREATE TABLE appointments (
  id           bigserial PRIMARY KEY,
  org_id       bigint NOT NULL REFERENCES orgs(id),
  uid          text NOT NULL,
  calendar_id  bigint NOT NULL REFERENCES calendars(id),
  owner_id     bigint NOT NULL REFERENCES users(id),
  title        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  location     text NOT NULL DEFAULT '',
  all_day      boolean NOT NULL DEFAULT false,
  -- timed: instants with the IANA zone they were set in; all-day: dates, end exclusive
  starts_at    timestamptz,
  ends_at      timestamptz,
  start_date   date,
  end_date     date,
  timezone     text,
  rrule        text,
  exdates      text[] NOT NULL DEFAULT '{}',
  case_id      bigint REFERENCES cases(id),
  type_id      bigint REFERENCES item_types(id),
  status       text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('tentative', 'confirmed', 'cancelled')),
  private      boolean NOT NULL DEFAULT false,
  busy         boolean NOT NULL DEFAULT true,
  created_by   bigint REFERENCES users(id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- UTC span of every instance, for range listings; span_end null = no end
  span_start   timestamptz,
  span_end     timestamptz,
  version      integer NOT NULL DEFAULT 1
);
CREATE INDEX appointments_span ON appointments (org_id, span_start);
CREATE INDEX appointments_calendar ON appointments (calendar_id);
CREATE INDEX appointments_case ON appointments (case_id);
CREATE UNIQUE INDEX appointments_uid ON appointments (org_id, uid);

CREATE TABLE appointment_participants (
  appointment_id  bigint NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
  user_id         bigint NOT NULL REFERENCES users(id),
  PRIMARY KEY (appointment_id, user_id)
);
CREATE INDEX appointment_participants_user ON appointment_participants (user_id);

CREATE TABLE tasks (
  id             bigserial PRIMARY KEY,
  org_id         bigint NOT NULL REFERENCES orgs(id),
  uid            text NOT NULL,
  calendar_id    bigint NOT NULL REFERENCES calendars(id),
  title          text NOT NULL,
  description    text NOT NULL DEFAULT '',
  due_at         timestamptz,
  planned_start  timestamptz,
  planned_end    timestamptz,
  actual_start   timestamptz,
  actual_end     timestamptz,
  status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'review', 'done')),
  type_id        bigint REFERENCES item_types(id),
  case_id        bigint REFERENCES cases(id),
  assignee_id    bigint NOT NULL REFERENCES users(id),
  created_by     bigint NOT NULL REFERENCES users(id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  version        integer NOT NULL DEFAULT 1
);
CREATE INDEX tasks_calendar ON tasks (calendar_id);
CREATE INDEX tasks_assignee ON tasks (assignee_id);
CREATE INDEX tasks_case ON tasks (case_id);
CREATE UNIQUE INDEX tasks_uid ON tasks (org_id, uid);

-- One row per place an item is visible as a calendar object resource: the
-- owner's calendar and each participant's. The iCalendar body is kept exactly
-- as the last client wrote it (X-APPLE-*, VALARM...), with the CRM fields
-- indexed in appointments/tasks beside it.
CREATE TABLE calendar_objects (
  id            bigserial PRIMARY KEY,
  calendar_id   bigint NOT NULL REFERENCES calendars(id),
  name          text NOT NULL,
  item_kind     text NOT NULL CHECK (item_kind IN ('appointment', 'task')),
  item_id       bigint NOT NULL,
  uid           text NOT NULL,
  component     text NOT NULL CHECK (component IN ('VEVENT', 'VTODO')),
  ical          text NOT NULL,
  etag          text NOT NULL,
  size          integer NOT NULL,
  -- UTC span of every instance; last_end null = recurs without end
  first_start   timestamptz,
  last_end      timestamptz,
  modified_seq  bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX calendar_objects_name ON calendar_objects (calendar_id, name);
CREATE UNIQUE INDEX calendar_objects_uid ON calendar_objects (calendar_id, uid);
CREATE INDEX calendar_objects_item ON calendar_objects (item_kind, item_id);
CREATE INDEX calendar_objects_span ON calendar_objects (calendar_id, first_start);

-- The change journal: one row per change, written in the transaction that
-- makes it. CalDAV sync tokens, feed ETags and outbound sync read from it.
CREATE TABLE changes (
  seq          bigserial PRIMARY KEY,
  org_id       bigint NOT NULL,
  entity       text NOT NULL,
  entity_id    bigint NOT NULL,
  op           text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
  calendar_id  bigint,
  object_name  text,
  origin       text NOT NULL,
  actor_id     bigint,
  at           timestamptz NOT NULL DEFAULT now(),
  detail       jsonb
);
CREATE INDEX changes_calendar ON changes (calendar_id, seq) WHERE calendar_id IS NOT NULL;
CREATE INDEX changes_entity ON changes (entity, entity_id, seq);
