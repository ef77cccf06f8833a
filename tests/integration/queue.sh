#!/bin/sh
# Integration test: queue mode (SPEC section 9) behind a real lighttpd
# (FastCGI, max-procs 4) on 127.0.0.1, fed by the independent Kayle sender.
# A delivery is answered 202 before its hook runs; the hook then runs
# once from the queue (FastCGI runner children, `idhook queue run`), also
# after every idhook process was SIGKILLed; max_running holds across all
# runners; failed hooks are retried with backoff and end dead; the
# `idhook queue` commands; file modes and logs.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_init queue
CONF=$T/idhook.conf
# Runner children outlive lighttpd: stop them by pid (lib.sh env_pids).
queue_cleanup() {
	qc_rc=$?
	stop_lighttpd
	reap_env "IDHOOK_CONFIG=$CONF"
	(exit "$qc_rc")
	t_cleanup
}
trap queue_cleanup EXIT
t_keys
D=$T/d
OUT=$T/out
L=$OUT/ledger			# qhook: started/failed/finished EP ID ATTEMPT
IDH=$T/www/idhook.cgi		# the CLI (a copy the server user can run)
O=$T/cli.out			# stdout of the last CLI command
mkdir -p "$T/hq" "$T/hc" "$T/conc"

# qhook FILE: dumps env, stdin, pid (its group) and start time to
# out/EP.ID.ATTEMPT.*, logs started/failed/finished to the ledger, and
# obeys ctl/<event id>.{sleep1,sleep,failn,fail,ok}: sleep on attempt 1
# / always; fail the first N runs (a counter in a file, not the attempt
# number); fail always unless .ok exists.  It prints no payload value.
cat > "$T/hq/default" <<EOF
#!/bin/sh
out=$OUT
c=$T/ctl/\$IDHOOK_EVENT_ID
n=\$IDHOOK_ENDPOINT.\$IDHOOK_EVENT_ID.\$IDHOOK_ATTEMPT
w="\$IDHOOK_ENDPOINT \$IDHOOK_EVENT_ID \$IDHOOK_ATTEMPT"
echo \$\$ > "\$out/\$n.pid"
date +%s.%N > "\$out/\$n.t"
env > "\$out/\$n.env"
cat > "\$out/\$n.stdin"
echo "started \$w" >> "$L"
[ "\$IDHOOK_ATTEMPT" = 1 ] && [ -f "\$c.sleep1" ] && sleep "\$(cat "\$c.sleep1")"
[ -f "\$c.sleep" ] && sleep "\$(cat "\$c.sleep")"
k=\$((\$(cat "\$out/\$IDHOOK_ENDPOINT.\$IDHOOK_EVENT_ID.count" 2>/dev/null || echo 0) + 1))
echo \$k > "\$out/\$IDHOOK_ENDPOINT.\$IDHOOK_EVENT_ID.count"
if { [ -f "\$c.failn" ] && [ \$k -le "\$(cat "\$c.failn")" ]; } ||
    { [ -f "\$c.fail" ] && [ ! -f "\$c.ok" ]; }; then
	echo "failed \$w" >> "$L"
	echo "qhook: failing on purpose (run \$k)"
	exit 3
fi
echo "finished \$w" >> "$L"
exit 0
EOF
# chook: measures concurrency itself (a file per running hook in conc/,
# counted), and notes which kind of runner ran it.
cat > "$T/hc/default" <<EOF
#!/bin/sh
: > "$T/conc/\$\$"
ls "$T/conc" | wc -l >> "$OUT/conc.max"
case "\$(tr '\\0' ' ' < /proc/\$PPID/cmdline 2>/dev/null)" in
*" queue "*) k=cli ;;
*) k=fcgi ;;
esac
sleep 0.1
rm -f "$T/conc/\$\$"
echo "\$IDHOOK_EVENT_ID \$IDHOOK_ATTEMPT \$k" >> "$OUT/cledger"
exit 0
EOF
chmod 755 "$T/hq/default" "$T/hc/default"
t_own "$T/out" "$T/state" "$T/conc"
chmod 700 "$T/state"

