# tests/lib.sh: shared by tests/integration/*.sh and tests/bench/kayle.sh.
# Sourced, POSIX sh.  A test calls t_init, builds a temp world with
# t_keys/t_config/t_hooks, starts servers, sends deliveries made by the
# independent signer (tests/tools/kayle_sign.py) and ends with t_done.
#
# Output: one line per check, "ok - what" or "not ok - what: why" (plus a
# log tail); exit 0 all passed, 1 something failed, 77 skipped (reason
# printed).  Every wait is bounded; every process is stopped by its pid.
# IDHOOK_TEST_KEEP=1 keeps the temp dir (logs, hook dumps) for debugging;
# T_TAIL=N sets how many log lines a failure shows.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${top_builddir:-}" ]; then
	# make bench runs us from the build dir without exporting anything.
	if [ -x ./idhook ]; then top_builddir=$(pwd); else top_builddir=$top_srcdir; fi
fi
: "${IDHOOK:=$top_builddir/idhook}"
SIGNER=$top_srcdir/tests/tools/kayle_sign.py
PATH=$PATH:/usr/sbin:/sbin
export PATH

T=
LPID=
T_PASS=0
T_FAIL=0
T_BG=
R_N=0

# ---- results -------------------------------------------------------------

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $*"
}

not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok - $*"
	log_tail
}

note() {
	echo "# $*"
}

