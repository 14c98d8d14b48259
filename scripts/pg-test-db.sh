# shellcheck shell=sh
# Provide a PostgreSQL database for the test suite and point the tests at it.
# Source it (CI does):
#
#     . scripts/pg-test-db.sh
#
# As root: starts the Debian PostgreSQL 15 cluster "main" if it is not running
# (creating it if the install has none), waits for it on 127.0.0.1:5432,
# creates or updates the role kalends (password kalends, LOGIN CREATEDB: the
# tests create a database per run) and a database kalends owned by it, then
# exports
#
#     KALENDS_TEST_DATABASE_URL=postgres://kalends:kalends@127.0.0.1:5432/kalends
#
# Not root: only checks that this URL already works, and exports it if so.
# POSIX sh; safe under `set -eu`; on failure prints why and returns 1.
# Test-only credentials: never use this role for a real deployment.

kalends_pg__url=postgres://kalends:kalends@127.0.0.1:5432/kalends

kalends_pg__ready() {
    pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1
}

kalends_pg__psql_admin() {
    # psql as the postgres superuser over the local socket (peer auth).
    # runuser lives in /usr/sbin, which a minimal PATH may lack.
    if command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p 5432 "$@")
    elif [ -x /usr/sbin/runuser ]; then
        (cd / && /usr/sbin/runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p 5432 "$@")
    else
        (cd / && su -s /bin/sh -c 'exec psql -X -q -v ON_ERROR_STOP=1 -p 5432 "$@"' postgres -- psql "$@")
    fi
}

kalends_pg__main() {
    if ! command -v pg_isready >/dev/null 2>&1; then
        echo "pg-test-db: PostgreSQL client tools are missing; run scripts/setup-debian.sh" >&2
        return 1
    fi

    if [ "$(id -u)" -ne 0 ]; then
        if psql -X -q "$kalends_pg__url" -c 'SELECT 1' >/dev/null 2>&1; then
            KALENDS_TEST_DATABASE_URL=$kalends_pg__url
            export KALENDS_TEST_DATABASE_URL
            return 0
        fi
        echo "pg-test-db: not root, and $kalends_pg__url does not answer; run this as root once (sudo sh -c '. scripts/pg-test-db.sh')" >&2
        return 1
    fi

    if ! kalends_pg__ready; then
        if ! pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main" { found = 1 } END { exit !found }'; then
            echo "pg-test-db: creating PostgreSQL 15 cluster main" >&2
            pg_createcluster 15 main >/dev/null || {
                echo "pg-test-db: pg_createcluster 15 main failed" >&2
                return 1
            }
        fi
        if ! pg_ctlcluster 15 main status >/dev/null 2>&1; then
            echo "pg-test-db: starting PostgreSQL 15 (pg_ctlcluster 15 main start)" >&2
            pg_ctlcluster 15 main start || {
                echo "pg-test-db: pg_ctlcluster 15 main start failed; see /var/log/postgresql/postgresql-15-main.log" >&2
                return 1
            }
        fi
        kalends_pg__i=0
        while ! kalends_pg__ready; do
            kalends_pg__i=$((kalends_pg__i + 1))
            if [ "$kalends_pg__i" -gt 60 ]; then
                echo "pg-test-db: PostgreSQL is not ready on 127.0.0.1:5432 after 30 s; see /var/log/postgresql/postgresql-15-main.log" >&2
                return 1
            fi
            sleep 0.5
        done
    fi

    kalends_pg__psql_admin -d postgres <<'SQL' || {
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kalends') THEN
        CREATE ROLE kalends LOGIN CREATEDB PASSWORD 'kalends';
    ELSE
        ALTER ROLE kalends LOGIN CREATEDB PASSWORD 'kalends';
    END IF;
END
$$;
SELECT 'CREATE DATABASE kalends OWNER kalends'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'kalends')
\gexec
ALTER DATABASE kalends OWNER TO kalends;
-- a test database's DROP ... WITH (FORCE) must end an autovacuum worker inside it too
GRANT pg_signal_backend TO kalends;
SQL
        echo "pg-test-db: could not create the role or database kalends" >&2
        return 1
    }

    if ! psql -X -q "$kalends_pg__url" -c 'SELECT 1' >/dev/null; then
        echo "pg-test-db: $kalends_pg__url does not accept a login (check pg_hba.conf for 127.0.0.1)" >&2
        return 1
    fi
    KALENDS_TEST_DATABASE_URL=$kalends_pg__url
    export KALENDS_TEST_DATABASE_URL
    echo "pg-test-db: KALENDS_TEST_DATABASE_URL=$KALENDS_TEST_DATABASE_URL" >&2
}

if kalends_pg__main; then
    kalends_pg__rc=0
else
    kalends_pg__rc=1
fi
unset -f kalends_pg__ready kalends_pg__psql_admin kalends_pg__main
unset kalends_pg__url kalends_pg__i
if [ "$kalends_pg__rc" -ne 0 ]; then
    unset kalends_pg__rc
    # shellcheck disable=SC2317 # exit is reached only when executed instead of sourced
    return 1 2>/dev/null || exit 1
fi
unset kalends_pg__rc
