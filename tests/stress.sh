#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the batch, cancel and stop tests many times in a row with a CPU load beside them, and
# fails at the first run that does not pass (its logs are kept). A lost wake-up or a lock
# order that a single run misses once in ten shows here.
#   bash tests/stress.sh [RUNS]          ASan+UBSan build in build-asan, 50 runs by default
#   make stress [STRESS_RUNS=N]          the same tests in the current build directory
# STRESS_TESTS overrides the list of tests (paths relative to the build directory).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-50}
tests=${STRESS_TESTS:-tests/integration/t-batch.sh tests/integration/t-cancel.sh tests/integration/t-faults.sh}

if [ -n "${KYSO_STRESS_BUILDDIR:-}" ]; then
	builddir=$KYSO_STRESS_BUILDDIR
else
	bash "$top/tests/install-deps.sh"
	builddir=$top/build-asan
	bash "$top/tests/build.sh" "$builddir" --enable-sanitizers
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cd "$builddir"

# The load: one busy process, ended with this script (and by its own time limit).
timeout $((runs * 300)) sh -c 'while :; do :; done' &
load=$!
trap 'kill "$load" 2>/dev/null || true' EXIT

passed=0
failed=0
for ((i = 1; i <= runs; i++)); do
	start=$(date +%s)
	if make check TESTS="$tests" >"stress.out" 2>&1; then
		passed=$((passed + 1))
		echo "stress run $i/$runs: passed ($(( $(date +%s) - start )) s)"
		continue
	fi
	failed=$((failed + 1))
	keep=$builddir/stress-failed-$i
	mkdir -p "$keep"
	cp stress.out tests/integration/*.log "$keep/" 2>/dev/null || true
	echo "stress run $i/$runs: FAILED; logs in $keep"
	grep -h '^not ok\|^Bail out' "$keep"/t-*.log 2>/dev/null | head -20 || true
	break
done
echo "stress: $passed passed, $failed failed"
[ "$failed" = 0 ]
