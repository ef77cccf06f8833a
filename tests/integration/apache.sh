#!/bin/sh
# Integration test: idhook behind a real Apache 2.4, configured with the
# files of contrib/apache/ as shipped (only their paths and URLs moved into
# the temp dir), in one apache2 -f ... -DFOREGROUND run as nobody when root:
#  (a) mod_fcgid at /fcgid (idhook-fcgid.conf): FcgidMaxRequestLen raised
#      above max_body, so the 300 KiB photo event passes; a second port
#      whose vhost keeps mod_fcgid's default 128 KiB shows why (500);
#  (b) plain CGI through ScriptAlias + mod_cgid at /cgi (idhook-cgi.conf),
#      incl. chunked bodies, which reach the CGI with no CONTENT_LENGTH;
#  (c) mod_proxy_fcgi at /proxy/ to idhook under spawn-fcgi on a Unix
#      socket of mode 0660 (idhook-proxy-fcgi.conf).
# Each path: delivery, replay and resend (duplicate, hook ran once), forged
# (400), X_Kayle_Signature (Apache drops underscore headers), big and
# chunked bodies, max_body+1 (413), GET (405); and no config, secret, key
# or LMDB file can be fetched over HTTP.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need apache2 "apt-get install apache2"
t_need spawn-fcgi "apt-get install spawn-fcgi"
if [ ! -f /usr/lib/apache2/modules/mod_fcgid.so ]; then
	[ "${CI:-}" = true ] &&
	    { echo "not ok - mod_fcgid not installed (apt-get install libapache2-mod-fcgid); CI=true, so this fails"; exit 1; }
	t_skip "mod_fcgid not installed (apt-get install libapache2-mod-fcgid)"
fi
MAX_BODY=1048576	# idhook's default, which the contrib files are sized for
t_init apache
trap apache_cleanup EXIT
t_keys
t_hooks
CONF=$T/idhook.conf
t_config "$CONF"
D=$T/d
OUT=$T/out
# The lib's copies in www/ are not used: www/ is a plain DocumentRoot.
rm -f "$T/www/idhook.fcgi" "$T/www/idhook.cgi"
echo "it works" > "$T/www/index.html"
for p in fcgid cgi proxy; do
	mkdir -p "$T/$p"
	cp "$IDHOOK" "$T/$p/idhook"
	chmod 755 "$T/$p/idhook"
done
# A shell CGI that shows what Apache hands a CGI program.
mkdir -p "$T/probe"
cat > "$T/probe/probe.cgi" <<'PROBE'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "CONTENT_LENGTH=${CONTENT_LENGTH-unset}"
echo "HTTP_TRANSFER_ENCODING=${HTTP_TRANSFER_ENCODING-unset}"
echo "body=$(wc -c | tr -d ' ')"
# The environ as exec'd (the shell would fold a name given twice).
echo "sigvars=$(tr '\0' '\n' < /proc/$$/environ | grep -c '^HTTP_X_KAYLE_SIGNATURE=')"
PROBE
chmod 755 "$T/probe/probe.cgi"

SOCK=$T/run/idhook.sock
HC=$T/httpd.conf
apache_conf "$HC"
PORT2=$(free_port)
{
	contrib_apache idhook-fcgid.conf /fcgid "$T/fcgid/idhook"
	contrib_apache idhook-cgi.conf /cgi "$T/cgi/idhook"
	contrib_apache idhook-proxy-fcgi.conf /proxy "$T/proxy/idhook" "$SOCK"
	cat <<ACONF
ScriptAlias /probe "$T/probe/probe.cgi"
<Directory "$T/probe">
	Require all granted
</Directory>
# mod_fcgid's default request length, to show what the raised one is for.
Listen 127.0.0.1:$PORT2
<VirtualHost 127.0.0.1:$PORT2>
	FcgidMaxRequestLen 131072
</VirtualHost>
ACONF
} >> "$HC"
t_own "$T/run"
start_spawn_fcgi "$SOCK" "$T/proxy/idhook"
start_apache "$HC"
[ "$(stat -c %a "$SOCK")" = 660 ] && ok "spawn-fcgi socket has mode 0660" ||
    not_ok "spawn-fcgi socket mode $(stat -c %a "$SOCK"), want 660"

MAXB=$MAX_BODY
mkdir -p "$D/over"
"$PY" -c 'import sys; sys.stdout.write("A" * int(sys.argv[1]))' $((MAXB + 1)) > "$D/over/body"
printf 'type=\nevent_id=\ndelivery_id=\n' > "$D/over/meta"
resign "$D/over" "$D/over"

