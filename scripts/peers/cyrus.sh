#!/usr/bin/env bash
# Start/stop a private Cyrus IMAP 3.6 instance (Debian: cyrus-imapd cyrus-caldav
# sasl2-bin) whose httpd serves CalDAV on loopback, as a peer for the benchmark.
#   scripts/peers/cyrus.sh start|stop|status|pid|reset
# Env: CYRUS_HTTP_PORT (8008), CYRUS_IMAP_PORT (8143, loopback, only used to
#      create the user's mailbox), CYRUS_STATE (${TMPDIR:-/tmp}/bench-cyrus),
#      CALDAV_USER (bench), CALDAV_PASS (benchpass).
# Everything (config, spool, sasldb, sockets, pid file) lives under CYRUS_STATE;
# the system's /etc/imapd.conf and /etc/cyrus.conf are not used. Auth: HTTP
# Basic checked against a private sasldb (auxprop), plaintext allowed.
# Scheduling (RFC 6638/iMIP) is off: the data set has external organizers.
# Must be started as root (master drops to the cyrus user). Calendar home:
# /dav/calendars/user/<user>/ (found by discovery, see README). Only the pid
# recorded here is ever signalled (master takes its children down on SIGTERM).
set -euo pipefail
PORT="${CYRUS_HTTP_PORT:-8008}"
IMAP_PORT="${CYRUS_IMAP_PORT:-8143}"
S="${CYRUS_STATE:-${TMPDIR:-/tmp}/bench-cyrus}"
PIDFILE="$S/run/master.pid"
USER_NAME="${CALDAV_USER:-bench}"
USER_PASS="${CALDAV_PASS:-benchpass}"
ADMIN_PASS="${CYRUS_ADMIN_PASS:-cyrusadminpw}"
MASTER=/usr/lib/cyrus/bin/master

is_ours() { [[ -n "${1:-}" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "master.*$S/etc/imapd.conf"; }
ours_pid() { [[ -f "$PIDFILE" ]] && is_ours "$(cat "$PIDFILE")" && cat "$PIDFILE"; }

write_config() {
  mkdir -p "$S"/{etc,config,spool,run/proc,run/lock,run/socket,log}
  cat >"$S/etc/imapd.conf" <<CONF
configdirectory: $S/config
defaultpartition: default
partition-default: $S/spool
proc_path: $S/run/proc
mboxname_lockpath: $S/run/lock
lmtpsocket: $S/run/socket/lmtp
idlesocket: $S/run/socket/idle
notifysocket: $S/run/socket/notify
servername: localhost
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $S/sasldb2
sasl_mech_list: PLAIN LOGIN
httpmodules: caldav
httpallowcompress: yes
caldav_allowscheduling: no
altnamespace: no
unixhierarchysep: no
hashimapspool: true
syslog_prefix: bench-cyrus
CONF
  cat >"$S/etc/cyrus.conf" <<CONF
START {
  recover cmd="ctl_cyrusdb -C $S/etc/imapd.conf -r"
}
SERVICES {
  imap cmd="imapd -C $S/etc/imapd.conf -U 30" listen="127.0.0.1:$IMAP_PORT" prefork=0 maxchild=10
  http cmd="httpd -C $S/etc/imapd.conf -U 30" listen="127.0.0.1:$PORT" prefork=0 maxchild=100
}
EVENTS {
  checkpoint cmd="ctl_cyrusdb -C $S/etc/imapd.conf -c" period=30
}
CONF
  # private sasldb with the admin and the bench user (realm = servername)
  rm -f "$S/sasldb2"
  echo -n "$ADMIN_PASS" | saslpasswd2 -p -c -f "$S/sasldb2" -u localhost cyrus
  echo -n "$USER_PASS" | saslpasswd2 -p -c -f "$S/sasldb2" -u localhost "$USER_NAME"
  # (services get -C explicitly: master does not pass its -C on to them)
  chown -R cyrus:mail "$S"
  chmod 700 "$S"
}

ensure_user() { # the user's INBOX (user.<name>) must exist before its DAV home can be used
    python3 - "$IMAP_PORT" "$ADMIN_PASS" "$USER_NAME" <<'PY'
import imaplib, sys
port, pw, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4('127.0.0.1', port)
m.login('cyrus', pw)
typ, data = m.list('""', 'user.%s' % user)
if not data or data == [None]:
    print('creating mailbox user.%s:' % user, m.create('user.%s' % user)[0])
m.logout()
PY
}

case "${1:-}" in
  start)
    if pid=$(ours_pid); then ensure_user; echo "cyrus already running, pid $pid"; exit 0; fi
    [[ -x "$MASTER" && -x /usr/lib/cyrus/bin/httpd ]] || { echo "apt-get install cyrus-imapd cyrus-caldav sasl2-bin" >&2; exit 1; }
    fresh=0; [[ -d "$S/config" ]] || fresh=1
    write_config
    setsid "$MASTER" -C "$S/etc/imapd.conf" -M "$S/etc/cyrus.conf" -p "$PIDFILE" -L "$S/log/master.log" </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 100); do
      if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then break; fi
      sleep 0.1
    done
    pid=$(ours_pid) || { echo "cyrus master did not start; log:" >&2; tail -20 "$S/log/master.log" >&2; exit 1; }
    ensure_user
    echo "cyrus started, master pid $pid, CalDAV http://127.0.0.1:$PORT/dav/calendars/user/$USER_NAME/ (state $S)" ;;
  stop)
    if pid=$(ours_pid); then
      kill "$pid"
      for _ in $(seq 1 100); do is_ours "$pid" || break; sleep 0.1; done
      echo "cyrus stopped (master pid $pid)"
    else
      echo "no cyrus of ours running"
    fi ;;
  status)
    if pid=$(ours_pid); then echo "running, master pid $pid"; else echo "not running"; exit 1; fi ;;
  pid)
    ours_pid ;;
  reset) # stop and delete all state (fresh install on the next start)
    "$0" stop; rm -rf "$S"; echo "removed $S" ;;
  *) echo "usage: $0 start|stop|status|pid|reset" >&2; exit 2 ;;
esac