log_tail() {
	[ -n "$T" ] || return 0
	for f in "$T"/logs/*.log; do
		[ -s "$f" ] || continue
		echo "#   --- tail of ${f#"$T"/} ---"
		tail -n "${T_TAIL:-12}" "$f" | cut -c1-400 | sed 's/^/#   /'
	done
}

t_skip() {
	echo "SKIP: $*"
	exit 77
}

# t_need CMD WHY: a missing tool is a skip, except in CI where it is a
# failure (CI must run these tests, not skip them quietly).
t_need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "${CI:-}" = true ]; then
		echo "not ok - $1 not installed ($2); CI=true, so this fails"
		exit 1
	fi
	t_skip "$1 not installed ($2)"
}

# ---- setup and teardown ----------------------------------------------------

# The first of /usr/bin/python3, python3 that can import cryptography.
find_python() {
	PY=
	for p in /usr/bin/python3 python3; do
		command -v "$p" >/dev/null 2>&1 || continue
		if "$p" -c 'import cryptography' >/dev/null 2>&1; then
			PY=$(command -v "$p")
			return 0
		fi
	done
	t_skip "no python3 with the cryptography module" \
	    "(apt-get install python3-cryptography)"
}

t_init() {
	T_NAME=$1
	find_python
	t_need curl "apt-get install curl"
	if [ ! -x "$IDHOOK" ]; then
		echo "not ok - no idhook binary at $IDHOOK (build it first)"
		exit 1
	fi
	T=$(mktemp -d /tmp/idh.XXXXXX) || exit 1	# short: sun_path
	chmod 755 "$T"
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	mkdir -p "$T/www" "$T/run" "$T/logs" "$T/state" "$T/keys" \
	    "$T/out" "$T/ctl" "$T/resp" "$T/d"
	T_USER=$(id -un)
	RUNAS=
	if [ "$(id -u)" = 0 ]; then
		# idhook refuses to serve as root without user=; run the
		# servers as nobody like a real deployment (deploy-notes 7).
		T_USER=nobody
		T_GROUP=nogroup
		getent group nogroup >/dev/null 2>&1 || T_GROUP=nobody
		RUNAS="setpriv --reuid=nobody --regid=$T_GROUP --clear-groups"
	fi
	T_HOME=$(getent passwd "$T_USER" | cut -d: -f6)
	# A copy: the build dir may be where nobody cannot traverse.
	cp "$IDHOOK" "$T/www/idhook.fcgi"
	cp "$IDHOOK" "$T/www/idhook.cgi"
	chmod 755 "$T/www/idhook.fcgi" "$T/www/idhook.cgi"
	# Written into the environment lighttpd (and so idhook) inherits:
	# a hook must never see it.
	T_LEAK=idhook-leak-marker-$$
}

# t_own PATH...: hand files to the user the servers run as.
t_own() {
	[ -n "$RUNAS" ] || return 0
	chown -R "$T_USER:$T_GROUP" "$@"
}

t_cleanup() {
	t_rc=$?
	trap - EXIT
	stop_lighttpd
	for p in $T_BG; do
		kill -KILL "$p" 2>/dev/null || true
	done
	t_reap
	if [ -n "$T" ] && [ "${IDHOOK_TEST_KEEP:-}" != 1 ]; then
		rm -rf "$T"
	elif [ -n "$T" ]; then
		echo "# kept $T"
	fi
	exit "$t_rc"
}

# t_reap: kill whatever we started that still runs under our temp dir
# (idhook backends, orphaned hooks), by pid and process group.
t_reap() {
	[ -n "$T" ] || return 0
	for p in $(pgrep -f "$T/" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
	for f in "$T"/out/*.pid; do
		[ -f "$f" ] || continue
		g=$(cat "$f")
		case $g in ''|*[!0-9]*) continue ;; esac
		kill -KILL -- "-$g" 2>/dev/null || true
	done
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
	w_i=0
	until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; do
		w_i=$((w_i + 1))
		[ $w_i -gt 100 ] && return 1
		[ -n "$LPID" ] && ! kill -0 "$LPID" 2>/dev/null && return 1
		sleep 0.1
	done
}

# stop_pid PID: TERM, then KILL after 5 s; never waits longer.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	s_i=0
	while kill -0 "$1" 2>/dev/null; do
		s_i=$((s_i + 1))
		if [ $s_i -gt 50 ]; then
			kill -KILL "$1" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
}

# wait_for SECONDS CMD...: poll (10/s) until CMD succeeds.
wait_for() {
	wf_n=$(($1 * 10))
	shift
	while ! "$@"; do
		wf_n=$((wf_n - 1))
		[ $wf_n -le 0 ] && return 1
		sleep 0.1
	done
}

idhook_pids() {
	pgrep -f "$T/www/idhook.fcgi" 2>/dev/null | tr '\n' ' '
}

# all_logs: every log of this test (lighttpd -D leaves its own stderr,
# and so idhook's, where it was started: logs/lighttpd-stdout.log).
all_logs() {
	cat "$T"/logs/*.log 2>/dev/null
}

gone() {
	! kill -0 "$1" 2>/dev/null
}

# dead PID: gone, or a zombie nobody reaped yet (an orphan's new parent
# may be a PID 1 that does not reap; kill -0 still succeeds on a zombie).
dead() {
	gone "$1" && return 0
	[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# bound NAME: a limit from src/bounds.h, evaluated by the C preprocessor
# (so a test follows the limit when it changes).
bound() {
	b_v=$(printf '#include "bounds.h"\n%s\n' "$1" |
	    ${CC:-cc} -E -P -I"$top_srcdir/src" - 2>/dev/null | tail -n 1)
	case $b_v in
	''|*[!0-9\ \(\)+*/-]*)
		echo "not ok - cannot evaluate $1 from src/bounds.h ('$b_v')" >&2
		return 1 ;;
	esac
	echo $(($b_v))
}

no_idhook() {
	[ -z "$(pgrep -f "$T/www/idhook" 2>/dev/null)" ]
}

# ---- keys, secrets, config, hooks -------------------------------------------

