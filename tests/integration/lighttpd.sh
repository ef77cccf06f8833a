#!/bin/sh
# Integration test: idhook as FastCGI behind a real lighttpd (bin-path,
# max-procs 4) on 127.0.0.1, fed by the independent Kayle sender
# (tests/tools/kayle_sign.py).  Tests the behaviour contract end to end:
# statuses, hooks and their environment, dedup, retries, crashes, reload,
# keys, and that logs hold no secrets or personal data.  A second FastCGI
# program (one process, max-procs 1) serves two sites whose configs come
# per request (setenv.add-environment), for the per-request config rules.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_need lighttpd "apt-get install lighttpd"
t_init lighttpd
# The sender under test must match the real sender's vectors first.
"$PY" "$SIGNER" selftest > /dev/null &&
    ok "kayle_sign.py reproduces the sender's own vectors (tests/vectors/kayle-e2e)" ||
    not_ok "kayle_sign.py selftest failed: the test sender is wrong"
t_keys
t_hooks
CONF=$T/idhook.conf
t_config "$CONF"
# Two sites served by ONE FastCGI process (section 14): two prefixes with
# the same bin-path and socket, max-procs 1, and no bin-environment; each
# site's config comes per request from setenv.add-environment.
cp "$IDHOOK" "$T/www/idhook-sites.fcgi"
chmod 755 "$T/www/idhook-sites.fcgi"
# site_fcgi S: the lighttpd lines of site S.
site_fcgi() {
	cat <<EOF
fastcgi.server += ( "/site$1.fcgi" => ((
	"bin-path" => "$T/www/idhook-sites.fcgi",
	"socket" => "$T/run/sites.sock",
	"check-local" => "disable",
	"max-procs" => 1
)) )
\$HTTP["url"] =~ "^/site$1\\.fcgi" {
	setenv.add-environment = ( "IDHOOK_CONFIG" => "$T/site$1.conf" )
}
EOF
}
LIGHTTPD_EXTRA="$(site_fcgi A)
$(site_fcgi B)"
start_lighttpd "$CONF"
EP=/idhook.fcgi/kayle
D=$T/d
OUT=$T/out

# ---- 1. every event type is delivered and its hook gets the payload ----------

for e in $EVENT_TYPES; do
	s=${e#verification.}
	sign "$D/$s" --type "$e" || continue
	id=$(meta "$D/$s" event_id)
	pt=$D/$s/plaintext.json
	send "$D/$s" "$EP"
	expect 200 delivered "$s: 200 delivered"
	[ "$(runs "$id")" = 1 ] && ok "$s: hook ran once" ||
	    not_ok "$s: hook ran $(runs "$id") times, want 1"
	set -- "IDHOOK_PROVIDER=kayle" "IDHOOK_ENDPOINT=kayle" \
	    "IDHOOK_EVENT=$e" "IDHOOK_EVENT_ID=$id" "IDHOOK_ATTEMPT=1" \
	    "IDHOOK_DELIVERY_ID=$(meta "$D/$s" delivery_id)" \
	    "IDHOOK_TRUNCATED=0" "EVENT_TYPE=$e" "EVENT_METADATA_EVENT_ID=$id" \
	    "EVENT_METADATA_CONTRACT_VERSION=1" \
	    "EVENT_METADATA_VERIFICATION_SESSION_ID=$(jval "$pt" metadata.verification_session_id)"
	case $e in
	verification.attempt.*)
		set -- "$@" "EVENT_METADATA_VERIFICATION_ATTEMPT_ID=$(jval "$pt" metadata.verification_attempt_id)" ;;
	esac
	case $e in
	*.succeeded)
		set -- "$@" \
		    "EVENT_DATA_CLAIMS_GIVEN_NAMES=$(jval "$pt" data.claims.given_names)" \
		    "EVENT_DATA_CLAIMS_FAMILY_NAME=$(jval "$pt" data.claims.family_name)" \
		    "EVENT_DATA_CLAIMS_DATE_OF_BIRTH=$(jval "$pt" data.claims.date_of_birth)" \
		    "EVENT_DATA_CLAIMS_AGE_OVER_18=true" \
		    "EVENT_DATA_CLAIMS_AGE_OVER_65=false" \
		    "EVENT_DATA_CLAIMS_MRZ_OPTIONAL_DATA=" \
		    "EVENT_DATA_CLAIMS_DOCUMENT_PHOTO_FORMAT=jpeg" \
		    "EVENT_DATA_CLAIMS_DOCUMENT_PHOTO_HEIGHT=640" \
		    "EVENT_DATA_CLAIMS_DOCUMENT_PHOTO_DATABASE64=$(jval "$pt" data.claims.document_photo.dataBase64)" \
		    "EVENT_DATA_SELECTED_FIELD_KEYS_0=given_names" \
		    "EVENT_DATA_SELECTED_FIELD_KEYS_4=document_photo" \
		    "EVENT_DATA_SELECTED_FIELD_KEYS_LEN=5" ;;
	*.failed)
		set -- "$@" "EVENT_DATA_FAILURE_CODE=selfie_face_mismatch" \
		    "EVENT_DATA_NFC_TRIES_USED=1" "EVENT_DATA_LIVENESS_TRIES_USED=3" ;;
	*.cancelled)
		set -- "$@" "EVENT_DATA_OUTCOME=not_verified" \
		    "EVENT_DATA_REASON=cancelled_after_failed_check" \
		    "EVENT_DATA_NFC_TRIES_USED=0" "EVENT_DATA_LIVENESS_TRIES_USED=2" ;;
	esac
	check_env "$s: hook environment (IDHOOK_* incl. IDHOOK_TRUNCATED=0, EVENT_*)" \
	    "$OUT/$id.1.env" "$@"
	case $e in
	*.expired)
		if grep -q '^EVENT_DATA_' "$OUT/$id.1.env" 2>/dev/null; then
			not_ok "$s: empty data gives no EVENT_DATA_* ($(grep '^EVENT_DATA_' "$OUT/$id.1.env" | head -3 | tr '\n' ' '))"
		else
			ok "$s: empty data gives no EVENT_DATA_*"
		fi ;;
	esac
	cmp -s "$OUT/$id.1.stdin" "$pt" && ok "$s: hook stdin is the decrypted payload" ||
	    not_ok "$s: hook stdin differs from the payload"
	fds_ok "$OUT/$id.1.fd" && ok "$s: hook has only fds 0-2" ||
	    not_ok "$s: hook fds: $FD_WHY"
