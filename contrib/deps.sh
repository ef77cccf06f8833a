#!/bin/sh
# contrib/deps.sh: installs the Debian 12 packages that idhook's build,
# tests and demo need, skipping those already installed.  Sourced or run
# by contrib/test.sh, contrib/demo.sh and .ci/run.
#   usage: contrib/deps.sh build|test|demo
set -eu

build="build-essential autoconf automake pkgconf libfcgi-dev libssl-dev
libcjose-dev libjansson-dev liblmdb-dev libinih-dev"
runtime="lighttpd curl python3 python3-cryptography procps util-linux mandoc"
servers="nginx spawn-fcgi apache2 libapache2-mod-fcgid apache2-suexec-pristine passwd"

case "${1:-build}" in
build) want=$build ;;
demo) want="$build $runtime" ;;
test) want="$build $runtime $servers" ;;
*) echo "usage: $0 build|test|demo" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "idhook needs these Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the packaged lighttpd on port 80; idhook's tests and demo
# run their own instances on random loopback ports and do not need it.