rand_alnum() {
	"$PY" -c 'import secrets, string, sys
a = string.ascii_lowercase + string.digits
print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

# t_keys: k1 (PEM, named by "k1:path"), k2 (private JWK with kid k2),
# k3 (never configured), and a secret file with two secrets (rotation);
# deliveries are signed with the second.
t_keys() {
	K=$T/keys
	"$PY" "$SIGNER" keygen --kid k1 --private "$K/k1.pem" \
	    --public-jwk "$K/k1.pub.json" || exit 1
	"$PY" "$SIGNER" keygen --kid k2 --private-jwk "$K/k2.jwk.json" \
	    --public-jwk "$K/k2.pub.json" || exit 1
	"$PY" "$SIGNER" keygen --kid k3 --private "$K/k3.pem" \
	    --public-jwk "$K/k3.pub.json" || exit 1
	SECRET_OLD=whsec_$(rand_alnum 32)
	SECRET=whsec_$(rand_alnum 32)
	SECRET_WRONG=whsec_$(rand_alnum 32)
	printf '# rotation: old first, new second\n%s\n\n%s\n' \
	    "$SECRET_OLD" "$SECRET" > "$K/kayle.secret"
	chmod 600 "$K/kayle.secret" "$K/k1.pem" "$K/k2.jwk.json"
	# A line from the middle of the private key: must never be logged.
	KEY_LINE=$(sed -n 5p "$K/k1.pem")
	t_own "$K/kayle.secret" "$K/k1.pem" "$K/k2.jwk.json"
}

# t_config FILE [HOOKS_DIR [EXTRA_GLOBAL [EXTRA_ENDPOINT]]]
t_config() {
	cat > "$1" <<EOF
# idhook test config ($T_NAME)
[idhook]
state_dir    = $T/state
hooks_dir    = ${2:-$T/hooks}
max_body     = ${MAX_BODY:-786432}
hook_timeout = ${HOOK_TIMEOUT:-3}
retention    = 1d
log_level    = info
hook_env     = TEST_FIXED_VAR=fixed-value-42
${3:-}

[endpoint kayle]
provider       = kayle
secret_file    = $T/keys/kayle.secret
decryption_key = k1:$T/keys/k1.pem
decryption_key = $T/keys/k2.jwk.json
tolerance      = 300
${4:-}
EOF
	chmod 644 "$1"
}

# replace_config FILE CONTENT-FILE: atomic rename, mtime 2 s past the
# old one so a reload can't be missed by one-second mtime resolution.
replace_config() {
	rc_old=$(stat -c %Y "$1")
	chmod 644 "$2"
	touch -m -d "@$((rc_old + 2))" "$2"
	mv -f "$2" "$1"
}

# t_hook FILE TAG: the test hook.  It records its fds, environment,
# stdin, pid (= its process group) and uid, appends "TAG type id attempt"
# to out/runs, and obeys control files ctl/<event id>.{sleep1,sleep,fail1,
# nostdin}: sleep on attempt 1 / always, fail on attempt 1, leave stdin
# unread.
t_hook() {
	cat > "$1" <<EOF
#!/bin/sh
out=$T/out
c=$T/ctl/\${IDHOOK_EVENT_ID:-none}
n=\${IDHOOK_EVENT_ID:-none}.\${IDHOOK_ATTEMPT:-none}
ls -l /proc/self/fd > "\$out/\$n.fd" 2>&1
env > "\$out/\$n.env"
if [ -f "\$c.nostdin" ]; then : > "\$out/\$n.stdin"; else cat > "\$out/\$n.stdin"; fi
id -u > "\$out/\$n.uid"
echo \$\$ > "\$out/\$n.pid"
echo "$2 \${IDHOOK_EVENT:-} \${IDHOOK_EVENT_ID:-} \${IDHOOK_ATTEMPT:-}" >> "\$out/runs"
echo "hook-output-marker-$2"
if [ "\${IDHOOK_ATTEMPT:-}" = 1 ] && [ -f "\$c.sleep1" ]; then
	sleep "\$(cat "\$c.sleep1")" &
	echo \$! > "\$out/\$n.sleeppid"
	wait \$!
fi
[ -f "\$c.sleep" ] && sleep "\$(cat "\$c.sleep")"
[ "\${IDHOOK_ATTEMPT:-}" = 1 ] && [ -f "\$c.fail1" ] && exit 1
exit 0
EOF
	chmod 755 "$1"
}

EVENT_TYPES="verification.session.succeeded verification.session.failed
verification.session.expired verification.session.cancelled
verification.attempt.succeeded verification.attempt.failed"

# t_hooks: hooks/ (tag A; the first type a file, the rest symlinks to it,
# as SPEC section 4 allows) and hooksB/ (tag B; only "default").
t_hooks() {
	mkdir -p "$T/hooks" "$T/hooksB" "$T/hooks-empty"
	t_hook "$T/hooks/verification.session.succeeded" A
	for e in $EVENT_TYPES; do
		[ -e "$T/hooks/$e" ] ||
		    ln -s verification.session.succeeded "$T/hooks/$e"
	done
	t_hook "$T/hooksB/default" B
	t_own "$T/out" "$T/state"
	chmod 700 "$T/state"
}

# ---- lighttpd ------------------------------------------------------------------

# start_lighttpd CONFIG: idhook as FastCGI at /idhook.fcgi (bin-path,
# bin-environment IDHOOK_CONFIG) and as CGI at /idhook.cgi (mod_cgi,
# setenv.add-environment); LIGHTTPD_EXTRA, if set, is appended to the
# lighttpd config as it is.  Sets PORT, URL, LPID.
start_lighttpd() {
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	cat > "$T/lighttpd.conf" <<EOF
server.modules = ( "mod_fastcgi", "mod_cgi", "mod_setenv" )
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$T/www"
server.errorlog = "$T/logs/error.log"
server.max-request-size = 1024
fastcgi.server = ( "/idhook.fcgi" => ((
	"bin-path" => "$T/www/idhook.fcgi",
	"socket" => "$T/run/fcgi.sock",
	"check-local" => "disable",
	"max-procs" => ${FCGI_PROCS:-4},
	"bin-environment" => ( "IDHOOK_CONFIG" => "$1" )
)) )
cgi.assign = ( ".cgi" => "" )
\$HTTP["url"] =~ "^/idhook\\.cgi" {
	setenv.add-environment = ( "IDHOOK_CONFIG" => "$1" )
}
${LIGHTTPD_EXTRA:-}
EOF
	t_own "$T/logs" "$T/run"
	IDHOOK_LEAK_MARKER=$T_LEAK $RUNAS lighttpd -D -f "$T/lighttpd.conf" \
	    > "$T/logs/lighttpd-stdout.log" 2>&1 &
	LPID=$!
	if ! wait_port "$PORT"; then
		not_ok "lighttpd started on port $PORT"
		t_done
	fi
}

stop_lighttpd() {
	[ -n "$LPID" ] || return 0
	stop_pid "$LPID"
	LPID=
}

# ---- deliveries ----------------------------------------------------------------

# sign DIR [kayle_sign.py sign options]: a fresh delivery, signed now with
# the current secret for key k1 unless the options say otherwise.
sign() {
	s_dir=$1
	shift
	"$PY" "$SIGNER" sign --secret-file "$T/keys/kayle.secret" \
	    --secret-index 1 --pubkey "$T/keys/k1.pub.json" --out "$s_dir" "$@" ||
	    { not_ok "kayle_sign.py sign $*"; return 1; }
}

# resign SRC DST [options]: the sender's resend (same body, fresh t, v1).
resign() {
	rs_src=$1
	rs_dst=$2
	shift 2
	"$PY" "$SIGNER" resign --secret-file "$T/keys/kayle.secret" \
	    --secret-index 1 --dir "$rs_src" --out "$rs_dst" "$@" ||
	    { not_ok "kayle_sign.py resign $*"; return 1; }
}

meta() {
	sed -n "s/^$2=//p" "$1/meta"
}

# req PATH [curl options]: one request.  Sets R_CODE, R_BODY, R_FILE
# (response body), R_HDR (response headers).
req() {
	rq_path=$1
	shift
	R_N=$((R_N + 1))
	R_FILE=$T/resp/$R_N.body
	R_HDR=$T/resp/$R_N.hdr
	R_CODE=$(curl -sS --max-time 30 -o "$R_FILE" -D "$R_HDR" \
	    -w '%{http_code}' "$@" "$URL$rq_path" 2>"$T/resp/$R_N.err") ||
	    R_CODE="curl-failed($(cat "$T/resp/$R_N.err"))"
	R_BODY=$(cat "$R_FILE" 2>/dev/null)
}

# send DIR PATH [curl options]: POST a delivery made by sign/resign.
send() {
	sd_dir=$1
	sd_path=$2
	shift 2
	req "$sd_path" -H 'Expect:' -H @"$sd_dir/headers" \
	    --data-binary @"$sd_dir/body" "$@"
}

# send_bg DIR PATH NAME: send in the background; the status code lands in
# $T/resp/NAME.code, the body in NAME.body.  The pid is added to T_BG.
send_bg() {
	curl -sS --max-time 30 -o "$T/resp/$3.body" -w '%{http_code}' \
	    -H 'Expect:' -H @"$1/headers" --data-binary @"$1/body" \
	    "$URL$2" > "$T/resp/$3.code" 2>"$T/resp/$3.err" &
	BG_PID=$!
	T_BG="$T_BG $BG_PID"
}

# replays_and_forgery DIR PATH ID: delivery DIR (already delivered once,
# event ID) sent again as it was and as the sender's resend: both 200
# duplicate, the hook still ran once; then a new event signed with a wrong
# secret: 400, no hook.  Leaves that event's genuine delivery in $D/f1.
replays_and_forgery() {
	send "$1" "$2"
	expect 200 duplicate "replay of the same request: 200 duplicate"
	resign "$1" "$1-again"
	send "$1-again" "$2"
	expect 200 duplicate "the sender's resend (fresh signature): 200 duplicate"
	[ "$(runs "$3")" = 1 ] && ok "after replay and resend the hook ran once" ||
	    not_ok "after replay and resend the hook ran $(runs "$3") times"
	sign "$D/f1" --type verification.session.failed
	rf_id=$(meta "$D/f1" event_id)
	resign "$D/f1" "$D/f1-forged" --secret "$SECRET_WRONG"
	send "$D/f1-forged" "$2"
	expect 400 invalid_signature "forged delivery (wrong secret): 400 invalid_signature"
	[ "$(runs "$rf_id")" = 0 ] && ok "no hook ran for the forgery" ||
	    not_ok "a hook ran for the forgery"
}

# no_leaks DESC VALUE...: ok if no log holds any of the (non-empty)
# values: claim values, secrets, key lines.  Only the first characters of
# a leaked value are printed.
no_leaks() {
	nl_desc=$1
	shift
	nl_leaks=
	for nl_v in "$@"; do
		[ -n "$nl_v" ] || continue
		all_logs | grep -Fq -- "$nl_v" &&
		    nl_leaks="$nl_leaks '$(printf %s "$nl_v" | cut -c1-8)...'"
	done
	[ -z "$nl_leaks" ] && ok "$nl_desc" || not_ok "$nl_desc: logs contain:$nl_leaks"
}

# send_copies DIR PATH N TAG: N copies of one delivery at once; waits for
# all (each curl is bounded by --max-time) and counts the answers in
# N_DEL, N_DUP, N_409 and N_OTHER (a list of the unexpected ones).
send_copies() {
	sc_pids=
	sc_i=0
	while [ $sc_i -lt "$3" ]; do
		send_bg "$1" "$2" "$4$sc_i"
		sc_pids="$sc_pids $BG_PID"
		sc_i=$((sc_i + 1))
	done
	for sc_p in $sc_pids; do wait "$sc_p" 2>/dev/null || true; done
	N_DEL=0; N_DUP=0; N_409=0; N_OTHER=
	sc_i=0
	while [ $sc_i -lt "$3" ]; do
		sc_c="$(cat "$T/resp/$4$sc_i.code") $(cat "$T/resp/$4$sc_i.body" 2>/dev/null)"
		case $sc_c in
		'200 {"status":"delivered"}') N_DEL=$((N_DEL + 1)) ;;
		'200 {"status":"duplicate"}') N_DUP=$((N_DUP + 1)) ;;
		'409 {"status":"in_progress"}') N_409=$((N_409 + 1)) ;;
		*) N_OTHER="$N_OTHER [$sc_c]" ;;
		esac
		sc_i=$((sc_i + 1))
	done
}

