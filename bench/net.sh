#!/bin/bash
# bench/net.sh: what attaching a container to a network adds to `ctr run` (the networking
# issue's budget: <= 2 ms). Runs the same bundle with and without `--net`, back to back in
# alternating order, and reports the median of the paired differences. Only ctr has
# named networks (crun and runc leave networking to CNI), so there is no ratio here.
# Usage: bench/net.sh [-n PAIRS] [CTR]   (root; makes and removes the network ctrtbench)
set -euo pipefail
pairs=100
if [ "${1:-}" = -n ]; then pairs=$2; shift 2; fi
here=$(cd "$(dirname "$0")" && pwd)
ctr=${1:-$here/../src/ctr}
[ "$(id -u)" = 0 ] || { echo "net.sh: must run as root" >&2; exit 1; }
bb=$(command -v busybox) || { echo "net.sh: need busybox-static" >&2; exit 1; }
tmp=$(mktemp -d /tmp/ctr-bench-net.XXXXXX)
export CTR_NETWORK_ROOT=$tmp/netroot
trap '"$ctr" network rm ctrtbench >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/b/rootfs/bin" "$tmp/state"
cp "$bb" "$tmp/b/rootfs/bin/busybox"
ln -s busybox "$tmp/b/rootfs/bin/true"
(cd "$tmp/b" && "$ctr" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$tmp/b/config.json" >"$tmp/c"
mv "$tmp/c" "$tmp/b/config.json"
"$ctr" network create ctrtbench --subnet 10.213.0.0/16 >/dev/null

# one timed run in ms; $1: extra options
one() {
	local t0 t1
	t0=$(date +%s%N)
	"$ctr" --root "$tmp/state" run --bundle "$tmp/b" $1 "bench-$RANDOM$RANDOM" </dev/null >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

# warm up: the bridge and the nft table are made by the first attach
for _ in 1 2 3; do one "--net ctrtbench" >/dev/null; one "" >/dev/null; done
: >"$tmp/plain"
: >"$tmp/net"
: >"$tmp/diff"
for i in $(seq "$pairs"); do
	if [ $((i % 2)) = 0 ]; then
		p=$(one "")
		n=$(one "--net ctrtbench")
	else
		n=$(one "--net ctrtbench")
		p=$(one "")
	fi
	echo "$p" >>"$tmp/plain"
	echo "$n" >>"$tmp/net"
	echo $((n - p)) >>"$tmp/diff"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f", m/1000}'; }
quart() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {printf "%.3f", a[int(NR*q)+1]/1000}'; }
echo "ctr run, $pairs pairs: plain median $(median "$tmp/plain") ms, --net median $(median "$tmp/net") ms"
c=$(median "$tmp/diff")
echo "network attach cost (paired difference): median $c ms (IQR $(quart "$tmp/diff" 0.25) .. $(quart "$tmp/diff" 0.75) ms)"
awk -v c="$c" 'BEGIN {exit !(c <= 2.0)}' && echo "target <= 2 ms: MET" || echo "target <= 2 ms: NOT MET"
