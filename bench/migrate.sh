#!/bin/bash
# bench/migrate.sh: downtime and total time of `ctr migrate`, stop-and-copy (--pre-dumps 0)
# against pre-copy (--pre-dumps N), for a busybox system container whose process keeps
# writing memory (bench/dirty.c: MIB MiB, RATE MiB/s of it) and, when the debian template's
# tree is cached (/var/cache/ctr/debian), a debian (sysvinit) one running the same writer.
# A benchmark, not a test: the two "hosts" are two state roots, stores and network roots
# joined by a unix socket, as in tests/integration/system_migrate.bats. criu must work where
# it runs (`criu check`); on a host where it does not, run it in the cgroup v2 guest:
#
#   sudo ../shared/vm/run-in-guest --share "$PWD" --timeout 3600 -- bench/migrate.sh
#   sudo bench/migrate.sh [--runs N] [--mib MIB] [--rate MIBPS] [--pre-dumps N] [--no-debian]
#
# Rounds are interleaved (each round migrates every kind with both modes). Printed: each
# migration's downtime (from the final dump's stop until it runs on the target) and total,
# then per kind and mode the medians, and pre-copy's median downtime as a ratio of
# stop-and-copy's. Needs root, ctr ($CTR, else ./src/ctr), criu, jq, a C compiler with a
# static libc (libc6-dev) for the writer.
set -euo pipefail

RUNS=3 MIB=256 RATE=4 PRE=3 DEBIAN=yes
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2 && shift ;;
	--mib) MIB=$2 && shift ;;
	--rate) RATE=$2 && shift ;;
	--pre-dumps) PRE=$2 && shift ;;
	--no-debian) DEBIAN=no ;;
	-h | --help) sed -n '2,18p' "$0" && exit 0 ;;
	*) echo "migrate.sh: unknown option $1" >&2 && exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
CTR=${CTR:-$HERE/src/ctr}
[ "$(id -u)" = 0 ] || { echo "migrate.sh: needs root" >&2 && exit 1; }
for t in "$CTR" criu jq "${CC:-cc}"; do
	command -v "$t" >/dev/null || { echo "migrate.sh: $t not found" >&2 && exit 1; }
done
criu check >/dev/null 2>&1 || { echo "migrate.sh: criu check fails on $(uname -r): run it in the cgroup v2 guest" >&2 && exit 1; }
if [ "$DEBIAN" = yes ] && ! ls /var/cache/ctr/debian/*.tar >/dev/null 2>&1; then
	echo "migrate.sh: no cached debian tree in /var/cache/ctr/debian: busybox only" >&2
	DEBIAN=no
fi

W=$(mktemp -d /tmp/ctr-migrate-bench.XXXXXX)
chmod 700 "$W"
export CTR_TEMPLATE_PATH=$HERE/templates CTR_INIT=$HERE/src/init/ctr-init CTR_TIMEOUT=900
src() { CTR_STORE=$W/src/store CTR_NETWORK_ROOT=$W/src/net "$CTR" --root "$W/src/state" "$@"; }
dst() { CTR_STORE=$W/dst/store CTR_NETWORK_ROOT=$W/dst/net "$CTR" --root "$W/dst/state" "$@"; }
RECV=''

cleanup() {
	set +e
	[ -z "$RECV" ] || kill "$RECV" 2>/dev/null
	for n in "$W"/src/store/*; do [ -e "$n" ] && src destroy -f "${n##*/}" >/dev/null 2>&1; done
	for n in "$W"/dst/store/*; do [ -e "$n" ] && dst destroy -f "${n##*/}" >/dev/null 2>&1; done
	rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/src/state" "$W/dst/state"
chmod 700 "$W/src/state" "$W/dst/state"

"${CC:-cc}" -O2 -static -o "$W/dirty" "$HERE/bench/dirty.c"
# criu waits 10 s for the tasks to freeze by default: an emulated guest may need more
printf 'timeout %s\n' "${CRIU_TIMEOUT:-120}" >"$W/criu.conf"
export CRIU_CONFIG_FILE=$W/criu.conf

# make KIND NAME: a container of KIND whose writer starts at boot, without a console
# (criu dumps no init whose session holds a terminal).
make_one() {
	local kind=$1 name=$2 root cfg
	src create -t "$kind" "$name" --net none --privileged >/dev/null
	root=$W/src/store/$name/rootfs
	cfg=$W/src/store/$name/config.json
	jq '.process.terminal = false' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	cp "$W/dirty" "$root/dirty"
	if [ "$kind" = debian ]; then
		echo "dt:2345:once:/dirty $MIB $RATE" >>"$root/etc/inittab"
	else
		echo "::once:/dirty $MIB $RATE" >>"$root/etc/inittab"
	fi
}

# seconds KEY: the "(N.NN s)" of migrate's line naming KEY.
seconds() {
	grep "$1" "$W/out" | tail -1 | sed -n 's/.*(\([0-9.]*\) s)$/\1/p'
}

# migrate_one KIND PREDUMPS: one migration, printed and recorded in $W/results.
migrate_one() {
	local kind=$1 pre=$2 name=m$RANDOM down total tries=100
	make_one "$kind" "$name"
	src start "$name" >/dev/null
	sleep 5 # booted, and the writer has touched its memory
	rm -f "$W/sock"
	dst migrate --listen "unix:$W/sock" >"$W/recv.out" 2>&1 &
	RECV=$!
	until [ -S "$W/sock" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || { echo "migrate.sh: the receiver did not listen: $(cat "$W/recv.out")" >&2 && exit 1; }
		sleep 0.1
	done
	if ! src migrate --pre-dumps "$pre" "$name" "unix:$W/sock" >"$W/out" 2>&1; then
		echo "migrate.sh: $kind --pre-dumps $pre failed: $(cat "$W/out")" >&2
		exit 1
	fi
	wait "$RECV" || true
	RECV=''
	down=$(seconds downtime)
	total=$(seconds total)
	printf '%-8s --pre-dumps %-3s downtime %7.2f s  total %7.2f s\n' "$kind" "$pre" "$down" "$total"
	echo "$kind $pre $down $total" >>"$W/results"
	dst stop -t 5 "$name" >/dev/null 2>&1 || true
	dst destroy -f "$name" >/dev/null
}

kinds=busybox
[ "$DEBIAN" = no ] || kinds="busybox debian"
echo "migrate.sh: $RUNS rounds, writer $MIB MiB at $RATE MiB/s, pre-copy --pre-dumps $PRE; $(uname -r)"
for ((r = 1; r <= RUNS; r++)); do
	for kind in $kinds; do
		migrate_one "$kind" 0
		migrate_one "$kind" "$PRE"
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-8s %-14s %14s %14s\n' kind mode "downtime med" "total med"
for kind in $kinds; do
	for pre in 0 "$PRE"; do
		d=$(awk -v k="$kind" -v p="$pre" '$1 == k && $2 == p { print $3 }' "$W/results" | median)
		t=$(awk -v k="$kind" -v p="$pre" '$1 == k && $2 == p { print $4 }' "$W/results" | median)
		printf '%-8s %-14s %12.2f s %12.2f s\n' "$kind" "--pre-dumps $pre" "$d" "$t"
		[ "$pre" = 0 ] && stop_copy=$d
	done
	awk -v a="$d" -v b="$stop_copy" -v k="$kind" 'BEGIN { printf "%s: pre-copy downtime / stop-and-copy downtime: %.2fx\n", k, a / b }'
done
