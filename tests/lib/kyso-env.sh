# SPDX-License-Identifier: LGPL-2.1-or-later
# Test bed for the kyso integration tests. Source it from a bash test script:
#
#	. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
#
# Environment (set by `make check`; defaults allow running a test by hand from the source
# tree with KYSO_BUILDDIR pointing at a build directory):
#   KYSO_SRCDIR, KYSO_BUILDDIR   absolute paths
#   KYSO_SOFTHSM2_MODULE         SoftHSM2's PKCS#11 module
#   KYSO_KEEP_TMP=1              keep the private temporary directory (its path is printed)
#   KYSO_VALGRIND=1              run kysod (and its helpers) under valgrind
#   KYSO_API_RECORD=1            record every answer api() gets, and check them all against
#                                docs/openapi.yaml before the plan (set by `make check`)
#
# Provides:
#   $T                  private temporary directory (removed on exit)
#   $SOCK $CONF $KYSOD_LOG $KYSOD_PID
#   make_softhsm_token  SoftHSM2 token "kyso-test" with RSA-2048 (id 01), EC P-256 (id 02),
#                       EC P-384 (id 03) keys and certificates; sets TOKEN_* and CERT_* below
#   make_softhsm_token2 second token "kyso-test-2" with one EC P-256 key (id 0a), key "p256b"
#   make_mock_key [rsa|p256]  key and certificate for the mock PKCS#11 module (KYSO_MOCK_*)
#   write_conf [--module NAME=PATH]... [--no-socket] [KEY=VALUE]...
#                       ($CONF_PINENTRY and $CONF_ALLOW override pinentry and allow_modules)
#   start_kysod [--no-wait]  stop_kysod  wait_modules_running [SECONDS]
#   api METHOD PATH [BODY]   api_file METHOD PATH FILE   -> STATUS BODY HEADERS CURL_RC
#   json_get EXPR [JSON]     (Python expression over `j`, the parsed $BODY)
#   err_code                 error.code of $BODY
#   header NAME              a response header of the last api call
#   make_hash ALG            random data hashed: HASH_HEX HASH_B64 HASH_FILE
#   sign_body CERT_ID ALG [PADDING]   JSON body for /v1/sign over the last make_hash
#   verify_sig CERT_PEM HASH_HEX SIG_FILE ALG [PADDING]
#   sign_and_verify KEY ALG [PADDING]   sign through the API, check and verify (3 TAP lines)
#   pinentry_says LINE       what the scripted pinentry does at the next GETPIN
#   getpin_count             GETPIN commands the pinentry received so far
#   status_ok DESC           GET /v1/status answers 200 (one TAP line)
#   audit_settle [FILE]      waits until the results of the answered signatures are in the log

set -u

if [ -z "${BASH_VERSION:-}" ]; then
	echo "Bail out! kyso-env.sh needs bash"
	exit 255
fi

: "${KYSO_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KYSO_BUILDDIR:=$KYSO_SRCDIR}"
: "${KYSO_SOFTHSM2_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
: "${KYSO_VALGRIND:=0}"
: "${KYSO_KEEP_TMP:=0}"
export KYSO_SRCDIR KYSO_BUILDDIR KYSO_SOFTHSM2_MODULE

. "$KYSO_SRCDIR/tests/lib/tap.sh"

if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
else
	PY=python3
fi

KYSOD=$KYSO_BUILDDIR/kysod
KYSO_P11=$KYSO_BUILDDIR/kyso-p11
KYSO_CLI=$KYSO_BUILDDIR/kyso
MOCK_MODULE=$KYSO_BUILDDIR/tests/mock/.libs/libkyso-mock-pkcs11.so
PINENTRY=$KYSO_SRCDIR/tests/mock/pinentry-scripted
SOFTHSM=$KYSO_SOFTHSM2_MODULE

# Keep the locale predictable but UTF-8 capable (certificate names are Vietnamese).
export LC_ALL=C.UTF-8
umask 022
# Modules made to crash must not leave core files behind.
ulimit -c 0 2>/dev/null

T=$(mktemp -d "${TMPDIR:-/tmp}/kyso-test.XXXXXX") || bail_out "mktemp failed"
export XDG_RUNTIME_DIR=$T/run
export XDG_CONFIG_HOME=$T/config
# kysod's audit log goes to $XDG_STATE_HOME/kyso/audit.log: one per test
export XDG_STATE_HOME=$T/state
AUDIT_LOG=$XDG_STATE_HOME/kyso/audit.log
mkdir -m 0700 "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$T/keys"
SOCK=$XDG_RUNTIME_DIR/kyso/kyso.sock
CONF=$T/kysod.conf
KYSOD_LOG=$T/kysod.log
KYSOD_PID=
KYSOD_RUNS=0
KYSOD_WRAP=()
BG_PIDS=()
export KYSO_PINENTRY_SCRIPT=$T/pinentry.script
export KYSO_PINENTRY_LOG=$T/pinentry.log
printf 'pin 123456\n' > "$KYSO_PINENTRY_SCRIPT"
: > "$KYSO_PINENTRY_LOG"
# The mock module must not see settings from the caller's environment.
unset KYSO_MOCK_KEY KYSO_MOCK_CERT KYSO_MOCK_PIN KYSO_MOCK_FAULT KYSO_MOCK_FAULT_AFTER \
	KYSO_MOCK_PIN_STATE KYSO_MOCK_STATE_FILE KYSO_MOCK_SERIAL KYSO_MOCK_LABEL \
	KYSO_MOCK_DELAY_MS KYSO_MOCK_NO_RAW KYSO_MOCK_HOLD KYSO_SOCKET

