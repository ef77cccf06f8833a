#!/bin/sh
# Benchmark (make bench): idhook as FastCGI under lighttpd (max-procs 2),
# fed BENCH_N (default 300) distinct signed Kayle deliveries, sequentially
# over one keep-alive connection and by BENCH_C (default 4) concurrent
# clients; then a replay of the first set (the duplicate path).  Prints
# deliveries/s, p50 and p99 latency, and the cost of one RSA-2048
# private-key operation and one hook fork+exec for comparison.  Numbers
# only: timings are never asserted.  BENCH_MAX_S bounds the send phases.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_init bench
t_keys
mkdir -p "$T/hooks-bench"
printf '#!/bin/sh\nexit 0\n' > "$T/hooks-bench/default"
chmod 755 "$T/hooks-bench/default"
t_own "$T/state"
chmod 700 "$T/state"
CONF=$T/idhook.conf
t_config "$CONF" "$T/hooks-bench"
sed -i 's/^tolerance .*/tolerance      = 3600/' "$CONF"
FCGI_PROCS=2
start_lighttpd "$CONF"

if ldd "$IDHOOK" 2>/dev/null | grep -q 'libasan'; then
	note "WARNING: $IDHOOK is a sanitizer build; numbers are not representative"
fi
note "idhook $("$IDHOOK" --version 2>/dev/null | head -n 1), lighttpd max-procs 2, $(nproc) CPUs"
"$PY" "$top_srcdir/tests/bench/kayle_bench.py" --url "$URL/idhook.fcgi/kayle" \
    --signer "$SIGNER" --secret-file "$T/keys/kayle.secret" --pubkey "$T/keys/k1.pub.json" \
    --privkey "$T/keys/k1.pem" --hook "$T/hooks-bench/default" \
    --n "${BENCH_N:-300}" --conc "${BENCH_C:-4}" \
    --max-seconds "${BENCH_MAX_S:-120}"
rc=$?
stop_lighttpd
if all_logs | grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error'; then
	note "sanitizer reports in the logs:"
	all_logs | grep -E -A10 'AddressSanitizer|LeakSanitizer|runtime error' | head -40
	rc=1
fi
exit $rc
