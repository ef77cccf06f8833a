#!/bin/sh
# Integration test: idhook as a plain CGI program.
#  (b) invoked straight from the shell with a CGI environment, the way
#      Apache mod_cgid runs it (incl. chunked bodies: no CONTENT_LENGTH,
#      body on stdin until EOF), plus config discovery and root handling;
#  (a) behind lighttpd mod_cgi, config via setenv.add-environment.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_init cgi
t_keys
t_hooks
CONF=$T/idhook.conf
t_config "$CONF"
D=$T/d
OUT=$T/out
CGI=$T/www/idhook.cgi
mkdir -p "$T/cgi"

# cgi_run NAME DIR [VAR=value...]: run the CGI copy once with a clean CGI
# environment for delivery DIR (its body on stdin, CONTENT_LENGTH = its
# size, its X-Kayle-* headers as HTTP_*), as the server user.  VAR=value
# adds or overrides; VAR= with no value removes it.  CGI_STDIN=pipe feeds
# the body through a pipe instead of a file; CGI_ARGS are extra argv.
# Sets C_STATUS, C_BODY, C_OUT (raw output), C_ERR (stderr log).
cgi_run() {
	cr_name=$1
	cr_dir=$2
	shift 2
	C_OUT=$T/cgi/$cr_name.out
	C_ERR=$T/logs/cgi-$cr_name.log
	cr_env=$T/cgi/$cr_name.env
	{
		echo "GATEWAY_INTERFACE=CGI/1.1"
		echo "REQUEST_METHOD=POST"
		echo "SERVER_PROTOCOL=HTTP/1.1"
		echo "SERVER_SOFTWARE=idhook-test"
		echo "SERVER_NAME=127.0.0.1"
		echo "REMOTE_ADDR=127.0.0.1"
		echo "SCRIPT_NAME=/cgi-bin/idhook.cgi"
		echo "QUERY_STRING="
		echo "PATH_INFO=/kayle"
		echo "CONTENT_TYPE=application/jose"
		echo "CONTENT_LENGTH=$(wc -c < "$cr_dir/body" | tr -d ' ')"
		echo "IDHOOK_CONFIG=$CONF"
		awk '/^X-Kayle-[A-Za-z-]*: / { i = index($0, ": ")
			n = toupper(substr($0, 1, i - 1)); gsub(/-/, "_", n)
			print "HTTP_" n "=" substr($0, i + 2) }' "$cr_dir/headers"
		for kv in "$@"; do echo "$kv"; done
	} | awk -F= '{ v[$1] = $0; if (!($1 in seen)) { seen[$1] = 1; o[++n] = $1 } }
	    END { for (i = 1; i <= n; i++) if (v[o[i]] != o[i] "=") print v[o[i]] }' \
	    > "$cr_env"
	# Each line is one NAME=value word for env(1) (values hold no newline).
	set --
	while IFS= read -r kv; do set -- "$@" "$kv"; done < "$cr_env"
	if [ "${CGI_STDIN:-file}" = pipe ]; then
		cat "$cr_dir/body" | timeout 30 ${CGI_RUNAS-$RUNAS} env -i "$@" \
		    "$CGI" ${CGI_ARGS:-} > "$C_OUT" 2> "$C_ERR"
	else
		timeout 30 ${CGI_RUNAS-$RUNAS} env -i "$@" "$CGI" ${CGI_ARGS:-} \
		    < "$cr_dir/body" > "$C_OUT" 2> "$C_ERR"
	fi
	C_RC=$?
	C_STATUS=$(tr -d '\r' < "$C_OUT" | awk '/^$/ { exit }
	    tolower($1) == "status:" { print $2 }')
	C_BODY=$(tr -d '\r' < "$C_OUT" | awk 'b { print } /^$/ { b = 1 }')
}

# expect_cgi CODE WORD DESC
expect_cgi() {
	if [ "$C_STATUS" = "$1" ] && [ "$C_BODY" = "{\"status\":\"$2\"}" ]; then
		ok "$3"
	else
		not_ok "$3: expected Status $1 {\"status\":\"$2\"}, got exit $C_RC, Status '$C_STATUS', body '$(printf %s "$C_BODY" | head -c 200)'"
		sed 's/^/#   stderr: /' "$C_ERR" | tail -n 8
	fi
}

hook_checks() {	# DESC EVENT-ID PLAINTEXT
	[ "$(runs "$2")" = 1 ] && ok "$1: hook ran once" ||
	    not_ok "$1: hook ran $(runs "$2") times"
	cmp -s "$OUT/$2.1.stdin" "$3" && ok "$1: hook stdin is the payload" ||
	    not_ok "$1: hook stdin differs from the payload"
	env_names_ok "$OUT/$2.1.env" &&
	    ok "$1: hook env has only contract names (no CGI/HTTP_ variables)" ||
	    not_ok "$1: hook env has extra names: $ENV_WHY"
	fds_ok "$OUT/$2.1.fd" && ok "$1: hook has only fds 0-2" ||
	    not_ok "$1: hook fds: $FD_WHY"
}

