#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Socket permissions, peer credentials (a peer of another uid gets 403 forbidden), config file
# ownership and mode checks, stale sockets, a second instance, kysod killed with SIGKILL.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm

make_softhsm_token

# ---------------------------------------------------------------- default socket, modes
write_conf --no-socket --module "softhsm=$SOFTHSM"
start_kysod
api GET /v1/status
is "$(json_get 'j["socket"]')" "$XDG_RUNTIME_DIR/kyso/kyso.sock" \
	"default socket is \$XDG_RUNTIME_DIR/kyso/kyso.sock"
is "$(stat -c '%a %u' "$XDG_RUNTIME_DIR/kyso")" "700 $(id -u)" "socket directory is 0700, ours"
is "$(stat -c '%a %u %F' "$SOCK")" "600 $(id -u) socket" "socket is 0600, ours"
status_ok "own uid is served"

# A second instance on the same socket must not take it over.
"$KYSOD" -f -c "$CONF" > "$T/second.log" 2>&1 &
SECOND=$!
for ((i = 0; i < 50; i++)); do
	kill -0 "$SECOND" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$SECOND" 2>/dev/null; then
	kill -TERM "$SECOND"
	wait "$SECOND"
	fail "a second kysod on the same socket exits"
	diag "$(sed 's/^/    /' "$T/second.log" | tail -5)"
else
	wait "$SECOND"
	isnt "$?" 0 "a second kysod on the same socket exits with an error"
fi
api GET /v1/status
is "$(json_get 'j["pid"]')" "$KYSOD_PID" "the first kysod still owns the socket"

# SIGKILL: helpers must notice and exit; the stale socket must not block a restart.
api GET /v1/status
HPID=$(json_get 'j["modules"][0]["pid"]')
kill -KILL "$KYSOD_PID"
wait "$KYSOD_PID" 2>/dev/null
KYSOD_PID=
for ((i = 0; i < 50; i++)); do
	[ -d "/proc/$HPID" ] || break
	sleep 0.1
done
if [ -n "$HPID" ] && [ ! -d "/proc/$HPID" ]; then
	pass "helper $HPID exits when kysod is killed"
else
	fail "helper ${HPID:-?} exits when kysod is killed"
	kill -KILL "$HPID" 2>/dev/null
fi
check "stale socket left by SIGKILL" test -S "$SOCK"
start_kysod
status_ok "kysod starts over a stale socket"
stop_kysod

# A socket directory that already exists with loose permissions is fixed or refused.
chmod 0755 "$XDG_RUNTIME_DIR/kyso"
"$KYSOD" -f -c "$CONF" >> "$T/loose.log" 2>&1 &
LOOSE=$!
for ((i = 0; i < 50; i++)); do
	kill -0 "$LOOSE" 2>/dev/null || break
	[ -S "$SOCK" ] && break
	sleep 0.1
done
if kill -0 "$LOOSE" 2>/dev/null; then
	is "$(stat -c %a "$XDG_RUNTIME_DIR/kyso")" 700 "loose socket directory: made 0700 (or refused)"
	kill -TERM "$LOOSE"
	wait "$LOOSE"
else
	wait "$LOOSE"
	isnt "$?" 0 "loose socket directory: refused (or made 0700)"
fi
rm -rf "$XDG_RUNTIME_DIR/kyso"

# ---------------------------------------------------------------- config file checks
refused()
{
	local desc=$1 conf=$2 pid
	shift 2
	"$@" "$KYSOD" -f -c "$conf" > "$T/refused.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid"
		fail "$desc: kysod refuses to start"
	else
		wait "$pid"
		isnt "$?" 0 "$desc: kysod refuses to start"
	fi
	if [ -S "$SOCK" ]; then
		fail "$desc: no socket created"
		rm -f "$SOCK"
	else
		pass "$desc: no socket created"
	fi
}
cp "$CONF" "$T/loose.conf"
chmod 0666 "$T/loose.conf"
refused "config writable by others (0666)" "$T/loose.conf"
chmod 0620 "$T/loose.conf"
refused "config writable by the group (0620)" "$T/loose.conf"
chmod 0600 "$T/loose.conf"
chown nobody "$T/loose.conf"
refused "config owned by another user (nobody) while running as root" "$T/loose.conf"
refused "config file missing" "$T/does-not-exist.conf"

