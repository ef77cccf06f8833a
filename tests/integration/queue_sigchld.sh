#!/bin/sh
# Integration test: queue mode when idhook starts as a FastCGI program with
# SIGCHLD ignored (some process managers start their children that way).
# With SIG_IGN the kernel reaps a runner child itself and waitpid() fails
# with ECHILD, so the FastCGI process must not take the ended runner for a
# live one: a job queued after the first runner ended still runs.
#
# lighttpd would reset the disposition when it spawns the program, so we
# bind the FastCGI socket ourselves, put it on fd 0 and exec idhook with
# SIGCHLD ignored (python3); lighttpd only connects to that socket.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_init queue_sigchld
CONF=$T/idhook.conf
SOCK=$T/run/idhook.sock
L=$T/out/ledger
FPID=
# The FastCGI process and its runner children: stop them by pid.
sigchld_cleanup() {
	sc_rc=$?
	stop_lighttpd
	[ -n "$FPID" ] && stop_pid "$FPID"
	reap_env "IDHOOK_CONFIG=$CONF"
	(exit "$sc_rc")
	t_cleanup
}
trap sigchld_cleanup EXIT
t_keys
D=$T/d
mkdir -p "$T/hq"
cat > "$T/hq/default" <<EOF
#!/bin/sh
echo "started \$IDHOOK_EVENT_ID \$IDHOOK_ATTEMPT" >> "$L"
cat > /dev/null
echo "finished \$IDHOOK_EVENT_ID \$IDHOOK_ATTEMPT" >> "$L"
exit 0
EOF
chmod 755 "$T/hq/default"
t_own "$T/out" "$T/state"
chmod 700 "$T/state"
t_config "$CONF" "$T/hq"
printf '\n[endpoint q]\nprovider       = kayle\n%s\n%s\n%s\n%s\n' \
    "secret_file    = $T/keys/kayle.secret" \
    "decryption_key = k1:$T/keys/k1.pem" \
    "hooks_dir      = $T/hq" "mode           = queue" >> "$CONF"

# The launcher: a listening Unix socket on fd 0 (what a FastCGI program
# accepts on), SIGCHLD ignored, the rest of the dispositions default
# (python ignores SIGPIPE and SIGXFSZ itself), then exec.
t_own "$T/run" "$T/logs"
env IDHOOK_CONFIG="$CONF" $RUNAS "$PY" -c 'import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(64)
os.dup2(s.fileno(), 0)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
with open("/proc/self/status") as f:
    sys.stderr.write([l for l in f if l.startswith("SigIgn:")][0])
sys.stderr.flush()
os.execv(sys.argv[2], [sys.argv[2]])' "$SOCK" "$T/www/idhook.fcgi" \
    < /dev/null > "$T/logs/idhook-stdout.log" 2> "$T/logs/idhook.log" &
FPID=$!
wait_for 5 test -S "$SOCK" || not_ok "the launcher bound $SOCK"
# Replace start_lighttpd's fastcgi.server: no bin-path, our socket only.
# shellcheck disable=SC2034 # read by start_lighttpd
LIGHTTPD_EXTRA="fastcgi.server := ( \"/idhook.fcgi\" => ((
	\"socket\" => \"$SOCK\",
	\"check-local\" => \"disable\"
)) )"
start_lighttpd "$CONF"

# others: processes besides FPID with our IDHOOK_CONFIG (lib.sh env_pids;
# as root only: idhook is not dumpable, so its environ is root's to read),
# and FPID's children (runners) but zombies: a runner that ended is not
# reaped until the next response when SIGCHLD is not ignored.
others() {
	{
		env_pids "IDHOOK_CONFIG=$CONF" | tr ' ' '\n'
		ps -o pid=,stat= --ppid "$FPID" 2>/dev/null |
		    awk '$2 !~ /^Z/ { print $1 }'
	} | tr -d ' ' | grep -vx -e "$FPID" -e '' | sort -u | tr '\n' ' '
}

only_fcgi() {
	[ -z "$(others)" ]
}

has_ledger() {
	grep -q "^$1 $2 " "$L" 2>/dev/null
}

# The precondition: idhook was exec'd with SIGCHLD (17: bit 16 of SigIgn)
# ignored, as the launcher wrote just before exec (idhook may change it).
wait_for 5 only_fcgi || note "besides idhook $FPID: $(others)"
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$T/logs/idhook.log" | head -n 1)
if [ -n "$ign" ] && [ $((0x$ign & 0x10000)) != 0 ] &&
    tr '\0' ' ' < "/proc/$FPID/cmdline" | grep -Fq "$T/www/idhook.fcgi"; then
	ok "idhook runs as FastCGI on our socket, exec'd with SIGCHLD ignored (SigIgn $ign)"
else
	not_ok "idhook $FPID was not exec'd with SIGCHLD ignored (SigIgn '$ign')"
	t_done
fi

sign "$D/e1" --type verification.session.succeeded
E1=$(meta "$D/e1" event_id)
send "$D/e1" /idhook.fcgi/q
expect 202 queued "first delivery: 202 queued"
wait_for 10 has_ledger finished "$E1" && ok "its hook ran from the queue" ||
    not_ok "the first queued hook did not finish within 10 s"
sleep 2
wait_for 5 only_fcgi &&
    ok "its runner child ended; only the FastCGI process is left" ||
    not_ok "still running besides $FPID: $(others)"

sign "$D/e2" --type verification.session.expired
E2=$(meta "$D/e2" event_id)
send "$D/e2" /idhook.fcgi/q
expect 202 queued "second delivery, after the runner ended: 202 queued"
if wait_for 10 has_ledger finished "$E2"; then
	ok "its hook ran too: a runner ended under SIG_IGN does not block the queue"
	[ "$(grep -c "^started " "$L")" = 2 ] && ok "each hook ran once" ||
	    not_ok "ledger: $(tr '\n' '|' < "$L")"
else
	env IDHOOK_CONFIG="$CONF" "$T/www/idhook.cgi" queue -c "$CONF" list \
	    > "$T/list.out" 2>> "$T/logs/cli.log"
	not_ok "the second queued hook did not run within 10 s" \
	    "(queue list: $(tr '\n\t' '| ' < "$T/list.out"))"
fi
wait_for 5 only_fcgi && ok "the second runner child ended too" ||
    not_ok "still running besides $FPID: $(others)"
kill -0 "$FPID" 2>/dev/null && ok "the FastCGI process still runs" ||
    not_ok "the FastCGI process $FPID died"

stop_lighttpd
stop_pid "$FPID"
gone "$FPID" && ok "idhook ($FPID) stopped by its pid" ||
    not_ok "idhook $FPID still there after stop_pid"
FPID=
reap_env "IDHOOK_CONFIG=$CONF"
t_done
