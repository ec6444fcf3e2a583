# SPDX-License-Identifier: LGPL-2.1-or-later
# Minimal TAP (Test Anything Protocol) producer for the integration tests.
# Source it from bash. Functions:
#   plan N | plan_skip_all REASON      print the plan up front (optional)
#   pass DESC | fail DESC              record one result
#   ok STATUS DESC                     STATUS 0 = pass (e.g. `ok $? "..."`)
#   check DESC CMD [ARGS...]           run CMD, pass when it exits 0
#   is GOT EXPECTED DESC               string equality
#   isnt GOT UNEXPECTED DESC
#   like GOT ERE DESC | unlike GOT ERE DESC   extended regular expression match
#   skip N REASON                      record N skipped tests
#   diag MSG... | note MSG...          comments ("# " lines on stdout)
#   bail_out REASON                    abort the whole run
#   done_testing                       print the trailing plan (if none given) and a summary;
#                                      returns non-zero when something failed; runs
#                                      tap_before_plan first when the test defines it
# Counters: TAP_RUN, TAP_FAILED.

TAP_RUN=0
TAP_FAILED=0
TAP_PLANNED=

plan()
{
	TAP_PLANNED=$1
	printf '1..%s\n' "$1"
}

plan_skip_all()
{
	printf '1..0 # SKIP %s\n' "$*"
	TAP_PLANNED=0
	exit 0
}

# Prefixes every line of its arguments with "# ".
_tap_comment()
{
	printf '%s\n' "$*" | sed 's/^/# /'
}

diag()
{
	_tap_comment "$@"
}

note()
{
	_tap_comment "$@"
}

pass()
{
	TAP_RUN=$((TAP_RUN + 1))
	printf 'ok %d - %s\n' "$TAP_RUN" "$*"
	return 0
}

fail()
{
	TAP_RUN=$((TAP_RUN + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_RUN" "$*"
	# Where it failed: the caller of the TAP helper.
	local i=1
	while [ "$i" -lt "${#FUNCNAME[@]}" ]; do
		case ${FUNCNAME[$i]} in
		pass|fail|ok|check|is|isnt|like|unlike|_tap_*) ;;
		*)
			printf '#   at %s line %s\n' "${BASH_SOURCE[$i]##*/}" "${BASH_LINENO[$((i - 1))]}"
			break ;;
		esac
		i=$((i + 1))
	done
	return 1
}

ok()
{
	local status=$1
	shift
	if [ "$status" -eq 0 ] 2>/dev/null; then
		pass "$@"
	else
		fail "$@"
	fi
}

check()
{
	local desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc"
		diag "    command failed: $*"
		return 1
	fi
}

# Shortens long values in diagnostics.
_tap_show()
{
	local v=$1
	if [ "${#v}" -gt 600 ]; then
		printf '%s... (%d chars)' "${v:0:600}" "${#v}"
	else
		printf '%s' "$v"
	fi
}

is()
{
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "         got: '$(_tap_show "$1")'" "    expected: '$(_tap_show "$2")'"
		return 1
	fi
}

isnt()
{
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "         got: '$(_tap_show "$1")'" "    expected anything else"
		return 1
	fi
}

# _tap_match GOT ERE: grep's status (0 match, 1 no match, 2 a bad expression or another error).
_tap_match()
{
	printf '%s' "$1" | grep -Eq -- "$2" 2>/dev/null
}

like()
{
	_tap_match "$1" "$2"
	case $? in
	0) pass "$3" ;;
	1)
		fail "$3"
		diag "                  '$(_tap_show "$1")'" "    doesn't match '$2'"
		return 1 ;;
	*)
		fail "$3"
		diag "    grep cannot use the expression '$2'"
		return 1 ;;
	esac
}

unlike()
{
	_tap_match "$1" "$2"
	case $? in
	1) pass "$3" ;;
	0)
		fail "$3"
		diag "                  '$(_tap_show "$1")'" "    matches '$2'"
		return 1 ;;
	*)
		fail "$3"
		diag "    grep cannot use the expression '$2'"
		return 1 ;;
	esac
}

skip()
{
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		TAP_RUN=$((TAP_RUN + 1))
		printf 'ok %d # SKIP %s\n' "$TAP_RUN" "$*"
	done
}

bail_out()
{
	printf 'Bail out! %s\n' "$*"
	exit 255
}

done_testing()
{
	# a last check the test bed adds (tests/lib/kyso-env.sh: the API contract)
	if declare -F tap_before_plan >/dev/null; then
		tap_before_plan
	fi
	if [ -z "$TAP_PLANNED" ]; then
		printf '1..%d\n' "$TAP_RUN"
	elif [ "$TAP_PLANNED" -ne "$TAP_RUN" ]; then
		diag "planned $TAP_PLANNED tests but ran $TAP_RUN"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	if [ "$TAP_FAILED" -eq 0 ]; then
		diag "all $TAP_RUN tests passed"
		return 0
	fi
	diag "failed $TAP_FAILED of $TAP_RUN tests"
	return 1
}
