#!/bin/sh
# contrib/demo.sh: idhook from nothing to hooks running, in one go.
#
# Installs what is missing (Debian 12), builds idhook, starts a real
# lighttpd on 127.0.0.1 (random port) with idhook as its FastCGI program,
# and plays three senders at three endpoints of one config: Kayle ID
# (signed, encrypted deliveries of each event type, a replay, a resend, a
# forgery, a tampered body, a failing hook retried), Verifa, a Standard
# Webhooks sender, and an endpoint in queue mode whose slow hook runs
# after the answer.  The senders are tests/tools/kayle_sign.py (Python
# `cryptography`) and tests/tools/webhook_sign.py (Python hmac), written
# independently of idhook's C code.
#
# Everything lives in a temporary directory that is printed at the end;
# lighttpd is stopped when the demo ends.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Dependencies and build"
sh contrib/deps.sh demo
build=$top/build-demo
if [ ! -x "$build/idhook" ] || [ -n "$(find src -newer "$build/idhook" 2>/dev/null)" ]; then
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q && make -s -j"$(nproc)")
fi
"$build/idhook" --version

PY=/usr/bin/python3
SIGN="$PY $top/tests/tools/kayle_sign.py"
WSIGN="$PY $top/tests/tools/webhook_sign.py"
PATH=$PATH:/usr/sbin:/sbin
T=$(mktemp -d /tmp/idhook-demo.XXXXXX)
chmod 755 "$T"
LPID=
cleanup() {
	if [ -n "$LPID" ]; then
		kill -TERM "$LPID" 2>/dev/null || true
		i=0
		while kill -0 "$LPID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
	fi
}
trap cleanup EXIT INT TERM

say "2. A config with four endpoints, secrets, a key pair and hooks in $T"
mkdir -p "$T/etc/hooks" "$T/state" "$T/www" "$T/run" "$T/logs" "$T/out"
# Queued payloads are personal data: the state dir is the server's alone.
chmod 700 "$T/state"
cp "$build/idhook" "$T/www/idhook"
# The signing secret: what Kayle shows in its dashboard.
printf 'whsec_%s\n' "$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-32)" \
    > "$T/etc/kayle.secret"
chmod 600 "$T/etc/kayle.secret"
# The decryption key: its public JWK is what you register with Kayle.
$SIGN keygen --kid demo-2026-11 --private "$T/etc/kayle.pem" \
    --public-jwk "$T/etc/kayle.public.jwk.json"
echo "public JWK to register with Kayle:"
cut -c1-100 "$T/etc/kayle.public.jwk.json"; echo " ..."
cat > "$T/etc/idhook.conf" <<CONF
[idhook]
state_dir    = $T/state
hooks_dir    = $T/etc/hooks
hook_timeout = 10
hook_env     = LEDGER=$T/out/ledger.txt

[endpoint kayle]
provider       = kayle
secret_file    = kayle.secret
decryption_key = demo-2026-11:kayle.pem

[endpoint verifa]
provider       = verifa
secret_file    = verifa.secret
hooks_dir      = hooks-verifa

[endpoint billing]
provider       = standard
secret_file    = billing.secret
hooks_dir      = hooks-billing

[endpoint slow]
provider       = verifa
secret_file    = verifa.secret
hooks_dir      = hooks-slow
mode           = queue
max_running    = 2
retry_backoff  = 2s
CONF
# Verifa's secret is used as it is; a Standard Webhooks secret is base64.
printf 'whsec_%s\n' "$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-32)" \
    > "$T/etc/verifa.secret"
printf 'whsec_%s\n' "$(head -c 24 /dev/urandom | base64)" > "$T/etc/billing.secret"
chmod 600 "$T/etc/verifa.secret" "$T/etc/billing.secret"
mkdir -p "$T/etc/hooks-verifa" "$T/etc/hooks-billing" "$T/etc/hooks-slow"
cat > "$T/etc/hooks-slow/session.approved" <<'HOOK'
#!/bin/sh
# A hook that takes its time (a slow CRM API, say).
sleep 3
echo "$(date +%T) QUEUED   approved session=$EVENT_SESSION_ID queued_at=$(date -d @"$IDHOOK_QUEUED_AT" +%T) attempt=$IDHOOK_ATTEMPT" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks-verifa/session.approved" <<'HOOK'
#!/bin/sh
echo "$(date +%T) VERIFA   approved session=$EVENT_SESSION_ID ref=$EVENT_EXTERNAL_REF" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks-verifa/default" <<'HOOK'
#!/bin/sh
echo "$(date +%T) VERIFA   $IDHOOK_EVENT id=$IDHOOK_EVENT_ID" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks-billing/default" <<'HOOK'
#!/bin/sh
echo "$(date +%T) BILLING  $IDHOOK_EVENT message=$IDHOOK_EVENT_ID" >> "$LEDGER"
HOOK
chmod 755 "$T/etc/hooks-verifa/"* "$T/etc/hooks-billing/"* \
    "$T/etc/hooks-slow/"*