done
SUCC=$D/session.succeeded
SUCC_ID=$(meta "$SUCC" event_id)
SUCC_ENV=$OUT/$SUCC_ID.1.env

# ---- 2. the hook environment holds nothing else ------------------------------

if grep -Fq -e "$SECRET" -e "$SECRET_OLD" -e whsec_ "$OUT"/*.env; then
	not_ok "hook env holds a secret: $(grep -Fl -e "$SECRET" -e "$SECRET_OLD" -e whsec_ "$OUT"/*.env | head -3)"
else
	ok "no secret or whsec_ in any hook environment"
fi
env_names_ok "$SUCC_ENV" && ok "hook env has only contract names (no HTTP_/SERVER_/GATEWAY_/CONTENT_/REMOTE_/SCRIPT_, nothing inherited)" ||
    not_ok "hook env has extra names: $ENV_WHY"
if grep -Fq "$T_LEAK" "$SUCC_ENV"; then
	not_ok "hook env inherited lighttpd's environment"
fi
check_env "hook env: PATH, LANG, HOME of the server user, hook_env" "$SUCC_ENV" \
    "PATH=/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8" "HOME=$T_HOME" \
    "TEST_FIXED_VAR=fixed-value-42"
[ "$(cat "$OUT/$SUCC_ID.1.uid")" = "$(id -u "$T_USER")" ] &&
    ok "hook runs as the server user ($T_USER)" ||
    not_ok "hook uid $(cat "$OUT/$SUCC_ID.1.uid"), want $(id -u "$T_USER")"
sign "$D/rot" --type verification.session.expired --secret-index 0
send "$D/rot" "$EP"
expect 200 delivered "secret rotation: the older of two secrets still verifies"

# ---- 3. duplicates --------------------------------------------------------------

send "$SUCC" "$EP"
expect 200 duplicate "replay of the same bytes: 200 duplicate"
resign "$SUCC" "$D/succ-resend"
send "$D/succ-resend" "$EP"
expect 200 duplicate "sender's resend (same body, fresh t and v1): 200 duplicate"
[ "$(runs "$SUCC_ID")" = 1 ] && ok "duplicates did not run the hook again" ||
    not_ok "hook ran $(runs "$SUCC_ID") times for one event"

# ---- 4. bad signatures: 400, no hook, no dedup record -----------------------------

R=$D/rej
sign "$R" --type verification.session.cancelled
RID=$(meta "$R" event_id)
resign "$R" "$R-forged" --secret "$SECRET_WRONG"
"$PY" "$SIGNER" alter --dir "$R" --out "$R-altered"
resign "$R" "$R-stale" --t-offset -400
resign "$R" "$R-future" --t-offset 400
mkdir -p "$R-nosig" "$R-badt"
cp "$R/body" "$R-nosig/"
grep -v '^X-Kayle-Signature:' "$R/headers" > "$R-nosig/headers"
cp "$R/body" "$R-badt/"
V1=$(meta "$R" sig | sed 's/.*v1=//')
{ grep -v '^X-Kayle-Signature:' "$R/headers"
  echo "X-Kayle-Signature: t=now,v1=$V1"; } > "$R-badt/headers"
for v in forged:"wrong secret" altered:"body changed by one byte" \
    stale:"t 400 s old" future:"t 400 s ahead" nosig:"no signature header" \
    badt:"t not a number"; do
	send "$R-${v%%:*}" "$EP"
	expect 400 invalid_signature "rejected: ${v#*:}"
done
send "$R" "$EP" -H "X_Kayle_Signature: $(meta "$R" sig)"
expect 400 invalid_signature "rejected: signature header twice (X-Kayle-Signature and X_Kayle_Signature)"
sign "$D/t290" --type verification.session.expired --t-offset -290
send "$D/t290" "$EP"
expect 200 delivered "t 290 s old (inside tolerance 300): 200 delivered"
[ "$(runs "$RID")" = 0 ] && ok "no hook ran for any rejected delivery" ||
    not_ok "a hook ran for a rejected delivery"
send "$R" "$EP"
expect 200 delivered "the valid delivery after the rejects: 200 delivered (no dedup record)"
[ "$(runs "$RID")" = 1 ] && [ -f "$OUT/$RID.1.env" ] &&
    ok "valid delivery after rejects ran its hook once with IDHOOK_ATTEMPT=1" ||
    not_ok "after rejects: runs=$(runs "$RID"), attempt-1 env $(ls "$OUT/$RID".*.env 2>/dev/null)"

# ---- 5. malformed payloads: 400 invalid_payload ------------------------------------

# raw_body NAME FILE: a delivery whose body is FILE's bytes, validly signed.
raw_body() {
	mkdir -p "$D/$1"
	cp "$2" "$D/$1/body"
	printf 'type=\nevent_id=\ndelivery_id=\n' > "$D/$1/meta"
	resign "$D/$1" "$D/$1"
}
printf 'not-a-jwe' > "$T/garbage"
raw_body garbage "$T/garbage"
send "$D/garbage" "$EP"
expect 400 invalid_payload "signed garbage body: 400 invalid_payload"
printf 'e30.AAAA.AAAA.AA!A.AAAA' > "$T/garbage5"
raw_body garbage5 "$T/garbage5"
send "$D/garbage5" "$EP"
expect 400 invalid_payload "five segments with bad base64url: 400 invalid_payload"
# payload NAME JSON-TEXT: a signed, encrypted delivery of this plaintext.
payload() {
	printf '%s' "$2" > "$T/$1.json"
	sign "$D/$1" --payload "$T/$1.json"
	send "$D/$1" "$EP"
}
EVID=evt_live_$(rand_alnum 64)
payload badtype "{\"type\":\"../../bin/sh\",\"metadata\":{\"event_id\":\"$EVID\"},\"data\":{}}"
expect 400 invalid_payload "event type ../../bin/sh: 400 invalid_payload"
payload spacetype "{\"type\":\"verification session\",\"metadata\":{\"event_id\":\"$EVID\"},\"data\":{}}"
expect 400 invalid_payload "event type with a space: 400 invalid_payload"
payload notjson "this is not json"
expect 400 invalid_payload "plaintext not JSON: 400 invalid_payload"
payload array '["verification.session.expired"]'
expect 400 invalid_payload "plaintext a JSON array: 400 invalid_payload"
payload dupkey "{\"type\":\"verification.session.expired\",\"type\":\"x\",\"metadata\":{\"event_id\":\"$EVID\"},\"data\":{}}"
expect 400 invalid_payload "duplicate JSON key: 400 invalid_payload"
[ "$(runs "$EVID")" = 0 ] && ok "no hook ran for malformed payloads" ||
    not_ok "a hook ran for a malformed payload"
# No event id: dedup falls back to the SHA-256 of the plaintext.
payload noid '{"type":"test.no-event-id","metadata":{"contract_version":1},"data":{"x":1}}'
expect 200 delivered "payload without event_id and without a hook: 200 delivered"
resign "$D/noid" "$D/noid-resend"
send "$D/noid-resend" "$EP"
expect 200 duplicate "its resend: 200 duplicate (dedup by payload hash)"
all_logs | grep -q 'no hook' && ok "log says 'no hook'" ||
    not_ok "no 'no hook' line in the log"

# ---- 6. sizes -------------------------------------------------------------------

MAXB=$(sed -n 's/^max_body *= *//p' "$CONF")
"$PY" -c 'import sys; sys.stdout.write("A" * int(sys.argv[1]))' $((MAXB + 1)) > "$T/over"
raw_body over "$T/over"
send "$D/over" "$EP"
expect 413 too_large "body of max_body+1 bytes (lighttpd allows 1 MiB): 413 too_large"
head -c "$MAXB" "$T/over" > "$T/exact"
raw_body exact "$T/exact"
send "$D/exact" "$EP"
expect 400 invalid_payload "body of exactly max_body bytes is read (400 invalid_payload, not 413)"
sign "$D/big" --big
BID=$(meta "$D/big" event_id)
send "$D/big" "$EP"
expect 200 delivered "succeeded event with a 300 KiB photo ($(wc -c < "$D/big/body") byte body): 200 delivered"
cmp -s "$OUT/$BID.1.stdin" "$D/big/plaintext.json" &&
    ok "big event: hook stdin is the whole payload" ||
    not_ok "big event: hook stdin differs from the payload"