declare -A CERT_PEM CERT_DER CERT_ID CERT_CN KEY_ID KEY_LABEL KEY_TYPE

_kyso_cleanup()
{
	local pid
	if [ -n "$KYSOD_PID" ] && kill -0 "$KYSOD_PID" 2>/dev/null; then
		kill -TERM "$KYSOD_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$KYSOD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$KYSOD_PID" 2>/dev/null
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "$KYSO_KEEP_TMP" = 1 ]; then
		echo "# kept temporary directory $T"
	else
		rm -rf "$T"
	fi
}
trap _kyso_cleanup EXIT
trap 'exit 130' INT TERM

# Skips the whole test file unless the binaries it needs exist.
require_build()
{
	local f
	for f in "$KYSOD" "$KYSO_P11" "$@"; do
		[ -x "$f" ] || [ -r "$f" ] || plan_skip_all "$f not built"
	done
}

require_softhsm()
{
	command -v softhsm2-util >/dev/null || plan_skip_all "softhsm2-util not installed"
	command -v pkcs11-tool >/dev/null || plan_skip_all "pkcs11-tool (opensc) not installed"
	[ -r "$SOFTHSM" ] || plan_skip_all "SoftHSM2 module $SOFTHSM not found"
}

# The mock module is built by `make check` (check_LTLIBRARIES): missing, it is an error.
require_mock()
{
	[ -r "$MOCK_MODULE" ] || bail_out "mock PKCS#11 module $MOCK_MODULE not built (make check builds it)"
}

# ---------------------------------------------------------------- keys and certificates

# _make_cert NAME KEYTYPE CN KEYUSAGE SERIAL: key $T/keys/NAME.key (PKCS#8 PEM) and
# self-signed certificate $T/keys/NAME.pem (+ .der). KEYUSAGE empty: no extension.
_make_cert()
{
	local name=$1 type=$2 cn=$3 ku=$4 serial=$5 dir=$T/keys
	case $type in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$dir/$name.key" 2>/dev/null ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-pkeyopt ec_param_enc:named_curve -out "$dir/$name.key" 2>/dev/null ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
		-pkeyopt ec_param_enc:named_curve -out "$dir/$name.key" 2>/dev/null ;;
	esac || bail_out "openssl genpkey $type failed"
	{
		printf '[req]\ndistinguished_name = dn\nprompt = no\nutf8 = yes\n'
		printf 'string_mask = utf8only\nx509_extensions = ext\n'
		printf '[dn]\nC = VN\nO = Trường Đại học Kyso\nCN = %s\n' "$cn"
		printf '[ext]\nbasicConstraints = critical,CA:false\n'
		printf 'subjectKeyIdentifier = hash\n'
		[ -n "$ku" ] && printf 'keyUsage = critical,%s\n' "$ku"
	} > "$dir/$name.cnf"
	openssl req -new -x509 -config "$dir/$name.cnf" -key "$dir/$name.key" -days 3650 \
		-set_serial "0x$serial" -sha256 -out "$dir/$name.pem" 2>"$dir/$name.err" ||
		bail_out "openssl req for $name failed: $(cat "$dir/$name.err")"
	openssl x509 -in "$dir/$name.pem" -outform DER -out "$dir/$name.der" ||
		bail_out "openssl x509 -outform DER failed"
	CERT_PEM[$name]=$dir/$name.pem
	CERT_DER[$name]=$dir/$name.der
	CERT_ID[$name]=$(openssl dgst -sha256 -r "$dir/$name.der" | cut -d' ' -f1)
	CERT_CN[$name]=$cn
	KEY_TYPE[$name]=$type
}

# _import NAME TOKENLABEL ID LABEL: puts NAME's key and certificate on a SoftHSM2 token.
_import()
{
	local name=$1 token=$2 id=$3 label=$4 dir=$T/keys
	softhsm2-util --import "$dir/$name.key" --token "$token" --label "$label" --id "$id" \
		--pin 123456 >"$dir/$name.import" 2>&1 ||
		bail_out "softhsm2-util --import $name failed: $(cat "$dir/$name.import")"
	pkcs11-tool --module "$SOFTHSM" --token-label "$token" --login --pin 123456 \
		--write-object "$dir/$name.der" --type cert --id "$id" --label "$label" \
		>"$dir/$name.import" 2>&1 ||
		bail_out "pkcs11-tool --write-object $name failed: $(cat "$dir/$name.import")"
	KEY_ID[$name]=$id
	KEY_LABEL[$name]=$label
}

