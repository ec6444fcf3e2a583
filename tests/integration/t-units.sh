#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The systemd user units (data/kysod.socket, data/kysod.service): `systemd-analyze --user
# verify` finds nothing to say about them, the socket is kysod's default socket with kysod's
# modes, and `systemd-analyze --user security` sees each sandboxing option the service sets.
# KYSO_UNIT_DIR=DIR checks the units installed there (the packages' test) as they are;
# otherwise the source tree's, with ExecStart pointed at the built kysod.
if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi
set -u
: "${KYSO_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$KYSO_SRCDIR/tests/lib/kyso-env.sh"
command -v systemd-analyze >/dev/null ||
	plan_skip_all "systemd-analyze (Debian's systemd package) not installed"

UNITS=$T/units
mkdir -p "$UNITS"
if [ -n "${KYSO_UNIT_DIR:-}" ]; then
	cp "$KYSO_UNIT_DIR/kysod.socket" "$KYSO_UNIT_DIR/kysod.service" "$UNITS/" ||
		bail_out "no units in $KYSO_UNIT_DIR"
else
	require_build
	cp "$KYSO_SRCDIR/data/kysod.socket" "$UNITS/"
	# systemd looks for a bare command in its own search path, not $PATH: the built one
	sed "s|^ExecStart=kysod |ExecStart=$KYSOD |" "$KYSO_SRCDIR/data/kysod.service" \
		> "$UNITS/kysod.service"
fi
cd "$UNITS" || bail_out "cd $UNITS"

# systemd-analyze --user needs no running user manager, only a runtime directory (made by
# kyso-env.sh) to resolve %t.
analyze()
{
	SYSTEMD_LOG_COLOR=0 SYSTEMD_PAGER= systemd-analyze --user "$@"
}

analyze verify --man=no ./kysod.socket ./kysod.service > "$T/verify.out" 2>&1
is "$?" 0 "systemd-analyze --user verify accepts kysod.socket and kysod.service"
is "$(cat "$T/verify.out")" "" "and has nothing to say about them (no unknown key, no warning)"
[ -s "$T/verify.out" ] && diag "$(cat "$T/verify.out")"

# What the socket unit listens on.
LISTEN=$(sed -n 's/^ListenStream=//p' kysod.socket)
is "$LISTEN" "%t/kyso/kyso.sock" "kysod.socket listens on kysod's default socket (\$XDG_RUNTIME_DIR/kyso/kyso.sock)"
is "$(sed -n 's/^SocketMode=//p' kysod.socket) $(sed -n 's/^DirectoryMode=//p' kysod.socket)" \
	"0600 0700" "with kysod's modes: socket 0600, directory 0700"
is "$(sed -n 's/^Accept=//p' kysod.socket)" no "one kysod for every connection (Accept=no)"
like "$(sed -n 's/^Requires=//p' kysod.service)" 'kysod\.socket' "kysod.service requires its socket"

analyze security --offline=true ./kysod.service > "$T/security.out" 2>&1
is "$?" 0 "systemd-analyze --user security --offline reads kysod.service"
for opt in NoNewPrivileges= LockPersonality= RestrictRealtime= RestrictSUIDSGID= \
	SystemCallArchitectures= UMask= 'RestrictNamespaces=~user' 'RestrictAddressFamilies=~AF_PACKET' \
	'RestrictAddressFamilies=~…' 'SystemCallFilter=~@debug' 'SystemCallFilter=~@mount' \
	'SystemCallFilter=~@module' 'SystemCallFilter=~@raw-io'; do
	if grep -qF "✓ $opt " "$T/security.out"; then
		pass "security: $opt is set"
	else
		fail "security: $opt is set"
	fi
done
if grep -qF '✗ KeyringMode=' "$T/security.out"; then
	fail "security: KeyringMode= keeps the user's keyring from kysod"
else
	pass "security: KeyringMode= keeps the user's keyring from kysod"
fi
note "$(grep -F 'Overall exposure' "$T/security.out")"

done_testing
