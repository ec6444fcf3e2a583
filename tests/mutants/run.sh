#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mutation check of the test suite: each tests/mutants/*.patch breaks one safety property on
# purpose; applied to a copy of the tree, built, the tests it names (its "# Tests:" line) must
# fail. A mutant whose tests still pass has survived: the suite no longer guards that property.
#
#   bash tests/mutants/run.sh [--keep] [--no-baseline] [NAME...]
#
# NAME is a patch's base name (default: every patch). The copy is the working tree as it is
# (tracked and untracked files, not the ignored ones), built out of tree without --enable-werror
# (a mutant may leave a variable unused). Before the mutants, the tests they name run once on the
# unchanged copy: they must pass, or no mutant can be judged. Exit status 0 when every mutant was
# killed; 1 when one survived, did not apply or did not build; 2 on a usage or setup error.
# Run it after any change to the signing, audit, certificate check or consent paths. Patches
# apply by their changed lines alone (git apply -C0), so code moving around them does not
# matter; a patch whose changed lines no longer exist is to be made again against the new code.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# KYSO_MUTANTS_DIR: take the patches from another directory (default: this one)
here=${KYSO_MUTANTS_DIR:-$top/tests/mutants}
keep=0
baseline=1
names=()
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	--no-baseline) baseline=0 ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1") ;;
	esac
	shift
done
if [ ${#names[@]} -eq 0 ]; then
	for p in "$here"/*.patch; do
		names+=("$(basename "$p" .patch)")
	done
fi
for n in "${names[@]}"; do
	[ -f "$here/$n.patch" ] || { echo "run.sh: no mutant $n ($here/$n.patch)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kyso-mutants.XXXXXX") || exit 2
# t-peer runs kysod as nobody from the copy's build tree: nobody must reach it
chmod 0755 "$work"
copy=$work/src
build=$work/build
logs=$work/logs
mkdir -p "$copy" "$build" "$logs"
cleanup()
{
	if [ "$keep" = 1 ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
jobs=$(nproc 2>/dev/null || echo 2)

# tests_of NAME: the tests a patch names.
tests_of()
{
	sed -n 's/^# Tests: *//p' "$here/$1.patch" | head -n 1
}

echo "copying $top to $copy"
(cd "$top" && git ls-files -z -c -o --exclude-standard | while IFS= read -r -d '' f; do
	[ -f "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$copy") || { echo "run.sh: cannot copy the tree" >&2; exit 2; }
# the copy must never contain a previous build
rm -rf "$copy/build" "$copy/build-asan"

echo "building the copy in $build"
(cd "$copy" && ./autogen.sh) >"$logs/autogen.log" 2>&1 || { tail -20 "$logs/autogen.log"; exit 2; }
(cd "$build" && "$copy/configure") >"$logs/configure.log" 2>&1 || { tail -20 "$logs/configure.log"; exit 2; }
build_all()
{
	make -C "$build" -j"$jobs" >"$1" 2>&1 && make -C "$build" -j"$jobs" check TESTS= >>"$1" 2>&1
}
build_all "$logs/build.log" || { tail -40 "$logs/build.log"; exit 2; }

# run_tests LOGDIR TESTS...: make check on those tests; their logs are kept in LOGDIR. Prints the
# failed tests (with their count of failed lines); status of make check.
run_tests()
{
	local dir=$1 rc t base
	shift
	mkdir -p "$dir"
	make -C "$build" -j"$jobs" check TESTS="$*" >"$dir/make-check.log" 2>&1
	rc=$?
	for t in "$@"; do
		base=$build/${t%.sh}
		cp "$base.log" "$dir/" 2>/dev/null
		if grep -q ':test-result: \(FAIL\|ERROR\)' "$base.trs" 2>/dev/null; then
			printf '%s (%s failed) ' "${t##*/}" "$(grep -c ':test-result: \(FAIL\|ERROR\)' "$base.trs")"
		fi
	done
	return $rc
}

if [ "$baseline" = 1 ]; then
	all=$(for n in "${names[@]}"; do tests_of "$n"; done | tr ' ' '\n' | sort -u | tr '\n' ' ')
	echo "baseline: the unchanged copy must pass $all"
	if ! failed=$(run_tests "$logs/baseline" $all); then
		echo "baseline FAILED: $failed (logs in $logs/baseline)"
		keep=1
		exit 2
	fi
	echo "baseline: passed"
fi

killed=0
bad=0
for n in "${names[@]}"; do
	patch=$here/$n.patch
	tests=$(tests_of "$n")
	if [ -z "$tests" ]; then
		echo "mutant $n: ERROR, the patch names no tests (# Tests: line)"
		bad=$((bad + 1))
		continue
	fi
	if ! (cd "$copy" && git apply -C0 "$patch") >"$logs/$n.apply.log" 2>&1; then
		echo "mutant $n: ERROR, the patch does not apply: $(head -n 1 "$logs/$n.apply.log")"
		bad=$((bad + 1))
		continue
	fi
	if ! build_all "$logs/$n.build.log"; then
		echo "mutant $n: ERROR, the mutant does not build (see $logs/$n.build.log)"
		bad=$((bad + 1))
		keep=1
	elif failed=$(run_tests "$logs/$n" $tests); then
		echo "mutant $n: SURVIVED, $tests passed"
		bad=$((bad + 1))
		keep=1
	else
		echo "mutant $n: killed by $failed"
		killed=$((killed + 1))
	fi
	(cd "$copy" && git apply -C0 -R "$patch") >>"$logs/$n.apply.log" 2>&1 ||
		{ echo "run.sh: cannot undo mutant $n" >&2; keep=1; exit 2; }
done

echo "mutants: ${#names[@]}, killed: $killed, survived or broken: $bad"
[ "$bad" -eq 0 ]