check_env "big event: IDHOOK_TRUNCATED=1 and the other claims still set" \
    "$OUT/$BID.1.env" "IDHOOK_TRUNCATED=1" \
    "EVENT_DATA_CLAIMS_FAMILY_NAME=$(jval "$D/big/plaintext.json" data.claims.family_name)"
if grep -q '^EVENT_DATA_CLAIMS_DOCUMENT_PHOTO_DATABASE64=' "$OUT/$BID.1.env" 2>/dev/null; then
	not_ok "big event: the 400 KiB photo value was put in the environment"
else
	ok "big event: the photo (> 32 KiB) left out of the environment"
fi

sign "$D/big2" --big --type verification.attempt.succeeded
: > "$T/ctl/$(meta "$D/big2" event_id).nostdin"
send "$D/big2" "$EP"
expect 200 delivered "big event, hook exits 0 without reading stdin: 200 delivered"

# ---- 6b. IDHOOK_TRUNCATED: the variable-count and value-size caps -----------------

# gen_payload FILE ID KIND N: a plaintext for --payload; KIND keys: data
# has N keys "aI":[1] (two variables each, EVENT_DATA_AI_0 and _LEN);
# KIND long: data.edge is N bytes, data.over N+1, data.small short.
gen_payload() {
	"$PY" -c 'import json, sys
f, eid, kind, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "keys":
    d = {"a%d" % i: [1] for i in range(n)}
else:
    d = {"edge": "e" * n, "over": "o" * (n + 1), "small": "s"}
p = {"type": "verification.session.expired",
     "metadata": {"event_id": eid, "contract_version": 1}, "data": d}
open(f, "w").write(json.dumps(p, separators=(",", ":")))' "$@"
}

