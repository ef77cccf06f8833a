#!/bin/sh
# tests/integration/keygen.sh: idhook keygen and idhook sign (issue 6)
# against independent implementations.  keygen: Python cryptography
# imports the public JWK and encrypts a Kayle delivery (kayle_sign.py)
# that idhook (as CGI) decrypts.  sign: Python verifies and decrypts
# what idhook signs, for every built-in event type of every sender.
# The private key and the secrets never reach stdout or stderr.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_init keygen
t_wsecrets
SECRET=whsec_$(rand_alnum 32)
printf '%s\n' "$SECRET" > "$T/keys/kayle.secret"
chmod 600 "$T/keys/kayle.secret"
mkdir -p "$T/kg" "$T/hooks"
t_hook "$T/hooks/default" A

# ---- keygen ------------------------------------------------------------------
"$IDHOOK" keygen -b 2048 --kid kg1 "$T/kg" > "$T/kg.out" 2> "$T/kg.err"
rc=$?
[ $rc = 0 ] && ok "keygen exits 0" || not_ok "keygen exit $rc: $(cat "$T/kg.err")"
PEM=$T/kg/kg1.pem
JWK=$T/kg/kg1.public.jwk.json
[ "$(stat -c %a "$PEM" 2>/dev/null)" = 600 ] && ok "private key mode 0600" ||
    not_ok "private key mode $(stat -c %a "$PEM" 2>/dev/null)"
grep -q "^decryption_key = kg1:$PEM\$" "$T/kg.out" &&
    ok "keygen prints the config line" || not_ok "no config line"
if grep -q "PRIVATE" "$T/kg.out" "$T/kg.err" ||
    grep -qF "$(sed -n 5p "$PEM")" "$T/kg.out" "$T/kg.err"; then
	not_ok "keygen printed the private key"
else
	ok "keygen never prints the private key"
fi
"$PY" - "$JWK" "$PEM" <<'PYEOF' && ok "JWK fields and key match (Python)" ||
import json, sys, base64
from cryptography.hazmat.primitives import serialization
j = json.load(open(sys.argv[1]))
k = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
n = k.public_key().public_numbers()
u = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")
assert set(j) == {"kty", "n", "e", "alg", "use", "kid"}, j.keys()
assert j["kty"] == "RSA" and j["alg"] == "RSA-OAEP-256" and j["use"] == "enc"
assert j["kid"] == "kg1" and "=" not in j["n"] + j["e"]
assert u(j["n"]) == n.n and u(j["e"]) == n.e and k.key_size == 2048
PYEOF
    not_ok "JWK does not match the key"
"$IDHOOK" keygen -b 2048 --kid kg1 "$T/kg" > /dev/null 2>&1
rc=$?
[ $rc = 1 ] && ok "keygen refuses to overwrite" || not_ok "overwrite: exit $rc"
for bad in "-b 1024" "-b 16385" "-b x" "--kid ../x" "--bogus" ""; do
	# shellcheck disable=SC2086
	"$IDHOOK" keygen $bad ${bad:+"$T/kg"} > /dev/null 2>&1
	rc=$?
	[ $rc = 2 ] && ok "keygen $bad: usage (2)" || not_ok "keygen $bad: exit $rc"
done

cat > "$T/idhook.conf" <<CEOF
[idhook]
state_dir = $T/state
hooks_dir = $T/hooks
log_level = info

[endpoint kayle]
provider = kayle
secret_file = $T/keys/kayle.secret
decryption_key = kg1:$PEM
$(t_endpoint verifa verifa "$T/keys/verifa.secret" "$T/hooks")
$(t_endpoint std standard "$T/keys/std.secret" "$T/hooks")
CEOF

t_own "$T/keys" "$T/kg" "$T/state" "$T/out" "$T/hooks" "$T/idhook.conf"

# cgi DIR ENDPOINT: runs idhook as CGI on a delivery dir; status in CGI_ST.
cgi() {
	# shellcheck disable=SC2046
	$RUNAS env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
	    IDHOOK_CONFIG="$T/idhook.conf" PATH_INFO="/$2" \
	    CONTENT_LENGTH="$(wc -c < "$1/body")" \
	    $(awk '{ i = index($0, ":"); n = toupper(substr($0, 1, i - 1))
		gsub("-", "_", n); v = substr($0, i + 1); sub(/^ +/, "", v)
		print (n == "CONTENT_TYPE" ? "" : "HTTP_") n "=" v }' \
	    "$1/headers") \
	    "$IDHOOK" < "$1/body" > "$1.resp" 2>> "$T/logs/cgi.log"
	CGI_ST=$(sed -n 's/^Status: *\([0-9]*\).*/\1/p' "$1.resp" | head -n 1)
}

# Python encrypts to the JWK keygen made; idhook decrypts it.
"$PY" "$SIGNER" sign --secret "$SECRET" --pubkey "$JWK" --kid kg1 \
    --type verification.session.cancelled --out "$T/d/py" &&
    cgi "$T/d/py" kayle
[ "${CGI_ST:-}" = 200 ] && ok "Python JWE to the keygen JWK: idhook 200" ||
    not_ok "Python JWE to the keygen JWK: status ${CGI_ST:-none}"
grep -q "verification.session.cancelled" "$T/out/runs" 2>/dev/null &&
    ok "hook ran for the Python delivery" || not_ok "hook did not run"

