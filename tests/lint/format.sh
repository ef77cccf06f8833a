#!/bin/sh
# KNF layout checks (tabs, 4-space continuation lines, " label:") that a machine can make without fighting the hand
# alignment of declarations (style(9) "type<TAB> *name", which clang-format
# cannot express, so it is not used): lines fit 80 columns with tabs of 8,
# indentation is tabs, no trailing white space, no CR, files end in a
# newline.
set -u
top=${top_srcdir:-.}
fail=0
for f in "$top"/src/*.[ch] "$top"/compat/*.[ch] "$top"/tests/unit/*.[ch]; do
	out=$(awk -v f="${f#"$top"/}" '
	{
		line = $0
		if (line ~ /\r/) { printf "%s:%d: CR character\n", f, NR }
		if (line ~ /[ \t]+$/) { printf "%s:%d: trailing white space\n", f, NR }
		# Indent: tabs, then nothing, a 4-space continuation, or the
		# " *" of a block comment.
		ind = line
		sub(/^\t*/, "", ind)
		match(ind, /^ */)
		if (RLENGTH != 0 && RLENGTH != 4 && !(RLENGTH == 1 &&
		    substr(ind, 2, 1) == "*") && ind !~ /^ [a-z_]+:$/)
			printf "%s:%d: indented with spaces\n", f, NR
		col = 0
		for (i = 1; i <= length(line); i++) {
			c = substr(line, i, 1)
			if (c == "\t") col = col - col % 8 + 8; else col++
		}
		if (col > 80) { printf "%s:%d: %d columns\n", f, NR, col }
	}' "$f")
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	fi
	if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "${f#"$top"/}: no newline at end of file"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "ok - src/, compat/ and tests/unit/ keep the KNF layout"
exit $fail
