# SPDX-License-Identifier: LGPL-2.1-or-later
# Running kyso admin batch in tests; sourced after kyso-env.sh (and kyso-cli.sh). Sets the
# PIN dialog (CONF_PINENTRY, for write_conf) to a wrapper of the scripted pinentry.
#
# Provides:
#   dialogs                  how many PIN dialogs were opened so far
#   act N SCRIPT             at the Nth dialog from the start, the shell SCRIPT runs first
#   act_signal N SIGNAL      at the Nth dialog, SIGNAL to the running batch
#   pins ANSWER...           the next dialogs are answered in this order (then cancelled)
#   queue_left               answers not used yet
#   admin_count OP RESULT    the audit log's admin lines of OP with RESULT
#   wait_admin OP RESULT N   until there are N
#   batch_bg NAME ARGS...    kyso admin batch ARGS in the background ($T/NAME.out, .err)
#   batch_wait [SECONDS]     its exit status in BATCH_RC ("hung" after SECONDS); OUT, ERR
#   batch_run DESC RC NAME ARGS...   a whole run, one TAP line for its exit status
#   wait_out ERE [SECONDS]   until the running batch's output has a line matching ERE
#   report BASE EXPR         EXPR over the report BASE.json (`j`)
#   entry BASE ROW EXPR      EXPR over the report's entry of ROW (`e`)

# The PIN dialog: the scripted pinentry behind a wrapper that counts the dialogs and, at the
# dialog $T/act names, first runs $T/act.sh: a batch killed or interrupted while kysod shows
# its dialog, a token pulled out in the middle of a step.
cat > "$T/pinentry-batch" <<EOF
#!/bin/sh
n=\$((\$(cat "$T/dialogs" 2>/dev/null || echo 0) + 1))
echo "\$n" > "$T/dialogs"
if [ -s "$T/act" ] && [ "\$(cat "$T/act")" = "\$n" ]; then
	: > "$T/act"
	sh "$T/act.sh" >>"$T/act.log" 2>&1
fi
exec "$PINENTRY" "\$@"
EOF
chmod +x "$T/pinentry-batch"
CONF_PINENTRY=$T/pinentry-batch
echo 0 > "$T/dialogs"

dialogs()
{
	cat "$T/dialogs"
}

# act N SCRIPT: at the Nth dialog from the start, the shell SCRIPT runs first.
act()
{
	printf '%s\n' "$2" > "$T/act.sh"
	printf '%s\n' "$1" > "$T/act"
}

# act_signal N SIGNAL: at the Nth dialog, SIGNAL to the batch.
act_signal()
{
	act "$1" "kill -$2 \$(cat '$T/batch.pid')"
}

# pins ANSWER...: the scripted pinentry answers the next dialogs in this order (a queue;
# once it is empty a dialog is cancelled).
pins()
{
	{
		echo queue
		printf 'pin %s\n' "$@"
	} > "$KYSO_PINENTRY_SCRIPT"
}

queue_left()
{
	tail -n +2 "$KYSO_PINENTRY_SCRIPT" | grep -c .
}

admin_count()
{
	grep '"event":"admin"' "$AUDIT_LOG" 2>/dev/null | "$PY" -c '
import json, sys
op, result = sys.argv[1], sys.argv[2]
print(sum(1 for l in sys.stdin if json.loads(l)["operation"] == op and json.loads(l)["result"] == result))' "$1" "$2"
}

# wait_admin OP RESULT N: until the audit log has N lines of OP with RESULT (kysod finishes
# an operation whose client was killed).
wait_admin()
{
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(admin_count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	diag "the audit log has $(admin_count "$1" "$2") $1 $2, not $3"
	return 1
}

# batch_bg NAME ARGS...: kyso admin batch ARGS in the background, with SIGINT as a terminal
# would deliver it (its pid in $T/batch.pid), its output in $T/NAME.out and $T/NAME.err. A
# subshell waits for it, so that no shell reports a batch killed on purpose.
batch_bg()
{
	local name=$1 i
	shift
	BATCH_NAME=$name
	rm -f "$T/batch.pid" "$T/batch.rc"
	(
		env --default-signal=INT "$KYSO_CLI" admin batch "$@" >"$T/$name.out" \
			2>"$T/$name.err" &
		echo $! > "$T/batch.pid"
		wait $!
		echo $? > "$T/batch.rc"
	) 2>/dev/null &
	BATCH_SUB=$!
	BG_PIDS+=("$BATCH_SUB")
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/batch.pid" ] && break
		sleep 0.02
	done
	BATCH_PID=$(cat "$T/batch.pid")
	BG_PIDS+=("$BATCH_PID")
}

# batch_wait [SECONDS]: its exit status in BATCH_RC (killed after SECONDS: "hung"); OUT, ERR.
batch_wait()
{
	local i limit=${1:-120}
	BATCH_RC=hung
	for ((i = 0; i < limit * 10; i++)); do
		if ! kill -0 "$BATCH_SUB" 2>/dev/null; then
			wait "$BATCH_SUB"
			BATCH_RC=$(cat "$T/batch.rc" 2>/dev/null)
			break
		fi
		sleep 0.1
	done
	if [ "$BATCH_RC" = hung ]; then
		kill -KILL "$BATCH_PID" 2>/dev/null
		wait "$BATCH_SUB" 2>/dev/null
	fi
	OUT=$(cat "$T/$BATCH_NAME.out")
	ERR=$(cat "$T/$BATCH_NAME.err")
}

# batch_run DESC RC NAME ARGS...: a whole run; one TAP line for its exit status.
batch_run()
{
	local desc=$1 want=$2
	shift 2
	batch_bg "$@"
	batch_wait
	if [ "$BATCH_RC" = "$want" ]; then
		pass "$desc: exit $want"
	else
		fail "$desc: exit $want"
		diag "    exit $BATCH_RC" "    stdout: $(_tap_show "$OUT")" "    stderr: $(_tap_show "$ERR")"
	fi
}

# wait_out ERE [SECONDS]: until the running batch's output has a line matching ERE.
wait_out()
{
	local i limit=${2:-30}
	for ((i = 0; i < limit * 10; i++)); do
		grep -Eq -- "$1" "$T/$BATCH_NAME.out" 2>/dev/null && return 0
		sleep 0.1
	done
	diag "no line matching '$1' in the batch's output:" "$(cat "$T/$BATCH_NAME.out")" \
		"$(cat "$T/$BATCH_NAME.err")"
	return 1
}

# report BASE EXPR: EXPR over BASE.json (`j`).
report()
{
	json_get "$2" "$(cat "$1.json" 2>/dev/null)"
}

# entry BASE ROW EXPR: EXPR over the report's entry of ROW (`e`).
entry()
{
	report "$1" "(lambda e: e$3)([e for e in j['tokens'] if e['row'] == $2][0])"
}