# trunc_send NAME KIND N: sends it; sets TID, TENV.
trunc_send() {
	TID=evt_live_$1_$(rand_alnum 24)
	TENV=$OUT/$TID.1.env
	gen_payload "$T/$1.json" "$TID" "$2" "$3"
	sign "$D/$1" --payload "$T/$1.json" &&
	    send "$D/$1" "$EP"
}

if ENV_CAP=$(bound ENV_COUNT_MAX) && VAL_CAP=$(bound ENV_VALUE_MAX); then
	n=$((ENV_CAP / 2 - 100))	# 2n variables: well under the cap
	trunc_send keysunder keys "$n"
	expect 200 delivered "$n keys of one-element arrays ($((2 * n)) variables): 200 delivered"
	check_env "$((2 * n)) variables (under ENV_COUNT_MAX $ENV_CAP): all set, IDHOOK_TRUNCATED=0" \
	    "$TENV" "IDHOOK_TRUNCATED=0" "EVENT_DATA_A0_0=1" \
	    "EVENT_DATA_A$((n - 1))_0=1" "EVENT_DATA_A$((n - 1))_LEN=1"
	n=$((ENV_CAP / 2 + 30))	# 2n variables: over the cap
	trunc_send keysover keys "$n"
	expect 200 delivered "$n keys of one-element arrays ($((2 * n)) variables): 200 delivered"
	check_env "$((2 * n)) variables (over ENV_COUNT_MAX $ENV_CAP): IDHOOK_TRUNCATED=1" \
	    "$TENV" "IDHOOK_TRUNCATED=1" "IDHOOK_EVENT_ID=$TID" \
	    "EVENT_TYPE=verification.session.expired"
	c=$(grep -c '^EVENT_DATA_A[0-9]*_' "$TENV" 2>/dev/null)
	[ "${c:-0}" -gt 0 ] && [ "$c" -lt $((2 * n)) ] && [ "$c" -le "$ENV_CAP" ] &&
	    ok "over the cap: $c of $((2 * n)) EVENT_DATA_A* variables set (<= $ENV_CAP)" ||
	    not_ok "over the cap: '$c' of $((2 * n)) EVENT_DATA_A* variables set, want 1..$ENV_CAP"
	cmp -s "$OUT/$TID.1.stdin" "$T/keysover.json" &&
	    ok "over the cap: hook stdin is the whole payload" ||
	    not_ok "over the cap: hook stdin differs from the payload"

	trunc_send longval long "$VAL_CAP"
	expect 200 delivered "values of $VAL_CAP and $((VAL_CAP + 1)) bytes: 200 delivered"
	check_env "a value over ENV_VALUE_MAX: IDHOOK_TRUNCATED=1, the others set" \
	    "$TENV" "IDHOOK_TRUNCATED=1" "EVENT_DATA_SMALL=s"
	c=$(awk '/^EVENT_DATA_EDGE=e*$/ { print length($0) - 16 }' "$TENV" 2>/dev/null)
	[ "$c" = "$VAL_CAP" ] &&
	    ok "a value of exactly ENV_VALUE_MAX ($VAL_CAP) bytes is set whole" ||
	    not_ok "EVENT_DATA_EDGE: '$c' bytes, want $VAL_CAP"
	if grep -q '^EVENT_DATA_OVER=' "$TENV" 2>/dev/null; then
		not_ok "the $((VAL_CAP + 1))-byte value was put in the environment"
	else
		ok "the $((VAL_CAP + 1))-byte value left out of the environment"
	fi
	cmp -s "$OUT/$TID.1.stdin" "$T/longval.json" &&
	    ok "a value over ENV_VALUE_MAX: hook stdin is the whole payload" ||
	    not_ok "a value over ENV_VALUE_MAX: hook stdin differs from the payload"
