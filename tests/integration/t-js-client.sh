#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The JavaScript client (clients/js/kyso.js) in Node, over kysod's Unix socket, against a
# real kysod on a SoftHSM2 token: its checks (clients/js/tests/test-kyso.mjs), one TAP line
# each: connect() on the default socket, certificates, sign (raw RSA PKCS#1 and PSS, EC, a
# pades CMS), verify, events, signBatch with progress and with its signal aborted in the
# consent dialog, KysoError codes. Every signature it got is verified here with openssl.
# The module's bundle for pages has no Node import at load time.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"

require_build
require_softhsm
command -v node >/dev/null || plan_skip_all "node is not installed (the JavaScript client's tests run in Node)"

make_softhsm_token
write_conf --module "softhsm=$SOFTHSM"
start_kysod

certs=$(for k in rsa p256 p384; do
	printf '"%s":{"id":"%s","type":"%s"}\n' "$k" "${CERT_ID[$k]}" "${KEY_TYPE[$k]}"
done | paste -sd, -)
OUTDIR=$T/js
mkdir -p "$OUTDIR"
: > "$OUTDIR/results"
: > "$OUTDIR/signatures"
KYSO_TEST_CERTS="{$certs}" KYSO_TEST_TOKEN=$TOKEN_ID KYSO_TEST_RESULTS=$OUTDIR/results \
	KYSO_TEST_OUT=$OUTDIR XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR \
	node "$KYSO_SRCDIR/clients/js/tests/test-kyso.mjs" > "$OUTDIR/node.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) pass "js: ${line#ok }" ;;
	"not ok "*) fail "js: ${line#not ok }" ;;
	"#"*) printf '%s\n' "$line" ;;
	esac
done < "$OUTDIR/results"
ok $(( $(grep -c '^ok ' "$OUTDIR/results") >= 16 ? 0 : 1 )) "the JavaScript checks ran (node's exit status $rc)"
[ "$rc" = 0 ] || { diag "node's output:"; tail -30 "$OUTDIR/node.out" | sed 's/^/    /'; }

# ---------------------------------------------------------------- openssl on every signature
nsig=0
bad=0
while read -r kind a b c d e; do
	case $kind in
	sig)
		nsig=$((nsig + 1))
		[ "$c" = - ] && c=
		if ! verify_sig "${CERT_PEM[$a]}" "$(xxd -p -c 256 "$d")" "$e" "$b" $c; then
			bad=$((bad + 1))
			diag "    openssl does not verify $e ($a $b $c)"
		fi
		;;
	cms)
		openssl cms -verify -binary -inform DER -in "$b" -content "$a" -noverify \
			-out /dev/null >"$T/cms.out" 2>&1
		ok $? "the pades CMS the client got verifies with openssl cms over the record" ||
			diag "$(cat "$T/cms.out")"
		openssl cms -cmsout -print -inform DER -in "$b" > "$T/cms.txt" 2>&1
		! grep -q 'signingTime' "$T/cms.txt"
		ok $? "it has no signingTime (the pades profile)"
		;;
	esac
done < "$OUTDIR/signatures"
is "$nsig $bad" "64 0" "openssl verifies all 64 signatures the client got (raw RSA PKCS#1, PSS, EC, the batch)"

# ---------------------------------------------------------------- pages load it without Node
grep -q '^import .*node:' "$KYSO_SRCDIR/clients/js/kyso.js"
ok $(( ! $? )) "kyso.js has no static import of a Node module (node:http is imported only in Node)"

stop_kysod
done_testing
