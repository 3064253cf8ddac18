#!/bin/bash
# bench/system-stop.sh: `ctr start`/`stop` against `lxc-start`/`lxc-stop` of one Debian guest (sysvinit; systemd with -s), from
# one root filesystem (made by `ctr create -t debian`), interleaved: each round boots and
# stops the guest under each tool in turn, the first one alternating. A stop is timed
# from the command to its return, once the guest is in runlevel 2 with root logged in on
# the console; "clean" is a halt without the SIGKILL after the timeout (ctr: exit 0 and
# `clean: true`; LXC: init gone before lxc-stop's timeout). A boot is timed from the start
# command until that state (polled every 0.02 s through attach / lxc-attach).
# -u: LXC boots it unprivileged too, as ctr does by default (lxc.idmap with the range ctr
# gave the container, userns.conf, the rootfs idmapped); root needs a subordinate range for
# LXC's newuidmap, which it gets from /etc/subuid and /etc/subgid bound over in a mount
# namespace of LXC's own, and LXC's root must reach the rootfs, bound at a 0755 path there.
# -s: a systemd guest instead (`--init systemd`): booted is `systemctl is-system-running`
# running or degraded with root logged in on the console, and both send SIGRTMIN+3 to stop.
# Usage: bench/system-stop.sh [-n ROUNDS] [-u] [-s] [CTR]   (root; needs lxc and debootstrap)
set -euo pipefail
rounds=10 userns='' systemd=''
while :; do
	case ${1:-} in
	-n) rounds=$2 && shift 2 ;;
	-u) userns=1 && shift ;;
	-s) systemd=1 && shift ;;
	*) break ;;
	esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
ctr=${1:-$here/src/ctr}
[ "$(id -u)" = 0 ] || { echo "system-stop.sh: must run as root" >&2; exit 1; }
for t in lxc-start debootstrap jq; do
	command -v "$t" >/dev/null || { echo "system-stop.sh: $t not found" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/ctr-bench-stop.XXXXXX)
