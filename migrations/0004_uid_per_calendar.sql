-- RFC 4791 §5.3.2.1 makes a UID unique within one calendar, not across an
-- organisation: two colleagues who each accept the same outside invitation
-- each store it. calendar_objects keeps (calendar_id, uid) unique.
DROP INDEX appointments_uid;
DROP INDEX tasks_uid;
CREATE INDEX appointments_uid ON appointments (org_id, uid);
CREATE INDEX tasks_uid ON tasks (org_id, uid);
