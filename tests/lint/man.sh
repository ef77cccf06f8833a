#!/bin/sh
# The man pages: mandoc finds nothing at warning level or above, every key
# that src/config.c accepts is documented in idhook.conf(5), and every
# subcommand that src/cli.h declares is documented in idhook(8).
# CI needs the Debian package "mandoc"; without it the mandoc part skips.
set -u
top=${top_srcdir:-.}
man8=$top/doc/idhook.8
man5=$top/doc/idhook.conf.5
fail=0

for f in "$man8" "$man5"; do
	if [ ! -f "$f" ]; then
		echo "not ok - ${f#"$top"/}: missing"
		exit 1
	fi
done

# Keys: the strcmp(key, "...") tests of global_key() and endpoint_key().
keys=$(sed -n 's/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$top/src/config.c" |
    sort -u)
if [ -z "$keys" ]; then
	echo "not ok - no config keys found in src/config.c"
	fail=1
fi
for k in $keys; do
	if grep -q "^\.It Ic $k No = " "$man5"; then
		echo "ok - idhook.conf.5 documents $k"
	else
		echo "not ok - idhook.conf.5 lacks \".It Ic $k\" (src/config.c accepts it)"
		fail=1
	fi
done

# Subcommands: int cmd_<name>(int, char *[]) in src/cli.h.
cmds=$(sed -n 's/^int[[:space:]]*cmd_\([a-z]*\)(.*/\1/p' "$top/src/cli.h")
if [ -z "$cmds" ]; then
	echo "not ok - no cmd_* declarations found in src/cli.h"
	fail=1
fi
for c in $cmds; do
	if grep -q "^\.Cm $c\$" "$man8" && grep -q "^\.It Cm $c" "$man8"; then
		echo "ok - idhook.8 documents $c (synopsis and description)"
	else
		echo "not ok - idhook.8 lacks $c in SYNOPSIS or DESCRIPTION"
		fail=1
	fi
done

if ! command -v mandoc >/dev/null 2>&1; then
	echo "# mandoc not installed (Debian package mandoc): lint skipped"
	[ $fail -eq 0 ] && exit 77
	exit $fail
fi
for f in "$man8" "$man5"; do
	if out=$(mandoc -T lint -W warning "$f" 2>&1) && [ -z "$out" ]; then
		echo "ok - mandoc -T lint -W warning ${f#"$top"/}"
	else
		echo "not ok - mandoc -T lint -W warning ${f#"$top"/}"
		printf '%s\n' "$out" | sed 's/^/#   /'
		fail=1
	fi
done
exit $fail