cat > "$T/etc/hooks/verification.session.succeeded" <<'HOOK'
#!/bin/sh
# A real hook would mark the customer verified in a database.
echo "$(date +%T) VERIFIED session=$EVENT_METADATA_VERIFICATION_SESSION_ID name=\"$EVENT_DATA_CLAIMS_GIVEN_NAMES $EVENT_DATA_CLAIMS_FAMILY_NAME\" over18=$EVENT_DATA_CLAIMS_AGE_OVER_18 attempt=$IDHOOK_ATTEMPT" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks/verification.session.failed" <<'HOOK'
#!/bin/sh
echo "$(date +%T) FAILED   session=$EVENT_METADATA_VERIFICATION_SESSION_ID code=$EVENT_DATA_FAILURE_CODE" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks/verification.session.cancelled" <<'HOOK'
#!/bin/sh
echo "$(date +%T) CANCELLED session=$EVENT_METADATA_VERIFICATION_SESSION_ID reason=${EVENT_DATA_REASON:-}" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks/verification.attempt.failed" <<'HOOK'
#!/bin/sh
# Pretends the database is down on the first attempt.
if [ "$IDHOOK_ATTEMPT" = 1 ]; then
	echo "database unreachable, try again later" >&2
	exit 1
fi
echo "$(date +%T) FAILED   (older event name) code=$EVENT_DATA_FAILURE_CODE attempt=$IDHOOK_ATTEMPT" >> "$LEDGER"
HOOK
cat > "$T/etc/hooks/default" <<'HOOK'
#!/bin/sh
echo "$(date +%T) OTHER    $IDHOOK_EVENT id=$IDHOOK_EVENT_ID" >> "$LEDGER"
HOOK
chmod 755 "$T/etc/hooks/"*
: > "$T/out/ledger.txt"
chmod 666 "$T/out/ledger.txt"
ls -l "$T/etc" "$T/etc/hooks" | sed 's/^/  /'
echo "config ($T/etc/idhook.conf):"
sed 's/^/  /' "$T/etc/idhook.conf"

say "3. lighttpd on 127.0.0.1 with idhook as FastCGI"
RUNAS=
if [ "$(id -u)" = 0 ]; then
	# The web server and idhook run as an ordinary user, as in production.
	RUNAS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	chown -R nobody:nogroup "$T"
fi
echo "idhook check (config, secret and key files, hooks, state dir):"
"$T/www/idhook" check -c "$T/etc/idhook.conf" | sed 's/^/  /'
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/lighttpd.conf" <<CONF
server.modules       = ( "mod_fastcgi" )
server.bind          = "127.0.0.1"
server.port          = $PORT
server.document-root = "$T/www"
server.errorlog      = "$T/logs/error.log"
server.max-request-size = 2048
fastcgi.server = ( "/idhook" => ((
    "bin-path"        => "$T/www/idhook",
    "socket"          => "$T/run/idhook.sock",
    "max-procs"       => 2,
    "check-local"     => "disable",
    "bin-environment" => ( "IDHOOK_CONFIG" => "$T/etc/idhook.conf" ),
)))
CONF
sed 's/^/  /' "$T/lighttpd.conf"
# In the foreground (-D) lighttpd hands its own stderr to idhook: that is
# where idhook's log lines go, so it is kept in logs/idhook.log.
$RUNAS lighttpd -D -f "$T/lighttpd.conf" 2>>"$T/logs/idhook.log" &
LPID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "lighttpd did not start"; cat "$T/logs/error.log"; exit 1; }
	sleep 0.1
done
URL=http://127.0.0.1:$PORT/idhook/kayle
echo "webhook URL: $URL"

D=$T/deliveries
mkdir -p "$D"
# send NAME [ENDPOINT]: POST delivery $D/NAME as the sender would, print
# the answer.
send() {
	printf '  %-34s -> ' "$1"
	curl -s -o "$D/$1.resp" -w '%{http_code} ' -H @"$D/$1/headers" \
	    --data-binary @"$D/$1/body" "${URL%/kayle}/${2:-kayle}"
	cat "$D/$1.resp"
}
sign() {
	name=$1; shift
	$SIGN sign --secret-file "$T/etc/kayle.secret" \
	    --pubkey "$T/etc/kayle.public.jwk.json" --kid demo-2026-11 \
	    --out "$D/$name" "$@"
}

