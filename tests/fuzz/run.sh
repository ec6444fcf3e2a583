#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the fuzz harnesses and runs each for SECONDS (default $FUZZ_SECONDS,
# else 60) on its seed corpus, one after the other at the lowest priority:
#   bash tests/fuzz/run.sh [SECONDS] [TARGET…]     (targets: sign-request, route, …)
# Fails when a harness crashes (the input is kept in BUILD/artifacts/). New
# inputs found go to BUILD/corpus/TARGET, not to the seeds in tests/fuzz/corpus.
# KYSO_FUZZ_BUILDDIR sets BUILD (default build-fuzz at the top of the tree);
# FUZZ_RUNS, when set, also ends each harness after that many inputs.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
out=${KYSO_FUZZ_BUILDDIR:-$top/build-fuzz}

nice -n 19 bash "$top/tests/fuzz/build.sh" "$out"
if [ $# -gt 0 ]; then
	targets=("$@")
else
	mapfile -t targets < <(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/^fuzz-//; s/\.c$//')
fi
mkdir -p "$out/artifacts" "$out/tmp"
# the harnesses' temporary files (kysod.conf's CA bundle, catalogue files)
export TMPDIR=$out/tmp
trap 'rm -rf "$out/tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
passed=0
for t in "${targets[@]}"; do
	bin=$out/fuzz-$t
	seeds=$top/tests/fuzz/corpus/$t
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "fuzz: no harness or no corpus for $t" >&2
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$out/corpus/$t"
	log=$out/fuzz-$t.log
	status=0
	nice -n 19 "$bin" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} \
		-timeout=20 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
		"$out/corpus/$t" "$seeds" >"$log" 2>&1 || status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$status" -ne 0 ]; then
		echo "not ok fuzz-$t: exit $status after ${runs:-?} runs; see $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 || true
		ls "$out/artifacts/$t-"* 2>/dev/null | head -3 || true
		failed=$((failed + 1))
	else
		echo "ok fuzz-$t: ${runs:-?} runs in $(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)s, corpus $(ls "$out/corpus/$t" | wc -l) inputs"
		passed=$((passed + 1))
	fi
done
echo "fuzz: $passed clean, $failed crashed or missing"
[ "$failed" -eq 0 ]