# _token_info LABEL: prints "manufacturer<TAB>model<TAB>serial" of a SoftHSM2 token.
_token_info()
{
	softhsm2-util --show-slots 2>/dev/null | awk -v want="$1" '
		/^Slot [0-9]/ { m = ""; mo = ""; s = ""; l = "" }
		/Manufacturer ID:/ && intoken { sub(/^[^:]*:[ \t]*/, ""); m = $0 }
		/Token info:/ { intoken = 1 }
		/Slot info:/ { intoken = 0 }
		/^[ \t]*Model:/ { sub(/^[^:]*:[ \t]*/, ""); mo = $0 }
		/Serial number:/ { sub(/^[^:]*:[ \t]*/, ""); s = $0 }
		/^[ \t]*Label:/ { sub(/^[^:]*:[ \t]*/, ""); l = $0; sub(/[ \t]+$/, "", l)
			if (l == want) {
				sub(/[ \t]+$/, "", m); sub(/[ \t]+$/, "", mo); sub(/[ \t]+$/, "", s)
				printf "%s\t%s\t%s\n", m, mo, s; exit } }'
}

# token_id MANUFACTURER MODEL SERIAL: the API's token id (first 16 bytes of SHA-256).
token_id()
{
	printf '%s\0%s\0%s' "$1" "$2" "$3" | openssl dgst -sha256 -r | cut -c1-32
}

_softhsm_conf()
{
	[ -n "${SOFTHSM2_CONF:-}" ] && [ -f "$SOFTHSM2_CONF" ] && return 0
	mkdir -p "$T/softhsm/tokens"
	cat > "$T/softhsm/softhsm2.conf" <<-EOF
	directories.tokendir = $T/softhsm/tokens
	objectstore.backend = file
	log.level = ERROR
	slots.removable = false
	EOF
	export SOFTHSM2_CONF=$T/softhsm/softhsm2.conf
}

make_softhsm_token()
{
	local info
	_softhsm_conf
	softhsm2-util --init-token --free --label kyso-test --pin 123456 --so-pin 12345678 \
		>"$T/softhsm/init.log" 2>&1 ||
		bail_out "softhsm2-util --init-token failed: $(cat "$T/softhsm/init.log")"
	_make_cert rsa rsa "Nguyễn Văn An" "digitalSignature,nonRepudiation" 1a2b3c4d5e6f01
	_make_cert p256 p256 "Trần Thị Bích Ngọc" "digitalSignature" 2b3c4d5e6f0102
	_make_cert p384 p384 "Lê Hoàng Phúc" "" 3c4d5e6f010203
	_import rsa kyso-test 01 "Chữ ký RSA"
	_import p256 kyso-test 02 "ec-p256"
	_import p384 kyso-test 03 "ec-p384"
	info=$(_token_info kyso-test)
	[ -n "$info" ] || bail_out "cannot read the SoftHSM2 token's serial"
	TOKEN_LABEL=kyso-test
	IFS=$'\t' read -r TOKEN_MANUF TOKEN_MODEL TOKEN_SERIAL <<<"$info"
	TOKEN_ID=$(token_id "$TOKEN_MANUF" "$TOKEN_MODEL" "$TOKEN_SERIAL")
}

make_softhsm_token2()
{
	local info
	_softhsm_conf
	softhsm2-util --init-token --free --label kyso-test-2 --pin 123456 --so-pin 12345678 \
		>"$T/softhsm/init2.log" 2>&1 ||
		bail_out "softhsm2-util --init-token failed: $(cat "$T/softhsm/init2.log")"
	_make_cert p256b p256 "Phạm Minh Đức" "digitalSignature,nonRepudiation" 4d5e6f01020304
	_import p256b kyso-test-2 0a "second-token-key"
	info=$(_token_info kyso-test-2)
	[ -n "$info" ] || bail_out "cannot read the second SoftHSM2 token's serial"
	TOKEN2_LABEL=kyso-test-2
	IFS=$'\t' read -r TOKEN2_MANUF TOKEN2_MODEL TOKEN2_SERIAL <<<"$info"
	TOKEN2_ID=$(token_id "$TOKEN2_MANUF" "$TOKEN2_MODEL" "$TOKEN2_SERIAL")
}

