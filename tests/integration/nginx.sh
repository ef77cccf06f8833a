#!/bin/sh
# Integration test: idhook as FastCGI behind a real nginx on 127.0.0.1,
# using the shipped contrib/nginx/idhook.conf (paths changed).  nginx never
# starts the app, so idhook runs on a Unix socket (mode 0660) made by
#  (1) spawn-fcgi -n (deploy-notes 4, 7), config per request from
#      fastcgi_param IDHOOK_CONFIG;
#  (2) a small launcher doing what systemd's idhook.socket/idhook.service
#      do (contrib/systemd): bind + listen on the socket, chmod 0660, put it
#      on fd 0 (StandardInput=socket), drop to the service user, exec
#      idhook -c CONF.
# Three nginx servers: the default one, one with underscores_in_headers on
# (X_Kayle_Signature passed as a second HTTP_X_KAYLE_SIGNATURE), and one in
# front of (2).  nginx and idhook run as nobody when we are root.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need nginx "apt-get install nginx-light (or nginx)"
t_need spawn-fcgi "apt-get install spawn-fcgi"
t_init nginx
t_keys
t_hooks
CONF=$T/idhook.conf
t_config "$CONF"
D=$T/d
OUT=$T/out
EP=/idhook/kayle
SOCK=$T/run/idhook.sock
SDSOCK=$T/run/sd.sock
NPID=
FPID=
SDPID=

n_stop() {
	for p in $NPID $FPID $SDPID; do stop_pid "$p"; done
	NPID=
	FPID=
	SDPID=
	rm -f "$SOCK" "$SDSOCK"
}

n_cleanup() {
	n_rc=$?
	n_stop
	(exit "$n_rc")
	t_cleanup
}
trap n_cleanup EXIT

# n_done: stop nginx and both idhooks first (LeakSanitizer reports on
# exit, t_done scans the logs), then t_done.
n_done() {
	n_stop
	t_done
}

# ---- idhook on a Unix socket, by spawn-fcgi ----------------------------------

mkdir -p "$T/tmp"
t_own "$T/run" "$T/logs" "$T/tmp"
set -- -n -s "$SOCK" -M 0660
[ -n "$RUNAS" ] && set -- "$@" -U "$T_USER" -G "$T_GROUP" -u "$T_USER" -g "$T_GROUP"
# -n: no fork, spawn-fcgi execs idhook in place, so $! is idhook itself.
spawn-fcgi "$@" -- "$T/www/idhook.fcgi" \
    > "$T/logs/idhook-spawn.log" 2>&1 &
FPID=$!
if wait_for 5 test -S "$SOCK"; then
	m=$(stat -c '%a %U:%G' "$SOCK")
	[ "$m" = "660 $T_USER:${T_GROUP:-$(id -gn)}" ] &&
	    ok "spawn-fcgi socket: mode 0660, owned by the server user ($m)" ||
	    not_ok "spawn-fcgi socket: '$m', want 660 $T_USER:${T_GROUP:-$(id -gn)}"
else
	not_ok "spawn-fcgi made no socket at $SOCK"
	n_done
fi

# ---- nginx, three servers, the shipped location snippet ------------------------

# snippet SOCKET: contrib/nginx/idhook.conf for this test's paths.
snippet() {
	sed -e "s|unix:/run/idhook/idhook.sock|unix:$1|" \
	    -e "s|IDHOOK_CONFIG /etc/idhook/idhook.conf|IDHOOK_CONFIG $CONF|" \
	    "$top_srcdir/contrib/nginx/idhook.conf"
}
snippet "$SOCK" > "$T/idhook-nginx.conf"
snippet "$SDSOCK" > "$T/idhook-nginx-sd.conf"
grep -q "unix:$SOCK;" "$T/idhook-nginx.conf" &&
    grep -q "IDHOOK_CONFIG $CONF;" "$T/idhook-nginx.conf" ||
    not_ok "contrib/nginx/idhook.conf: fastcgi_pass/IDHOOK_CONFIG lines not found"
