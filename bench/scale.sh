#!/bin/bash
# bench/scale.sh: what ctr's commands on one container cost with N others running (see bench/README.md).
set -eu -o pipefail

usage() {
	cat <<EOF
usage: $0 [-r REPS] [--system] [--net] [--raw FILE] [N...]

Starts N containers (\`ctr run -d\` of \`sleep\` from a busybox bundle; with --system, busybox
system containers) and times \`run\`, \`create\`, \`start\`, \`exec\`, \`state\`, \`list\`, \`kill\`
and \`delete\` of one more container, and \`run --net\` (attached to a bridge network made
here), (with --system also \`ls\`, \`info\`, \`start\` and \`stop\` of a system container)
REPS times at each N; prints the medians and each one's ratio to its value at N=0. Two
controls are timed at the same moments: \`run\` in an empty state root (ctl-run) and the
kernel floor of \`run\` (floor: bench/floor.c, built with \${CC:-cc} -lyajl), whose growth
with N is the kernel's, not ctr's. Also prints the host memory one running system
container costs.

  N...          the numbers of containers running (default: 0 50 200; 0 is always added)
  -r REPS       timed repetitions per command and N (default 7)
  --system      the N containers are system containers; time ls/info/start/stop too
  --net         the N containers are attached to the network too (a veth and a lease
                each), so that \`run --net\` meets N others on its bridge
  --raw FILE    also write every sample to FILE (N command rep ms, tab separated)

ctr is \$CTR, else <repo>/build/src/ctr, else <repo>/src/ctr. Must run as root.
Everything runs in a private state root and store under /tmp/ctr-scale.*, removed on
exit, on Ctrl-C and after a failure.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
reps=7 system=0 net=0 raw='' ns=()
while [ $# -gt 0 ]; do
	case "$1" in
	-r) reps=$2 && shift ;;
	--system) system=1 ;;
	--net) net=1 ;;
	--raw) raw=$(realpath -m "$2") && shift ;;
	-h | --help) usage && exit 0 ;;
	-*) echo "scale.sh: unknown option $1" >&2 && usage >&2 && exit 2 ;;
	*) ns+=("$1") ;;
	esac
	shift
done
[ ${#ns[@]} -gt 0 ] || ns=(50 200)
for n in "$reps" "${ns[@]}"; do
	case "$n" in '' | *[!0-9]*) echo "scale.sh: not a number: $n" >&2 && exit 2 ;; esac
done
[ "$reps" -ge 1 ] || { echo "scale.sh: -r must be at least 1" >&2 && exit 2; }
mapfile -t ns < <(printf '%s\n' 0 "${ns[@]}" | sort -n -u)
max=${ns[-1]}

[ "$(id -u)" = 0 ] || { echo "scale.sh: must run as root" >&2 && exit 1; }
ctr=${CTR:-}
if [ -z "$ctr" ]; then
	for p in "$here/../build/src/ctr" "$here/../src/ctr"; do
		[ -x "$p" ] && ctr=$(realpath "$p") && break
	done
fi
[ -n "$ctr" ] && [ -x "$ctr" ] || { echo "scale.sh: no ctr binary (set CTR)" >&2 && exit 1; }
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
	echo "scale.sh: need a static busybox (apt-get install busybox-static)" >&2 && exit 1
fi
command -v jq >/dev/null || { echo "scale.sh: need jq" >&2 && exit 1; }

tmp=$(mktemp -d /tmp/ctr-scale.XXXXXX)
prefix=ctrscale$$
root=$tmp/state store=$tmp/store
net_name=ctrs$$ # a bridge name fits 15 characters
export CTR_NETWORK_ROOT=$tmp/netroot
C() { "$ctr" --root "$root" --store "$store" "$@"; }

# Everything goes: system containers (forced), OCI containers, our cgroups, the directory.
cleanup() {
	local rc=$? id name
	trap - EXIT INT TERM HUP
	set +e
	echo "scale.sh: cleaning up" >&2
	if [ -d "$store" ]; then
		for name in $(C ls --format json 2>/dev/null | jq -r '.[].name' 2>/dev/null); do
			timeout 30 "$ctr" --root "$root" --store "$store" destroy -f "$name" >/dev/null 2>&1
		done
	fi
	for r in "$root" "$tmp/empty-root"; do
		[ -d "$r" ] || continue
		for id in $("$ctr" --root "$r" list -q 2>/dev/null); do
			timeout 30 "$ctr" --root "$r" --store "$store" delete --force "$id" >/dev/null 2>&1
		done
	done
	find /sys/fs/cgroup -maxdepth 6 -depth -type d -name "*$prefix*" -exec rmdir {} \; 2>/dev/null
	[ ! -d "$CTR_NETWORK_ROOT" ] || timeout 30 "$ctr" network rm -f "$net_name" >/dev/null 2>&1
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- limits: what running $max containers needs of the host ---
procs_per=1 # `ctr run -d` leaves only the container's process
[ "$system" = 0 ] || procs_per=3 # the monitor, busybox init, its shell
own_pids_cg=$(awk -F: '$2 == "pids" {print $3}' /proc/self/cgroup)
pids_max=max
[ -z "$own_pids_cg" ] || pids_max=$(cat "/sys/fs/cgroup/pids$own_pids_cg/pids.max" 2>/dev/null || echo max)
[ -n "$own_pids_cg" ] || pids_max=$(cat "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' /proc/self/cgroup)/pids.max" 2>/dev/null || echo max)
need=$((max * procs_per + 100))
echo "limits: NOFILE soft/hard $(ulimit -Sn)/$(ulimit -Hn), NPROC $(ulimit -Su)/$(ulimit -Hu)," \
	"kernel.pid_max $(cat /proc/sys/kernel/pid_max), kernel.threads-max $(cat /proc/sys/kernel/threads-max)," \
	"pids.max of this shell's cgroup $pids_max, user.max_net_namespaces $(cat /proc/sys/user/max_net_namespaces)," \
	"user.max_mnt_namespaces $(cat /proc/sys/user/max_mnt_namespaces)"
echo "limits: $max containers need about $need processes and $max of each namespace kind"
limit_ok=1
for l in "$(ulimit -Su)" "$(cat /proc/sys/kernel/pid_max)" "$pids_max" "$(cat /proc/sys/user/max_net_namespaces)" \
	"$(cat /proc/sys/user/max_mnt_namespaces)" "$(cat /proc/sys/user/max_pid_namespaces)"; do
	[ "$l" = unlimited ] || [ "$l" = max ] || [ "$l" -ge "$need" ] || limit_ok=0
done
[ "$limit_ok" = 1 ] || { echo "scale.sh: a limit above is below $need: lower N" >&2 && exit 1; }

# --- bundles: /bin/true (run), sleep (the N and the created one) ---
mkdir -p "$tmp/true/rootfs/bin" "$tmp/sleep" "$root" "$store" "$tmp/empty-root"
cp "$bb" "$tmp/true/rootfs/bin/busybox"
for l in true sh sleep; do ln -s busybox "$tmp/true/rootfs/bin/$l"; done
(cd "$tmp/true" && C spec >/dev/null)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$tmp/true/config.json" >"$tmp/c.json"
mv "$tmp/c.json" "$tmp/true/config.json"
jq '.root.path = $r | .process.args = ["/bin/sleep", "100000"]' --arg r "$tmp/true/rootfs" \
	"$tmp/true/config.json" >"$tmp/sleep/config.json"
jq -c '[.linux.namespaces[].type]' "$tmp/true/config.json" | sed 's/^/bundle namespaces: /'

samples=$tmp/samples # N command rep ms
: >"$samples"
fail() {
	echo "scale.sh: $*" >&2
	[ ! -s "$tmp/err" ] || sed 's/^/  /' "$tmp/err" >&2
	exit 1
}

# t N NAME REP CMD...: time one command (fork+exec of ctr included) into $samples
t() {
	local n=$1 name=$2 rep=$3 s e
	shift 3
	s=$EPOCHREALTIME
	"$@" </dev/null >/dev/null 2>"$tmp/err" || fail "$name at N=$n failed: $*"
	e=$EPOCHREALTIME
	[ "$rep" -lt 0 ] || echo "$n $name $rep $((${e/./} - ${s/./}))" >>"$samples"
}

wait_stopped() {
	local id=$1 i
	for ((i = 0; i < 500; i++)); do
		[ "$(C state "$id" 2>/dev/null | jq -r .status)" = stopped ] && return 0
		sleep 0.01
	done
	fail "$id did not stop after SIGKILL"
}

if [ "$system" = 1 ]; then
	C create -t busybox "$prefix-probe" --net none >/dev/null 2>"$tmp/err" || fail "create -t busybox failed"
fi
# the network of `run --net` (and of the N with --net): no DNS server, no NAT, so that
# nothing but the veth, the lease and the bridge's port is timed
C network create "$net_name" --subnet 10.214.0.0/16 --no-dns --no-nat >/dev/null 2>"$tmp/err" ||
	fail "network create failed"
bg_net=none
[ "$net" = 0 ] || bg_net=$net_name
running=0
# bring the N background containers up to $1
grow() {
	local want=$1 id
	if [ "$system" = 1 ] && [ "$running" -lt "$want" ]; then
		# system containers 2 per CPU at a time (each create copies the template's rootfs)
		# shellcheck disable=SC2016 # expanded by the sh of each
		seq "$running" $((want - 1)) | xargs -P $((2 * $(nproc))) -I{} sh -c \
			'"$1" --root "$2" --store "$3" create -t busybox "$4-bg$5" --net "$6" >/dev/null &&
			"$1" --root "$2" --store "$3" start "$4-bg$5" </dev/null >/dev/null' \
			_ "$ctr" "$root" "$store" "$prefix" {} "$bg_net" 2>"$tmp/err" || fail "create -t busybox + start failed"
		running=$want
	fi
	while [ "$running" -lt "$want" ]; do
		id=$prefix-bg$running
		if [ "$net" = 1 ]; then
			C run -d --net "$net_name" --bundle "$tmp/sleep" "$id" </dev/null >/dev/null 2>"$tmp/err" ||
				fail "run -d --net $id failed"
		else
			C run -d --bundle "$tmp/sleep" "$id" </dev/null >/dev/null 2>"$tmp/err" || fail "run -d $id failed"
		fi
		running=$((running + 1))
	done
}

ops=(run run-net create start exec state list kill delete)
[ "$system" = 0 ] || ops+=(sys-start sys-info sys-ls sys-stop)
ops+=(ctl-run)
# the kernel floor (bench/floor.c) of `run`, when it builds: what the kernel alone makes of N
floor=$tmp/floor
if "${CC:-cc}" -O2 -std=gnu11 -o "$floor" "$here/floor.c" -lyajl 2>"$tmp/err"; then
	ops+=(floor)
	export FLOOR_CGROUP_PARENT=$prefix-floor
else
	echo "scale.sh: no floor row: cannot build bench/floor.c (libyajl-dev?)" >&2
fi
for n in "${ns[@]}"; do
	s0=$EPOCHREALTIME
	grow "$n"
	printf 'N=%-5s %d containers running (started in %d ms); timing %d reps\n' "$n" "$running" \
		$(((${EPOCHREALTIME/./} - ${s0/./}) / 1000)) "$reps" >&2
	for ((r = -1; r < reps; r++)); do # rep -1 warms the caches up and is not recorded
		id=$prefix-x$n-$r
		t "$n" run "$r" C run --bundle "$tmp/true" "$id-r"
		t "$n" run-net "$r" C run --net "$net_name" --bundle "$tmp/true" "$id-n"
		t "$n" create "$r" C create --bundle "$tmp/sleep" "$id"
		t "$n" start "$r" C start "$id"
		t "$n" exec "$r" C exec "$id" /bin/true
		t "$n" state "$r" C state "$id"
		t "$n" list "$r" C list
		t "$n" kill "$r" C kill "$id" KILL
		wait_stopped "$id"
		t "$n" delete "$r" C delete "$id"
		if [ "$system" = 1 ]; then
			t "$n" sys-start "$r" C start "$prefix-probe"
			t "$n" sys-info "$r" C info "$prefix-probe"
			t "$n" sys-ls "$r" C ls
			t "$n" sys-stop "$r" C stop "$prefix-probe"
		fi
		# the control: `run` in an empty state root, at the same moment; its drift is the
		# machine's (and the kernel's with N containers), not ctr's state
		t "$n" ctl-run "$r" "$ctr" --root "$tmp/empty-root" run --bundle "$tmp/true" "$id-c"
		[ "${ops[-1]}" != floor ] || t "$n" floor "$r" "$floor" --root "$tmp/empty-root" run --bundle "$tmp/true" "$id-f"
	done
done
[ -z "$raw" ] || cp "$samples" "$raw"

# --- memory of one running system container (N=0 would be best; measured last, once) ---
mem_report() {
	local name=$prefix-mem init mon cg mcg rss anon pte kmem mkmem usage
	C create -t busybox "$name" --net none >/dev/null 2>"$tmp/err" || fail "create -t busybox $name failed"
	C start "$name" </dev/null >/dev/null 2>"$tmp/err" || fail "start $name failed"
	sleep 1 # let init and its getty settle
	init=$(C info --format json "$name" | jq -r '.pid // .init_pid // empty')
	[ -n "$init" ] || fail "ctr info $name: no init pid"
	mon=$(awk '/^PPid:/ {print $2}' "/proc/$init/status")
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$mon/status")
	# what this monitor alone adds: its anonymous pages (heap, stack, data) and page tables;
	# the rest of its RSS is ctr's and libc's file pages, shared by every monitor
	anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$mon/smaps_rollup")
	pte=$(awk '/^VmPTE:/ {print $2}' "/proc/$mon/status")
	# kernel memory of a cgroup: memory.stat's `kernel` on v2, memory.kmem.usage_in_bytes on v1
	cg_kmem() {
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			awk '$1 == "kernel" {k = $2} $1 == "slab" {s = $2} END {print k ? k : s}' "$1/memory.stat"
		else
			cat "$1/memory.kmem.usage_in_bytes"
		fi
	}
	cg_of() {
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			echo "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup")"
		else
			echo "/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$1/cgroup")"
		fi
	}
	cg=$(cg_of "$init") mcg=$(cg_of "$mon")
	kmem=$(cg_kmem "$cg")
	mkmem=0
	[ "$mcg" = "$cg" ] || mkmem=$(cg_kmem "$mcg")
	usage=$(cat "$cg/memory.current" 2>/dev/null || cat "$cg/memory.usage_in_bytes")
	echo
	echo "one running busybox system container ($(ps -o comm= -p "$mon") pid $mon monitoring init pid $init):"
	printf '  monitor RSS %d KiB + kernel memory of the container cgroup %d KiB' "$rss" $((kmem / 1024))
	printf ' + of the monitor cgroup %d KiB = %d KiB\n' $((mkmem / 1024)) $((rss + (kmem + mkmem) / 1024))
	printf '  (container cgroup %s: %d KiB in all, user pages included)\n' "${cg#/sys/fs/cgroup}" \
		$((usage / 1024))
	printf '  beyond the container'"'"'s own processes: monitor anonymous %d KiB + page tables %d KiB' \
		"$anon" "$pte"
	printf ' + monitor cgroup kernel memory %d KiB = %d KiB (its %d KiB of file pages are shared)\n' \
		$((mkmem / 1024)) $((anon + pte + mkmem / 1024)) $((rss - anon))
	C stop "$name" >/dev/null 2>&1 || true
}
mem_report

# --- report: medians and ratios to N=0 ---
echo
echo "median ms of one command on one container with N others running (ratio to N=0), $reps reps"
awk -v ops="${ops[*]}" -v nlist="${ns[*]}" '
	{ v[$1, $2, ++c[$1, $2]] = $4 / 1000 }
	function med(n, op,   k, m, a, i, j, t) {
		m = c[n, op]
		for (i = 1; i <= m; i++) a[i] = v[n, op, i]
		for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		no = split(ops, o, " "); nn = split(nlist, N, " ")
		printf "%-10s", "command"
		for (j = 1; j <= nn; j++) printf " %9s%9s", "N=" N[j], ""
		printf "\n"
		for (i = 1; i <= no; i++) {
			printf "%-10s", o[i]
			base = med(N[1], o[i])
			for (j = 1; j <= nn; j++) {
				m = med(N[j], o[i])
				if (j == 1) printf " %9.2f         ", m
				else printf " %9.2f (%5.2fx)", m, m / base
			}
			printf "\n"
		}
	}' "$samples"
echo "ctl-run is \`run\` in an empty state root at the same moment: the machine's drift."
[ "${ops[-1]}" != floor ] || echo "floor is the kernel floor of \`run\` (bench/floor.c) at the same moment: the kernel's own growth with N."
