#!/bin/sh
# Install the Debian packages that Kalends' test suite needs, and only those
# that are missing: PostgreSQL 15 server and client, the CalDAV/WebDAV
# conformance clients (litmus, python3-caldav, vdirsyncer, khard, radicale as a
# reference server, python3-icalendar), nginx (reverse-proxy tests), chromium
# (headless browser checks), hyperfine (benchmarks), curl and libxml2-utils
# (xmllint, which checks the EWS emulator's traffic against Microsoft's schema).
#
# Idempotent: checks each package with dpkg-query, and runs `apt-get update`
# once, only when something has to be installed.  Daemons shipped by these
# packages (postgresql, nginx, radicale) are not started by the install.
#
#     sudo scripts/setup-debian.sh        # or as root: scripts/setup-debian.sh
#     sudo scripts/setup-debian.sh --bench   # also the benchmarks' peers:
#         Cyrus IMAP's CalDAV (scripts/peers/cyrus.sh) and wrk (bench-caldav.ts)
set -eu

# nginx-light is the small nginx flavour; plain nginx is used where it is absent.
nginx_pkg=nginx-light

# NGINX stands for whichever nginx flavour; any installed one will do.
packages="postgresql libxml2-utils litmus python3-caldav vdirsyncer khard radicale python3-icalendar NGINX chromium hyperfine curl"
if [ "${1:-}" = --bench ]; then
    packages="$packages cyrus-imapd cyrus-caldav sasl2-bin wrk"
fi

installed() {
    # "install ok installed" only for a fully installed package.
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup-debian: this is not a Debian-like system (no dpkg-query); install by hand:" >&2
    echo "  postgresql-15 libxml2-utils litmus python3-caldav vdirsyncer khard radicale python3-icalendar nginx chromium hyperfine curl" >&2
    exit 1
fi

nginx_ok=false
if installed nginx-light || installed nginx || installed nginx-full || installed nginx-extras || installed nginx-core; then
    nginx_ok=true
fi

missing=
for pkg in $packages; do
    if [ "$pkg" = NGINX ]; then
        $nginx_ok || missing="$missing NGINX"
        continue
    fi
    installed "$pkg" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
    echo "setup-debian: all test packages are installed"
    exit 0
fi

as_root=true
[ "$(id -u)" -eq 0 ] || as_root=false

if $as_root; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
fi
# Prefer nginx-light when this Debian still has it (bookworm does; later
# releases turn it into a transitional package or drop it).
if ! apt-cache show nginx-light >/dev/null 2>&1; then
    nginx_pkg=nginx
fi
resolved=
for pkg in $missing; do
    [ "$pkg" = NGINX ] && pkg=$nginx_pkg
    resolved="$resolved $pkg"
done
missing=${resolved# }

if ! $as_root; then
    echo "setup-debian: missing Debian packages: $missing" >&2
    echo "setup-debian: run as root:" >&2
    echo "  sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing'" >&2
    exit 1
fi

echo "setup-debian: installing $missing"

# Keep package scripts from starting daemons (nginx on :80, radicale,
# a second PostgreSQL) while installing, unless the machine already has a
# policy of its own.  Tests start what they need themselves.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by kalends scripts/setup-debian.sh during install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
    trap 'rm -f "$policy"' EXIT
    trap 'exit 130' INT TERM
fi

# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing

if $own_policy; then
    rm -f "$policy"
    trap - EXIT INT TERM
fi

still=
for pkg in $missing; do
    installed "$pkg" || still="$still $pkg"
done
if [ -n "$still" ]; then
    echo "setup-debian: still not installed after apt-get:$still" >&2
    exit 1
fi
echo "setup-debian: done"
