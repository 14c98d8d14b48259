-- A number per organisation that moves, in the same transaction, with every
-- change to who may sign in or see what: users (disabled, password, role,
-- login), app passwords (revoked), calendars and address books (created,
-- renamed, deleted, their properties) and their shares. A server process that
-- keeps a verified sign-in or a user's visible calendars in memory reads this
-- number with the request's sign-in check and trusts what it keeps only while
-- the number is the one it kept it under: a change made by any process is
-- seen at the very next request, never after a time.
-- Triggers rather than calls in the domain code, so no write path can forget it.
CREATE TABLE access_versions (
  org_id   bigint PRIMARY KEY,
  version  bigint NOT NULL
);

CREATE FUNCTION bump_access_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
  org bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME IN ('users', 'calendars', 'address_books') THEN
    org := r.org_id;
  ELSIF TG_TABLE_NAME = 'app_passwords' THEN
    SELECT u.org_id INTO org FROM users u WHERE u.id = r.user_id;
  ELSIF TG_TABLE_NAME = 'calendar_shares' THEN
    SELECT c.org_id INTO org FROM calendars c WHERE c.id = r.calendar_id;
  ELSIF TG_TABLE_NAME = 'address_book_shares' THEN
    SELECT b.org_id INTO org FROM address_books b WHERE b.id = r.address_book_id;
  END IF;
  IF org IS NOT NULL THEN
    INSERT INTO access_versions (org_id, version) VALUES (org, 1)
      ON CONFLICT (org_id) DO UPDATE SET version = access_versions.version + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER users_access_version AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION bump_access_version();
-- last_used_at/last_used_ip are touched by sign-ins and change nobody's access
CREATE TRIGGER app_passwords_access_version AFTER INSERT OR DELETE OR UPDATE OF user_id, secret_hash, revoked_at ON app_passwords FOR EACH ROW EXECUTE FUNCTION bump_access_version();
CREATE TRIGGER calendars_access_version AFTER INSERT OR UPDATE OR DELETE ON calendars FOR EACH ROW EXECUTE FUNCTION bump_access_version();
CREATE TRIGGER calendar_shares_access_version AFTER INSERT OR UPDATE OR DELETE ON calendar_shares FOR EACH ROW EXECUTE FUNCTION bump_access_version();
CREATE TRIGGER address_books_access_version AFTER INSERT OR UPDATE OR DELETE ON address_books FOR EACH ROW EXECUTE FUNCTION bump_access_version();
CREATE TRIGGER address_book_shares_access_version AFTER INSERT OR UPDATE OR DELETE ON address_book_shares FOR EACH ROW EXECUTE FUNCTION bump_access_version();
