#!/bin/sh
# Instruction counts (valgrind --tool=callgrind): a repeatable figure for
# what one delivery costs a FastCGI idhook process, and what it pays once
# at start (config, key parsing, OpenSSL init, LMDB open).  Runs lighttpd
# twice with one idhook process under callgrind: once for 1 delivery, once
# for 1 + CG_N (default 20); the difference / CG_N is the per-delivery
# count.  Numbers only.  Use a build without sanitizers.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_need valgrind "apt-get install valgrind"
N=${CG_N:-20}
t_init callgrind
t_keys
mkdir -p "$T/hooks-cg"
printf '#!/bin/sh\nexit 0\n' > "$T/hooks-cg/default"
chmod 755 "$T/hooks-cg/default"
t_own "$T/state" "$T/out"
chmod 700 "$T/state"
CONF=$T/idhook.conf
t_config "$CONF" "$T/hooks-cg"
mv "$T/www/idhook.fcgi" "$T/www/idhook.bin"
FCGI_PROCS=1

# run K TAG: K deliveries to one idhook process under callgrind; prints
# the instructions that process executed in all.
run() {
	printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s "$@"\n' \
	    "$T/out/cg.$2.out" "$T/www/idhook.bin" > "$T/www/idhook.fcgi"
	chmod 755 "$T/www/idhook.fcgi"
	start_lighttpd "$CONF"
	i=0
	while [ $i -lt "$1" ]; do
		sign "$T/d/$2.$i" --type verification.session.cancelled >/dev/null
		send "$T/d/$2.$i" /idhook.fcgi/kayle
		[ "$R_CODE" = 200 ] || note "delivery $i: $R_CODE $R_BODY" >&2
		i=$((i + 1))
	done
	stop_lighttpd
	wait_for 100 test -s "$T/out/cg.$2.out"
	sed -n 's/^totals: *//p; s/^summary: *//p' "$T/out/cg.$2.out" | head -n 1
}

one=$(run 1 one)
many=$(run $((N + 1)) many)
if [ -z "$one" ] || [ -z "$many" ]; then
	echo "no callgrind totals (see $T/logs)"
	log_tail
	exit 1
fi
per=$(( (many - one) / N ))
note "idhook $("$IDHOOK" --version | head -n 1), one FastCGI process under callgrind"
printf 'instructions, process with 1 delivery:        %12d\n' "$one"
printf 'instructions, process with %3d deliveries:    %12d\n' $((N + 1)) "$many"
printf 'instructions per delivery (difference / %d):  %12d\n' "$N" "$per"
printf 'instructions paid once per process (start):   %12d\n' $((one - per))