HOOK_TIMEOUT=10
t_config "$CONF" "$T/hq"	# [endpoint kayle]: sync, the same hook
# qep NAME HOOKS_DIR [LINE...]: a queue-mode endpoint section.
qep() {
	printf '\n[endpoint %s]\nprovider       = kayle\nsecret_file    = %s\n' \
	    "$1" "$T/keys/kayle.secret"
	printf 'decryption_key = k1:%s\nhooks_dir      = %s\nmode           = queue\n' \
	    "$T/keys/k1.pem" "$2"
	shift 2
	for qe_l; do printf '%s\n' "$qe_l"; done
}
{
	qep q "$T/hq" "max_running = 1"
	qep qc "$T/hc" "max_running = 2"
	qep qr "$T/hq" "retry_backoff = 1s" "max_attempts = 5"
	qep qd "$T/hq" "retry_backoff = 1s" "max_attempts = 2"
} >> "$CONF"
start_lighttpd "$CONF"
T_START=$(date +%s)

# ---- helpers ---------------------------------------------------------------------

# post DIR ENDPOINT: POST a delivery; sets R_CODE, R_BODY, R_FILE (for
# expect) and R_MS, the answer time (curl's time_total) in ms.
post() {
	R_N=$((R_N + 1))
	R_FILE=$T/resp/$R_N.body
	p_r=$(curl -sS --max-time 30 -o "$R_FILE" \
	    -w '%{http_code} %{time_total}' -H 'Expect:' -H @"$1/headers" \
	    --data-binary @"$1/body" "$URL/idhook.fcgi/$2" \
	    2>"$T/resp/$R_N.err") || p_r="curl-failed($(cat "$T/resp/$R_N.err")) 0"
	R_CODE=${p_r%% *}
	R_MS=$(awk -v t="${p_r##* }" 'BEGIN { printf "%d", t * 1000 }')
	R_BODY=$(cat "$R_FILE" 2>/dev/null)
}

# qcli ARGS...: idhook queue -c CONF ARGS; stdout in $O, stderr in
# logs/cli.log (scanned like every log); sets C_RC.
qcli() {
	echo "### idhook queue $*" >> "$T/logs/cli.log"
	env IDHOOK_CONFIG="$CONF" "$IDH" queue -c "$CONF" "$@" > "$O" \
	    2>> "$T/logs/cli.log"
	C_RC=$?
}

# dcli ARGS...: idhook dedup -c CONF ARGS, likewise.
dcli() {
	echo "### idhook dedup $*" >> "$T/logs/cli.log"
	"$IDH" dedup -c "$CONF" "$@" > "$O" 2>> "$T/logs/cli.log"
	C_RC=$?
}

# nledger WORD EP ID [ATTEMPT]: ledger lines "WORD EP ID [ATTEMPT]".
nledger() {
	grep -c "^$1 $2 $3 ${4:-}" "$L" 2>/dev/null || true
}

has_ledger() {
	[ "$(nledger "$@")" -ge 1 ]
}

# job_of EVENT_ID [--dead]: the job id `queue list` shows for an event.
job_of() {
	qcli list ${2:-}
	awk -F '\t' -v id="$1" '$5 == id { print $1 }' "$O"
}

# state_of EVENT_ID: its job's state in `queue list`, or "none".
state_of() {
	qcli list
	s_o=$(awk -F '\t' -v id="$1" '$5 == id { print $2 }' "$O")
	echo "${s_o:-none}"
}

# runlog EP ID: "attempt:result" of every job run logged for the event.
runlog() {
	all_logs | grep -F "endpoint=$1 " | grep -F "id=$2 " |
	    grep -F ' result=' | grep -F ' job=' |
	    sed -n 's/.* attempt=\([0-9]*\) result=\([a-z]*\).*/\1:\2/p' |
	    tr '\n' ' '
}

# runner_children: idhook processes whose parent is an idhook process.
runner_children() {
	rc_all=" $(idhook_pids) "
	for rc_p in $rc_all; do
		rc_pp=$(ps -o ppid= -p "$rc_p" 2>/dev/null | tr -d ' ')
		case $rc_all in *" $rc_pp "*) printf '%s ' "$rc_p" ;; esac
	done
}

no_runner() {
	[ -z "$(runner_children)" ]
}

# ---- 1. 202 at once, the hook later, once, like sync mode ------------------------

