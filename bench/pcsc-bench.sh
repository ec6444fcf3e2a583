# SPDX-License-Identifier: LGPL-2.1-or-later
# The set-up bench/hotplug.sh and bench/piv.sh share: sourced with the script's own arguments
# after it set $out (its OUTFILE) and BENCH_NAME. A bench that cannot run writes
# "skipped: REASON" to $out and ends with status 0; the test bed (tests/lib/pcsc-env.sh) is
# entered (its own namespaces, a private pcscd), and $H is a fresh directory, PCSC_DIR in it.

plan_skip_all()
{
	echo "skipped: $*" >"$out"
	exit 0
}
bail_out()
{
	echo "skipped: $*" >"$out"
	exit 0
}
diag()
{
	echo "# $*" >&2
}

[ -r "$KYSO_SRCDIR/tests/lib/pcsc-env.sh" ] || plan_skip_all "tests/lib/pcsc-env.sh is not there"
[ -r "$KYSO_SRCDIR/tests/vcard/piv-card.py" ] || plan_skip_all "tests/vcard/piv-card.py is not there"
# shellcheck source=/dev/null
. "$KYSO_SRCDIR/tests/lib/pcsc-env.sh"
KYSO_REQUIRE_VCARD=0
pcsc_enter_namespace "$@"

H=$(mktemp -d "${TMPDIR:-/tmp}/kyso-bench-$BENCH_NAME.XXXXXX") || plan_skip_all "mktemp failed"
export PCSC_DIR=$H/pcsc
mkdir -p "$PCSC_DIR"
