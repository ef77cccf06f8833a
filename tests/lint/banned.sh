#!/bin/sh
# Functions we never call in src/ (after curl's and OpenBSD's lists):
# unbounded string functions, shell-outs, and number parsers whose errors
# go unchecked (use strtonum with an explicit range).
set -u
top=${top_srcdir:-.}
banned='atoi|atol|atoll|strcpy|strcat|sprintf|vsprintf|gets|strtok|system|popen|strtol|strtoul|strtoll|strtoull|alloca|mktemp|tmpnam'
hits=$(grep -nE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" \
    "$top"/src/*.c "$top"/src/*.h 2>/dev/null |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
if [ -n "$hits" ]; then
	echo "banned functions used:"
	echo "$hits"
	exit 1
fi
echo "ok - no banned function in src/"