# ---- (b) straight from the shell ---------------------------------------------

sign "$D/b1" --type verification.session.succeeded
B1=$(meta "$D/b1" event_id)
cgi_run b1 "$D/b1"
expect_cgi 200 delivered "shell CGI: valid delivery, Status: 200 delivered"
grep -iq '^Content-Type: *application/json' "$C_OUT" &&
    ok "shell CGI: Content-Type: application/json" ||
    not_ok "shell CGI: no Content-Type: application/json header"
hook_checks "shell CGI" "$B1" "$D/b1/plaintext.json"
check_env "shell CGI: IDHOOK_* set, secret-free" "$OUT/$B1.1.env" \
    "IDHOOK_EVENT=verification.session.succeeded" "IDHOOK_EVENT_ID=$B1" \
    "IDHOOK_ATTEMPT=1" "IDHOOK_DELIVERY_ID=$(meta "$D/b1" delivery_id)"
grep -Fq -e whsec_ -e "$SECRET" "$OUT/$B1.1.env" &&
    not_ok "shell CGI: a secret in the hook environment"
cgi_run b1-again "$D/b1"
expect_cgi 200 duplicate "shell CGI: same delivery in a second process: duplicate"

sign "$D/b2" --type verification.session.failed
B2=$(meta "$D/b2" event_id)
CGI_STDIN=pipe
cgi_run b2 "$D/b2" CONTENT_LENGTH= HTTP_TRANSFER_ENCODING=chunked
CGI_STDIN=
expect_cgi 200 delivered "shell CGI without CONTENT_LENGTH (mod_cgid chunked): body read to EOF"
[ "$(runs "$B2")" = 1 ] || not_ok "no CONTENT_LENGTH: hook ran $(runs "$B2") times"
cmp -s "$OUT/$B2.1.stdin" "$D/b2/plaintext.json" ||
    not_ok "no CONTENT_LENGTH: hook stdin differs from the payload"

MAXB=$(sed -n 's/^max_body *= *//p' "$CONF")
mkdir -p "$D/over"
"$PY" -c 'import sys; sys.stdout.write("A" * int(sys.argv[1]))' $((MAXB + 1)) > "$D/over/body"
printf 'type=\nevent_id=\ndelivery_id=\n' > "$D/over/meta"
resign "$D/over" "$D/over"
CGI_STDIN=pipe
cgi_run over-eof "$D/over" CONTENT_LENGTH=
CGI_STDIN=
expect_cgi 413 too_large "shell CGI without CONTENT_LENGTH, body max_body+1: 413"
cgi_run over-cl "$D/over"
expect_cgi 413 too_large "shell CGI with CONTENT_LENGTH max_body+1: 413"

sign "$D/b3" --type verification.session.cancelled
B3=$(meta "$D/b3" event_id)
cgi_run short "$D/b3" CONTENT_LENGTH=$(($(wc -c < "$D/b3/body") + 100))
if [ "$C_STATUS" = 400 ]; then
	ok "shell CGI short body (CONTENT_LENGTH > bytes given): 400 ($C_BODY)"
else
	not_ok "shell CGI short body: expected 400, got '$C_STATUS' '$C_BODY'"
fi
for cl in -5 12x 99999999999999999999999; do
	cgi_run "badcl$cl" "$D/b3" "CONTENT_LENGTH=$cl"
	case $C_STATUS in
	4??) ok "shell CGI CONTENT_LENGTH=$cl: $C_STATUS $C_BODY" ;;
	*) not_ok "shell CGI CONTENT_LENGTH=$cl: want 4xx, got '$C_STATUS' '$C_BODY'" ;;
	esac
done
[ "$(runs "$B3")" = 0 ] || not_ok "a hook ran for a short/garbled body"
cgi_run b3 "$D/b3"
expect_cgi 200 delivered "shell CGI: the same delivery whole afterwards: delivered"

cgi_run get "$D/b3" REQUEST_METHOD=GET CONTENT_LENGTH= CONTENT_TYPE=
expect_cgi 405 method_not_allowed "shell CGI GET: 405"
tr -d '\r' < "$C_OUT" | grep -iq '^Allow: *POST' && ok "shell CGI 405 has Allow: POST" ||
    not_ok "shell CGI 405 without Allow: POST"
cgi_run nope "$D/b3" PATH_INFO=/nope
expect_cgi 404 not_found "shell CGI PATH_INFO=/nope: 404"
resign "$D/b1" "$D/b1-forged" --secret "$SECRET_WRONG"
cgi_run forged "$D/b1-forged"
expect_cgi 400 invalid_signature "shell CGI forged signature: 400"

