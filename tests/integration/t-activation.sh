#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Socket activation: kysod started by systemd-socket-activate serves on the socket it is
# passed (signatures verified with openssl), leaves it in place when it stops, passes no
# LISTEN_* variables on to its helpers, ignores variables meant for another process, and
# refuses what it cannot serve on (two sockets, a file, a datagram or an abstract socket).
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
require_build
require_softhsm
command -v systemd-socket-activate >/dev/null ||
	plan_skip_all "systemd-socket-activate (Debian's systemd package) not installed"

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"

# helper_env_has PID NAME: the process's environment holds NAME.
helper_env_has()
{
	tr '\0' '\n' < "/proc/$1/environ" | grep -q "^$2="
}

# activated CMD...: runs CMD as a process whose LISTEN_PID is its own pid (bash's $$ survives
# exec), with the descriptors the caller redirected; output to $T/refused.log, exit status
# in $RC (124 when it still runs after 10 s: then it is killed).
activated()
{
	local pid i
	bash -c 'export LISTEN_PID=$$; exec "$@"' bash "$@" >"$T/refused.log" 2>&1 &
	pid=$!
	RC=124
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			RC=$?
			return 0
		fi
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	sleep 1
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# systemd-socket-activate, like a service manager, passes on only a few variables: those the
# test bed sets are named (and HOME, so that nothing lands in the real one).
mkdir -m 0700 "$T/home"
ACTIVATOR_ENV=(-E "HOME=$T/home")
for v in XDG_RUNTIME_DIR XDG_CONFIG_HOME XDG_STATE_HOME SOFTHSM2_CONF KYSO_PINENTRY_SCRIPT \
	KYSO_PINENTRY_LOG LC_ALL ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do
	[ -n "${!v+set}" ] && ACTIVATOR_ENV+=(-E "$v")
done

# ---------------------------------------------------------------- a real activator
# As kysod.socket does: the directory 0700, made before kysod runs.
mkdir -m 0700 "$XDG_RUNTIME_DIR/kyso"
KYSOD_RUNS=$((KYSOD_RUNS + 1))
KYSOD_LOG=$T/kysod.$KYSOD_RUNS.log
systemd-socket-activate "${ACTIVATOR_ENV[@]}" -l "$SOCK" "$KYSOD" -f -c "$CONF" >"$KYSOD_LOG" 2>&1 &
KYSOD_PID=$!
for ((i = 0; i < 50; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
ok "$([ -S "$SOCK" ]; echo $?)" "systemd-socket-activate listens on $SOCK"
INODE=$(stat -c %i "$SOCK")
like "$(readlink "/proc/$KYSOD_PID/exe")" 'systemd-socket-activate$' \
	"kysod is not started before the first connection"

# The first connection starts kysod; curl waits in the listen backlog meanwhile.
api GET /v1/status
is "$STATUS" 200 "the first connection is answered by kysod, started for it"
like "$(readlink "/proc/$KYSOD_PID/exe")" '/kysod$' "the activator became kysod (same pid)"
is "$(json_get 'j["socket"]')" "$SOCK" "GET /v1/status names the passed socket"
like "$(cat "$KYSOD_LOG")" 'using the socket passed by the service manager' \
	"kysod logs that it serves on a passed socket"
is "$(stat -c %i "$SOCK")" "$INODE" "kysod did not unlink and bind the socket again"
if [ "$(stat -c %a "$SOCK")" != 600 ]; then
	like "$(cat "$KYSOD_LOG")" "$SOCK has mode [0-7]+: set SocketMode=0600" \
		"a passed socket open to others (systemd-socket-activate's default) is warned about"
else
	pass "the passed socket is 0600"
fi
wait_modules_running || bail_out "the module did not start"
sign_and_verify rsa sha256
sign_and_verify p256 sha256
audit_settle
check "the signatures are in the audit log under \$XDG_STATE_HOME" \
	grep -q '"result":"ok"' "$AUDIT_LOG"
LISTENER=$(readlink "/proc/$KYSOD_PID/fd/3")

api GET /v1/status
HELPER=$(json_get 'j["modules"][0]["pid"]')
if [ -n "$HELPER" ] && [ -r "/proc/$HELPER/environ" ]; then
	if helper_env_has "$HELPER" LISTEN_FDS || helper_env_has "$HELPER" LISTEN_PID; then
		fail "the helper's environment holds no LISTEN_FDS or LISTEN_PID"
	else
		pass "the helper's environment holds no LISTEN_FDS or LISTEN_PID"
	fi
	if [ "${LISTENER#socket:}" = "$LISTENER" ] ||
		ls -l "/proc/$HELPER/fd" 2>/dev/null | grep -qF -- "-> $LISTENER"; then
		fail "the helper did not inherit the listening socket"
	else
		pass "the helper did not inherit the listening socket"
	fi
else
	skip 2 "no helper pid in GET /v1/status"
fi

STOP_SOCKET_KEPT=1 stop_kysod
is "$(stat -c %i "$SOCK" 2>/dev/null)" "$INODE" "the socket left in place is the one passed"

# ---------------------------------------------------------------- another path than configured
rm -f "$SOCK"
OTHER=$T/other/kyso.sock
mkdir -m 0700 "$T/other"
KYSOD_RUNS=$((KYSOD_RUNS + 1))
KYSOD_LOG=$T/kysod.$KYSOD_RUNS.log
systemd-socket-activate "${ACTIVATOR_ENV[@]}" -l "$OTHER" "$KYSOD" -f -c "$CONF" >"$KYSOD_LOG" 2>&1 &
KYSOD_PID=$!
for ((i = 0; i < 50; i++)); do
	[ -S "$OTHER" ] && break
	sleep 0.1
done
API_SOCK=$OTHER api GET /v1/status
is "$STATUS" 200 "a socket passed at another path than configured is served"
is "$(json_get 'j["socket"]')" "$OTHER" "GET /v1/status names the socket served, not the configured one"
like "$(cat "$KYSOD_LOG")" "passed by the service manager is $OTHER, not $SOCK as configured" \
	"kysod warns that the passed socket is not the configured one"
ok "$([ ! -e "$SOCK" ]; echo $?)" "kysod made no socket at the configured path"
kill -TERM "$KYSOD_PID"
wait "$KYSOD_PID"
is "$?" 0 "kysod stops with status 0"
KYSOD_PID=
ok "$([ -S "$OTHER" ]; echo $?)" "and leaves the passed socket in place"

# ---------------------------------------------------------------- variables meant for another
# A LISTEN_PID of another process (left by an ancestor): kysod makes its own socket, removes
# it on exit, and its helpers do not see the variables.
export LISTEN_PID=1 LISTEN_FDS=1
start_kysod
unset LISTEN_PID LISTEN_FDS
unlike "$(cat "$KYSOD_LOG")" 'passed by the service manager' \
	"LISTEN_PID of another process: kysod makes its own socket"
api GET /v1/status
HELPER=$(json_get 'j["modules"][0]["pid"]')
if [ -n "$HELPER" ] && [ -r "/proc/$HELPER/environ" ]; then
	if helper_env_has "$HELPER" LISTEN_FDS || helper_env_has "$HELPER" LISTEN_PID; then
		fail "LISTEN_* meant for another process are not passed on to the helper"
	else
		pass "LISTEN_* meant for another process are not passed on to the helper"
	fi
else
	skip 1 "no helper pid in GET /v1/status"
fi
stop_kysod

# ---------------------------------------------------------------- the loopback listener too
# kysod.socket may also listen for web pages (ListenStream=127.0.0.1:PORT and [::1]:PORT):
# kysod then serves those sockets, although kysod.conf does not turn the listener on.
. "$KYSO_SRCDIR/tests/lib/kyso-web.sh"
web_ports
mkdir -p "$T/origins.d"
printf '%s\n' "$WEB_ADMIN_ORIGIN" > "$T/origins.d/school.conf"
write_conf --module "softhsm=$SOFTHSM" "origins_dir=$T/origins.d" "pairings=$T/pairings"
rm -f "$SOCK"
KYSOD_RUNS=$((KYSOD_RUNS + 1))
KYSOD_LOG=$T/kysod.$KYSOD_RUNS.log
systemd-socket-activate "${ACTIVATOR_ENV[@]}" -l "$SOCK" -l "127.0.0.1:$WEB_PORT" \
	-l "[::1]:$WEB_PORT" "$KYSOD" -f -c "$CONF" >"$KYSOD_LOG" 2>&1 &
KYSOD_PID=$!
for ((i = 0; i < 50; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
# the first connection, a page's, starts kysod
web_get()
{
	curl -sS --max-time 30 -H "Origin: $WEB_ADMIN_ORIGIN" -o "$T/web.body" -D "$T/web.headers" \
		-w '%{http_code}' "$@"
}
is "$(web_get "http://127.0.0.1:$WEB_PORT/v1/status")" 200 \
	"a page's request on 127.0.0.1 starts kysod, which answers it on the passed socket"
like "$(readlink "/proc/$KYSOD_PID/exe")" '/kysod$' "the activator became kysod"
is "$(json_get '"%s %s" % (j["listen"]["port"], " ".join(sorted(j["listen"]["addresses"])))' "$(cat "$T/web.body")")" \
	"$WEB_PORT 127.0.0.1 ::1" "GET /v1/status: the listener is the passed port, on both addresses"
like "$(cat "$KYSOD_LOG")" "serving web pages on loopback port $WEB_PORT, on the 2 sockets passed by the service manager" \
	"kysod logs that it serves the passed loopback sockets"
grep -qi "^access-control-allow-origin: $WEB_ADMIN_ORIGIN" "$T/web.headers"
ok $? "the answer allows exactly the administrator's origin"
is "$(web_get "http://[::1]:$WEB_PORT/v1/certificates")" 200 "[::1] is served too"
is "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Origin: https://evil.example' \
	"http://127.0.0.1:$WEB_PORT/v1/status")" 403 "an unknown origin is refused on the passed socket"
wait_modules_running || bail_out "the module did not start"
make_hash sha256
is "$(web_get -H 'Content-Type: application/json' --data-binary "$(sign_body "${CERT_ID[rsa]}" sha256)" \
	"http://127.0.0.1:$WEB_PORT/v1/sign")" 200 "the page signs on the passed socket"
BODY=$(cat "$T/web.body")
save_signature "$T/web.sig" && verify_sig "${CERT_PEM[rsa]}" "$HASH_HEX" "$T/web.sig" sha256
ok $? "its signature verifies with openssl against the certificate"
api GET /v1/status
is "$STATUS" 200 "the Unix socket is served beside it"
STOP_SOCKET_KEPT=1 stop_kysod
rm -f "$SOCK"
write_conf --module "softhsm=$SOFTHSM"

# ---------------------------------------------------------------- refused
echo text > "$T/plain"
LISTEN_FDS=4 activated "$KYSOD" -f -c "$CONF" 3<"$T/plain" 4<"$T/plain" 5<"$T/plain" 6<"$T/plain"
is "$RC" 1 "four sockets passed: kysod exits with status 1"
like "$(cat "$T/refused.log")" 'passed 4 sockets; kysod serves on one Unix socket' "and says why"

LISTEN_FDS=1 activated "$KYSOD" -f -c "$CONF" 3<"$T/plain"
is "$RC" 1 "a file passed as descriptor 3: kysod exits with status 1"
like "$(cat "$T/refused.log")" 'descriptor 3 passed by the service manager is not a socket' \
	"and says why"

LISTEN_FDS=one activated "$KYSOD" -f -c "$CONF"
is "$RC" 1 "LISTEN_FDS not a number: kysod exits with status 1"

# refused_by_activator DESC ARGS...: systemd-socket-activate ARGS, then a connection; kysod
# must exit with status 1 at once.
refused_by_activator()
{
	local desc=$1 pid i addr
	shift
	addr=${*: -1}
	systemd-socket-activate "${ACTIVATOR_ENV[@]}" "$@" "$KYSOD" -f -c "$CONF" >"$T/refused.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		grep -q '^Listening on' "$T/refused.log" && break
		sleep 0.1
	done
	"$PY" - "$addr" <<-'EOF' 2>/dev/null
	import socket, sys
	a = sys.argv[1]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if a.endswith(".dgram") else socket.SOCK_STREAM)
	a = "\0" + a[1:] if a.startswith("@") else a
	if a.endswith(".dgram"):
	    s.sendto(b"x", a)
	else:
	    s.connect(a)
	EOF
	RC=hung
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			RC=$?
			break
		fi
		sleep 0.1
	done
	if [ "$RC" = hung ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	is "$RC" 1 "$desc: kysod exits with status 1"
}
refused_by_activator "a datagram socket" -d -l "$T/other/kyso.dgram"
like "$(cat "$T/refused.log")" 'must be listening stream sockets' "and says why"
refused_by_activator "an abstract socket" -l "@kyso-test-$$"
like "$(cat "$T/refused.log")" 'must be bound to an absolute path' "and says why"
refused_by_activator "a TCP socket on all addresses" -l "0.0.0.0:$WEB_PORT" -l "$T/other/kyso.sock"
like "$(cat "$T/refused.log")" 'must listen on 127.0.0.1 or \[::1\]' "and says why"
rm -f "$T/other/kyso.sock"
refused_by_activator "two Unix sockets" -l "$T/other/a.sock" -l "$T/other/kyso.sock"
like "$(cat "$T/refused.log")" 'passed two Unix sockets; kysod serves on one' "and says why"
rm -f "$T/other/kyso.sock"
refused_by_activator "loopback sockets of two ports" -l "127.0.0.1:$WEB_PORT" \
	-l "[::1]:$((WEB_PORT + 1))" -l "$T/other/kyso.sock"
like "$(cat "$T/refused.log")" 'must be one port, on 127.0.0.1 and \[::1\]' "and says why"

done_testing