# make_mock_key [rsa|p256]: key and certificate "mock" for the mock module; exports
# KYSO_MOCK_KEY and KYSO_MOCK_CERT (read by the module when the helper starts).
make_mock_key()
{
	_make_cert mock "${1:-rsa}" "Đỗ Thị Mai" "digitalSignature,nonRepudiation" 5e6f0102030405
	export KYSO_MOCK_KEY=$T/keys/mock.key
	export KYSO_MOCK_CERT=$T/keys/mock.pem
}

# ---------------------------------------------------------------- configuration

write_conf()
{
	local modules=() extra=() socket=1 arg real
	while [ $# -gt 0 ]; do
		case $1 in
		--module) modules+=("$2"); shift ;;
		--no-socket) socket=0 ;;
		*=*) extra+=("$1") ;;
		*) bail_out "write_conf: bad argument $1" ;;
		esac
		shift
	done
	real=$(dirname "$(realpath "$SOFTHSM" 2>/dev/null || echo "$SOFTHSM")")
	{
		echo "[kysod]"
		[ "$socket" = 1 ] && echo "socket = $SOCK"
		echo "pinentry = ${CONF_PINENTRY:-$PINENTRY}"
		echo "helper = $KYSO_P11"
		echo "allow_modules = ${CONF_ALLOW:-/usr/lib/softhsm/*.so /usr/lib/*/softhsm/*.so $real/*.so $KYSO_BUILDDIR/tests/mock/.libs/*.so}"
		echo "log_level = debug"
		# a helper under valgrind takes seconds to close its module
		[ "$KYSO_VALGRIND" = 1 ] && echo "stop_grace = 30"
		for arg in "${extra[@]}"; do
			echo "${arg%%=*} = ${arg#*=}"
		done
		for arg in "${modules[@]}"; do
			echo
			echo "[module ${arg%%=*}]"
			echo "path = ${arg#*=}"
		done
	} > "$CONF"
	chmod 0600 "$CONF"
}

# ---------------------------------------------------------------- the daemon

_status_answers()
{
	local code
	code=$("${API_AS[@]}" curl -s --max-time 2 --unix-socket "$SOCK" -o /dev/null \
		-w '%{http_code}' http://localhost/v1/status 2>/dev/null)
	[ "$code" = 200 ]
}

_log_tail()
{
	[ -f "$KYSOD_LOG" ] && tail -n "${1:-30}" "$KYSOD_LOG" | sed 's/^/    /'
}

# wait_modules_running [SECONDS]: until every module in /v1/status is "running".
wait_modules_running()
{
	local limit=${1:-5} i states
	[ "$KYSO_VALGRIND" = 1 ] && limit=$((limit * 6))
	for ((i = 0; i < limit * 10; i++)); do
		api GET /v1/status
		if [ "$STATUS" = 200 ]; then
			states=$(json_get '" ".join(m["state"] for m in j["modules"])')
			case " $states " in
			*" starting "*|*" failed "*) ;;
			*) return 0 ;;
			esac
		fi
		sleep 0.1
	done
	diag "modules not running after ${limit}s: $BODY"
	return 1
}

# start_kysod [--no-wait]: starts kysod in the foreground (in the background of this shell)
# and waits until GET /v1/status answers; unless --no-wait, also until all modules run.
# Prefix command (e.g. setpriv): KYSOD_WRAP array.
start_kysod()
{
	local wait=1 limit=50 i cmd=()
	[ "${1:-}" = --no-wait ] && wait=0
	KYSOD_RUNS=$((KYSOD_RUNS + 1))
	KYSOD_LOG=$T/kysod.$KYSOD_RUNS.log
	: > "$KYSOD_LOG"
	cmd=()
	# Background jobs of a script ignore SIGINT; kysod must see it as a user's shell would.
	env --default-signal=INT,QUIT true 2>/dev/null && cmd=(env --default-signal=INT,QUIT)
	cmd+=("${KYSOD_WRAP[@]}")
	if [ "$KYSO_VALGRIND" = 1 ]; then
		cmd+=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
			"--suppressions=$KYSO_SRCDIR/tests/valgrind.supp"
			--track-fds=no --trace-children=yes --child-silent-after-fork=yes
			"--trace-children-skip=*pinentry*,/bin/*,/usr/bin/*,/sbin/*,/usr/sbin/*")
		limit=300
	fi
	cmd+=("$KYSOD" -f -c "$CONF")
	# the last entry before this kysod: audit_settle waits only for the intents after it
	KYSOD_AUDIT_SEQ0=$(tail -n 1 "$AUDIT_LOG" 2>/dev/null | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')
	"${cmd[@]}" >>"$KYSOD_LOG" 2>&1 &
	KYSOD_PID=$!
	for ((i = 0; i < limit; i++)); do
		if ! kill -0 "$KYSOD_PID" 2>/dev/null; then
			wait "$KYSOD_PID"
			diag "kysod exited with status $? while starting; log:"
			_log_tail
			KYSOD_PID=
			bail_out "kysod did not start"
		fi
		_status_answers && break
		sleep 0.1
	done
	if [ "$i" -ge "$limit" ]; then
		diag "kysod log:"
		_log_tail
		bail_out "kysod did not answer GET /v1/status within $((limit / 10)) s"
	fi
	if [ "$wait" = 1 ] && ! wait_modules_running; then
		_log_tail
		fail "kysod started (run $KYSOD_RUNS) and its modules are running"
		return 1
	fi
	pass "kysod started (run $KYSOD_RUNS)"
}