# ---------------------------------------------------------------- module policy
# A module outside allow_modules (also through a symlink inside an allowed directory), or a
# library that is no PKCS#11 module, is never loaded: kysod refuses to start, or runs with
# the module "failed" and no token from it.
mkdir -p "$T/allowed" "$T/outside"
cp "$(realpath "$SOFTHSM")" "$T/outside/libsofthsm2.so"
ln -s "$T/outside/libsofthsm2.so" "$T/allowed/link.so"
printf 'not an ELF file\n' > "$T/allowed/garbage.so"
LIBZ=$(ldd "$(command -v curl)" | awk '/libz\.so/ { print $3; exit }')
[ -n "$LIBZ" ] && cp "$(realpath "$LIBZ")" "$T/allowed/libz.so"

module_refused()
{
	local desc=$1 pid i st state hpid
	"$KYSOD" -f -c "$CONF" > "$T/policy.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		api GET /v1/status
		state=$(json_get 'j["modules"][0]["state"]')
		[ "$state" = failed ] && break
		sleep 0.1
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		st=$?
		isnt "$st" 0 "$desc: kysod refuses to start (exit $st)"
		rm -f "$SOCK"
		return
	fi
	hpid=$(json_get 'j["modules"][0].get("pid") or ""')
	api GET /v1/tokens
	if [ "$state" = failed ] && [ "$(json_get 'len(j["tokens"])')" = 0 ] &&
		! { [ -n "$hpid" ] && grep -q "$T/" "/proc/$hpid/maps" 2>/dev/null; }; then
		pass "$desc: module not loaded (state failed, no tokens)"
	else
		fail "$desc: module not loaded"
		diag "    state '$state', helper '$hpid', tokens: $BODY"
	fi
	kill -TERM "$pid"
	wait "$pid"
}
write_conf --module "evil=$T/outside/libsofthsm2.so"
module_refused "module outside allow_modules"
CONF_ALLOW="$T/allowed/*.so" write_conf --module "evil=$T/allowed/link.so"
module_refused "symlink in an allowed directory to a module outside it"
CONF_ALLOW="$T/allowed/*.so" write_conf --module "garbage=$T/allowed/garbage.so"
module_refused "allowed file that is not a shared library"
if [ -n "$LIBZ" ]; then
	CONF_ALLOW="$T/allowed/*.so" write_conf --module "libz=$T/allowed/libz.so"
	module_refused "allowed library without C_GetFunctionList"
else
	skip 1 "libz not found"
fi
write_conf --module "missing=$T/allowed/none.so"
module_refused "module file missing"

# ---------------------------------------------------------------- default config location
mkdir -p "$XDG_CONFIG_HOME/kyso"
write_conf --module "softhsm=$SOFTHSM"
cp "$CONF" "$XDG_CONFIG_HOME/kyso/kysod.conf"
chmod 0600 "$XDG_CONFIG_HOME/kyso/kysod.conf"
"$KYSOD" -f > "$T/default.log" 2>&1 &
DPID=$!
for ((i = 0; i < 50; i++)); do
	_status_answers && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
api GET /v1/status
is "$STATUS $(json_get 'j["modules"][0]["name"]')" "200 softhsm" \
	"without -c, kysod reads \$XDG_CONFIG_HOME/kyso/kysod.conf"
kill -TERM "$DPID" 2>/dev/null
wait "$DPID"
is "$?" 0 "...and exits 0 on SIGTERM"
rm -rf "$XDG_CONFIG_HOME/kyso"

