#!/bin/sh
# Integration test: idhook on shared hosting.  Apache with suEXEC
# (Debian apache2-suexec-pristine: docroot /var/www, caller www-data)
# runs idhook.cgi as a throwaway account, configured by nothing but
# contrib/shared-hosting/htaccess.  No IDHOOK_CONFIG anywhere: idhook must
# find ~/idhook/idhook.conf through the password database (suEXEC strips
# HOME).  Needs root: it creates the account, a directory under /var/www
# and starts Apache as root (suEXEC works only then); all three are
# removed again on every path.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

SUEXEC=/usr/lib/apache2/suexec
SUEXEC_LOG=/var/log/apache2/suexec.log
MODS=/usr/lib/apache2/modules

[ "$(id -u)" = 0 ] || t_skip "needs root (creates a user account and starts" \
    "Apache as root, as suEXEC requires)"
t_need apache2 "apt-get install apache2"
t_need useradd "apt-get install passwd"
# need_suexec: the Debian suexec the test is written for, setuid root.
need_suexec() {
	if [ ! -u "$SUEXEC" ] || [ ! -f "$MODS/mod_suexec.so" ]; then
		ns_why="no setuid $SUEXEC (apt-get install apache2-suexec-pristine)"
	elif ! "$SUEXEC" -V 2>&1 | grep -q 'AP_DOC_ROOT="/var/www"' ||
	    ! "$SUEXEC" -V 2>&1 | grep -q 'AP_HTTPD_USER="www-data"'; then
		ns_why="$SUEXEC is not built for docroot /var/www and user www-data"
	else
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		echo "not ok - $ns_why; CI=true, so this fails"
		exit 1
	fi
	t_skip "$ns_why"
}
need_suexec
getent passwd www-data >/dev/null || t_skip "no www-data user"

t_init suexec
t_keys
D=$T/d
OUT=$T/out
ACCT=
W=

# ---- cleanup: Apache, the account's processes, the account, the web dir ----

suexec_cleanup() {
	sc_rc=$?
	trap - EXIT
	stop_lighttpd		# LPID is Apache's pid
	if [ -n "$ACCT" ]; then
		acct_kill
		userdel "$ACCT" 2>/dev/null || note "userdel $ACCT failed"
		getent group "$ACCT" >/dev/null && groupdel "$ACCT" 2>/dev/null
		getent passwd "$ACCT" >/dev/null && note "account $ACCT left behind"
	fi
	case $W in /var/www/idh-test.?*) rm -rf "$W" ;; esac
	(exit "$sc_rc")
	t_cleanup
}
trap suexec_cleanup EXIT

# acct_pids: processes of the throwaway account (only this test made it).
acct_pids() {
	[ -n "${ACCT_UID:-}" ] || return 0
	pgrep -U "$ACCT_UID" 2>/dev/null | tr '\n' ' '
}

acct_kill() {
	for p in $(acct_pids); do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait_for 3 acct_gone || note "processes of $ACCT left: $(acct_pids)"
}

acct_gone() {
	[ -z "$(acct_pids)" ]
}

# ---- the account: home outside /var/www, web dir inside it -------------------

ACCT_NAME=idh$(rand_alnum 9)
HOME_DIR=$T/home
if ! useradd -M -U -d "$HOME_DIR" -s /usr/sbin/nologin -K UID_MIN=1000 \
    -K GID_MIN=1000 "$ACCT_NAME" 2> "$T/logs/useradd.log"; then
	not_ok "useradd $ACCT_NAME: $(cat "$T/logs/useradd.log")"
	t_done
fi
ACCT=$ACCT_NAME
ACCT_UID=$(id -u "$ACCT")
ACCT_GID=$(id -g "$ACCT")
[ "$ACCT_UID" -ge 1000 ] && [ "$ACCT_GID" -ge 1000 ] ||
    { not_ok "account $ACCT got uid $ACCT_UID gid $ACCT_GID, want >= 1000"; t_done; }
note "account $ACCT uid $ACCT_UID, home $HOME_DIR"
# Files the account owns: chown through lib.sh's t_own.
T_USER=$ACCT
T_GROUP=$ACCT

