#!/bin/sh
# The sample hooks in contrib/hooks: one per Kayle event type, executable,
# a #! line, valid sh syntax, and no claim value echoed to the log.
set -u
top=${top_srcdir:-.}
fail=0
for t in verification.session.succeeded verification.session.failed \
    verification.session.expired verification.session.cancelled \
    verification.attempt.succeeded verification.attempt.failed; do
	f=$top/contrib/hooks/kayle/$t
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then
		echo "not ok - contrib/hooks/kayle/$t: missing or not executable"
		fail=1
	elif [ "$(head -c 2 "$f")" != '#!' ]; then
		echo "not ok - contrib/hooks/kayle/$t: no #! line"
		fail=1
	elif ! sh -n "$f"; then
		echo "not ok - contrib/hooks/kayle/$t: sh syntax error"
		fail=1
	elif grep -v '^[[:space:]]*#' "$f" | grep -q 'EVENT_DATA_CLAIMS_'; then
		echo "not ok - contrib/hooks/kayle/$t: logs a claim value"
		fail=1
	else
		echo "ok - contrib/hooks/kayle/$t"
	fi
done
exit $fail