# A query string without '=' reaches a CGI program as argv words: a
# client must not be able to pick the config ("?-c+/other.conf") or turn
# a delivery into a usage error ("?x").  IDHOOK_CONFIG is used.
sign "$D/c1" --type verification.session.expired
CGI_ARGS="-c $T/no-such.conf"
cgi_run dash-c "$D/c1"
CGI_ARGS=
expect_cgi 200 delivered "shell CGI: argv '-c FILE' from a query string is ignored"
sign "$D/c1b" --type verification.session.expired
CGI_ARGS="check"
cgi_run argv-word "$D/c1b"
CGI_ARGS=
expect_cgi 200 delivered "shell CGI: an argv word from a query string is ignored"
sign "$D/c2" --type verification.session.expired
cp "$CONF" "$T/www/idhook.conf"
cgi_run beside "$D/c2" IDHOOK_CONFIG=
expect_cgi 200 delivered "shell CGI: config found as idhook.conf beside the executable"
rm -f "$T/www/idhook.conf"

# A secret file others can read is refused, naming the fix.
cp "$T/keys/kayle.secret" "$T/keys/loose.secret"
chmod 644 "$T/keys/loose.secret"
t_own "$T/keys/loose.secret"
sed "s|^secret_file .*|secret_file = $T/keys/loose.secret|" "$CONF" > "$T/conf-loose"
sign "$D/c3" --type verification.session.expired
cgi_run loose "$D/c3" IDHOOK_CONFIG="$T/conf-loose"
expect_cgi 503 unavailable "shell CGI: world-readable secret file: 503"
grep -Fq "chmod 600 $T/keys/loose.secret" "$C_ERR" &&
    ok "the error names the file and 'chmod 600 FILE'" ||
    not_ok "no 'chmod 600 $T/keys/loose.secret' in: $(head -c 300 "$C_ERR")"

# ---- broken setups: 500 or 503 and a log line naming the problem -----------
# broken DESC CODE WORD PATTERN EVENT-ID: never 200, no hook, the stderr
# names the problem.
broken() {
	expect_cgi "$2" "$3" "broken setup, $1: $2 $3"
	grep -q -- "$4" "$C_ERR" && ok "broken setup, $1: the log says '$4'" ||
	    not_ok "broken setup, $1: no '$4' in: $(head -c 400 "$C_ERR")"
	[ "$(runs "$5")" = 0 ] || not_ok "broken setup, $1: a hook ran"
}

if [ -n "$RUNAS" ] || [ "$(id -u)" != 0 ]; then
	# Unreadable config (only root could read it; we are not root).
	cp "$CONF" "$T/conf-unreadable"
	chmod 600 "$T/conf-unreadable"
	[ -n "$RUNAS" ] && chown root "$T/conf-unreadable"
	[ -z "$RUNAS" ] && chmod 000 "$T/conf-unreadable"
	sign "$D/b1" --type verification.session.expired
	cgi_run unreadable "$D/b1" IDHOOK_CONFIG="$T/conf-unreadable"
	broken "unreadable config" 503 unavailable \
	    "conf-unreadable: cannot open config: Permission denied" \
	    "$(meta "$D/b1" event_id)"

	# A state dir the server user cannot write.
	mkdir -p "$T/state-ro"
	chmod 555 "$T/state-ro"
	sed "s|^state_dir .*|state_dir    = $T/state-ro|" "$CONF" > "$T/conf-ro"
	sign "$D/b2" --type verification.session.expired
	cgi_run state-ro "$D/b2" IDHOOK_CONFIG="$T/conf-ro"
	broken "state dir not writable" 503 unavailable \
	    "state_dir $T/state-ro: Permission denied" "$(meta "$D/b2" event_id)"
fi

# A hook that is not executable: 500, the log names it, nothing recorded,
# and once it is fixed the sender's retry runs it.
mkdir -p "$T/hooks-noexec"
printf '#!/bin/sh\nexit 0\n' > "$T/hooks-noexec/default"
chmod 644 "$T/hooks-noexec/default"
t_own "$T/hooks-noexec"
t_config "$T/conf-noexec" "$T/hooks-noexec"
sign "$D/b3" --type verification.session.expired
cgi_run noexec "$D/b3" IDHOOK_CONFIG="$T/conf-noexec"
broken "hook not executable" 500 error "hooks-noexec/default" \
    "$(meta "$D/b3" event_id)"
grep -q 'chmod +x' "$C_ERR" && ok "broken setup: the log says chmod +x" ||
    not_ok "broken setup: no 'chmod +x' in: $(head -c 400 "$C_ERR")"