# expect CODE WORD DESC: the response is exactly Status CODE with body
# {"status":"WORD"} and a newline (behaviour contract).
expect() {
	if [ "$R_CODE" = "$1" ] &&
	    printf '{"status":"%s"}\n' "$2" | cmp -s - "$R_FILE"; then
		ok "$3"
	elif [ "$R_CODE" = "$1" ] && [ "$R_BODY" = "{\"status\":\"$2\"}" ]; then
		not_ok "$3: body lacks the trailing newline"
	else
		not_ok "$3: expected $1 {\"status\":\"$2\"}, got $R_CODE $(printf %s "$R_BODY" | head -c 200)"
	fi
}

# runs ID: how many times a hook started for this event id.
runs() {
	grep -c " $1 " "$T/out/runs" 2>/dev/null || true
}

# runs_tag ID: the tags (A/B) of the hooks that ran for this event id.
runs_tag() {
	grep " $1 " "$T/out/runs" 2>/dev/null | cut -d' ' -f1 | tr '\n' ' '
}

# env_has ENVFILE NAME=VALUE...: every pair present exactly; prints the
# first mismatch into ENV_WHY.
env_has() {
	eh_f=$1
	shift
	ENV_WHY=
	[ -f "$eh_f" ] || { ENV_WHY="no env dump $eh_f (hook did not run)"; return 1; }
	for eh_kv in "$@"; do
		if ! grep -Fxq -- "$eh_kv" "$eh_f"; then
			eh_name=${eh_kv%%=*}
			ENV_WHY="want $eh_kv, have $(grep "^$eh_name=" "$eh_f" | head -c 120 || true)"
			[ -n "$ENV_WHY" ] || ENV_WHY="want $eh_kv, have nothing"
			return 1
		fi
	done
}