sign "$D/s1" --type verification.session.succeeded
S1=$(meta "$D/s1" event_id)
post "$D/s1" kayle
expect 200 delivered "sync endpoint, the same hook and delivery: 200 delivered"
echo 5 > "$T/ctl/$S1.sleep"	# from now on (queue mode) its hook sleeps 5 s
sign "$D/s2" --type verification.session.expired
S2=$(meta "$D/s2" event_id)
tq0=$(date +%s)
post "$D/s1" q
tq1=$(date +%s)
expect 202 queued "queue mode: 202 queued while the hook sleeps 5 s"
[ "$R_MS" -lt 2000 ] && ok "the 202 came after $R_MS ms (< 2000; the hook takes 5000)" ||
    not_ok "the 202 took $R_MS ms (the hook takes 5000)"
post "$D/s2" q
expect 202 queued "a second event (max_running = 1: it waits): 202 queued"
note "answer times: $R_MS ms"
wait_for 5 has_ledger started q "$S1" ||
    not_ok "the hook did not start within 5 s of the 202"
[ "$(state_of "$S2")" = queued ] && ok "queue list: the second job is queued behind the running one" ||
    not_ok "queue list: second job's state '$(state_of "$S2")', want queued ($(cat "$O"))"
dcli show q "$S2"
grep -q '^state: queued' "$O" && ok "dedup show of a queued event: state queued" ||
    not_ok "dedup show q <queued event>: $(tr '\n' ' ' < "$O")"
post "$D/s2" q
expect 202 queued "replay while its job is queued: 202 queued"
resign "$D/s1" "$D/s1-again"
post "$D/s1-again" q
expect 202 queued "the sender's resend while its hook runs: 202 queued"
all_logs | grep -F "id=$S1 " | grep -q 'already queued' &&
    ok "the log says 'already queued'" || not_ok "no 'already queued' in the log"
J1=$(job_of "$S1")
if wait_for 12 has_ledger finished q "$S2"; then
	ok "both queued hooks ran ($(( $(date +%s) - tq0 )) s after the first 202)"
else
	not_ok "queued hooks did not finish within 12 s: $(grep " q " "$L" | tr '\n' '|')"
fi
[ "$(nledger started q "$S1")" = 1 ] && [ "$(nledger finished q "$S1")" = 1 ] &&
    ok "the hook ran exactly once" ||
    not_ok "the hook started $(nledger started q "$S1") and finished $(nledger finished q "$S1") times"
[ "$(grep -E "^(started|finished) q " "$L" | cut -d' ' -f1,3 | tr '\n' ' ')" = \
    "started $S1 finished $S1 started $S2 finished $S2 " ] &&
    ok "jobs ran in order of arrival, one at a time (max_running = 1)" ||
    not_ok "ledger order: $(grep -E ' q ' "$L" | cut -d' ' -f1,3 | tr '\n' ' ')"
QE=$OUT/q.$S1.1.env
SE=$OUT/kayle.$S1.1.env
check_env "queued run: IDHOOK_ATTEMPT=1, the same IDHOOK_* as sync" "$QE" \
    IDHOOK_ATTEMPT=1 IDHOOK_ENDPOINT=q IDHOOK_PROVIDER=kayle \
    "IDHOOK_EVENT=verification.session.succeeded" "IDHOOK_EVENT_ID=$S1" \
    "IDHOOK_DELIVERY_ID=$(meta "$D/s1" delivery_id)" IDHOOK_TRUNCATED=0 \
    "TEST_FIXED_VAR=fixed-value-42" "HOME=$T_HOME" \
    "PATH=/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8"
qat=$(sed -n 's/^IDHOOK_QUEUED_AT=//p' "$QE" 2>/dev/null)
case $qat in
''|*[!0-9]*) not_ok "IDHOOK_QUEUED_AT is '$qat'" ;;
*)	[ "$qat" -ge "$tq0" ] && [ "$qat" -le "$tq1" ] &&
	    ok "IDHOOK_QUEUED_AT=$qat: when it was queued ($tq0..$tq1)" ||
	    not_ok "IDHOOK_QUEUED_AT=$qat, queued between $tq0 and $tq1" ;;
esac
grep -q '^IDHOOK_QUEUED_AT=' "$SE" 2>/dev/null &&
    not_ok "sync mode sets IDHOOK_QUEUED_AT"
grep '^EVENT_' "$QE" 2>/dev/null | LC_ALL=C sort > "$T/q.ev"
grep '^EVENT_' "$SE" 2>/dev/null | LC_ALL=C sort > "$T/s.ev"
[ -s "$T/q.ev" ] && cmp -s "$T/q.ev" "$T/s.ev" &&
    ok "EVENT_* of the queued run are those of sync mode ($(wc -l < "$T/q.ev") variables)" ||
    not_ok "EVENT_* differ from sync mode: $(diff "$T/s.ev" "$T/q.ev" | grep '^[<>]' | cut -c1-60 | head -3 | tr '\n' ' ')"