# ---- sign ----------------------------------------------------------------------
vcheck() {	# DIR PROVIDER SECRET: Python's own HMAC check
	"$PY" - "$1" "$2" "$3" <<'PYEOF'
import base64, hashlib, hmac, sys, time
d, p, s = sys.argv[1:]
body = open(d + "/body", "rb").read()
h = {}
for line in open(d + "/headers").read().splitlines():
    k, _, v = line.partition(":")
    h[k.strip().lower()] = v.strip()
if p == "verifa":
    kv = dict(x.split("=", 1) for x in h["x-verifa-signature"].split(","))
    assert abs(time.time() - int(kv["t"])) < 60
    m = hmac.new(s.encode(), kv["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(m.hexdigest(), kv["v1"]), "verifa v1"
    import json; json.loads(body)
else:
    k = base64.b64decode(s[len("whsec_"):])
    msg = (h["webhook-id"] + "." + h["webhook-timestamp"] + ".").encode()
    m = base64.b64encode(hmac.new(k, msg + body, hashlib.sha256).digest())
    assert h["webhook-signature"] == "v1," + m.decode(), "standard v1"
PYEOF
}

"$IDHOOK" sign -l > "$T/types" 2>&1 || not_ok "sign -l"
n=0
bad=
while read -r prov type; do
	case $prov in
	kayle) ep=kayle ;;
	verifa) ep=verifa ;;
	*) continue ;;
	esac
	n=$((n + 1))
	o=$T/d/s$n
	"$IDHOOK" sign -c "$T/idhook.conf" -o "$o" "$ep" "$type" \
	    > "$T/sign.out" 2> "$T/sign.err" || { bad="$bad $type(exit)"; continue; }
	if [ "$prov" = kayle ]; then
		"$PY" "$SIGNER" verify --secret "$SECRET" --key "$PEM" \
		    --dir "$o" > /dev/null || bad="$bad $type(verify)"
	else
		vcheck "$o" verifa "$(sed -n 2p "$T/keys/verifa.secret")" ||
		    bad="$bad $type(verify)"
	fi
	cat "$T/sign.out" "$T/sign.err" >> "$T/sign.all"
done < "$T/types"
[ "$n" -ge 40 ] && [ -z "$bad" ] &&
    ok "sign: all $n built-in types verify (and decrypt) in Python" ||
    not_ok "sign: $n types; failed:$bad"
"$PY" "$SIGNER" verify --secret "$SECRET" --key "$T/keys/../kg/kg1.pem" \
    --dir "$T/d/s1" > /dev/null && ok "kayle_sign.py verify (positive)" ||
    not_ok "kayle_sign.py verify (positive)"
"$PY" "$SIGNER" alter --dir "$T/d/s1" --out "$T/d/s1-alt"
"$PY" "$SIGNER" verify --secret "$SECRET" --key "$PEM" --dir "$T/d/s1-alt" \
    > /dev/null && not_ok "altered body verified" || ok "altered body fails"
"$IDHOOK" sign -c "$T/idhook.conf" -o "$T/d/std" std some.thing \
    > /dev/null 2>&1 && vcheck "$T/d/std" std "$(cat "$T/keys/std.secret")" &&
    ok "standard: signature verifies in Python" || not_ok "standard sign"
cgi "$T/d/std" std
[ "${CGI_ST:-}" = 200 ] && ok "standard: idhook accepts it" ||
    not_ok "standard: status ${CGI_ST:-none}"
cgi "$T/d/s1" kayle
[ "${CGI_ST:-}" = 200 ] && ok "idhook sign kayle: idhook accepts it" ||
    not_ok "idhook sign kayle: status ${CGI_ST:-none}"
printf '{"type":"custom.x","metadata":{"event_id":"evt_own"},"data":{}}' \
    > "$T/own.json"
"$IDHOOK" sign -c "$T/idhook.conf" -o "$T/d/own" kayle custom.x \
    "$T/own.json" > /dev/null 2>&1 &&
    "$PY" "$SIGNER" verify --secret "$SECRET" --key "$PEM" --dir "$T/d/own" |
    grep -q "ok $(wc -c < "$T/own.json") bytes" && ok "sign with PAYLOAD.json" ||
    not_ok "sign with PAYLOAD.json"
"$IDHOOK" sign -c "$T/idhook.conf" --curl -u http://h/x kayle \
    verification.session.expired > "$T/curl.out" 2>&1 &&
    grep -q "^curl .*-H @'/.*/headers' --data-binary @'/.*/body' 'http://h/x/kayle'\$" \
    "$T/curl.out" && ok "sign --curl prints a curl command" ||
    not_ok "sign --curl: $(cat "$T/curl.out")"
cd_dir=$(sed -n "s|.*@'\(.*\)/body'.*|\1|p" "$T/curl.out")
[ -n "$cd_dir" ] && [ -f "$cd_dir/body" ] && rm -rf "$cd_dir"

for args in "kayle" "nosuch verification.session.expired" \
    "kayle verification.bogus" "--bogus kayle x" "kayle a.b c d" \
    "kayle"; do
	# shellcheck disable=SC2086
	"$IDHOOK" sign -c "$T/idhook.conf" -o "$T/d/bad" $args > /dev/null 2>&1
	rc=$?
	[ $rc != 0 ] && ok "sign $args: exit $rc" || not_ok "sign $args: exit 0"
done
"$IDHOOK" sign -c "$T/idhook.conf" -o "$T/d/bad" std "$(printf 'a\nX: y')" \
    > /dev/null 2>&1
rc=$?
[ $rc = 2 ] && ok "sign: a type with a newline is refused (2)" ||
    not_ok "sign: a type with a newline: exit $rc"
if grep -qF -e "$SECRET" -e "$VSECRET" -e "$STD_SECRET" \
    -e "$(sed -n 5p "$PEM")" "$T/sign.all" "$T/curl.out" "$T/types"; then
	not_ok "sign printed a secret"
else
	ok "sign never prints a secret or the key"
fi
t_done