else
	not_ok "ENV_COUNT_MAX/ENV_VALUE_MAX not read from src/bounds.h"
fi

# ---- 7. method and endpoint ---------------------------------------------------------

req "$EP"
expect 405 method_not_allowed "GET: 405 method_not_allowed"
grep -iq '^Allow: *POST' "$R_HDR" && ok "405 carries Allow: POST" ||
    not_ok "405 without Allow: POST ($(tr -d '\r' < "$R_HDR" | tr '\n' '|'))"
sign "$D/nope" --type verification.session.expired
send "$D/nope" /idhook.fcgi/nope
expect 404 not_found "unknown endpoint /nope: 404 not_found"
send "$D/nope" /idhook.fcgi
expect 200 delivered "empty PATH_INFO selects the only endpoint: 200 delivered"
grep -iq '^Content-Type: *application/json' "$R_HDR" &&
    ok "responses are Content-Type: application/json" ||
    not_ok "Content-Type not application/json ($(grep -i '^Content-Type' "$R_HDR"))"

# ---- 8. a failing hook, then the sender's retry ------------------------------------------

sign "$D/fail" --type verification.session.failed
FID=$(meta "$D/fail" event_id)
: > "$T/ctl/$FID.fail1"
send "$D/fail" "$EP"
expect 500 hook_failed "hook exits 1: 500 hook_failed"
resign "$D/fail" "$D/fail-retry"
send "$D/fail-retry" "$EP"
expect 200 delivered "retry after a failed hook: 200 delivered"
check_env "retry ran the hook with IDHOOK_ATTEMPT=2" "$OUT/$FID.2.env" "IDHOOK_ATTEMPT=2"
send "$D/fail-retry" "$EP"
expect 200 duplicate "and once done: 200 duplicate"

# ---- 9. hook timeout: TERM to the process group ---------------------------------

sign "$D/hang" --type verification.session.expired
HID=$(meta "$D/hang" event_id)
echo 30 > "$T/ctl/$HID.sleep1"
t0=$(date +%s)
send "$D/hang" "$EP"
t1=$(date +%s)
expect 500 hook_failed "hook sleeping past hook_timeout=3: 500 hook_failed after $((t1 - t0)) s"
[ $((t1 - t0)) -le 8 ] || not_ok "timeout took $((t1 - t0)) s (hook_timeout 3 + grace 2)"
SP=$(cat "$OUT/$HID.1.sleeppid" 2>/dev/null)
if [ -n "$SP" ] && wait_for 4 gone "$SP"; then
	ok "the hook's child (sleep) was killed with its process group"
else
	not_ok "hook child pid '$SP' still alive after the timeout"
fi
resign "$D/hang" "$D/hang-retry"
send "$D/hang-retry" "$EP"
expect 200 delivered "retry after a timed-out hook: 200 delivered"

# ---- 10. twenty concurrent copies of one event --------------------------------------

sign "$D/conc" --type verification.session.succeeded
CID=$(meta "$D/conc" event_id)
echo 1 > "$T/ctl/$CID.sleep"
send_copies "$D/conc" "$EP" 20 conc
[ "$N_DEL" = 1 ] && [ -z "$N_OTHER" ] &&
    ok "20 concurrent copies: 1 delivered, $N_DUP duplicate, $N_409 in_progress" ||
    not_ok "20 concurrent copies: $N_DEL delivered, $N_DUP duplicate, $N_409 in_progress, other:$N_OTHER"
[ "$(runs "$CID")" = 1 ] && ok "20 concurrent copies: hook ran exactly once" ||
    not_ok "20 concurrent copies: hook ran $(runs "$CID") times"

# ---- 11. idhook SIGKILLed while its hook runs -----------------------------------------