cmp -s "$OUT/q.$S1.1.stdin" "$D/s1/plaintext.json" &&
    cmp -s "$OUT/q.$S1.1.stdin" "$OUT/kayle.$S1.1.stdin" &&
    ok "queued run's stdin is the payload, as in sync mode" ||
    not_ok "queued run's stdin differs from the payload or from sync mode's"
post "$D/s1" q
expect 200 duplicate "replay once its job is done: 200 duplicate"
resign "$D/s1" "$D/s1-late"
post "$D/s1-late" q
expect 200 duplicate "the sender's resend once done: 200 duplicate"
[ "$(nledger started q "$S1")" = 1 ] ||
    not_ok "replays ran the hook again ($(nledger started q "$S1"))"
if [ -n "$J1" ]; then
	qcli show "$J1"
	[ "$C_RC" = 1 ] && ok "a done job is gone with its payload (queue show $J1: exit 1)" ||
	    not_ok "queue show of done job $J1: exit $C_RC: $(head -c 200 "$O")"
else
	not_ok "queue list never showed a job for $S1"
fi
dcli show q "$S1"
grep -q '^state: done' "$O" && ok "dedup show: done" ||
    not_ok "dedup show q $S1: $(tr '\n' ' ' < "$O")"

# ---- 2. kill -9 of every idhook process while the hook runs ----------------------

sign "$D/k" --type verification.attempt.succeeded
KI=$(meta "$D/k" event_id)
echo 30 > "$T/ctl/$KI.sleep1"
post "$D/k" q
expect 202 queued "SIGKILL test: 202 queued"
if wait_for 10 has_ledger started q "$KI" 1; then
	hp=$(cat "$OUT/q.$KI.1.pid")
	rch=$(runner_children)
	[ -n "$rch" ] && ok "the hook runs in a FastCGI process's runner child ($rch)" ||
	    not_ok "no runner child among the idhook processes ($(idhook_pids))"
	victims=$(printf '%s\n' $(idhook_pids) $(env_pids "IDHOOK_CONFIG=$CONF") |
	    sort -u | tr '\n' ' ')
	note "SIGKILL to every idhook process: $victims"
	kill -KILL $victims 2>/dev/null
	wait_for 3 dead "$hp" &&
	    ok "the running hook ended when its runner died" ||
	    not_ok "hook $hp still runs 3 s after its runner was SIGKILLed"
	kill -KILL -- "-$hp" 2>/dev/null	# its sleep
	old=" $victims "
	new_backend() {
		for p in $(idhook_pids); do
			case $old in *" $p "*) ;; *) return 0 ;; esac
		done
		return 1
	}
	if wait_for 3 new_backend; then
		how="lighttpd respawned the backends by itself"
	else
		req /idhook.fcgi/q
		how="backends restarted by a request (GET: $R_CODE)"
	fi
	if wait_for 20 has_ledger finished q "$KI"; then
		ok "after kill -9 the job ran to completion ($how; its runner took it over)"
	else
		not_ok "after kill -9 ($how) the job did not finish within 20 s"
		qcli run --max-time 20
		has_ledger finished q "$KI" &&
		    note "idhook queue run finished it" ||
		    note "idhook queue run did not finish it either"
	fi
	[ "$(nledger finished q "$KI")" = 1 ] && [ "$(nledger started q "$KI")" = 2 ] &&
	    has_ledger finished q "$KI" 2 &&
	    ok "after kill -9: started twice, finished exactly once, as attempt 2" ||
	    not_ok "after kill -9: $(grep " q $KI " "$L" | tr '\n' '|')"
	check_env "the run after kill -9 has IDHOOK_ATTEMPT=2" \
	    "$OUT/q.$KI.2.env" IDHOOK_ATTEMPT=2
	[ "$(runlog q "$KI")" = "2:done " ] &&
	    ok "its log line: attempt=2 result=done" ||
	    not_ok "its run log lines: '$(runlog q "$KI")', want '2:done '"
else
	not_ok "SIGKILL test: the hook never started"
fi

# ---- 3. 200 at once, max_running = 2 across 7 runners ------------------------------