# ~/idhook: config, secret and keys 0600, state 0700, hooks.
H=$HOME_DIR/idhook
install -d -m 0711 -o "$ACCT" -g "$ACCT" "$HOME_DIR"
install -d -m 0700 -o "$ACCT" -g "$ACCT" "$H" "$H/state" "$H/hooks"
install -m 0600 -o "$ACCT" -g "$ACCT" "$T/keys/kayle.secret" "$T/keys/k1.pem" \
    "$T/keys/k2.jwk.json" "$H/"
# Relative paths: from the config file's directory (README).
cat > "$T/idhook.conf" <<EOF
# ~/idhook/idhook.conf of a shared-hosting account
[idhook]
state_dir    = state
hooks_dir    = hooks
hook_timeout = 5
retention    = 1d
hook_env     = TEST_FIXED_VAR=from-home-config

[endpoint kayle]
provider       = kayle
secret_file    = kayle.secret
decryption_key = k1:k1.pem
decryption_key = k2.jwk.json
EOF
install -m 0600 -o "$ACCT" -g "$ACCT" "$T/idhook.conf" "$H/idhook.conf"
t_hook "$H/hooks/verification.session.succeeded" A
for e in $EVENT_TYPES; do
	[ -e "$H/hooks/$e" ] || ln -s verification.session.succeeded "$H/hooks/$e"
done
t_own "$H/hooks" "$OUT"

# The web dir under suEXEC's docroot, as an uploaded public_html/cgi-bin:
# the binary, the .htaccess, and copies of what must never be served.
W=$(mktemp -d /var/www/idh-test.XXXXXX) || { not_ok "mktemp under /var/www"; t_done; }
cp "$IDHOOK" "$W/idhook.cgi"
cp "$IDHOOK" "$W/idhook.fcgi"
cp "$top_srcdir/contrib/shared-hosting/htaccess" "$W/.htaccess"
mkdir -p "$W/idhook/state"
cp "$H/kayle.secret" "$H/k1.pem" "$H/k2.jwk.json" "$W/idhook/"
# Not beside the binary (idhook would take that one first); different, so
# the hook's environment shows which config was used.
sed 's/from-home-config/from-web-copy/' "$H/idhook.conf" > "$W/idhook/idhook.conf"
printf 'not a real store\n' > "$W/idhook/state/data.mdb"
printf 'not a real lock\n' > "$W/idhook/state/lock.mdb"
printf 'log line\n' > "$W/idhook/error.log"
printf 'public-file-marker\n' > "$W/readme.txt"
# Readable by everyone (the usual upload mode): only .htaccess stops them.
find "$W" -type d -exec chmod 0755 {} +
find "$W" -type f -exec chmod 0644 {} +
chmod 0755 "$W/idhook.cgi" "$W/idhook.fcgi"
chown -R "$ACCT:$ACCT" "$W"

# ---- Apache as root, User www-data, suEXEC on the vhost ----------------------

# mod_fcgid (optional on a host, so optional here unless CI): FastCGI
# through suEXEC, with the host's default FcgidMaxRequestLen.
FCGID_CONF=
if [ -f "$MODS/mod_fcgid.so" ]; then
	mkdir -p "$T/run/fcgid"
	FCGID_CONF="LoadModule fcgid_module $MODS/mod_fcgid.so
FcgidIPCDir $T/run/fcgid
FcgidProcessTableFile $T/run/fcgid_shm"
elif [ "${CI:-}" = true ]; then
	not_ok "mod_fcgid not installed (apt-get install libapache2-mod-fcgid); CI=true"
else
	note "mod_fcgid not installed: FastCGI part skipped (apt-get install libapache2-mod-fcgid)"
fi
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
chown -R www-data:www-data "$T/run"
cat > "$T/httpd.conf" <<EOF
ServerRoot $T
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
User www-data
Group www-data
PidFile $T/run/httpd.pid
DefaultRuntimeDir $T/run
Mutex file:$T/run default
ErrorLog $T/logs/apache-error.log
LogLevel info
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule dir_module $MODS/mod_dir.so
LoadModule autoindex_module $MODS/mod_autoindex.so
LoadModule suexec_module $MODS/mod_suexec.so
$FCGID_CONF
TypesConfig /etc/mime.types
ScriptSock $T/run/cgid.sock
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>
<VirtualHost 127.0.0.1:$PORT>
	DocumentRoot $W
	SuexecUserGroup $ACCT $ACCT
	<Directory $W>
		AllowOverride All
		Require all granted
	</Directory>