# new_backend: an idhook backend runs that is not one of $victims.
new_backend() {
	for p in $(idhook_pids); do
		case " $victims " in *" $p "*) ;; *) return 0 ;; esac
	done
	return 1
}

sign "$D/kill" --type verification.attempt.succeeded
KID=$(meta "$D/kill" event_id)
echo 30 > "$T/ctl/$KID.sleep1"
send_bg "$D/kill" "$EP" kill
KCURL=$BG_PID
if wait_for 10 test -s "$OUT/$KID.1.sleeppid"; then
	g=$(cat "$OUT/$KID.1.pid")
	pg=$(ps -o pgid= -p "$g" 2>/dev/null | tr -d ' ')
	[ "$pg" = "$g" ] && ok "the hook leads its own process group" ||
	    not_ok "hook pid $g is in process group '$pg'"
	victims=$(idhook_pids)
	note "SIGKILL to idhook FastCGI pids: $victims"
	kill -KILL $victims 2>/dev/null
	# The orphan would run on beside the retry's run: it must get
	# SIGTERM (PR_SET_PDEATHSIG) and end without our help.
	wait_for 3 dead "$g" &&
	    ok "the orphaned hook (sleeping 30 s) ended by itself when idhook died" ||
	    not_ok "the orphaned hook $g still runs 3 s after idhook was SIGKILLed"
	wait "$KCURL" 2>/dev/null || true
	c=$(cat "$T/resp/kill.code")
	case $c in
	5??) ok "request whose idhook was SIGKILLed: $c" ;;
	*) not_ok "request whose idhook was SIGKILLed: got '$c', want 5xx" ;;
	esac
	if wait_for 5 new_backend; then
		note "lighttpd respawned backends on its own: $(idhook_pids)"
	else
		note "lighttpd did not respawn within 5 s (pids now: $(idhook_pids)); it restarts on the next request"
	fi
	resign "$D/kill" "$D/kill-retry"
	send "$D/kill-retry" "$EP"
	expect 200 delivered "retry after the SIGKILL: 200 delivered (dead 'running' record taken over)"
	check_env "retry after SIGKILL ran the hook with IDHOOK_ATTEMPT=2" \
	    "$OUT/$KID.2.env" "IDHOOK_ATTEMPT=2"
	[ -n "$(idhook_pids)" ] && ok "FastCGI backends running again: $(idhook_pids)" ||
	    not_ok "no idhook backend running after the retry"
	# The hook's own child (sleep) got no signal: clean up the group.
	kill -KILL -- "-$g" 2>/dev/null
else
	not_ok "SIGKILL test: the hook never started ($R_CODE)"
fi

# ---- 12. keys: kid lookup, try-all, JWK file, missing key -------------------------------

sign "$D/kid-unknown" --type verification.session.expired --kid not-a-known-kid
send "$D/kid-unknown" "$EP"
expect 200 delivered "unknown kid, right key configured as k1: try-all decrypts"
sign "$D/kid-k2" --type verification.session.cancelled --kid k2 --pubkey "$T/keys/k2.pub.json"
send "$D/kid-k2" "$EP"
expect 200 delivered "kid k2: key from a private JWK file decrypts"
sign "$D/nokid" --type verification.session.expired --no-kid --pubkey "$T/keys/k2.pub.json"
send "$D/nokid" "$EP"
expect 200 delivered "no kid (JWK-file key): try-all decrypts"
sign "$D/k3" --type verification.session.failed --kid kid-absent-3 --pubkey "$T/keys/k3.pub.json"
K3ID=$(meta "$D/k3" event_id)
send "$D/k3" "$EP"
expect 500 error "JWE to a key we don't have: 500 error"
all_logs | grep -Fq 'kid-absent-3' &&
    ok "the log names the missing kid" ||
    not_ok "the log does not name kid-absent-3"
[ "$(runs "$K3ID")" = 0 ] && ok "no hook ran for the undecryptable delivery" ||
    not_ok "a hook ran for an undecryptable delivery"

# ---- 13. config reload: new hooks_dir and the missing key added ----------------------

chmod 600 "$T/keys/k3.pem"
t_own "$T/keys/k3.pem"
t_config "$T/conf.new" "$T/hooksB" "" "decryption_key = kid-absent-3:$T/keys/k3.pem"
replace_config "$CONF" "$T/conf.new"
resign "$D/k3" "$D/k3-retry"
send "$D/k3-retry" "$EP"
expect 200 delivered "after adding the key (reload): the sender's retry is delivered"
[ "$(runs_tag "$K3ID")" = "B " ] && ok "reloaded config: hook from the new hooks_dir (default)" ||
    not_ok "reload: hooks that ran for $K3ID: '$(runs_tag "$K3ID")', want B"
check_env "hooks_dir/default gets IDHOOK_EVENT" "$OUT/$K3ID.1.env" \
    "IDHOOK_EVENT=verification.session.failed"