# stop_kysod: SIGTERM (or $STOP_SIGNAL), then checks (4 TAP lines): exit status 0 within
# 10 s, no sanitizer or valgrind report in the log, socket removed (left in place with
# STOP_SOCKET_KEPT=1: a socket passed by socket activation), helper processes gone.
stop_kysod()
{
	local helpers=() st limit=100 i pid left sock=${STOP_SOCK:-$SOCK} sig=${STOP_SIGNAL:-TERM}
	[ -n "$KYSOD_PID" ] || { fail "stop_kysod: kysod not running"; return 1; }
	api GET /v1/status
	if [ "$STATUS" = 200 ]; then
		read -r -a helpers <<<"$(json_get '" ".join(str(m.get("pid") or "") for m in j["modules"])')"
	fi
	[ "$KYSO_VALGRIND" = 1 ] && limit=600
	kill -"$sig" "$KYSOD_PID"
	for ((i = 0; i < limit; i++)); do
		kill -0 "$KYSOD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$KYSOD_PID" 2>/dev/null; then
		kill -ABRT "$KYSOD_PID" 2>/dev/null
		sleep 0.5
		kill -KILL "$KYSOD_PID" 2>/dev/null
		wait "$KYSOD_PID"
		fail "kysod exits on SIG$sig (still running after $((limit / 10)) s, killed)"
		_log_tail 10
	else
		wait "$KYSOD_PID"
		st=$?
		is "$st" 0 "kysod exited with status 0 on SIG$sig"
	fi
	KYSOD_PID=
	if grep -Eq 'AddressSanitizer|ThreadSanitizer|runtime error|LeakSanitizer|ERROR SUMMARY: [1-9]|Invalid (read|write|free)|depends on uninitialised' "$KYSOD_LOG"; then
		fail "no sanitizer or valgrind report in the kysod log"
		grep -E -A30 'AddressSanitizer|ThreadSanitizer|runtime error|LeakSanitizer|ERROR SUMMARY: [1-9]|Invalid (read|write|free)|depends on uninitialised' \
			"$KYSOD_LOG" | head -60 | sed 's/^/#    /'
	else
		pass "no sanitizer or valgrind report in the kysod log"
	fi
	if [ "${STOP_SOCKET_KEPT:-0}" = 1 ]; then
		if [ -S "$sock" ]; then
			pass "kysod left the socket it was passed in place"
		else
			fail "kysod left the socket it was passed in place"
		fi
	elif [ -e "$sock" ]; then
		fail "kysod removed its socket on exit"
	else
		pass "kysod removed its socket on exit"
	fi
	left=
	for ((i = 0; i < 30; i++)); do
		left=
		for pid in "${helpers[@]}"; do
			[ -n "$pid" ] && [ -d "/proc/$pid" ] && left="$left $pid"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		fail "helper processes ended with kysod (left:$left)"
		kill -KILL $left 2>/dev/null
	else
		pass "helper processes ended with kysod"
	fi
}

# kysod_once CONF OUT [SOCKET]: runs kysod -f -c CONF (output to OUT) until it exits or answers
# GET /v1/status on SOCKET ($SOCK by default); sets KYSOD_RC to its exit status, or to
# "running" when it started (it is then stopped). No timeout decides: a kysod that neither
# exits nor answers within 60 s is killed and KYSOD_RC is "hung".
kysod_once()
{
	local conf=$1 out=$2 pid i
	"$KYSOD" -f -c "$conf" >"$out" 2>&1 &
	pid=$!
	KYSOD_RC=hung
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			KYSOD_RC=$?
			return 0
		fi
		if SOCK=${3:-$SOCK} _status_answers; then
			KYSOD_RC=running
			break
		fi
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# kysod_refused: the last kysod_once ended by itself with an error status (not a signal).
kysod_refused()
{
	case $KYSOD_RC in
	running|hung) return 1 ;;
	esac
	[ "$KYSOD_RC" -ne 0 ] && [ "$KYSOD_RC" -lt 124 ]
}

# ---------------------------------------------------------------- API access

# Request settings: content type of bodies (empty: none), curl --max-time, extra curl
# arguments, a command prefix to run curl as another user (API_DIR must then be writable by
# that user), and the Expect header (empty: none).
API_CTYPE=application/json
API_TIMEOUT=30
API_EXTRA=()
API_AS=()
API_DIR=$T
API_EXPECT=

