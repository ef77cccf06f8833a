#!/bin/sh
# Integration test: the operator subcommands (SPEC section 8), run from
# the shell; no web server.  Each helper's section is one delimited block.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

t_init cli
t_keys
t_hooks
CONF=$T/idhook.conf
t_config "$CONF"
D=$T/d
IDH=$T/www/idhook.cgi	# a copy nobody can run (see t_init)
E=$T/logs/cli.log	# stderr of the last command
O=$T/cli.out		# stdout of the last command

# cli ARGS...: run idhook ARGS (as invoked by root or the test user),
# with the NAME=value words of CLI_ENV added to its environment; sets
# C_RC; stdout in $O, stderr appended to $E and kept in $O.err.
cli() {
	env ${CLI_ENV:-} "$IDH" "$@" > "$O" 2> "$O.err"
	C_RC=$?
	{ echo "### idhook $*"; cat "$O.err"; } >> "$E"
}

# expect_rc RC DESC
expect_rc() {
	if [ "$C_RC" = "$1" ]; then ok "$2"
	else not_ok "$2: exit $C_RC, want $1; $(head -c 300 "$O.err")"; fi
}

# ---- common (helper A): dispatch, help, usage ----------------------------
cli help
expect_rc 0 "idhook help exits 0"
grep -q 'deliver' "$O" && ok "idhook help lists the commands" ||
    not_ok "idhook help lists the commands"
cli no-such-command
expect_rc 2 "unknown subcommand: exit 2"
grep -q '^usage:' "$O.err" && [ ! -s "$O" ] &&
    ok "unknown subcommand: usage on stderr only" ||
    not_ok "unknown subcommand: usage on stderr only"
for c in check keygen sign deliver dedup; do
	cli "$c" --help
	expect_rc 0 "idhook $c --help exits 0"
	grep -q "^usage: idhook $c" "$O" && ok "idhook $c --help: usage" ||
	    not_ok "idhook $c --help: usage on stdout"
	cli "$c" --no-such-flag
	expect_rc 2 "idhook $c --no-such-flag: exit 2"
	grep -q "^usage: idhook $c" "$O.err" &&
	    ok "idhook $c --no-such-flag: usage on stderr" ||
	    not_ok "idhook $c --no-such-flag: usage on stderr"
	cli help "$c"
	expect_rc 0 "idhook help $c"
done
# RFC 3875 section 4.4: "?dedup+list" reaches a CGI program as argv.
CLI_ENV=GATEWAY_INTERFACE=CGI/1.1
cli dedup -c "$CONF" list
CLI_ENV=
# The words are ignored: it answers as the CGI request it is.
! grep -q ENDPOINT "$O" && grep -q '^Status: ' "$O" &&
    ok "a CGI request's argv never runs a subcommand" ||
    not_ok "a CGI request's argv never runs a subcommand (exit $C_RC: $(head -c 200 "$O"))"
cli --version
expect_rc 0 "idhook --version still works"
grep -q '^idhook ' "$O" && ok "--version prints the version" ||
    not_ok "--version prints the version"
cli --help
expect_rc 0 "idhook --help still works"
cli -x
expect_rc 2 "idhook -x: exit 2"

# ---- check (helper A) ------------------------------------------------------
cli check -c "$CONF"
expect_rc 0 "check: a clean config passes"
grep -q ': ok: 1 endpoint' "$O" && ok "check: prints a summary" ||
    not_ok "check: prints a summary: $(cat "$O")"
CLI_ENV="IDHOOK_CONFIG=$CONF"
cli check
CLI_ENV=
expect_rc 0 "check: finds the config through IDHOOK_CONFIG"
cli -c "$CONF" check
expect_rc 0 "idhook -c FILE check: -c may come before the command"
grep -q ': ok: 1 endpoint' "$O" && ok "idhook -c FILE check: the same summary" ||
    not_ok "idhook -c FILE check: $(cat "$O")"