tags=
for i in 1 2 3 4 5 6; do
	sign "$D/rl$i" --type verification.session.expired
	send "$D/rl$i" "$EP"
	tags="$tags$R_CODE:$(runs_tag "$(meta "$D/rl$i" event_id)")"
done
[ "$tags" = "200:B 200:B 200:B 200:B 200:B 200:B " ] &&
    ok "six more deliveries: every FastCGI process uses the new hooks_dir" ||
    not_ok "after reload: $tags"
nlog=$(all_logs | wc -l)
printf '[idhook\nthis is = not a config\n' > "$T/conf.bad"
replace_config "$CONF" "$T/conf.bad"
sign "$D/rlbad" --type verification.session.expired
send "$D/rlbad" "$EP"
expect 200 delivered "broken new config: the old one keeps working"
[ "$(runs_tag "$(meta "$D/rlbad" event_id)")" = "B " ] ||
    not_ok "broken config: hook tag '$(runs_tag "$(meta "$D/rlbad" event_id)")', want B"
all_logs | tail -n +$((nlog + 1)) | grep -q 'level=error' &&
    ok "broken new config: an error is logged" ||
    not_ok "broken new config: no level=error line logged"
t_config "$T/conf.new" "$T/hooks-empty"
replace_config "$CONF" "$T/conf.new"
sign "$D/nohook" --type verification.session.expired
NHID=$(meta "$D/nohook" event_id)
send "$D/nohook" "$EP"
expect 200 delivered "hooks_dir without a hook: 200 delivered"
[ "$(runs "$NHID")" = 0 ] || not_ok "no-hook: something ran"

# ---- 14. two sites in one FastCGI process, config per request -----------------------

# Both configs have an endpoint "kayle" and the same secret and keys; B's
# has one unknown key, so it is refused as a whole.  B's requests must not
# be served with the config the process holds for A.
mkdir -p "$T/hooksSA" "$T/hooksSB" "$T/hooksSA2"
t_hook "$T/hooksSA/default" SA
t_hook "$T/hooksSB/default" SB
t_hook "$T/hooksSA2/default" SA2
t_config "$T/siteA.conf" "$T/hooksSA"
t_config "$T/siteB.conf" "$T/hooksSB" "colour = blue"
sign "$D/sa1" --type verification.session.expired
send "$D/sa1" /siteA.fcgi/kayle
expect 200 delivered "site A (IDHOOK_CONFIG per request): 200 delivered"
[ "$(runs_tag "$(meta "$D/sa1" event_id)")" = "SA " ] && ok "site A: A's hook ran" ||
    not_ok "site A: hooks that ran: '$(runs_tag "$(meta "$D/sa1" event_id)")', want SA"
sign "$D/sb1" --type verification.session.expired
SB1=$(meta "$D/sb1" event_id)
send "$D/sb1" /siteB.fcgi/kayle
expect 503 unavailable "a delivery signed for A at site B (broken config): 503 unavailable"
[ "$(runs "$SB1")" = 0 ] && ok "site B: no hook ran (A's config not used for B)" ||
    not_ok "site B's request ran hook(s): '$(runs_tag "$SB1")'"
all_logs | grep -F "$T/siteB.conf" | grep -q 'unknown key' &&
    ok "the log names siteB.conf and its unknown key" ||
    not_ok "no log line naming $T/siteB.conf and 'unknown key'"
sp=$(pgrep -f "$T/www/idhook-sites.fcgi" | tr "\n" " " | sed "s/ *$//")
[ "$(echo $sp | wc -w)" = 1 ] && ok "one FastCGI process (pid $sp) serves both sites" ||
    not_ok "FastCGI processes for the two sites: '$sp', want exactly one"
resign "$D/sb1" "$D/sb1-a"
send "$D/sb1-a" /siteA.fcgi/kayle
expect 200 delivered "the same event at A's URL then: 200 delivered (B recorded nothing)"
[ "$(runs_tag "$SB1")" = "SA " ] && ok "... and A's hook ran once for it" ||
    not_ok "hooks that ran for $SB1: '$(runs_tag "$SB1")', want SA"

# ---- 15. a broken config is not parsed again on every request --------------------

# The process keeps A's old config and logs the error; it must not parse
# the file again per request (CONFIG_RETRY): only when it changes again.
notloaded() {
	all_logs | grep -F "$T/siteA.conf: " | grep -c 'config not loaded'
}
nl0=$(notloaded)
{ cat "$T/siteA.conf"; echo "colour = blue"; } > "$T/siteA.bad"
for i in 1 2 3 4 5; do
	sign "$D/sab$i" --type verification.session.expired
done
replace_config "$T/siteA.conf" "$T/siteA.bad"
tags=
t0=$(date +%s)
for i in 1 2 3 4 5; do
	send "$D/sab$i" /siteA.fcgi/kayle
	tags="$tags$R_CODE:$(runs_tag "$(meta "$D/sab$i" event_id)")"