P1=$(free_port)
P2=$(free_port)
P3=$(free_port)
cat > "$T/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $T/run/nginx.pid;
error_log $T/logs/nginx-error.log info;
events { worker_connections 64; }
http {
	access_log $T/logs/nginx-access.log;
	client_body_temp_path $T/tmp/body;
	fastcgi_temp_path $T/tmp/fastcgi;
	proxy_temp_path $T/tmp/proxy;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	default_type application/octet-stream;
	root $T/www;
	server {
		listen 127.0.0.1:$P1;
		include $T/idhook-nginx.conf;
	}
	server {
		listen 127.0.0.1:$P2;
		underscores_in_headers on;
		include $T/idhook-nginx.conf;
	}
	server {
		listen 127.0.0.1:$P3;
		include $T/idhook-nginx-sd.conf;
	}
}
EOF
t_own "$T/nginx.conf" "$T/idhook-nginx.conf" "$T/idhook-nginx-sd.conf"
$RUNAS nginx -p "$T" -e "$T/logs/nginx-error.log" -c "$T/nginx.conf" \
    > "$T/logs/nginx-stdout.log" 2>&1 &
NPID=$!
for p in $P1 $P2 $P3; do
	if ! wait_port "$p"; then
		not_ok "nginx started on port $p"
		n_done
	fi
done
ok "nginx runs (-p $T, daemon off, three servers)"
URL=http://127.0.0.1:$P1

# ---- deliveries, replay, forgery --------------------------------------------------

sign "$D/s1" --type verification.session.succeeded
S1=$(meta "$D/s1" event_id)
send "$D/s1" "$EP"
expect 200 delivered "valid delivery through nginx: 200 delivered"
[ "$(runs "$S1")" = 1 ] && ok "hook ran once" ||
    not_ok "hook ran $(runs "$S1") times, want 1"
cmp -s "$OUT/$S1.1.stdin" "$D/s1/plaintext.json" &&
    ok "hook stdin is the decrypted payload" ||
    not_ok "hook stdin differs from the payload"
check_env "hook env: IDHOOK_* and EVENT_* set" "$OUT/$S1.1.env" \
    "IDHOOK_EVENT=verification.session.succeeded" "IDHOOK_EVENT_ID=$S1" \
    "IDHOOK_ATTEMPT=1" "IDHOOK_DELIVERY_ID=$(meta "$D/s1" delivery_id)" \
    "EVENT_DATA_CLAIMS_GIVEN_NAMES=$(jval "$D/s1/plaintext.json" data.claims.given_names)"
env_names_ok "$OUT/$S1.1.env" &&
    ok "hook env has only contract names (no HTTP_/fastcgi_param variables)" ||
    not_ok "hook env has extra names: $ENV_WHY"
fds_ok "$OUT/$S1.1.fd" && ok "hook has only fds 0-2" ||
    not_ok "hook fds: $FD_WHY"
if [ -n "$RUNAS" ]; then
	u=$(cat "$OUT/$S1.1.uid" 2>/dev/null)
	[ "$u" = "$(id -u "$T_USER")" ] && ok "hook runs as $T_USER (spawn-fcgi -u)" ||
	    not_ok "hook uid '$u', want $(id -u "$T_USER")"
fi

replays_and_forgery "$D/s1" "$EP" "$S1"

# ---- the signature header twice ----------------------------------------------

# Both copies carry the same, valid signature: only the duplicate can be
# the reason for a refusal.  nginx passes repeated headers as separate
# HTTP_X_KAYLE_SIGNATURE params (deploy-notes 2).
sign "$D/dup" --type verification.session.cancelled
DUP=$(meta "$D/dup" event_id)
send "$D/dup" "$EP" -H "X-Kayle-Signature: $(meta "$D/dup" sig)"
expect 400 invalid_signature "X-Kayle-Signature sent twice: 400 invalid_signature"
[ "$(runs "$DUP")" = 0 ] && ok "signature twice: no hook ran" ||
    not_ok "signature twice: a hook ran"

# Default server: nginx drops X_Kayle_Signature (underscores_in_headers
# off), so the delivery is a normal one.
send "$D/dup" "$EP" -H "X_Kayle_Signature: $(meta "$D/dup" sig)"
expect 200 delivered "underscores_in_headers off: X_Kayle_Signature dropped by nginx, 200 delivered"
grep -q 'client sent invalid header line' "$T/logs/nginx-error.log" &&
    ok "nginx logged the dropped underscore header" ||
    not_ok "no 'client sent invalid header line' in nginx's error log"

# underscores_in_headers on: X_Kayle_Signature arrives as a second
# HTTP_X_KAYLE_SIGNATURE.
URL=http://127.0.0.1:$P2
sign "$D/us" --type verification.session.expired
US=$(meta "$D/us" event_id)
send "$D/us" "$EP" -H "X_Kayle_Signature: $(meta "$D/us" sig)"
expect 400 invalid_signature "underscores_in_headers on: X_Kayle_Signature beside X-Kayle-Signature: 400"
[ "$(runs "$US")" = 0 ] && ok "underscore duplicate: no hook ran" ||
    not_ok "underscore duplicate: a hook ran"
