#!/bin/bash
# bench/autostart.sh: boot N busybox system containers as a host does at boot
# (`ctr start --autostart`), in parallel (the default --jobs) and one after another
# (--jobs 1), each from all stopped; prints the wall time of each boot, per container, and
# what the N running containers cost the host in memory (MemAvailable before and after).
# Usage: bench/autostart.sh [-n N] [--no-serial] [CTR]   (root; N default 100)
set -euo pipefail
n=100 serial=1
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2 && shift 2 ;;
	--no-serial) serial=0 && shift ;;
	-h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
ctr=${1:-${CTR:-$here/src/ctr}}
[ "$(id -u)" = 0 ] || { echo "autostart.sh: must run as root" >&2 && exit 1; }
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "autostart.sh: -n $n: a count from 1" >&2 && exit 1; }
tmp=$(mktemp -d /tmp/ctr-bench-autostart.XXXXXX)
export CTR_STORE=$tmp/store CTR_TEMPLATE_PATH=$here/templates CTR_INIT=$here/src/init/ctr-init
C=("$ctr" --root "$tmp/state")
prefix=as$$
stop_all() {
	"${C[@]}" ls --format json 2>/dev/null | jq -r '.[] | select(.state != "stopped") | .name' |
		xargs -r -P 32 -n 1 "${C[@]}" stop >/dev/null 2>&1 || true
}
cleanup() {
	trap - EXIT INT TERM
	stop_all
	ls "$CTR_STORE" 2>/dev/null | xargs -r -P 16 -n 1 "${C[@]}" destroy -f >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
avail() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
# the /proc/meminfo fields (KiB) that say where the drop of MemAvailable went
mem_fields="AnonPages Shmem KernelStack PageTables SUnreclaim SReclaimable Percpu"
mem_snapshot() { awk -v f=" $mem_fields " 'index(f, " " substr($1, 1, length($1) - 1) " ") {printf "%s=%s ", substr($1, 1, length($1) - 1), $2}' /proc/meminfo; }
# mem_per_container BEFORE AFTER: each field's growth per container, KiB
mem_per_container() {
	local k b a out=""
	for k in $mem_fields; do
		b=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$k=//p") a=$(tr ' ' '\n' <<<"$2" | sed -n "s/^$k=//p")
		out+=" $k $(((a - b) / n))"
	done
	echo "  of which, KiB per container:$out"
}

echo "creating $n busybox system containers (--net none --autostart)..."
seq 1 "$n" | xargs -P 8 -I{} "${C[@]}" create -t busybox "$prefix-{}" --net none --autostart >/dev/null
# boot MODE JOBS...: one timed `start --autostart`, then every container checked running
boot() {
	local label=$1 s e up before after mem_before mem_after
	shift
	before=$(avail) mem_before=$(mem_snapshot)
	s=$EPOCHREALTIME
	"${C[@]}" start --autostart "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2 && exit 1; }
	e=$EPOCHREALTIME
	sleep 2 # let each init and its getty settle before reading memory
	after=$(avail) mem_after=$(mem_snapshot)
	up=$("${C[@]}" ls --format json | jq '[.[] | select(.state == "running")] | length')
	[ "$up" = "$n" ] || { echo "autostart.sh: $up of $n running after $label" >&2 && exit 1; }
	local us=$((${e/./} - ${s/./}))
	printf '%-22s %8.0f ms in all  %6.2f ms per container  host memory %6d KiB per container\n' \
		"$label" "$(bc -l <<<"$us / 1000")" "$(bc -l <<<"$us / 1000 / $n")" $(((before - after) / n))
	mem_per_container "$mem_before" "$mem_after"
	stop_all
}
echo "booting $n containers with $(nproc) CPUs:"
boot "parallel (default)"
[ "$serial" = 0 ] || boot "serial (--jobs 1)" --jobs 1