# A broken world: a non-executable hook, a hook without #!, a typo'd
# hook name, a world-readable secret.  Every problem must be listed.
BAD=$T/bad
mkdir -p "$BAD/hooks" "$BAD/state"
t_own "$BAD/state"
cp "$T/keys/kayle.secret" "$BAD/secret"
chmod 644 "$BAD/secret"
printf '#!/bin/sh\nexit 0\n' > "$BAD/hooks/verification.session.failed"
chmod 644 "$BAD/hooks/verification.session.failed"
printf 'exit 0\n' > "$BAD/hooks/verification.session.expired"
chmod 755 "$BAD/hooks/verification.session.expired"
printf '#!/bin/sh\nexit 0\n' > "$BAD/hooks/verification.sesion.succeeded"
chmod 755 "$BAD/hooks/verification.sesion.succeeded"
sed -e "s|^hooks_dir .*|hooks_dir = $BAD/hooks|" "$CONF" > "$BAD/hooks.conf"
cli check -c "$BAD/hooks.conf"
expect_rc 1 "check: bad hooks: exit 1"
grep -q 'verification.session.failed: not executable' "$O.err" &&
    ok "check: finds a non-executable hook" ||
    not_ok "check: finds a non-executable hook"
grep -q 'verification.session.expired: does not start with #!' "$O.err" &&
    ok "check: finds a hook without #!" ||
    not_ok "check: finds a hook without #!"
grep -q 'verification.sesion.succeeded: .*typo' "$O.err" &&
    ok "check: finds a typo in a hook name" ||
    not_ok "check: finds a typo in a hook name"
grep -q '3 problem(s)' "$O.err" && ok "check: counts every problem" ||
    not_ok "check: counts every problem: $(tail -n 1 "$O.err")"
sed -e "s|^secret_file .*|secret_file = $BAD/secret|" "$CONF" > "$BAD/secret.conf"
cli check -c "$BAD/secret.conf"
expect_rc 1 "check: world-readable secret: exit 1"
grep -q "$BAD/secret" "$O.err" && grep -q 'secret_file' "$O.err" &&
    ok "check: names the world-readable secret" ||
    not_ok "check: names the world-readable secret"
sed -e "s|^state_dir .*|state_dir = $BAD/nonexistent|" "$CONF" > "$BAD/state.conf"
cli check -c "$BAD/state.conf"
expect_rc 1 "check: missing state dir: exit 1"
grep -q 'nonexistent: state_dir' "$O.err" && ok "check: names the state dir" ||
    not_ok "check: names the state dir"
if [ -n "$RUNAS" ]; then
	mkdir -p "$BAD/rootstate"
	sed -e "s|^state_dir .*|state_dir = $BAD/rootstate|" "$CONF" > "$BAD/root.conf"
	cli check -c "$BAD/root.conf"
	expect_rc 1 "check: a root-owned state dir is a problem"
fi
no_leaks "check: no secret or key line in its output" "$SECRET" \
    "$SECRET_OLD" "$KEY_LINE"

# ---- deliver and dedup (helper A) -------------------------------------------
sign "$D/a1" --kid k1 --type verification.session.succeeded || t_done
ID1=$(meta "$D/a1" event_id)
cli deliver -c "$CONF" "$D/a1"
expect_rc 0 "deliver: exit 0"
[ "$(cat "$O")" = "200 delivered" ] && ok "deliver: prints 200 delivered" ||
    not_ok "deliver: prints 200 delivered: $(cat "$O")"
[ "$(runs "$ID1")" = 1 ] && ok "deliver: the hook ran once" ||
    not_ok "deliver: the hook ran once ($(runs "$ID1"))"