check_env() {
	ce_desc=$1
	shift
	if env_has "$@"; then ok "$ce_desc"; else not_ok "$ce_desc: $ENV_WHY"; fi
}

# jval FILE DOTTED.PATH: a JSON value as idhook must put it in EVENT_*.
jval() {
	"$PY" -c 'import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
if v is None: v = ""
elif v is True: v = "true"
elif v is False: v = "false"
print(v)' "$1" "$2"
}

# fds_ok FDFILE: the hook's "ls -l /proc/self/fd" shows 0, 1, 2 and only
# ls's own directory handle (/proc/<pid>/fd) besides.
fds_ok() {
	FD_WHY=$(awk '
		/^total/ { next }
		{ fd = $9; tgt = $11
		  if (fd == "0" || fd == "1" || fd == "2") { std++; next }
		  if (tgt ~ /^\/proc\/[0-9]+\/fd$/ && !self) { self = 1; next }
		  printf "extra fd %s -> %s; ", fd, tgt }
		END { if (std != 3) printf "only %d of fds 0-2 open", std }
	' "$1")
	[ -z "$FD_WHY" ]
}

# env_names_ok ENVFILE: nothing in a hook environment but the contract's
# names (SPEC section 4) and what /bin/sh itself adds (PWD).
env_names_ok() {
	ENV_WHY=$(cut -d= -f1 "$1" | grep -Ev '^(PATH|HOME|LANG|PWD|SHLVL|_|IDHOOK_(PROVIDER|ENDPOINT|EVENT|EVENT_ID|DELIVERY_ID|ATTEMPT|TRUNCATED)|TEST_FIXED_VAR|EVENT_[A-Z0-9_]+)$' | tr '\n' ' ')
	[ -z "$ENV_WHY" ]
}

# ---- the end ---------------------------------------------------------------------

# t_done: stop the servers (so LeakSanitizer reports), scan every log for
# sanitizer reports, print the summary and exit.
t_done() {
	stop_lighttpd
	wait_for 5 no_idhook ||
	    note "idhook processes still running after lighttpd stopped: $(idhook_pids)"
	san=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "$T"/logs/*.log 2>/dev/null | tr '\n' ' ')
	if [ -z "$san" ]; then
		ok "no sanitizer reports in the logs"
	else
		not_ok "sanitizer reports in $san"
		for f in $san; do
			grep -n -B2 -A25 -E 'AddressSanitizer|LeakSanitizer|runtime error' \
			    "$f" | head -n 80 | sed 's/^/#   /'
		done
	fi
	echo "# $T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && exit 0
	exit 1
}

# ---- Verifa and Standard Webhooks (tests/tools/webhook_sign.py) ------------------

WSIGNER=$top_srcdir/tests/tools/webhook_sign.py

# t_wsecrets: keys/verifa.secret with two secrets (rotation: VSECRET_OLD
# first, VSECRET second; deliveries are signed with the second),
# keys/std.secret with one whsec_<base64 of 32 random bytes> (STD_SECRET),
# keys/std-nopad.secret the same secret without its base64 padding.
t_wsecrets() {
	VSECRET_OLD=whsec_$(rand_alnum 32)
	VSECRET=whsec_$(rand_alnum 32)
	STD_SECRET=whsec_$("$PY" -c 'import base64, os
print(base64.b64encode(os.urandom(32)).decode())')
	printf '# rotation: old first, new second\n%s\n%s\n' \
	    "$VSECRET_OLD" "$VSECRET" > "$T/keys/verifa.secret"
	printf '%s\n' "$STD_SECRET" > "$T/keys/std.secret"
	printf '%s\n' "$STD_SECRET" | tr -d '=' > "$T/keys/std-nopad.secret"
	chmod 600 "$T/keys/verifa.secret" "$T/keys/std.secret" \
	    "$T/keys/std-nopad.secret"
	t_own "$T/keys/verifa.secret" "$T/keys/std.secret" \
	    "$T/keys/std-nopad.secret"
}

# t_endpoint NAME PROVIDER SECRET_FILE HOOKS_DIR [EXTRA_LINES]: an
# [endpoint] section on stdout, to append to a config made by t_config.
t_endpoint() {
	printf '\n[endpoint %s]\nprovider    = %s\nsecret_file = %s\nhooks_dir   = %s\n%s\n' \
	    "$1" "$2" "$3" "$4" "${5:-}"
}

# wsign verifa|standard DIR [webhook_sign.py options]: a fresh delivery,
# signed now with the endpoint's secret (verifa: the second of two).
wsign() {
	ws_p=$1
	ws_dir=$2
	shift 2
	case $ws_p in
	verifa) set -- --secret-file "$T/keys/verifa.secret" \
	    --secret-index 1 "$@" ;;
	standard) set -- --secret-file "$T/keys/std.secret" "$@" ;;
	esac
	"$PY" "$WSIGNER" "$ws_p" --out "$ws_dir" "$@" ||
	    { not_ok "webhook_sign.py $ws_p $*"; return 1; }
}

# wresign SRC DST [options]: the sender's resend (same body and id, fresh
# timestamp), signed with the secret of SRC's provider.
wresign() {
	wr_src=$1
	wr_dst=$2
	shift 2
	case $(meta "$wr_src" provider) in
	verifa) set -- --secret-file "$T/keys/verifa.secret" \
	    --secret-index 1 "$@" ;;
	*) set -- --secret-file "$T/keys/std.secret" "$@" ;;
	esac
	"$PY" "$WSIGNER" resign --dir "$wr_src" --out "$wr_dst" "$@" ||
	    { not_ok "webhook_sign.py resign $*"; return 1; }
}

# env_exact ENVFILE BODYFILE: the hook's EVENT_* variables are exactly
# those the payload gives (no more, no fewer); the difference in ENV_WHY.
env_exact() {
	[ -f "$1" ] || { ENV_WHY="no env dump $1 (hook did not run)"; return 1; }
	"$PY" "$WSIGNER" env --payload "$2" > "$1.want" || return 1
	grep '^EVENT_' "$1" | LC_ALL=C sort > "$1.have"
	ENV_WHY=$(diff "$1.want" "$1.have" | grep '^[<>]' | head -n 4 |
	    cut -c1-100 | tr '\n' ' ')
	[ -z "$ENV_WHY" ]
}

# ---- apache (tests/integration/apache.sh) ----------------------------------------
# A self-contained Apache 2.4 (deploy-notes 7): no /etc/apache2/apache2.conf,
# every runtime file in $T, run as the server user, stopped by its pid.

APID=
SFPID=

# apache_conf FILE: the server part of an httpd.conf on a new free port
# (sets PORT, URL); the test appends its own sections to FILE.
apache_conf() {
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	ac_m=/usr/lib/apache2/modules
	cat > "$1" <<ACONF
ServerRoot $T
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
PidFile $T/run/httpd.pid
DefaultRuntimeDir $T/run
Mutex file:$T/run default
ErrorLog $T/logs/apache-error.log
LogLevel warn
LogFormat "%h \"%r\" %>s %B te=%{Transfer-Encoding}i" t
CustomLog $T/logs/apache-access.log t
LoadModule mpm_event_module $ac_m/mod_mpm_event.so
LoadModule authz_core_module $ac_m/mod_authz_core.so
LoadModule mime_module $ac_m/mod_mime.so
LoadModule alias_module $ac_m/mod_alias.so
LoadModule env_module $ac_m/mod_env.so
LoadModule cgid_module $ac_m/mod_cgid.so
LoadModule fcgid_module $ac_m/mod_fcgid.so
LoadModule proxy_module $ac_m/mod_proxy.so
LoadModule proxy_fcgi_module $ac_m/mod_proxy_fcgi.so
TypesConfig /etc/mime.types
ScriptSock $T/run/cgid.sock
FcgidIPCDir $T/run/fcgid
FcgidProcessTableFile $T/run/fcgid_shm
StartServers 1
ServerLimit 2
ThreadsPerChild 10
MaxRequestWorkers 20
DocumentRoot $T/www
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $T/www>
	Require all granted
</Directory>
ACONF
}

# contrib_apache NAME URL-PREFIX PROGRAM [SOCKET]: contrib/apache/NAME as
# it is, with its URL /idhook, program /usr/local/bin/idhook, config
# /etc/idhook/idhook.conf and socket moved into the test world ($CONF).
contrib_apache() {
	sed -e "s|\"/idhook|\"$2|g" -e "s|\\^/idhook(|^$2(|g" \
	    -e "s|/usr/local/bin/idhook|$3|g" -e "s|/usr/local/bin|${3%/*}|g" \
	    -e "s|/etc/idhook/idhook.conf|$CONF|g" \
	    -e "s|/run/idhook/idhook.sock|${4:-/nonexistent}|g" \
	    "$top_srcdir/contrib/apache/$1"
}

# start_apache FILE: apache2 -f FILE -DFOREGROUND as the server user.
start_apache() {
	mkdir -p "$T/run/fcgid"
	t_own "$T/logs" "$T/run"
	$RUNAS apache2 -f "$1" -DFOREGROUND \
	    > "$T/logs/apache-stdout.log" 2>&1 &
	APID=$!
	LPID=$APID	# wait_port gives up when it dies
	if ! wait_port "$PORT"; then
		LPID=
		not_ok "apache2 started on port $PORT"
		t_done
	fi
	LPID=
}

stop_apache() {
	[ -n "$APID" ] || return 0
	stop_pid "$APID"
	APID=
}

# start_spawn_fcgi SOCKET PROGRAM: PROGRAM as a FastCGI daemon on a Unix
# socket, mode 0660; as root the socket belongs to the server user and
# the program runs as it.  -n: no fork, so $! is the program itself and
# its stderr (idhook's log) lands in logs/spawn-fcgi.log.
start_spawn_fcgi() {
	sf_own=
	[ -n "$RUNAS" ] && sf_own="-U $T_USER -G $T_GROUP -u $T_USER -g $T_GROUP"
	rm -f "$1"
	spawn-fcgi -n -s "$1" -M 0660 $sf_own -- "$2" \
	    > "$T/logs/spawn-fcgi.log" 2>&1 &
	SFPID=$!
	wait_for 5 test -S "$1" || not_ok "spawn-fcgi made the socket $1"
}

stop_spawn_fcgi() {
	[ -n "$SFPID" ] || return 0
	stop_pid "$SFPID"
	SFPID=
}

# apache_cleanup: an EXIT trap for apache.sh (then lib.sh's own cleanup).
apache_cleanup() {
	ac_rc=$?
	stop_apache
	stop_spawn_fcgi
	(exit "$ac_rc")
	t_cleanup
}
# ---- end of apache ---------------------------------------------------------------

# ---- processes by environment (tests/integration/queue.sh) -----------------------
# Queue runners are forked by the FastCGI processes and outlive lighttpd's
# stop; they keep the environment lighttpd gave their parent
# (bin-environment IDHOOK_CONFIG), which finds them by pid.

# env_pids NAME=VALUE: the pids (not this shell's) whose environment holds
# exactly this entry.
env_pids() {
	for ep_d in /proc/[0-9]*; do
		ep_p=${ep_d#/proc/}
		[ "$ep_p" = "$$" ] && continue
		# 2> first: a process that just ended fails the < redirection.
		tr '\0' '\n' 2>/dev/null < "$ep_d/environ" |
		    grep -Fxq -- "$1" && printf '%s ' "$ep_p"
	done
	return 0
}

# reap_env NAME=VALUE: SIGKILL every process env_pids finds, by pid.
reap_env() {
	for re_p in $(env_pids "$1"); do
		kill -KILL "$re_p" 2>/dev/null || true
	done
}
