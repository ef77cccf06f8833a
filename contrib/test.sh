#!/bin/sh
# contrib/test.sh: installs what is missing, builds idhook from scratch
# with AddressSanitizer + UndefinedBehaviorSanitizer, runs `make check`
# (unit, vector and real-server integration tests) and prints one summary
# line: "N passed, N failed, N skipped".  Exit status 0 only if all passed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh test

build=${IDHOOK_BUILDDIR:-$top/build-check}
rm -rf "$build"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
"$top/configure" --enable-sanitizers --enable-werror -q
make -s -j"$(nproc)"
rc=0
make -s -j"$(nproc)" check >check.out 2>&1 || rc=$?
cat check.out
# Show the log of every test that did not pass.
for log in $(find . -name '*.log' ! -name test-suite.log ! -name config.log); do
	trs=${log%.log}.trs
	[ -f "$trs" ] || continue
	if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
		echo "==== $log ===="
		tail -n 60 "$log"
	fi
done
count() { sed -n "s/^# $1: *//p" test-suite.log 2>/dev/null | head -n 1; }
pass=$(count PASS); fail=$(count FAIL); err=$(count ERROR); skip=$(count SKIP)
xfail=$(count XFAIL); xpass=$(count XPASS)
pass=$((${pass:-0} + ${xfail:-0}))
fail=$((${fail:-0} + ${err:-0} + ${xpass:-0}))
skip=${skip:-0}
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	fail=1	# make check failed before running the tests
fi
if [ "$skip" -gt 0 ]; then
	echo "skipped tests (each says why in its log):"
	grep -l '^:test-result: SKIP' $(find . -name '*.trs') 2>/dev/null | sed 's/^/  /'
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