"$PY" "$top_srcdir/tests/bench/queue_bench.py" send --url "$URL/idhook.fcgi/qc" \
    --signer "$SIGNER" --secret-file "$T/keys/kayle.secret" \
    --pubkey "$T/keys/k1.pub.json" --n 200 --conc 8 --max-seconds 40 \
    > "$T/send.out" 2>&1 &
SPID=$!
T_BG="$T_BG $SPID"
wait_for 20 test -s "$OUT/cledger" || note "no concurrency-hook run within 20 s"
# Three more runners beside the FastCGI processes' (up to 4).
env IDHOOK_CONFIG="$CONF" "$IDH" queue -c "$CONF" run --workers 3 \
    --max-time 60 > "$T/run.out" 2> "$T/logs/queue-run.log" &
RPID=$!
T_BG="$T_BG $RPID"
wait "$SPID"
grep -Fxq 'RESPONSE 200 202 {"status":"queued"}' "$T/send.out" &&
    ok "200 deliveries (8 clients): all 202 queued ($(sed -n 's/.*n=[0-9]* *\([0-9.]* deliveries\/s.*p99 *[0-9.]* ms\).*/\1/p' "$T/send.out"))" ||
    not_ok "200 deliveries: $(grep RESPONSE "$T/send.out" | tr '\n' ' ')"
cdone() {
	[ "$(cut -d' ' -f1 "$OUT/cledger" 2>/dev/null | sort -u | wc -l)" -ge 200 ]
}
t0=$(date +%s)
wait_for 60 cdone || true
note "200 jobs drained $(( $(date +%s) - t0 )) s after the last 202"
nl=$(wc -l < "$OUT/cledger")
nd=$(cut -d' ' -f1 "$OUT/cledger" | sort -u | wc -l)
[ "$nl" = 200 ] && [ "$nd" = 200 ] && ok "all 200 hooks ran exactly once" ||
    not_ok "concurrency hooks: $nl runs of $nd distinct events, want 200 of 200"
mx=$(sort -n "$OUT/conc.max" | tail -n 1)
[ -n "$mx" ] && [ "$mx" -le 2 ] && [ "$mx" -ge 1 ] &&
    ok "at most $mx hooks ran at once (max_running = 2)" ||
    not_ok "up to '$mx' hooks ran at once, max_running = 2"
[ "$mx" = 2 ] || note "only $mx at once: the test shows less than it should"
note "jobs run by: $(cut -d' ' -f3 "$OUT/cledger" | sort | uniq -c | tr -s ' \n' '  ')"
wait_for 65 gone "$RPID" || not_ok "idhook queue run --max-time 60 still runs after 65 s"
wait "$RPID"
rc=$?
[ "$rc" = 0 ] && ok "idhook queue run --workers 3 --max-time 60: exit 0" ||
    not_ok "idhook queue run --workers 3: exit $rc"
n=$(all_logs | grep -F 'endpoint=qc ' | grep -c ' result=done')
[ "$n" = 200 ] && ok "200 'result=done' log lines for endpoint qc" ||
    not_ok "$n 'result=done' log lines for endpoint qc, want 200"

# ---- 4. retries with backoff ----------------------------------------------------

sign "$D/r" --type verification.session.cancelled
RI=$(meta "$D/r" event_id)
echo 2 > "$T/ctl/$RI.failn"
post "$D/r" qr
expect 202 queued "retry test (fails twice, then succeeds): 202 queued"
wait_for 15 has_ledger finished qr "$RI" || not_ok "retry test: no success within 15 s"
[ "$(nledger started qr "$RI")" = 3 ] && [ "$(nledger failed qr "$RI")" = 2 ] &&
    ok "the hook ran three times (failed, failed, succeeded)" ||
    not_ok "retry test ledger: $(grep " qr $RI " "$L" | tr '\n' '|')"
[ "$(runlog qr "$RI")" = "1:retry 2:retry 3:done " ] &&
    ok "log lines: attempt 1 retry, 2 retry, 3 done" ||
    not_ok "log lines: '$(runlog qr "$RI")', want '1:retry 2:retry 3:done '"
all_logs | grep -F "id=$RI " | grep ' result=retry' | grep -q ' next=[0-9]' &&
    ok "retry lines carry next=<unix time>" || not_ok "retry lines lack next="
g=$(awk 'FNR == 1 { t[++n] = $1 } END { printf "%.1f %.1f", t[2] - t[1], t[3] - t[2] }' \
    "$OUT/qr.$RI.1.t" "$OUT/qr.$RI.2.t" "$OUT/qr.$RI.3.t" 2>/dev/null)