</VirtualHost>
EOF
SXL0=0
[ -f "$SUEXEC_LOG" ] && SXL0=$(wc -l < "$SUEXEC_LOG")
# suexec_log: this run's suEXEC log lines (our account's or our dir's).
suexec_log() {
	tail -n +"$((SXL0 + 1))" "$SUEXEC_LOG" 2>/dev/null |
	    grep -F -e "/$ACCT)" -e "$W" || true
}
env -u IDHOOK_CONFIG apache2 -f "$T/httpd.conf" -DFOREGROUND \
    > "$T/logs/apache-stdout.log" 2>&1 &
LPID=$!
if ! wait_port "$PORT"; then
	not_ok "apache2 started on port $PORT"
	t_done
fi
grep -q 'suEXEC mechanism enabled' "$T/logs/apache-error.log" &&
    ok "Apache: suEXEC mechanism enabled" ||
    not_ok "Apache did not enable suEXEC"

# ---- deliveries --------------------------------------------------------------

EP=/idhook.cgi/kayle
sign "$D/s1" --type verification.session.succeeded
S1=$(meta "$D/s1" event_id)
send "$D/s1" "$EP"
expect 200 delivered "suEXEC CGI: Kayle delivery, 200 delivered"
[ "$(runs "$S1")" = 1 ] && ok "the hook ran once" ||
    not_ok "the hook ran $(runs "$S1") times"
u=$(cat "$OUT/$S1.1.uid" 2>/dev/null)
[ "$u" = "$ACCT_UID" ] && ok "the hook ran as the account (uid $u)" ||
    not_ok "the hook ran as uid '$u', want $ACCT_UID ($ACCT)"
check_env "config found in ~/idhook/idhook.conf without IDHOOK_CONFIG (getpwuid)" \
    "$OUT/$S1.1.env" "TEST_FIXED_VAR=from-home-config" "HOME=$HOME_DIR" \
    "IDHOOK_EVENT_ID=$S1" "IDHOOK_ATTEMPT=1"
cmp -s "$OUT/$S1.1.stdin" "$D/s1/plaintext.json" &&
    ok "hook stdin is the decrypted payload" ||
    not_ok "hook stdin differs from the payload"
l=$(suexec_log | grep -F "cmd: idhook.cgi" | head -n 1)
case $l in
*"uid: ($ACCT_UID/$ACCT) gid: ($ACCT_GID/$ACCT)"*)
	ok "suexec.log: idhook.cgi run as $ACCT" ;;
*)	not_ok "no suexec.log line running idhook.cgi as $ACCT: '$l'" ;;
esac

replays_and_forgery "$D/s1" "$EP" "$S1"
send "$D/f1" "$EP"
expect 200 delivered "the genuine one afterwards: 200 delivered"

# ---- mod_fcgid: a FastCGI process of the account ------------------------------

if [ -n "$FCGID_CONF" ]; then
	FEP=/idhook.fcgi/kayle
	send "$D/s1" "$FEP"
	expect 200 duplicate "FastCGI: the event CGI delivered is a duplicate (same store)"
	sign "$D/q1" --type verification.session.cancelled
	Q1=$(meta "$D/q1" event_id)
	send "$D/q1" "$FEP"
	expect 200 delivered "suEXEC FastCGI (mod_fcgid): Kayle delivery, 200 delivered"
	u=$(cat "$OUT/$Q1.1.uid" 2>/dev/null)
	[ "$u" = "$ACCT_UID" ] && ok "FastCGI: the hook ran as the account" ||
	    not_ok "FastCGI: the hook ran as uid '$u', want $ACCT_UID"
	check_env "FastCGI: config found through getpwuid" "$OUT/$Q1.1.env" \
	    "TEST_FIXED_VAR=from-home-config" "IDHOOK_EVENT_ID=$Q1"
	fp=
	for p in $(acct_pids); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$W/idhook.fcgi" ] &&
		    fp="$fp $p"
	done
	[ -n "$fp" ] && ok "a resident idhook.fcgi process runs as $ACCT:$fp" ||
	    not_ok "no idhook.fcgi process of $ACCT (pids of $ACCT: $(acct_pids))"
	send "$D/q1" "$FEP"
	expect 200 duplicate "FastCGI: replay, 200 duplicate"
	resign "$D/q1" "$D/q1-forged" --secret "$SECRET_WRONG"
	send "$D/q1-forged" "$FEP"
	expect 400 invalid_signature "FastCGI: forged delivery, 400 invalid_signature"
	[ "$(runs "$Q1")" = 1 ] && ok "FastCGI: the hook ran once" ||
	    not_ok "FastCGI: the hook ran $(runs "$Q1") times"
	# The 128 KiB FcgidMaxRequestLen default, which .htaccess cannot
	# raise: a document photo of 300 KiB fails there, passes as CGI.
	sign "$D/big" --type verification.session.succeeded --big
	BIG=$(meta "$D/big" event_id)
	send "$D/big" "$FEP"
	[ "$R_CODE" = 500 ] && [ "$(runs "$BIG")" = 0 ] &&
	    grep -q 'exceeds MaxRequestLen' "$T/logs/apache-error.log" &&
	    ok "FastCGI: $(wc -c < "$D/big/body") byte body over mod_fcgid's 128 KiB default: 500 from mod_fcgid" ||
	    not_ok "FastCGI: big body gave $R_CODE (runs $(runs "$BIG")), want mod_fcgid's 500"
	resign "$D/big" "$D/big-cgi"
	send "$D/big-cgi" "$EP"
	expect 200 delivered "the same big delivery as CGI: 200 delivered"
