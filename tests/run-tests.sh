#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what is missing, builds kyso and runs its whole test suite.
#   bash tests/run-tests.sh             unit and integration tests
#   bash tests/run-tests.sh --asan      the same, built with ASan and UBSan
#   bash tests/run-tests.sh --valgrind  integration tests with kysod under valgrind
#   bash tests/run-tests.sh --tsan      the threaded tests (batches, cancel and stop, events,
#                                       faults, helper crashes, the CRL cache) built with
#                                       ThreadSanitizer
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-plain}
bash "$top/tests/install-deps.sh"

case "$mode" in
plain)
	builddir=$top/build
	bash "$top/tests/build.sh" "$builddir"
	;;
--asan)
	builddir=$top/build-asan
	bash "$top/tests/build.sh" "$builddir" --enable-sanitizers
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	;;
--valgrind)
	builddir=$top/build
	bash "$top/tests/build.sh" "$builddir"
	export KYSO_VALGRIND=1
	;;
--tsan)
	builddir=$top/build-tsan
	bash "$top/tests/build.sh" "$builddir" --enable-tsan
	export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp"
	;;
*)
	echo "usage: bash tests/run-tests.sh [--asan|--valgrind|--tsan]" >&2
	exit 2
	;;
esac

cd "$builddir"
status=0
if [ "$mode" = --valgrind ]; then
	make -j"$(nproc)" check TESTS="tests/integration/t-sign.sh tests/integration/t-pin.sh tests/integration/t-errors.sh" || status=$?
elif [ "$mode" = --tsan ]; then
	make -j"$(nproc)" check TESTS="tests/integration/t-batch.sh tests/integration/t-cancel.sh tests/integration/t-events.sh tests/integration/t-faults.sh tests/integration/t-helper-crash.sh tests/integration/t-crl-fetch.sh" || status=$?
else
	make -j"$(nproc)" check || status=$?
fi
for f in tests/unit/*.log tests/integration/*.log; do
	[ -f "$f" ] || continue
	case "$f" in *test-suite.log) continue ;; esac
	if grep -E '^(FAIL|ERROR|not ok)' "$f" 2>/dev/null | grep -qv '# TODO' ||
		grep -q ':FAIL' "${f%.log}.trs" 2>/dev/null ||
		grep -q ':ERROR' "${f%.log}.trs" 2>/dev/null; then
		echo "===== $f"
		tail -60 "$f"
	fi
done
pass=$(sed -n 's/^# PASS: *//p' test-suite.log | head -1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log | head -1)
err=$(sed -n 's/^# ERROR: *//p' test-suite.log | head -1)
skip=$(sed -n 's/^# SKIP: *//p' test-suite.log | head -1)
xfail=$(sed -n 's/^# XFAIL: *//p' test-suite.log | head -1)
xpass=$(sed -n 's/^# XPASS: *//p' test-suite.log | head -1)
echo "tests: ${pass:-0} passed, $(( ${fail:-0} + ${err:-0} + ${xpass:-0} )) failed, ${skip:-0} skipped, ${xfail:-0} known problems (TODO)"
exit "$status"