# _api METHOD PATH BODYFILE|"" : the request; results in STATUS BODY HEADERS CURL_RC.
_api()
{
	local method=$1 path=$2 file=$3 args d=$API_DIR
	args=(-sS --max-time "$API_TIMEOUT" --unix-socket "${API_SOCK:-$SOCK}"
		-o "$d/api.body" -D "$d/api.headers" -w '%{http_code}')
	if [ "$method" = HEAD ]; then
		args+=(--head)
	else
		args+=(-X "$method")
	fi
	if [ -n "$file" ]; then
		args+=(-H "Expect:${API_EXPECT:+ $API_EXPECT}" --data-binary "@$file")
		if [ -n "$API_CTYPE" ]; then
			args+=(-H "Content-Type: $API_CTYPE")
		else
			args+=(-H 'Content-Type:')
		fi
	fi
	rm -f "$d/api.body" "$d/api.headers"
	STATUS=$("${API_AS[@]}" curl "${args[@]}" "${API_EXTRA[@]}" "http://localhost$path" 2>"$d/api.err")
	CURL_RC=$?
	BODY=$(cat "$d/api.body" 2>/dev/null)
	HEADERS=$(tr -d '\r' < "$d/api.headers" 2>/dev/null)
	[ -n "${KYSO_API_RECORD:-}" ] && [ "$KYSO_API_RECORD" != 0 ] && api_record "$method" "$path"
	return 0
}

# ---------------------------------------------------------------- the contract

# api_record METHOD PATH: keeps the last answer ($STATUS $HEADERS $BODY) for the check
# against docs/openapi.yaml (tests/lib/openapi-check.py); api_record EVENT KIND with BODY
# set to an event's data keeps an event. Answers curl did not get whole are not kept.
# (api may run in a subshell, as in $(…): the record's name has the shell's pid.)
API_RECORDS=0
api_record()
{
	local dir=$T/api-record n
	[ "$1" = EVENT ] || { [ "$CURL_RC" = 0 ] && [ "$STATUS" != 000 ]; } || return 0
	[ -d "$dir" ] || mkdir -p "$dir"
	API_RECORDS=$((API_RECORDS + 1))
	n=${BASHPID}_${API_RECORDS}_$RANDOM
	printf '%s' "$BODY" > "$dir/$n.body"
	printf '%s' "${HEADERS:-}" > "$dir/$n.headers"
	printf '%s\t%s\t%s\t%s\n' "$n" "$1" "${STATUS:-}" "$2" >> "$dir/index"
}

# Called by done_testing: one TAP line saying whether every recorded answer and event is
# as docs/openapi.yaml describes it.
tap_before_plan()
{
	local out n
	[ -s "$T/api-record/index" ] || return 0
	n=$(wc -l < "$T/api-record/index")
	if out=$("$PY" "$KYSO_SRCDIR/tests/lib/openapi-check.py" "$KYSO_SRCDIR/docs/openapi.yaml" \
		"$T/api-record" 2>&1); then
		pass "the $n answers recorded match docs/openapi.yaml"
	else
		fail "the $n answers recorded match docs/openapi.yaml"
		diag "$out"
	fi
}