chmod 755 "$T/hooks-noexec/default"
resign "$D/b3" "$D/b3r"
cgi_run noexec-fixed "$D/b3r" IDHOOK_CONFIG="$T/conf-noexec"
expect_cgi 200 delivered "hook made executable: the retry is delivered"

if [ "$(id -u)" = 0 ]; then
	sign "$D/root" --type verification.session.expired
	RID=$(meta "$D/root" event_id)
	CGI_RUNAS=
	cgi_run root "$D/root"
	expect_cgi 503 unavailable "shell CGI as root without user=: 503 refused"
	[ "$(runs "$RID")" = 0 ] || not_ok "as root without user=: a hook ran"
	t_config "$T/conf-user" "$T/hooks" "user = $T_USER"
	cgi_run root-user "$D/root" IDHOOK_CONFIG="$T/conf-user"
	unset CGI_RUNAS
	expect_cgi 200 delivered "shell CGI as root with user=$T_USER: delivered"
	[ "$(cat "$OUT/$RID.1.uid" 2>/dev/null)" = "$(id -u "$T_USER")" ] &&
	    ok "as root with user=: the hook runs as $T_USER" ||
	    not_ok "as root with user=: hook uid '$(cat "$OUT/$RID.1.uid" 2>/dev/null)'"
	rootfiles=$(find "$T/state" -user root | tr '\n' ' ')
	[ -z "$rootfiles" ] && ok "state dir holds no root-owned file" ||
	    not_ok "root-owned files in the state dir: $rootfiles"
fi

# ---- (a) behind lighttpd mod_cgi ----------------------------------------------

if ! command -v lighttpd >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		not_ok "lighttpd not installed (CI=true: required)"
	else
		note "lighttpd not installed: mod_cgi part skipped (apt-get install lighttpd)"
	fi
	t_done
fi
start_lighttpd "$CONF"
EP=/idhook.cgi/kayle

sign "$D/a1" --type verification.session.succeeded
A1=$(meta "$D/a1" event_id)
send "$D/a1" "$EP"
expect 200 delivered "mod_cgi: valid delivery: 200 delivered"
hook_checks "mod_cgi" "$A1" "$D/a1/plaintext.json"
if grep -Fq "$T_LEAK" "$OUT/$A1.1.env" 2>/dev/null; then
	not_ok "mod_cgi: hook inherited lighttpd's environment"
fi
send "$D/a1" "$EP"
expect 200 duplicate "mod_cgi: replay: 200 duplicate"
resign "$D/a1" "$D/a1-forged" --secret "$SECRET_WRONG"
send "$D/a1-forged" "$EP"
expect 400 invalid_signature "mod_cgi: wrong secret: 400"
sign "$D/a2" --type verification.session.cancelled
A2=$(meta "$D/a2" event_id)
send "$D/a2" "$EP" -H "X_Kayle_Signature: $(meta "$D/a2" sig)"
expect 400 invalid_signature "mod_cgi: signature header twice: 400"
send "$D/a2" "$EP"
expect 200 delivered "mod_cgi: then the valid delivery: 200 delivered"
req "$EP"
expect 405 method_not_allowed "mod_cgi: GET: 405"
grep -iq '^Allow: *POST' "$R_HDR" && ok "mod_cgi: 405 carries Allow: POST" ||
    not_ok "mod_cgi: 405 without Allow: POST"
send "$D/a2" /idhook.cgi/nope
expect 404 not_found "mod_cgi: unknown endpoint: 404"
send "$D/over" "$EP"
expect 413 too_large "mod_cgi: max_body+1: 413"
sign "$D/abig" --big
send "$D/abig" "$EP"
expect 200 delivered "mod_cgi: 300 KiB photo event: 200 delivered"

# Ten concurrent CGI processes for one event: LMDB opened by each.
sign "$D/aconc" --type verification.session.expired
ACID=$(meta "$D/aconc" event_id)
echo 1 > "$T/ctl/$ACID.sleep"
send_copies "$D/aconc" "$EP" 10 aconc
[ "$N_DEL" = 1 ] && [ -z "$N_OTHER" ] && [ "$(runs "$ACID")" = 1 ] &&
    ok "mod_cgi: 10 concurrent copies: one delivered, hook ran once" ||
    not_ok "mod_cgi: 10 concurrent: $N_DEL delivered, hook ran $(runs "$ACID") times, other:$N_OTHER"

no_leaks "logs hold no claim value, secret or key material" \
    "$(jval "$D/a1/plaintext.json" data.claims.given_names)" \
    "$(jval "$D/a1/plaintext.json" data.claims.family_name)" \
    "$(jval "$D/a1/plaintext.json" data.claims.date_of_birth)" \
    "$SECRET" "$SECRET_OLD" whsec_ "$KEY_LINE"

t_done
