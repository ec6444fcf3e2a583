#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The keys a helper keeps between signatures never outlive libp11's slot list. libp11 0.4.12
# frees a slot's private part when its slot list is released even while a key of that slot is
# still referenced, and a key freed afterwards writes into that freed memory: the helper of
# OpenSC's module aborted on a corrupted heap now and then in t-pcsc. Here, with OpenSC's
# module over two virtual PIV cards in a private pcscd: card a signs (its key is kept), card b
# comes (libp11's slot list is rebuilt), card a signs again and leaves (its worker ends and
# frees the keys it kept). kysod and its helper run under valgrind, which reports a write
# into freed memory on the spot; with a sanitizer build, where valgrind cannot run, the same
# steps run plain and only the helper's survival is checked.

: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KYSO_BUILDDIR:=$KYSO_SRCDIR}"
if command -v valgrind >/dev/null &&
	! ldd "$KYSO_BUILDDIR/kysod" 2>/dev/null | grep -Eq 'lib(a|t)san'; then
	KYSO_VALGRIND=1
fi
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" || { echo "Bail out! cannot read pcsc-env.sh"; exit 255; }
pcsc_enter_namespace "$@"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
. "$KYSO_SRCDIR/tests/lib/kyso-pcsc.sh"
kp_require
diag "kysod and its helper under valgrind: $KYSO_VALGRIND"
WAIT=10
[ "$KYSO_VALGRIND" = 1 ] && WAIT=90

pcsc_start || bail_out "pcscd does not start"
kp_card a "$T/card-a"
kp_card b "$T/card-b" --cn "Nguyễn Văn An"
card_start a "$PCSC_PORT0" "$T/card-a" || bail_out "card a does not start"
kp_write_conf request_timeout=120
start_kysod
pinentry_says "pin 123456"
kp_wait_token a yes "$WAIT"
ok $? "card a's token is listed"
sign_and_verify a-9a sha256
P1=$(helper_field pid)

check "card b inserted" card_start b "$PCSC_PORT1" "$T/card-b"
kp_wait_token b yes "$WAIT"
ok $? "card b's token is listed (libp11's slot list rebuilt)"
sign_and_verify a-9a sha384
sign_and_verify b-9a sha256

check "card a removed" card_stop a
kp_wait_token a no "$WAIT"
ok $? "card a's token has left (its worker ended)"
sign_and_verify b-9a sha384
is "$(helper_field pid)" "$P1" "the same helper throughout (it did not die on a freed key)"
is "$(helper_field restarts)" 0 "no helper restart"
# stop_kysod: no valgrind report in kysod's log, where the helper's goes too
stop_kysod
done_testing