api()
{
	if [ $# -ge 3 ]; then
		printf '%s' "$3" > "$API_DIR/api.req"
		_api "$1" "$2" "$API_DIR/api.req"
	else
		_api "$1" "$2" ""
	fi
}

api_file()
{
	_api "$1" "$2" "$3"
}

# json_get EXPR [JSON]: evaluates the Python expression EXPR with `j` bound to the parsed
# JSON ($BODY by default). Strings print as they are, other values as JSON. Fails (prints
# nothing) when the JSON does not parse or the expression raises.
json_get()
{
	local json
	if [ $# -ge 2 ]; then json=$2; else json=$BODY; fi
	printf '%s' "$json" | "$PY" -c '
import json, sys
try:
    j = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    v = eval(sys.argv[1], {"j": j, "json": json})
except Exception:
    sys.exit(1)
if isinstance(v, str):
    sys.stdout.write(v)
else:
    sys.stdout.write(json.dumps(v, ensure_ascii=False))
' "$1"
}

err_code()
{
	json_get 'j["error"]["code"]'
}

# err_pin_state: pin.state of a PIN error (inside the error object).
err_pin_state()
{
	json_get 'j["error"]["pin"]["state"]'
}

# header NAME: value of a response header of the last api call (case-insensitive name).
header()
{
	printf '%s\n' "$HEADERS" | awk -v n="$1" 'BEGIN { n = tolower(n) }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
			v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

# is_json_error STATUS CODE DESC: the last answer has that HTTP status and error code
# (one TAP line; details in diagnostics on failure).
is_error()
{
	local want_status=$1 want_code=$2 desc=$3 code
	code=$(err_code)
	if [ "$STATUS" = "$want_status" ] && [ "$code" = "$want_code" ]; then
		pass "$desc"
	else
		fail "$desc"
		diag "    expected: $want_status $want_code" \
			"         got: $STATUS ${code:-<no error code>} $(_tap_show "$BODY")"
		return 1
	fi
}

# ---------------------------------------------------------------- hashing and signatures

# make_hash ALG: hashes fresh random data; sets HASH_FILE (binary), HASH_HEX, HASH_B64.
make_hash()
{
	local alg=$1
	head -c 1000 /dev/urandom > "$T/data.bin"
	HASH_FILE=$T/hash.$alg.bin
	openssl dgst "-$alg" -binary "$T/data.bin" > "$HASH_FILE"
	HASH_HEX=$(xxd -p -c 256 "$HASH_FILE")
	HASH_B64=$(openssl base64 -A -in "$HASH_FILE")
}

# sign_body CERT_ID ALG [PADDING]: request body over the current HASH_B64.
sign_body()
{
	if [ -n "${3:-}" ]; then
		printf '{"certificate":"%s","hash":"%s","hash_algorithm":"%s","padding":"%s"}' \
			"$1" "$HASH_B64" "$2" "$3"
	else
		printf '{"certificate":"%s","hash":"%s","hash_algorithm":"%s"}' "$1" "$HASH_B64" "$2"
	fi
}

# verify_sig CERT_PEM HASH_HEX SIG_FILE ALG [PADDING]: openssl verification of a raw
# signature over a hash (PADDING pkcs1 or pss for RSA, empty for EC).
verify_sig()
{
	local cert=$1 hex=$2 sig=$3 alg=$4 pad=${5:-} opts
	printf '%s' "$hex" | xxd -r -p > "$T/verify.hash"
	opts=(-pkeyopt "digest:$alg")
	case $pad in
	pss) opts+=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest
		-pkeyopt "rsa_mgf1_md:$alg") ;;
	pkcs1) opts+=(-pkeyopt rsa_padding_mode:pkcs1) ;;
	esac
	openssl pkeyutl -verify -certin -inkey "$cert" -in "$T/verify.hash" -sigfile "$sig" \
		"${opts[@]}" >"$T/verify.out" 2>&1
}

# save_signature FILE: decodes .signature of $BODY into FILE.
save_signature()
{
	json_get 'j["signature"]' | openssl base64 -d -A > "$1" 2>/dev/null
	[ -s "$1" ]
}

# sign_bg KEY NAME MAXTIME: POST /v1/sign of a fresh sha256 hash with KEY's certificate, in
# the background (its pid in $JOB); sign_bg_wait NAME then sets $STATUS and $BODY.
sign_bg()
{
	make_hash sha256
	printf '%s' "$(sign_body "${CERT_ID[$1]}" sha256)" > "$T/$2.req"
	curl -sS --max-time "$3" --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		--data-binary "@$T/$2.req" -o "$T/$2.json" -w '%{http_code}' \
		http://localhost/v1/sign > "$T/$2.code" 2>&1 &
	JOB=$!
}

sign_bg_wait()
{
	wait "$JOB"
	STATUS=$(cat "$T/$1.code")
	BODY=$(cat "$T/$1.json" 2>/dev/null)
}

# audit_settle [FILE]: kysod writes the result entry of a POST /v1/sign once the answer has
# gone, so a test that reads the log as soon as it has its answer can be a moment early. While
# kysod runs, this waits (up to 10 s) until every intent entry it wrote outside a batch has
# its result in FILE ($AUDIT_LOG by default); returns 1, with a diagnostic, if one has none.
audit_settle()
{
	local f=${1:-$AUDIT_LOG} seq0=0
	[ -n "${KYSOD_PID:-}" ] && [ -f "$f" ] || return 0
	[ "$f" = "$AUDIT_LOG" ] && seq0=${KYSOD_AUDIT_SEQ0:-0}
	"$PY" - "$f" "${seq0:-0}" <<'EOF'
import json, sys, time
path, seq0 = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 10
while True:
    waiting = set()
    with open(path, "rb") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == "intent" and "batch" not in e and e.get("seq", 0) > seq0:
                waiting.add(e["seq"])
            elif e.get("event") == "sign":
                waiting.discard(e.get("intent"))
    if not waiting:
        sys.exit(0)
    if time.monotonic() > deadline:
        print("# audit_settle: intent entries without a result: %s" % sorted(waiting)[:5])
        sys.exit(1)
    time.sleep(0.02)
EOF
}