awk -v g="$g" 'BEGIN { split(g, a, " "); exit !(a[1] > 0.5 && a[2] > 1.5) }' &&
    ok "backoff: ${g% *} s, then ${g#* } s between runs (1 s, doubled)" ||
    not_ok "backoff: runs ${g% *} s and ${g#* } s apart, want >= ~1 and ~2"
[ "$(state_of "$RI")" = none ] && ok "queue list no longer shows the done job" ||
    not_ok "queue list still shows it: $(state_of "$RI")"
dcli show qr "$RI"
grep -q '^state: done' "$O" && ok "dedup show: done after the retries" ||
    not_ok "dedup show qr $RI: $(tr '\n' ' ' < "$O")"

# ---- 5. dead jobs and the queue commands -----------------------------------------

sign "$D/x1" --type verification.session.succeeded
sign "$D/x2" --type verification.session.succeeded
X1=$(meta "$D/x1" event_id)
X2=$(meta "$D/x2" event_id)
: > "$T/ctl/$X1.fail"
: > "$T/ctl/$X2.fail"
post "$D/x1" qd
expect 202 queued "dead test: 202 queued"
post "$D/x2" qd
both_dead() {
	qcli list --dead
	grep -q "	$X1	" "$O" && grep -q "	$X2	" "$O"
}
wait_for 15 both_dead && ok "max_attempts = 2, failing hook: both jobs dead (queue list --dead)" ||
    not_ok "not dead within 15 s: $(tr '\n' '|' < "$O")"
[ "$(nledger started qd "$X1")" = 2 ] && ok "a dead job ran max_attempts (2) times" ||
    not_ok "dead job ran $(nledger started qd "$X1") times, want 2"
[ "$(runlog qd "$X1")" = "1:retry 2:dead " ] && ok "log lines: attempt 1 retry, 2 dead" ||
    not_ok "log lines: '$(runlog qd "$X1")', want '1:retry 2:dead '"
all_logs | grep -F "id=$X1 " | grep ' result=dead' | grep -q 'level=error' &&
    ok "the dead line is logged at error level" ||
    not_ok "no level=error result=dead line: $(all_logs | grep -F "id=$X1 " | grep ' result=dead' | cut -c1-200)"
DJ1=$(job_of "$X1" --dead)
DJ2=$(job_of "$X2" --dead)
FAM=$(jval "$D/x1/plaintext.json" data.claims.family_name)
qcli show "$DJ1"
[ "$C_RC" = 0 ] && grep -q '^state: dead' "$O" && grep -q '^payload: hidden' "$O" &&
    ! grep -Fq "$FAM" "$O" && ! grep -Fq '"claims"' "$O" &&
    ok "queue show $DJ1: state dead, payload hidden" ||
    not_ok "queue show $DJ1 (exit $C_RC): $(head -c 300 "$O" | tr '\n' '|')"
qcli show "$DJ1" --payload
sed '1,/^$/d' "$O" | head -c "$(wc -c < "$D/x1/plaintext.json")" > "$T/shown.json"
[ "$C_RC" = 0 ] && cmp -s "$T/shown.json" "$D/x1/plaintext.json" &&
    ok "queue show $DJ1 --payload prints the payload" ||
    not_ok "queue show --payload (exit $C_RC) did not print the payload: $(head -c 200 "$O" | tr '\n' '|')"
qcli stats
awk -F '\t' '$1 == "qd" && $4 == 2 { f = 1 } END { exit !f }' "$O" &&
    grep -q '^total	' "$O" &&
    grep -q '^store: [0-9]* MiB of map_size [0-9]* MiB used' "$O" &&
    ok "queue stats: qd has 2 dead, a total row, the store's use" ||
    not_ok "queue stats: $(tr '\n\t' '| ' < "$O")"
# A new delivery of a dead job's event queues that job again.
resign "$D/x2" "$D/x2-again"
post "$D/x2-again" qd
expect 202 queued "the sender's resend of a dead job's event: 202 queued"
all_logs | grep -F "id=$X2 " | grep -q 'dead job queued again' &&
    ok "logged: dead job queued again" || not_ok "no 'dead job queued again' in the log"
x2_four() {
	[ "$(nledger started qd "$X2")" -ge 4 ]
}
wait_for 15 x2_four ||
    not_ok "revived job ran $(nledger started qd "$X2") times in all, want 4"
