# SPDX-License-Identifier: LGPL-2.1-or-later
# The loopback listener for web pages, in the integration tests. Source it after kyso-env.sh.
#
#   web_ports            sets WEB_PORT: the first of 4 free ports (web_free_block)
#   web_free_block N [SALT]  the first of N consecutive free loopback ports
#   web_conf [KEY=VALUE]...  write_conf with the listener on WEB_PORT..WEB_PORT+3, the
#                        administrator's origins in $T/origins.d, pairings in $T/pairings
#   wapi METHOD PATH ORIGIN [BODY]  a request on 127.0.0.1:$WAPI_PORT (WEB_PORT by default)
#                        with that Origin ("-": none) -> STATUS BODY HEADERS CURL_RC; extra
#                        curl arguments in WAPI_EXTRA; recorded for the contract check
#                        (but preflights, which have no body and no operation)
#   no_cors DESC         the last answer has no Access-Control-* header (one TAP line)
#   cors_for ORIGIN DESC the last answer allows exactly ORIGIN, with Vary: Origin and no
#                        credentials (one TAP line)
#   confirm_count        CONFIRM commands the scripted pinentry received so far

WEB_ADMIN_ORIGIN=https://hocba.example.edu.vn
WAPI_EXTRA=()
WAPI_AS=()

# web_free_block N [SALT]: the first of N consecutive ports that nothing listens on, on
# 127.0.0.1 nor ::1, in 20000-32759 (below the kernel's ephemeral ports, which any
# outgoing connection may hold), starting from a place chosen by the test's pid so that
# tests running at once look in different places.
web_free_block()
{
	"$PY" - "$1" "$(( ($$ + ${2:-0}) % 3000 ))" <<'EOF'
import socket, sys
n, start = int(sys.argv[1]), int(sys.argv[2])
def free(port):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True
slots = (32760 - 20000) // n
for i in range(slots):
    base = 20000 + ((start + i) % slots) * n
    if all(free(base + k) for k in range(n)):
        print(base)
        sys.exit(0)
sys.exit(1)
EOF
}

web_ports()
{
	WEB_PORT=$(web_free_block 4) || bail_out "no 4 free loopback ports for the listener"
	WAPI_PORT=$WEB_PORT
}

web_conf()
{
	mkdir -p "$T/origins.d"
	printf '# the district record system\n%s\n' "$WEB_ADMIN_ORIGIN" > "$T/origins.d/school.conf"
	write_conf "listen=$WEB_PORT-$((WEB_PORT + 3))" "origins_dir=$T/origins.d" \
		"pairings=$T/pairings" "$@"
}

wapi()
{
	local method=$1 path=$2 origin=$3 args d=$API_DIR
	args=(-sS --max-time "$API_TIMEOUT" -o "$d/api.body" -D "$d/api.headers" -w '%{http_code}'
		-X "$method")
	[ "$origin" != - ] && args+=(-H "Origin: $origin")
	if [ $# -ge 4 ]; then
		printf '%s' "$4" > "$d/api.req"
		args+=(-H 'Content-Type: application/json' --data-binary "@$d/api.req")
	fi
	rm -f "$d/api.body" "$d/api.headers"
	STATUS=$("${WAPI_AS[@]}" curl "${args[@]}" "${WAPI_EXTRA[@]}" \
		"http://127.0.0.1:${WAPI_PORT}$path" 2>"$d/api.err")
	CURL_RC=$?
	BODY=$(cat "$d/api.body" 2>/dev/null)
	HEADERS=$(tr -d '\r' < "$d/api.headers" 2>/dev/null)
	if [ "$method" != OPTIONS ] && [ -n "${KYSO_API_RECORD:-}" ] && [ "$KYSO_API_RECORD" != 0 ]; then
		api_record "$method" "$path"
	fi
	return 0
}

no_cors()
{
	if printf '%s\n' "$HEADERS" | grep -qi '^access-control-'; then
		fail "$1"
		diag "    headers: $(printf '%s' "$HEADERS" | grep -i '^access-control-' | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

cors_for()
{
	local got vary cred
	got=$(header Access-Control-Allow-Origin)
	vary=$(header Vary)
	cred=$(header Access-Control-Allow-Credentials)
	if [ "$got" = "$1" ] && [ "$vary" = Origin ] && [ -z "$cred" ]; then
		pass "$2"
	else
		fail "$2"
		diag "    Access-Control-Allow-Origin: '$got' (want '$1'), Vary: '$vary', credentials: '$cred'"
	fi
}

confirm_count()
{
	grep -c '^CONFIRM' "$KYSO_PINENTRY_LOG"
}