n=$(all_logs | grep -c 'signature header sent more than once')
[ "$n" = 2 ] && ok "both refusals logged as 'signature header sent more than once'" ||
    not_ok "'signature header sent more than once' logged $n times, want 2"
send "$D/us" "$EP"
expect 200 delivered "underscores_in_headers on: the same delivery alone: 200 delivered"
URL=http://127.0.0.1:$P1

# ---- method, endpoint, sizes ---------------------------------------------------

req "$EP"
expect 405 method_not_allowed "GET: 405 method_not_allowed"
grep -iq '^Allow: *POST' "$R_HDR" && ok "405 carries Allow: POST" ||
    not_ok "405 without Allow: POST"
sign "$D/nope" --type verification.session.expired
send "$D/nope" /idhook/nope
expect 404 not_found "unknown endpoint /idhook/nope: 404 not_found"
send "$D/nope" /idhook
expect 200 delivered "/idhook alone (empty PATH_INFO, one endpoint): 200 delivered"

sign "$D/big" --big
BIG=$(meta "$D/big" event_id)
send "$D/big" "$EP"
expect 200 delivered "300 KiB photo event (spooled to client_body_temp_path): 200 delivered"
cmp -s "$OUT/$BIG.1.stdin" "$D/big/plaintext.json" ||
    not_ok "300 KiB event: hook stdin differs from the payload"

# over_body DIR BYTES: a delivery of BYTES 'A's, validly signed.
over_body() {
	mkdir -p "$1"
	"$PY" -c 'import sys; sys.stdout.write("A" * int(sys.argv[1]))' "$2" > "$1/body"
	printf 'type=\nevent_id=\ndelivery_id=\n' > "$1/meta"
	resign "$1" "$1"
}
MAXB=$(sed -n 's/^max_body *= *//p' "$CONF")
over_body "$D/over" $((MAXB + 1))
send "$D/over" "$EP"
expect 413 too_large "max_body+1 ($((MAXB + 1)) bytes): idhook's 413 too_large"
CMBS=$(sed -n 's/^[[:space:]]*client_max_body_size[[:space:]]*\([0-9]*\)m;.*/\1/p' \
    "$T/idhook-nginx.conf")
if [ -n "$CMBS" ]; then
	over_body "$D/huge" $((CMBS * 1048576 + 1))
	send "$D/huge" "$EP"
	[ "$R_CODE" = 413 ] &&
	    grep -q 'client intended to send too large body' "$T/logs/nginx-error.log" &&
	    ok "over client_max_body_size ${CMBS}m: nginx's own 413" ||
	    not_ok "over client_max_body_size ${CMBS}m: got $R_CODE (or nginx did not log it)"
	# It must not cut in below idhook's largest default body (1 MiB).
	[ "$CMBS" -ge 1 ] ||
	    not_ok "client_max_body_size ${CMBS}m below idhook's default max_body"
else
	not_ok "no client_max_body_size <N>m in contrib/nginx/idhook.conf"
fi

# ---- no secret file over HTTP ----------------------------------------------------

# The real ones live outside the document root; copies put under it by
# mistake, readable by nginx, must be refused by the snippet's deny rule.
mkdir -p "$T/www/state"
cp "$CONF" "$T/www/idhook.conf"
cp "$T/keys/kayle.secret" "$T/keys/k1.pem" "$T/keys/k2.jwk.json" "$T/www/"
cp "$T/state/"*.mdb "$T/www/state/" 2>/dev/null ||
    not_ok "no LMDB files in $T/state"
chmod 644 "$T/www/idhook.conf" "$T/www/kayle.secret" "$T/www/k1.pem" \
    "$T/www/k2.jwk.json" "$T/www/state/"*.mdb 2>/dev/null
echo plain > "$T/www/plain.txt"
chmod 644 "$T/www/plain.txt"
req /plain.txt
[ "$R_CODE" = 200 ] && ok "control: an ordinary file under the root is served (200)" ||
    not_ok "control: /plain.txt gave $R_CODE (the secret-file checks prove nothing)"
for path in /idhook.conf /kayle.secret /k1.pem /k2.jwk.json /state/data.mdb \
    /state/lock.mdb /IDHOOK.CONF /KAYLE.SECRET /idhook/../idhook.conf \
    /../idhook.conf /%2e%2e/idhook.conf /keys/kayle.secret /keys/k1.pem \
    /state/../../idhook.conf /www/idhook.conf; do
	req "$path" --path-as-is
	case $R_CODE in
	400|403|404) ok "GET $path: $R_CODE" ;;
	*) not_ok "GET $path: $R_CODE with $(wc -c < "$R_FILE" | tr -d ' ') bytes, want 403 or 404" ;;
	esac
