#!/bin/sh
# Benchmark: sync mode against queue mode (SPEC section 9) through
# lighttpd (FastCGI, max-procs 4), the same hook (sleeps BENCH_HOOK_S,
# default 0.05 s) behind both.  BENCH_N (default 300) distinct signed
# Kayle deliveries per mode from BENCH_C (default 4) concurrent clients:
# deliveries/s and p50/p99 answer latency of each mode, then how long the
# queue (max_running BENCH_MAX_RUNNING, default 2) took to drain.
# Numbers only: timings are never asserted.  BENCH_MAX_S bounds the run.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_init bench-queue
CONF=$T/idhook.conf
# Runner children outlive lighttpd: stop them by pid (lib.sh env_pids).
bench_cleanup() {
	bc_rc=$?
	stop_lighttpd
	reap_env "IDHOOK_CONFIG=$CONF"
	(exit "$bc_rc")
	t_cleanup
}
trap bench_cleanup EXIT
t_keys
mkdir -p "$T/hooks-bench"
# One ledger line per run, per endpoint (kayle: sync, q: queue).
cat > "$T/hooks-bench/default" <<EOF
#!/bin/sh
sleep ${BENCH_HOOK_S:-0.05}
echo "\$IDHOOK_EVENT_ID" >> "$T/out/\$IDHOOK_ENDPOINT.ledger"
exit 0
EOF
chmod 755 "$T/hooks-bench/default"
t_own "$T/out" "$T/state"
chmod 700 "$T/state"
t_config "$CONF" "$T/hooks-bench"
sed -i 's/^tolerance .*/tolerance      = 3600/' "$CONF"
printf '\n[endpoint q]\nprovider       = kayle\nsecret_file    = %s\ndecryption_key = k1:%s\nmode           = queue\nmax_running    = %s\n' \
    "$T/keys/kayle.secret" "$T/keys/k1.pem" "${BENCH_MAX_RUNNING:-2}" >> "$CONF"
FCGI_PROCS=4
start_lighttpd "$CONF"

if ldd "$IDHOOK" 2>/dev/null | grep -q 'libasan'; then
	note "WARNING: $IDHOOK is a sanitizer build; numbers are not representative"
fi
note "idhook $("$IDHOOK" --version 2>/dev/null | head -n 1), lighttpd max-procs 4, $(nproc) CPUs"
note "hook: sleep ${BENCH_HOOK_S:-0.05} s; queue max_running ${BENCH_MAX_RUNNING:-2}; ${BENCH_N:-300} deliveries per mode, ${BENCH_C:-4} clients"
"$PY" "$top_srcdir/tests/bench/queue_bench.py" bench \
    --sync-url "$URL/idhook.fcgi/kayle" --queue-url "$URL/idhook.fcgi/q" \
    --ledger "$T/out/q.ledger" --signer "$SIGNER" \
    --secret-file "$T/keys/kayle.secret" --pubkey "$T/keys/k1.pub.json" \
    --n "${BENCH_N:-300}" --conc "${BENCH_C:-4}" \
    --max-seconds "${BENCH_MAX_S:-180}"
rc=$?
note "hooks run: sync $(wc -l < "$T/out/kayle.ledger" 2>/dev/null || echo 0), queue $(wc -l < "$T/out/q.ledger" 2>/dev/null || echo 0) ($(sort -u "$T/out/q.ledger" 2>/dev/null | wc -l) distinct)"
stop_lighttpd
if all_logs | grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error'; then
	note "sanitizer reports in the logs:"
	all_logs | grep -E -A10 'AddressSanitizer|LeakSanitizer|runtime error' | head -40
	rc=1
fi
exit $rc