# path_checks NAME URL: the checks every Apache path must pass.
path_checks() {
	n=$1
	ep=$2
	sign "$D/$n" --type verification.session.succeeded || return
	id=$(meta "$D/$n" event_id)
	send "$D/$n" "$ep"
	expect 200 delivered "$n: valid delivery: 200 delivered"
	[ "$(runs "$id")" = 1 ] && ok "$n: hook ran once" ||
	    not_ok "$n: hook ran $(runs "$id") times, want 1"
	cmp -s "$OUT/$id.1.stdin" "$D/$n/plaintext.json" &&
	    ok "$n: hook stdin is the payload" ||
	    not_ok "$n: hook stdin differs from the payload"
	[ "$(cat "$OUT/$id.1.uid" 2>/dev/null)" = "$(id -u "$T_USER")" ] &&
	    ok "$n: hook runs as $T_USER" ||
	    not_ok "$n: hook uid '$(cat "$OUT/$id.1.uid" 2>/dev/null)'"
	env_names_ok "$OUT/$id.1.env" && ok "$n: hook env has only contract names" ||
	    not_ok "$n: hook env has extra names: $ENV_WHY"
	send "$D/$n" "$ep"
	expect 200 duplicate "$n: replay: 200 duplicate"
	resign "$D/$n" "$D/$n-resend"
	send "$D/$n-resend" "$ep"
	expect 200 duplicate "$n: sender's resend: 200 duplicate"
	[ "$(runs "$id")" = 1 ] && ok "$n: duplicates did not run the hook" ||
	    not_ok "$n: hook ran $(runs "$id") times after duplicates"

	sign "$D/$n-f" --type verification.session.cancelled || return
	fid=$(meta "$D/$n-f" event_id)
	resign "$D/$n-f" "$D/$n-forged" --secret "$SECRET_WRONG"
	send "$D/$n-forged" "$ep"
	expect 400 invalid_signature "$n: wrong secret: 400"
	# Only the underscore form: Apache drops it, so there is no signature.
	mkdir -p "$D/$n-us"
	cp "$D/$n-f/body" "$D/$n-us/"
	grep -v '^X-Kayle-Signature:' "$D/$n-f/headers" > "$D/$n-us/headers"
	send "$D/$n-us" "$ep" -H "X_Kayle_Signature: $(meta "$D/$n-f" sig)"
	expect 400 invalid_signature "$n: only X_Kayle_Signature (dropped by Apache): 400"
	[ "$(runs "$fid")" = 0 ] && ok "$n: no hook ran for the rejected deliveries" ||
	    not_ok "$n: a hook ran for a rejected delivery"
	# Both forms: lighttpd passes both (idhook: 400, signature twice);
	# Apache drops X_Kayle_Signature, so idhook sees one and accepts.
	send "$D/$n-f" "$ep" -H "X_Kayle_Signature: $(meta "$D/$n-f" sig)"
	expect 200 delivered "$n: X-Kayle-Signature + X_Kayle_Signature: Apache drops the underscore one, 200 delivered"

	sign "$D/$n-big" --big || return
	bid=$(meta "$D/$n-big" event_id)
	send "$D/$n-big" "$ep"
	expect 200 delivered "$n: 300 KiB photo event ($(wc -c < "$D/$n-big/body") bytes): 200 delivered"
	cmp -s "$OUT/$bid.1.stdin" "$D/$n-big/plaintext.json" &&
	    ok "$n: big event: hook stdin is the whole payload" ||
	    not_ok "$n: big event: hook stdin differs from the payload"

	sign "$D/$n-ch" --type verification.session.failed || return
	cid=$(meta "$D/$n-ch" event_id)
	send "$D/$n-ch" "$ep" -H 'Transfer-Encoding: chunked'
	expect 200 delivered "$n: chunked request body: 200 delivered"
	[ "$(runs "$cid")" = 1 ] &&
	    cmp -s "$OUT/$cid.1.stdin" "$D/$n-ch/plaintext.json" &&
	    ok "$n: chunked: hook ran once with the whole payload" ||
	    not_ok "$n: chunked: hook ran $(runs "$cid") times or stdin differs"

	send "$D/over" "$ep"
	expect 413 too_large "$n: body of max_body+1 bytes: idhook's 413 (not the server's 500)"
	send "$D/over" "$ep" -H 'Transfer-Encoding: chunked'
	expect 413 too_large "$n: chunked body of max_body+1 bytes: 413"
	req "$ep"
	expect 405 method_not_allowed "$n: GET: 405"
	# Answers given before the body is read, with a body that does not
	# fit a socket buffer: the server must still deliver them whole
	# (mod_cgid loses the answer of a CGI that exits with unread stdin).
	send "$D/$n-big" "$ep" -X PUT
	expect 405 method_not_allowed "$n: PUT with a 500 KiB body: 405"
	send "$D/$n-big" "${ep%/kayle}/nope"
	expect 404 not_found "$n: unknown endpoint, 500 KiB body: 404"
}

# ---- what Apache gives a CGI (the probe) --------------------------------------

sign "$D/probe" --type verification.session.expired
req /probe -H 'Expect:' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$D/probe/body"
bl=$(wc -c < "$D/probe/body" | tr -d ' ')
if [ "$R_CODE" = 200 ] && printf '%s\n' "$R_BODY" | grep -qx 'CONTENT_LENGTH=unset' &&
    printf '%s\n' "$R_BODY" | grep -qx 'HTTP_TRANSFER_ENCODING=chunked' &&
    printf '%s\n' "$R_BODY" | grep -qx "body=$bl"; then
	ok "mod_cgid: a chunked body reaches a CGI with no CONTENT_LENGTH ($bl bytes on stdin)"