name=benchstop$$
export CTR_STORE=$tmp/store CTR_TEMPLATE_PATH=${CTR_TEMPLATE_PATH:-$here/templates}
export CTR_INIT=${CTR_INIT:-$here/src/init/ctr-init}
C=("$ctr" --root "$tmp/state")
L=(-n "$name" -P "$tmp/lxc")
cleanup() {
	lxc-stop "${L[@]}" -k >/dev/null 2>&1 || true
	"${C[@]}" destroy -f "$name" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
"${C[@]}" create -t debian "$name" --net none ${systemd:+--init systemd --packages openssh-server} >/dev/null 2>&1
mkdir -p "$tmp/lxc/$name"
halt=SIGPWR
[ -z "$systemd" ] || halt=SIGRTMIN+3
cat >"$tmp/lxc/$name/config" <<EOF
lxc.include = /usr/share/lxc/config/common.conf
lxc.uts.name = $name
lxc.rootfs.path = dir:$CTR_STORE/$name/rootfs
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.tty.max = 0
lxc.signal.halt = $halt
EOF
LXC_START=(lxc-start)
if [ -n "$userns" ]; then
	IFS=: read -r uid gid _ < <("${C[@]}" config "$name" get idmap)
	[ -n "$uid" ] && [ "$uid" != none ] || { echo "system-stop.sh: -u: $name has no id range" >&2; exit 1; }
	chmod 0711 "$tmp"
	mkdir -m 0755 "$tmp/lxcroot"
	echo "root:$uid:65536" >"$tmp/subuid"
	echo "root:$gid:65536" >"$tmp/subgid"
	sed -i "s|^lxc.rootfs.path = .*|lxc.rootfs.path = dir:$tmp/lxcroot|" "$tmp/lxc/$name/config"
	cat >>"$tmp/lxc/$name/config" <<EOF
lxc.include = /usr/share/lxc/config/userns.conf
lxc.idmap = u 0 $uid 65536
lxc.idmap = g 0 $gid 65536
lxc.rootfs.options = idmap=container
EOF
	LXC_START=(unshare -m sh -c 'mount --bind "$1/subuid" /etc/subuid && mount --bind "$1/subgid" /etc/subgid &&
		mount --bind "$2" "$1/lxcroot" && shift 2 && exec lxc-start "$@"' sh "$tmp" "$CTR_STORE/$name/rootfs")
fi

# booted: runlevel 2 (systemd: running or degraded) and a login shell on the console ($1:
# the tool's "run in it" command)
up='runlevel | grep -q " 2$"'
[ -z "$systemd" ] || up='systemctl is-system-running 2>/dev/null | grep -Eqx "running|degraded"'
booted() {
	local i
	for i in $(seq 1500); do
		"$@" /bin/sh -c "$up"' && grep -qx -- -bash /proc/[0-9]*/cmdline' \
			2>/dev/null && return 0
		sleep 0.02
	done
	echo "system-stop.sh: the guest did not boot: $*" >&2
	return 1
}
now() { date +%s%N; }

one_ctr() {
	local t0 t1 out
	t0=$(now)
	"${C[@]}" start "$name"
	booted "${C[@]}" attach "$name" --
	echo "ctr-boot $((($(now) - t0) / 1000000)) true" >>"$tmp/samples"
	t0=$(now)
	out=$("${C[@]}" stop --format json "$name" 2>/dev/null) || true
	t1=$(now)
	echo "ctr $(((t1 - t0) / 1000000)) $(jq -r .clean <<<"$out")" >>"$tmp/samples"
}
one_lxc() {
	local t0 t1 clean=true
	t0=$(now)
	"${LXC_START[@]}" "${L[@]}"
	booted lxc-attach "${L[@]}" --
	echo "lxc-boot $((($(now) - t0) / 1000000)) true" >>"$tmp/samples"
	t0=$(now)
	# lxc-stop: its halt signal, then SIGKILL after its timeout (-t, 60 s by default)
	lxc-stop "${L[@]}" -t 30 || clean=false
	t1=$(now)
	[ $(((t1 - t0) / 1000000)) -lt 30000 ] || clean=false
	echo "lxc $(((t1 - t0) / 1000000)) $clean" >>"$tmp/samples"
}

: >"$tmp/samples"
for i in $(seq "$rounds"); do
	if [ $((i % 2)) = 1 ]; then one_ctr && one_lxc; else one_lxc && one_ctr; fi
done
printf '%-9s %6s %10s %10s\n' tool runs 'median ms' clean
for t in ctr-boot lxc-boot ctr lxc; do
	awk -v t="$t" '$1 == t { print $2 }' "$tmp/samples" | sort -n >"$tmp/t-$t"
	n=$(wc -l <"$tmp/t-$t")
	med=$(sed -n "$(((n + 1) / 2))p" "$tmp/t-$t")
	printf '%-9s %6d %10s %10s\n' "$t" "$n" "$med" \
		"$(awk -v t="$t" '$1 == t && $3 == "true"' "$tmp/samples" | wc -l)/$n"
done
ratio=$(awk 'NR == FNR { a[++n] = $1; next } { b[++m] = $1 }
	END { if (n && m) printf "%.2f", a[int((n + 1) / 2)] / b[int((m + 1) / 2)] }' "$tmp/t-ctr" "$tmp/t-lxc")
echo "ctr/lxc median stop: ${ratio}x"
ratio=$(awk 'NR == FNR { a[++n] = $1; next } { b[++m] = $1 }
	END { if (n && m) printf "%.2f", a[int((n + 1) / 2)] / b[int((m + 1) / 2)] }' "$tmp/t-ctr-boot" "$tmp/t-lxc-boot")
what="runlevel 2"
[ -z "$systemd" ] || what="systemd running"
echo "ctr/lxc median boot (start to $what with root's shell on the console): ${ratio}x"