wait_for 5 both_dead || not_ok "the revived job did not end dead again"
: > "$T/ctl/$X1.ok"
qcli retry "$DJ1"
[ "$C_RC" = 0 ] && ok "queue retry $DJ1: $(cat "$O")" ||
    not_ok "queue retry $DJ1: exit $C_RC"
[ "$(state_of "$X1")" = queued ] || note "after retry its state is $(state_of "$X1")"
qcli run --max-time 15
[ "$C_RC" = 0 ] && ok "idhook queue run --max-time 15 (cron style): exit 0" ||
    not_ok "idhook queue run: exit $C_RC"
has_ledger finished qd "$X1" && ok "the retried job ran and succeeded" ||
    not_ok "the retried job did not succeed: $(grep " qd $X1 " "$L" | tr '\n' '|')"
[ "$(state_of "$X1")" = none ] && ok "retried job done: gone from queue list" ||
    not_ok "after queue run the job is $(state_of "$X1")"
dcli show qd "$X1"
grep -q '^state: done' "$O" && ok "dedup show: the retried event is done" ||
    not_ok "dedup show qd $X1: $(tr '\n' ' ' < "$O")"
qcli drop "$DJ2"
[ "$C_RC" = 0 ] && ok "queue drop $DJ2: $(cat "$O")" || not_ok "queue drop $DJ2: exit $C_RC"
qcli list --dead
! grep -q "	$X2	" "$O" && ok "the dropped job is gone from list --dead" ||
    not_ok "list --dead after drop: $(tr '\n' '|' < "$O")"
qcli show "$DJ2"
[ "$C_RC" = 1 ] && ok "queue show of the dropped job: exit 1" ||
    not_ok "queue show of the dropped job: exit $C_RC"
qcli stats
awk -F '\t' '$1 == "total" && $2 == 0 && $3 == 0 && $4 == 0 { f = 1 } END { exit !f }' "$O" &&
    ok "queue stats at the end: nothing queued, running or dead" ||
    not_ok "queue stats at the end: $(tr '\n\t' '| ' < "$O")"

# ---- stdio closed: log lines never go into the store -----------------------------
# Started with fd 2 closed (a cron line with 2>&-), the first file opened
# becomes fd 2: LMDB's lock file took the runner's log lines.
sign "$D/c1" --type verification.session.succeeded
"$IDH" deliver -c "$CONF" -e qc "$D/c1" > "$O" 2>> "$T/logs/cli.log"
grep -q '^202' "$O" && ok "idhook deliver to a queue endpoint: 202 queued" ||
    not_ok "idhook deliver -e qc: $(cat "$O")"
"$IDH" queue -c "$CONF" run > /dev/null 2>&-
qcli list
! grep -q '	qc	' "$O" && ok "queue run with stderr closed ran the job" ||
    not_ok "queue run with stderr closed: $(tr '\n\t' '| ' < "$O")"
! grep -q 'level=' "$T"/state/*.mdb &&
    ok "with stderr closed, no log line went into the LMDB files" ||
    not_ok "a log line was written into the store: $(grep -l 'level=' "$T"/state/*.mdb)"

# ---- 6. state dir, logs, leftovers -----------------------------------------------

m=$(stat -c '%a' "$T/state")
f=$(for x in "$T"/state/*; do stat -c '%n %a' "$x"; done | grep -v ' 600$' | tr '\n' ' ')
[ "$m" = 700 ] && [ -z "$f" ] && ok "state dir 0700, every file in it 0600 ($(ls "$T/state" | tr '\n' ' '))" ||
    not_ok "state dir $m; files not 0600: $f"
wait_for 5 no_runner && ok "runner children exit once the queue is idle" ||
    not_ok "runner children still running: $(runner_children)"
P=$D/s1/plaintext.json
no_leaks "logs hold no payload value, secret or key material" \
    "$(jval "$P" data.claims.given_names)" "$(jval "$P" data.claims.family_name)" \
    "$(jval "$P" data.claims.date_of_birth)" "$(jval "$P" data.claims.document_number)" \
    "$(jval "$P" data.claims.kayle_human_id)" \
    "$(jval "$D/x1/plaintext.json" data.claims.kayle_human_id)" \
    "$SECRET" "$SECRET_OLD" whsec_ "$KEY_LINE"
note "test took $(( $(date +%s) - T_START )) s after lighttpd started"
t_done
