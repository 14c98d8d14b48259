-- Google Contacts push (issue 13): one row per CRM contact pushed by a
-- connection, with the People API's resourceName and etag of its copy and
-- the hash of what was written, so a run writes only what changed and a
-- retried run never creates a second copy. resource_name is null while a
-- create is in flight: the next run matches such contacts by the CRM id held
-- in the copy's clientData before creating anything.
CREATE TABLE google_contact_links (
  connection_id  bigint NOT NULL REFERENCES sync_connections(id) ON DELETE CASCADE,
  contact_id     bigint NOT NULL,
  resource_name  text,
  etag           text,
  written_hash   text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connection_id, contact_id)
);
CREATE UNIQUE INDEX google_contact_links_remote ON google_contact_links (connection_id, resource_name);