if [ -n "$RUNAS" ]; then
	[ "$(cat "$T/out/$ID1.1.uid")" = "$(id -u nobody)" ] &&
	    ok "deliver as root: the hook ran as the state dir's owner" ||
	    not_ok "deliver as root: hook uid $(cat "$T/out/$ID1.1.uid")"
	[ "$(stat -c %U "$T/state/data.mdb")" = nobody ] &&
	    ok "deliver as root: LMDB files stay the owner's" ||
	    not_ok "deliver as root: data.mdb owned by $(stat -c %U "$T/state/data.mdb")"
fi
cli deliver -c "$CONF" -e kayle "$D/a1"
expect_rc 0 "deliver again: exit 0"
[ "$(cat "$O")" = "200 duplicate" ] && ok "deliver again: 200 duplicate" ||
    not_ok "deliver again: 200 duplicate: $(cat "$O")"
[ "$(runs "$ID1")" = 1 ] && ok "deliver again: the hook did not run" ||
    not_ok "deliver again: the hook did not run ($(runs "$ID1"))"
cli deliver -c "$CONF" -e nosuch "$D/a1"
expect_rc 1 "deliver -e unknown endpoint: exit 1"
cli deliver -c "$CONF"
expect_rc 2 "deliver without DIR: exit 2"
"$PY" "$SIGNER" alter --dir "$D/a1" --out "$D/forged" >/dev/null 2>&1 ||
    cp -r "$D/a1" "$D/forged"
printf 'x' >> "$D/forged/body"
cli deliver -c "$CONF" "$D/forged"
expect_rc 1 "deliver a forged body: exit 1"
grep -q '^400 invalid_signature' "$O" && ok "deliver a forged body: 400" ||
    not_ok "deliver a forged body: 400: $(cat "$O")"

cli dedup -c "$CONF" list
expect_rc 0 "dedup list: exit 0"
grep -q "^kayle $ID1 done 1 " "$O" && ok "dedup list shows the record" ||
    not_ok "dedup list shows the record: $(cat "$O")"
cli dedup -c "$CONF" show kayle "$ID1"
expect_rc 0 "dedup show: exit 0"
grep -qx 'state: done' "$O" && grep -qx 'attempts: 1' "$O" &&
    ok "dedup show: state and attempts" || not_ok "dedup show: $(cat "$O")"
cli dedup -c "$CONF" show kayle evt_nonexistent
expect_rc 1 "dedup show of an unknown id: exit 1"
cli dedup -c "$CONF" frobnicate
expect_rc 2 "dedup unknown action: exit 2"
cli dedup -c "$CONF" show kayle
expect_rc 2 "dedup show without ID: exit 2"
cli dedup -c "$CONF" forget kayle "$ID1"
expect_rc 0 "dedup forget: exit 0"
cli dedup -c "$CONF" forget kayle "$ID1"
expect_rc 1 "dedup forget twice: exit 1 (no record)"
resign "$D/a1" "$D/a1b" || t_done
cli deliver -c "$CONF" "$D/a1b"
[ "$(cat "$O")" = "200 delivered" ] && [ "$(runs "$ID1")" = 2 ] &&
    ok "after forget, the next delivery runs the hook again" ||
    not_ok "after forget: $(cat "$O"), runs $(runs "$ID1")"
cli dedup -c "$CONF" prune
expect_rc 0 "dedup prune: exit 0"
grep -q '^pruned 0 ' "$O" && ok "dedup prune keeps recent records" ||
    not_ok "dedup prune keeps recent records: $(cat "$O")"
if [ -n "$RUNAS" ]; then
	[ "$(stat -c %U "$T/state/lock.mdb")" = nobody ] &&
	    ok "dedup as root: lock.mdb stays the owner's" ||
	    not_ok "dedup as root: lock.mdb owned by $(stat -c %U "$T/state/lock.mdb")"
fi
no_leaks "deliver: no claim value or secret in the logs" "$SECRET" \
    "$KEY_LINE" "Annelise Zoeta" "Quibblesworth-Varga"

# ---- keygen and sign (helper B) ----------------------------------------------
# (helper B appends here)

t_done