else
	not_ok "mod_cgid chunked probe: $R_CODE $(printf %s "$R_BODY" | tr '\n' ' ')"
fi
req /probe -H "X-Kayle-Signature: t=1,v1=aa" -H "X_Kayle_Signature: t=2,v1=bb"
printf '%s\n' "$R_BODY" | grep -qx 'sigvars=1' &&
    ok "Apache passes one HTTP_X_KAYLE_SIGNATURE for X-Kayle-Signature + X_Kayle_Signature" ||
    not_ok "underscore probe: $R_CODE $(printf %s "$R_BODY" | tr '\n' ' ')"
req /probe -H "X_Kayle_Signature: t=2,v1=bb"
printf '%s\n' "$R_BODY" | grep -qx 'sigvars=0' &&
    ok "Apache passes no HTTP_X_KAYLE_SIGNATURE for X_Kayle_Signature alone" ||
    not_ok "underscore-only probe: $R_CODE $(printf %s "$R_BODY" | tr '\n' ' ')"

# ---- (a) mod_fcgid, (b) CGI, (c) mod_proxy_fcgi ----------------------------------

path_checks fcgid /fcgid/kayle
path_checks cgi /cgi/kayle
path_checks proxy /proxy/kayle

# mod_fcgid's default FcgidMaxRequestLen (the vhost on PORT2) refuses the
# photo event before idhook sees it: what the contrib file's value is for.
sign "$D/small-fcgid" --big || true
sid=$(meta "$D/small-fcgid" event_id)
URL1=$URL
URL=http://127.0.0.1:$PORT2
send "$D/small-fcgid" /fcgid/kayle
URL=$URL1
[ "$R_CODE" = 500 ] && [ "$(runs "$sid")" = 0 ] &&
    ok "mod_fcgid with its default FcgidMaxRequestLen (128 KiB): the photo event gets 500, idhook never sees it" ||
    not_ok "default FcgidMaxRequestLen: got $R_CODE, hook ran $(runs "$sid") times; want 500 and 0"
grep -q 'exceeds MaxRequestLen' "$T/logs/apache-error.log" &&
    ok "Apache logs 'exceeds MaxRequestLen'" ||
    not_ok "no 'exceeds MaxRequestLen' in the Apache error log"
grep -q '"POST /cgi/kayle HTTP/1.1" 200 [0-9]* te=chunked' "$T/logs/apache-access.log" &&
    ok "access log: the chunked CGI delivery arrived chunked" ||
    not_ok "no chunked CGI delivery in the access log"

# ---- no secret file over HTTP ------------------------------------------------------

t_own "$T/state"
ls "$T/state"/*.mdb > /dev/null 2>&1 || not_ok "no LMDB files in $T/state"
secret_urls=
for f in idhook.conf keys/kayle.secret keys/k1.pem keys/k2.jwk.json \
    state/data.mdb state/lock.mdb; do
	for u in "/$f" "/../$f" "/fcgid/../$f" "/cgi/../$f" "/proxy/../$f" \
	    "/%2e%2e/$f" "/$T/$f" "/fcgid/$f" "/cgi/$f" "/proxy/$f"; do
		req "$u" --path-as-is
		case $R_CODE in
		200) secret_urls="$secret_urls $u" ;;
		esac
		grep -Fq -e whsec_ -e "$KEY_LINE" -e '[endpoint' "$R_FILE" &&
		    secret_urls="$secret_urls $u(content)"
	done
done
[ -z "$secret_urls" ] &&
    ok "no config, secret, key or LMDB file fetched (60 GETs, none 200, none with content)" ||
    not_ok "fetched over HTTP:$secret_urls"
req /index.html
[ "$R_CODE" = 200 ] && ok "the DocumentRoot itself is served (the GETs above were real)" ||
    not_ok "GET /index.html: $R_CODE"

# ---- logs, shutdown ------------------------------------------------------------------

no_leaks "logs hold no claim value, secret or key material" \
    "$(jval "$D/fcgid/plaintext.json" data.claims.family_name)" \
    "$(jval "$D/cgi/plaintext.json" data.claims.family_name)" \
    "$SECRET" "$SECRET_OLD" whsec_ "$KEY_LINE"
all_logs | grep -q 'result=delivered' && ok "idhook's log lines reach the logs" ||
    not_ok "no result=delivered line in the logs"

stop_apache
stop_spawn_fcgi
left() { [ -z "$(pgrep -f "$T/" 2>/dev/null)" ]; }
wait_for 5 left && ok "apache2, mod_fcgid's and spawn-fcgi's idhook all stopped" ||
    not_ok "still running: $(pgrep -af "$T/" | cut -c1-100 | tr '\n' ';')"
t_done
