-- CRM contacts (issue 13): people and companies in address books owned by
-- the organisation (the company address book) or by a user, shared like
-- calendars. Each contact keeps the vCard exactly as its last client wrote it
-- (a phone's X- properties, groups, photos) with the CRM fields indexed
-- beside it, as calendar_objects does for iCalendar.

CREATE TABLE address_books (
  id           bigserial PRIMARY KEY,
  org_id       bigint NOT NULL REFERENCES orgs(id),
  -- null for the organisation's company address book
  owner_id     bigint REFERENCES users(id),
  kind         text NOT NULL CHECK (kind IN ('personal', 'company')),
  slug         text NOT NULL,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  -- WebDAV dead properties as the client sent them: {"{ns}name": "<xml>"}
  dead_props   jsonb NOT NULL DEFAULT '{}'::jsonb,
  is_default   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz
);
CREATE UNIQUE INDEX address_books_slug ON address_books (org_id, coalesce(owner_id, 0), slug) WHERE deleted_at IS NULL;

CREATE TABLE address_book_shares (
  address_book_id  bigint NOT NULL REFERENCES address_books(id) ON DELETE CASCADE,
  user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  access           text NOT NULL CHECK (access IN ('read', 'write')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (address_book_id, user_id)
);
CREATE INDEX address_book_shares_user ON address_book_shares (user_id);

CREATE TABLE contacts (
  id               bigserial PRIMARY KEY,
  org_id           bigint NOT NULL REFERENCES orgs(id),
  address_book_id  bigint NOT NULL REFERENCES address_books(id),
  -- the CardDAV resource: its name in the address book and the vCard's UID
  name             text NOT NULL,
  uid              text NOT NULL,
  kind             text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'company')),
  display_name     text NOT NULL,
  prefix           text NOT NULL DEFAULT '',
  given_name       text NOT NULL DEFAULT '',
  middle_name      text NOT NULL DEFAULT '',
  family_name      text NOT NULL DEFAULT '',
  suffix           text NOT NULL DEFAULT '',
  organization     text NOT NULL DEFAULT '',
  -- the company contact this person works at, when the CRM knows it
  company_id       bigint REFERENCES contacts(id),
  job_title        text NOT NULL DEFAULT '',
  -- [{"type": "work", "value": "..."}], addresses [{"type", "street", "locality", "region", "postalCode", "country", "poBox", "extended"}]
  emails           jsonb NOT NULL DEFAULT '[]'::jsonb,
  phones           jsonb NOT NULL DEFAULT '[]'::jsonb,
  addresses        jsonb NOT NULL DEFAULT '[]'::jsonb,
  websites         jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- YYYY-MM-DD, or --MM-DD when the year is not known
  birthday         text,
  notes            text NOT NULL DEFAULT '',
  -- a data: or https: URI
  photo            text,
  -- lower-cased names, organisation, e-mails and phone digits: the text filter
  search           text NOT NULL DEFAULT '',
  vcard            text NOT NULL,
  vcard_version    text NOT NULL CHECK (vcard_version IN ('3.0', '4.0')),
  etag             text NOT NULL,
  size             integer NOT NULL,
  modified_seq     bigint NOT NULL,
  created_by       bigint REFERENCES users(id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  version          integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX contacts_name ON contacts (address_book_id, name);
CREATE UNIQUE INDEX contacts_uid ON contacts (address_book_id, uid);
CREATE INDEX contacts_org ON contacts (org_id, id);
CREATE INDEX contacts_company ON contacts (company_id) WHERE company_id IS NOT NULL;

CREATE TABLE contact_cases (
  contact_id  bigint NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  case_id     bigint NOT NULL REFERENCES cases(id),
  PRIMARY KEY (contact_id, case_id)
);
CREATE INDEX contact_cases_case ON contact_cases (case_id);

-- the journal learns address books: CardDAV sync tokens and ctags read it as CalDAV's read calendar_id
ALTER TABLE changes ADD COLUMN address_book_id bigint;
CREATE INDEX changes_address_book ON changes (address_book_id, seq) WHERE address_book_id IS NOT NULL;