"$KYSOD" --version > "$T/version.txt" 2>&1
is "$?" 0 "kysod --version exits 0"
like "$(cat "$T/version.txt")" '0\.1\.0' "kysod --version prints 0.1.0"
"$KYSOD" --help > "$T/help.txt" 2>&1
is "$?" 0 "kysod --help exits 0"
"$KYSOD" --bogus > "$T/bogus.txt" 2>&1
isnt "$?" 0 "kysod --bogus exits with an error"

# ---------------------------------------------------------------- another uid
# A second uid needs root (CI runs the suite as root): a developer's own uid cannot make one.
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
if [ "$(id -u)" -ne 0 ]; then
	skip 22 "not root (uid $(id -u)): switching to a second uid (nobody) needs root; CI runs as root"
	done_testing
	exit
fi
if ! "${NOBODY[@]}" true 2>/dev/null; then
	fail "root runs a command as nobody (setpriv)"
	done_testing
	exit
fi
N=$T/nobody
mkdir -p "$N/run" "$N/api" "$N/state"
chmod 0711 "$T"
chmod 0700 "$N/run"
chown -R nobody:nogroup "$N" "$T/softhsm"
chmod 0755 "$T/softhsm"
if ! "${NOBODY[@]}" test -x "$KYSOD" -a -x "$KYSO_P11" -a -r "$SOFTHSM" -a -x "$PINENTRY"; then
	fail "user nobody reaches the build tree (every directory above it searchable by others)"
	done_testing
	exit
fi

SOCK=$N/run/kyso/kyso.sock
CONF=$N/kysod.conf
export KYSO_PINENTRY_SCRIPT=$N/pinentry.script
export KYSO_PINENTRY_LOG=$N/pinentry.log
pinentry_says "pin 123456"
: > "$KYSO_PINENTRY_LOG"
write_conf --module "softhsm=$SOFTHSM"
chown nobody:nogroup "$CONF" "$KYSO_PINENTRY_SCRIPT" "$KYSO_PINENTRY_LOG"
KYSOD_WRAP=(env "XDG_RUNTIME_DIR=$N/run" "XDG_STATE_HOME=$N/state" "HOME=$N" "${NOBODY[@]}")
API_AS=("${NOBODY[@]}")
API_DIR=$N/api
start_kysod
is "$(stat -c '%a %U %F' "$SOCK")" "600 nobody socket" "socket of kysod run as nobody is 0600, nobody's"
is "$(stat -c '%a %U' "$N/run/kyso")" "700 nobody" "its directory is 0700, nobody's"
is "$(awk '/^Uid:/ { print $2 }' "/proc/$KYSOD_PID/status")" "$(id -u nobody)" "kysod runs as nobody"

# root passes the file permissions; the peer credentials check must refuse it.
API_AS=()
API_DIR=$T
for r in "GET /v1/status" "GET /v1/tokens" "GET /v1/certificates" \
	"GET /v1/certificates/${CERT_ID[rsa]}" "POST /v1/logout"; do
	set -- $r
	if [ "$1" = POST ]; then api POST "$2" '{}'; else api GET "$2"; fi
	is_error 403 forbidden "root -> nobody's kysod: $r is 403 forbidden"
done
make_hash sha256
api POST /v1/sign "$(sign_body "${CERT_ID[rsa]}" sha256)"
is_error 403 forbidden "root -> nobody's kysod: POST /v1/sign is 403 forbidden"
is "$(getpin_count)" 0 "refused peer: no PIN asked"
api GET /v1/nope
is_error 403 forbidden "root -> nobody's kysod: unknown path is 403 forbidden as well"

API_AS=("${NOBODY[@]}")
API_DIR=$N/api
status_ok "nobody's kysod still serves nobody"
sign_and_verify rsa sha256
is "$(getpin_count)" 1 "nobody's signature asked the PIN once"
STOP_SOCK=$SOCK stop_kysod

done_testing