done
rm -rf "$T/www/state" "$T/www/idhook.conf" "$T/www/kayle.secret" \
    "$T/www/k1.pem" "$T/www/k2.jwk.json"

# ---- the systemd units' mechanism, without systemd ---------------------------------

# What idhook.socket + idhook.service (StandardInput=socket, User=) do:
# the listening socket on fd 0, mode 0660 owned by SocketUser/SocketGroup,
# then exec as User=.
cat > "$T/sd-launch.py" <<'EOF'
import grp, os, pwd, socket, sys
path, user, group = sys.argv[1:4]
argv = sys.argv[4:]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
old = os.umask(0o177)           # never connectable by others, even briefly
s.bind(path)
os.umask(old)
root = os.geteuid() == 0
if root:
    uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    os.chown(path, uid, gid)    # SocketUser=, SocketGroup=
os.chmod(path, 0o660)           # SocketMode=0660
s.listen(128)
os.dup2(s.fileno(), 0)          # StandardInput=socket (dup2: inheritable)
s.close()
if root:                        # User=, Group=
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
os.execv(argv[0], argv)
EOF
"$PY" "$T/sd-launch.py" "$SDSOCK" "$T_USER" "${T_GROUP:-$(id -gn)}" \
    "$T/www/idhook.fcgi" -c "$CONF" > "$T/logs/idhook-sd.log" 2>&1 &
SDPID=$!
if wait_for 5 test -S "$SDSOCK"; then
	m=$(stat -c '%a %U:%G' "$SDSOCK")
	[ "$m" = "660 $T_USER:${T_GROUP:-$(id -gn)}" ] &&
	    ok "socket-activation launcher: socket mode 0660 ($m)" ||
	    not_ok "socket-activation launcher: socket '$m'"
	URL=http://127.0.0.1:$P3
	sign "$D/sd" --type verification.attempt.succeeded
	SD=$(meta "$D/sd" event_id)
	send "$D/sd" "$EP"
	expect 200 delivered "idhook with the socket on fd 0 (StandardInput=socket): 200 delivered"
	[ "$(runs "$SD")" = 1 ] && ok "socket activation: hook ran once" ||
	    not_ok "socket activation: hook ran $(runs "$SD") times"
	fd0=$(readlink "/proc/$SDPID/fd/0" 2>/dev/null)
	case $fd0 in
	socket:*) ok "socket activation: idhook (pid $SDPID) has the socket as fd 0" ;;
	'') [ -z "$RUNAS" ] &&	# not root: idhook's /proc/PID/fd is not ours
	    note "fd 0 of idhook not readable without root; the 200 above shows it" ||
	    not_ok "socket activation: cannot read fd 0 of pid $SDPID" ;;
	*) not_ok "socket activation: fd 0 of pid $SDPID is '$fd0'" ;;
	esac
	u=$(ps -o user= -p "$SDPID" | tr -d ' ')
	[ "$u" = "$T_USER" ] && ok "socket activation: idhook runs as $u" ||
	    not_ok "socket activation: idhook runs as '$u', want $T_USER"
	send "$D/sd" "$EP"
	expect 200 duplicate "socket activation: replay: 200 duplicate"
else
	not_ok "socket-activation launcher made no socket ($(cat "$T/logs/idhook-sd.log"))"
fi

# ---- logs -----------------------------------------------------------------------

all_logs | grep 'result=delivered' | grep -Fq "id=$S1" &&
    ok "idhook logged the delivery (logfmt, stderr kept by spawn-fcgi -n)" ||
    not_ok "no result=delivered line for $S1 in the logs"
no_leaks "logs hold no claim value, secret or key material" \
    "$(jval "$D/s1/plaintext.json" data.claims.given_names)" \
    "$(jval "$D/s1/plaintext.json" data.claims.family_name)" \
    "$(jval "$D/s1/plaintext.json" data.claims.date_of_birth)" \
    "$SECRET" "$SECRET_OLD" whsec_ "$KEY_LINE"
# The config comes only per request (fastcgi_param): starting without one
# is normal and must not log an error about the default path.
all_logs | grep -q 'cannot open config' &&
    not_ok "an error about a config file at start: $(all_logs | grep -m1 'cannot open config')" ||
    ok "no config error at start when the config comes per request"

n_done