# sign_and_verify KEY ALG [PADDING]: a fresh hash signed with certificate KEY (name used
# in make_softhsm_token / make_mock_key); 3 TAP lines: 200, algorithm name and certificate
# echoed, signature verifies. The signature is left in $T/sig.bin.
sign_and_verify()
{
	local key=$1 alg=$2 pad=${3:-} name want_alg vpad
	name="$key ${pad:+$pad }$alg"
	make_hash "$alg"
	api POST /v1/sign "$(sign_body "${CERT_ID[$key]}" "$alg" "$pad")"
	if ! is "$STATUS" 200 "sign $name: 200"; then
		diag "    body: $BODY"
		skip 2 "sign $name failed"
		return 1
	fi
	if [ "${KEY_TYPE[$key]}" = rsa ]; then
		vpad=${pad:-pkcs1}
		want_alg=rsa-$vpad-$alg
	else
		vpad=
		want_alg=ecdsa-$alg
	fi
	is "$(json_get 'j["algorithm"] + " " + j["certificate"]')" "$want_alg ${CERT_ID[$key]}" \
		"sign $name: algorithm $want_alg and certificate id in the answer"
	rm -f "$T/sig.bin"
	if save_signature "$T/sig.bin" &&
		verify_sig "${CERT_PEM[$key]}" "$HASH_HEX" "$T/sig.bin" "$alg" "$vpad"; then
		pass "sign $name: signature verifies with openssl against the certificate"
	else
		fail "sign $name: signature verifies with openssl against the certificate"
		diag "    body: $BODY" "    openssl: $(cat "$T/verify.out" 2>/dev/null)"
		return 1
	fi
}

# ---------------------------------------------------------------- pinentry

pinentry_says()
{
	printf '%s\n' "$1" > "$KYSO_PINENTRY_SCRIPT"
}

getpin_count()
{
	grep -c '^GETPIN' "$KYSO_PINENTRY_LOG"
}

status_ok()
{
	api GET /v1/status
	if [ "$STATUS" = 200 ]; then
		pass "$1"
	else
		fail "$1"
		diag "    GET /v1/status: $STATUS (curl $CURL_RC) $BODY"
		return 1
	fi
}

# helper_field NAME: a field of the first module in GET /v1/status.
helper_field()
{
	api GET /v1/status
	json_get "j['modules'][0]['$1']"
}

# wait_restarted OLD_PID [SECONDS]: until the first module runs with another helper pid.
wait_restarted()
{
	local i pid state limit=${2:-5}
	[ "$KYSO_VALGRIND" = 1 ] && limit=$((limit * 6))
	for ((i = 0; i < limit * 10; i++)); do
		api GET /v1/status
		pid=$(json_get 'j["modules"][0]["pid"]')
		state=$(json_get 'j["modules"][0]["state"]')
		if [ "$state" = running ] && [ -n "$pid" ] && [ "$pid" != "$1" ]; then
			return 0
		fi
		sleep 0.1
	done
	diag "module not running again: $BODY"
	return 1
}

# reaped PID: the process is gone from the process table (neither running nor a zombie
# left unreaped); polled for up to 10 s (60 under valgrind). A live process fails.
reaped()
{
	local i limit=100
	[ "$KYSO_VALGRIND" = 1 ] && limit=600
	for ((i = 0; i < limit; i++)); do
		[ -d "/proc/$1" ] || return 0
		sleep 0.1
	done
	diag "process $1 still in the process table: $(ps -o pid=,stat=,comm= -p "$1" 2>/dev/null)"
	return 1
}

# wait_file PATH [SECONDS]: until PATH exists. The limit (30 s, 6 times that under valgrind)
# only ends a test that hangs; it is not a measurement.
wait_file()
{
	local i limit=${2:-30}
	[ "$KYSO_VALGRIND" = 1 ] && limit=$((limit * 6))
	for ((i = 0; i < limit * 50; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	diag "$1 did not appear within $limit s"
	return 1
}

# wait_log ERE [SECONDS]: until a line of the current kysod log (which also holds its
# helpers' stderr) matches ERE; same limit as wait_file.
wait_log()
{
	local i limit=${2:-30}
	[ "$KYSO_VALGRIND" = 1 ] && limit=$((limit * 6))
	for ((i = 0; i < limit * 50; i++)); do
		grep -Eq -- "$1" "$KYSOD_LOG" 2>/dev/null && return 0
		sleep 0.02
	done
	diag "no line matching '$1' in $KYSOD_LOG within $limit s"
	return 1
}

# token_pin TOKEN_ID FIELD EXPECTED: the token's pin.FIELD from GET /v1/tokens/{id}, polled
# for up to 3 s until it equals EXPECTED (kysod refreshes token state in the background);
# prints the last value seen.
token_pin()
{
	local i v
	for ((i = 0; i < 30; i++)); do
		api GET "/v1/tokens/$1"
		v=$(json_get "j['pin']['$2']")
		[ "$v" = "$3" ] && break
		sleep 0.1
	done
	[ "$i" -gt 0 ] && echo "# pin.$2 of token $1: '$v' after $((i * 100)) ms" >&2
	printf '%s' "$v"
}

# elapsed time helpers (milliseconds)
now_ms()
{
	date +%s%3N
}