say "4. Kayle sends one event of each kind"
sign succeeded --type verification.session.succeeded
sign failed --type verification.session.failed
sign expired --type verification.session.expired
sign cancelled --type verification.session.cancelled
for n in succeeded failed expired cancelled; do send $n; done
echo "the hooks wrote (out/ledger.txt):"
sed 's/^/  /' "$T/out/ledger.txt"

say "5. The same event again: a replay and a fresh resend are not run twice"
send succeeded
$SIGN resign --secret-file "$T/etc/kayle.secret" --dir "$D/succeeded" --out "$D/resend"
send resend
echo "ledger still has $(grep -c VERIFIED "$T/out/ledger.txt") VERIFIED line(s)"

say "6. Forgeries are refused before anything is decrypted"
$SIGN sign --secret whsec_not_the_real_secret_000000000000 \
    --pubkey "$T/etc/kayle.public.jwk.json" --kid demo-2026-11 \
    --type verification.session.succeeded --out "$D/forged"
send forged
$SIGN alter --dir "$D/failed" --out "$D/tampered"
send tampered
sign stale --type verification.session.succeeded --t-offset -3600
send stale
printf '  %-34s -> ' "GET"
curl -s -o "$D/get.resp" -w '%{http_code} ' "$URL"; cat "$D/get.resp"
echo "ledger lines after the forgeries: $(wc -l < "$T/out/ledger.txt") (unchanged)"

say "7. A hook that fails is run again when the sender retries"
sign flaky --type verification.attempt.failed
send flaky
echo "  (Kayle retries later with a fresh signature over the same body)"
$SIGN resign --secret-file "$T/etc/kayle.secret" --dir "$D/flaky" --out "$D/flaky-retry"
send flaky-retry
tail -n 1 "$T/out/ledger.txt" | sed 's/^/  ledger: /'

say "8. Verifa and a Standard Webhooks sender at their own endpoints"
echo "  ${URL%/kayle}/verifa and ${URL%/kayle}/billing"
$WSIGN verifa --secret-file "$T/etc/verifa.secret" --type session.approved --out "$D/v-approved"
$WSIGN verifa --secret-file "$T/etc/verifa.secret" --type check.monitoring.new_hits --out "$D/v-hits"
$WSIGN standard --secret-file "$T/etc/billing.secret" --type invoice.paid --out "$D/s-paid"
send v-approved verifa
send v-hits verifa
send s-paid billing
send s-paid billing
$WSIGN verifa --secret whsec_not_the_real_one --type session.approved --out "$D/v-forged"
send v-forged verifa
grep -E 'VERIFA|BILLING' "$T/out/ledger.txt" | sed 's/^/  ledger: /'

say "9. Queue mode: the answer comes at once, the 3 s hook runs afterwards"
echo "  ${URL%/kayle}/slow has mode = queue"
$WSIGN verifa --secret-file "$T/etc/verifa.secret" --type session.approved --out "$D/q-approved"
printf '  %-34s -> ' q-approved
curl -s -o "$D/q.resp" -w '%{http_code} after %{time_total} s ' -H @"$D/q-approved/headers" \
    --data-binary @"$D/q-approved/body" "${URL%/kayle}/slow"
cat "$D/q.resp"
send q-approved slow
echo "  idhook queue list (while the hook runs):"
"$T/www/idhook" queue -c "$T/etc/idhook.conf" list | sed 's/^/    /'
i=0
until grep -q QUEUED "$T/out/ledger.txt" || [ $i -ge 150 ]; do
	sleep 0.1; i=$((i + 1))
done
grep QUEUED "$T/out/ledger.txt" | sed 's/^/  ledger: /'
sleep 0.5
echo "  idhook queue stats (the job is done, its payload deleted):"
"$T/www/idhook" queue -c "$T/etc/idhook.conf" stats | sed 's/^/    /'

say "10. What the operator sees in the error log (no names, no secrets)"
cat "$T/logs/error.log" "$T/logs/idhook.log" 2>/dev/null | grep 'level=' |
    sed -e 's/^.*\(level=\)/  \1/' \
        -e 's/\(evt_live_[a-z0-9]\{6\}\)[a-z0-9]*/\1…/g' \
        -e 's/\(whd_live_[a-z0-9]\{6\}\)[a-z0-9]*/\1…/g'

say "Done"
echo "Everything is in $T (config in etc/, hooks in etc/hooks/, logs in logs/)."
echo "lighttpd is stopped now; run this script again to see it all afresh."