done
t1=$(date +%s)
[ "$tags" = "200:SA 200:SA 200:SA 200:SA 200:SA " ] &&
    ok "site A's config broken: 5 deliveries served with the old one" ||
    not_ok "site A's config broken: $tags"
n=$(($(notloaded) - nl0))
[ "$n" -ge 1 ] && [ "$n" -le 2 ] &&
    ok "'config not loaded' logged $n time(s) for 5 requests in $((t1 - t0)) s, not per request" ||
    not_ok "'$T/siteA.conf: ... config not loaded' logged $n times for 5 requests, want 1 or 2"
t_config "$T/siteA.new" "$T/hooksSA2"
replace_config "$T/siteA.conf" "$T/siteA.new"
sign "$D/safix" --type verification.session.expired
send "$D/safix" /siteA.fcgi/kayle
expect 200 delivered "site A's config fixed: 200 delivered"
[ "$(runs_tag "$(meta "$D/safix" event_id)")" = "SA2 " ] &&
    ok "the fixed config is used at once (hook from its new hooks_dir)" ||
    not_ok "after the fix: hooks that ran: '$(runs_tag "$(meta "$D/safix" event_id)")', want SA2"

# ---- 16. logs: one line per delivery, no secret, no personal data -----------------------

all_logs | grep 'result=delivered' | grep -F "id=$SUCC_ID" | grep -q 'event=verification.session.succeeded' &&
    ok "log has a logfmt line for the delivery (event=, id=, result=delivered)" ||
    not_ok "no 'event=verification.session.succeeded id=$SUCC_ID ... result=delivered' log line"
all_logs | grep -q 'hook-output-marker-A' && ok "hook output is logged" ||
    not_ok "hook output (hook-output-marker-A) not in the log"
no_leaks "logs hold no claim value, secret or key material" \
    "$(jval "$SUCC/plaintext.json" data.claims.given_names)" \
    "$(jval "$SUCC/plaintext.json" data.claims.family_name)" \
    "$(jval "$SUCC/plaintext.json" data.claims.date_of_birth)" \
    "$(jval "$SUCC/plaintext.json" data.claims.document_number)" \
    "$(jval "$SUCC/plaintext.json" data.claims.kayle_human_id)" \
    "$SECRET" "$SECRET_OLD" whsec_ "$KEY_LINE"
# Nothing in this run makes the store fail: any dedup complaint but the
# takeover after the SIGKILL (section 11) is a bug (a stale per-process
# "pending done" once produced one on every delivery).
dedup_warnings() {
	all_logs | grep -e 'msg="dedup:' -e 'dedup record marked done' \
	    -e 'could not be marked done' |
	    grep -v 'msg="dedup: taking over a running record".*process is gone'
}
n=$(dedup_warnings | wc -l)
[ "$n" = 0 ] && ok "no dedup store warnings in the logs" ||
    not_ok "$n dedup store warnings in the logs: $(dedup_warnings | head -n 3)"

# ---- 17. no secret file over HTTP (contrib/lighttpd/idhook.conf's deny rule) ----------

# Last: it restarts lighttpd, whose log the checks above read.
# Copies of every secret file under the document root, world-readable, as
# a careless install might leave them: the shipped rule must refuse them.
stop_lighttpd
for f in "$CONF:idhook.conf" "$T/keys/kayle.secret:kayle.secret" \
    "$T/keys/k1.pem:k1.pem" "$T/keys/k2.jwk.json:k2.jwk.json" \
    "$T/state/data.mdb:data.mdb"; do
	cp "${f%%:*}" "$T/www/${f#*:}"
	chmod 644 "$T/www/${f#*:}"
done
echo readme > "$T/www/readme.txt"
chmod 644 "$T/www/readme.txt"
LIGHTTPD_EXTRA="server.modules += ( \"mod_access\" )
$(sed -n '/^url.access-deny/,/)$/p' "$top_srcdir/contrib/lighttpd/idhook.conf")"
start_lighttpd "$CONF"
req /readme.txt
[ "$R_CODE" = 200 ] && ok "the document root is served (control: readme.txt 200)" ||
    not_ok "readme.txt: $R_CODE (the fetch checks below would prove nothing)"
for f in idhook.conf kayle.secret k1.pem k2.jwk.json data.mdb; do
	req "/$f"
	case $R_CODE in
	403|404) ok "GET /$f: $R_CODE, not served" ;;
	*) not_ok "GET /$f: $R_CODE (a secret file was served)" ;;
	esac
done
LIGHTTPD_EXTRA=
rm -f "$T/www/idhook.conf" "$T/www/kayle.secret" "$T/www/k1.pem" \
    "$T/www/k2.jwk.json" "$T/www/data.mdb"

t_done
