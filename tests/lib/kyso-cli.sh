# SPDX-License-Identifier: LGPL-2.1-or-later
# Running the kyso CLI in tests; sourced after kyso-env.sh.

# kyso ARGS...: runs the CLI; sets RC, OUT (stdout), ERR (stderr).
kyso()
{
	"$KYSO_CLI" "$@" > "$T/cli.out" 2> "$T/cli.err"
	RC=$?
	OUT=$(cat "$T/cli.out")
	ERR=$(cat "$T/cli.err")
}

# kyso_exit DESC CODE ARGS...: one TAP line for the exit status.
kyso_exit()
{
	local desc=$1 code=$2
	shift 2
	kyso "$@"
	if [ "$RC" = "$code" ]; then
		pass "$desc: exit $code"
	else
		fail "$desc: exit $code"
		diag "    kyso $*: exit $RC" "    stdout: $(_tap_show "$OUT")" "    stderr: $(_tap_show "$ERR")"
	fi
}

# kyso_ok DESC ARGS...: exit status 0 expected (one TAP line).
kyso_ok()
{
	local desc=$1
	shift
	kyso "$@"
	if [ "$RC" = 0 ]; then
		pass "$desc"
	else
		fail "$desc"
		diag "    kyso $*: exit $RC" "    stdout: $(_tap_show "$OUT")" "    stderr: $(_tap_show "$ERR")"
	fi
}

# random_hex ALG: the hex digest of fresh random data.
random_hex()
{
	head -c 64 /dev/urandom | openssl dgst "-$1" -r | cut -d' ' -f1
}