fi

# ---- the LMDB store: the account's, 0600 -------------------------------------

for f in data.mdb lock.mdb; do
	s=$(stat -c '%u %a' "$H/state/$f" 2>/dev/null)
	[ "$s" = "$ACCT_UID 600" ] && ok "~/idhook/state/$f: owner $ACCT, mode 0600" ||
	    not_ok "~/idhook/state/$f: '$s', want '$ACCT_UID 600'"
done
s=$(stat -c '%u %a' "$H/state")
[ "$s" = "$ACCT_UID 700" ] || not_ok "~/idhook/state is now '$s', want '$ACCT_UID 700'"

# ---- nothing secret over HTTP -------------------------------------------------

req /readme.txt
[ "$R_CODE" = 200 ] && [ "$R_BODY" = public-file-marker ] &&
    ok "control: a plain file in the web dir is served (200)" ||
    not_ok "control: GET /readme.txt gave $R_CODE, want 200"
for p in idhook/idhook.conf idhook/kayle.secret idhook/k1.pem \
    idhook/k2.jwk.json idhook/state/data.mdb idhook/state/lock.mdb \
    idhook/error.log .htaccess; do
	req "/$p"
	if [ "$R_CODE" = 403 ] && ! grep -Fq -e whsec_ -e PRIVATE -e '"d"' "$R_FILE"; then
		ok "GET /$p (mode 0644): 403"
	else
		not_ok "GET /$p: $R_CODE, want 403"
	fi
done
req /idhook/
[ "$R_CODE" = 403 ] && ok "directory listing refused (Options -Indexes): 403" ||
    not_ok "GET /idhook/: $R_CODE, want 403"
req /idhook.cgi
case $R_CODE in
405) ok "GET /idhook.cgi runs it (405), never serves the binary" ;;
*) not_ok "GET /idhook.cgi: $R_CODE, want 405" ;;
esac

# ---- suEXEC's rules are really enforced ----------------------------------------

chmod 0775 "$W/idhook.cgi"
sign "$D/w1" --type verification.session.expired
send "$D/w1" "$EP"
chmod 0755 "$W/idhook.cgi" "$W/idhook.fcgi"
if [ "$R_CODE" = 500 ] && [ "$(runs "$(meta "$D/w1" event_id)")" = 0 ] &&
    wait_for 2 sh -c "tail -n +$((SXL0 + 1)) '$SUEXEC_LOG' | grep -q 'file is writable by others: ($W/idhook.cgi)'"; then
	ok "group-writable idhook.cgi: suEXEC refuses (500, 'file is writable by others')"
else
	not_ok "group-writable idhook.cgi: got $R_CODE; suexec.log: $(suexec_log | tail -n 1)"
fi

stop_lighttpd
wait_for 3 acct_gone && ok "no process of $ACCT left after Apache stopped" ||
    not_ok "processes of $ACCT left after Apache stopped: $(acct_pids)"
t_done
