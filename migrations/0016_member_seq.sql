-- A sync-collection page after the first reads what changed by sequence
-- range, so that its cost follows its page and not everything since its
-- token: the members changed in (since, now] by modified_seq, and the names
-- deleted in that range from the journal's deletions alone (each checked to
-- be its name's last deletion, by name).
CREATE INDEX calendar_objects_modified ON calendar_objects (calendar_id, modified_seq);
CREATE INDEX contacts_modified ON contacts (address_book_id, modified_seq);
CREATE INDEX changes_calendar_deleted ON changes (calendar_id, seq) WHERE op = 'delete' AND calendar_id IS NOT NULL AND object_name IS NOT NULL;
CREATE INDEX changes_address_book_deleted ON changes (address_book_id, seq) WHERE op = 'delete' AND address_book_id IS NOT NULL AND object_name IS NOT NULL;
CREATE INDEX changes_deleted_name ON changes (object_name, seq) WHERE op = 'delete' AND object_name IS NOT NULL;
