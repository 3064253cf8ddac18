#!/bin/bash
# bench/phases.sh: where the time of one `run` goes, phase by phase, for ctr and the kernel floor (see bench/README.md).
set -eu -o pipefail

usage() {
	cat <<EOF
usage: $0 [-n RUNS] [RUNTIME...]

Runs \`RUNTIME run\` of /bin/true in a busybox bundle RUNS times (default 20) under
\`perf record\` of the kernel's system-call and process tracepoints (no ptrace: the
programs run at full speed) and prints, per RUNTIME, the median time of each phase:

  start -> clone3       from the runtime's execve to its clone3 of the container
  clone3 -> child runs  until the child's first system call
  child setup           the child's work until it executes the next program
  exec(s)               from there until /bin/true runs (for ctr: ctr-stub, then /bin/true)
  program               /bin/true itself
  exit -> parent wakes  from the program's exit to the runtime's next system call
  teardown              from there to the runtime's exit (delete: cgroups, state)

and the system calls made in the phases that are the runtime's or its child's own. RUNTIME is ctr (\$CTR, else <repo>/src/ctr), floor
(bench/floor.c, built here with \${CC:-cc} -lyajl), or a path; default: ctr floor.
Needs root, perf (linux-perf), jq, a static busybox. State roots are on a tmpfs
(/dev/shm), as /run is on a systemd host.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
runs=20
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2 && shift ;;
	-h | --help) usage && exit 0 ;;
	-*) echo "phases.sh: unknown option $1" >&2 && usage >&2 && exit 2 ;;
	*) break ;;
	esac
	shift
done
case "$runs" in '' | *[!0-9]* | 0) echo "phases.sh: -n: a count from 1" >&2 && exit 2 ;; esac
[ $# -gt 0 ] || set -- ctr floor
[ "$(id -u)" = 0 ] || { echo "phases.sh: must run as root" >&2 && exit 1; }
command -v perf >/dev/null || { echo "phases.sh: need perf (apt-get install linux-perf)" >&2 && exit 1; }
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
	echo "phases.sh: need a static busybox (apt-get install busybox-static)" >&2 && exit 1
fi

tmp=$(mktemp -d /tmp/ctr-phases.XXXXXX)
state=$(mktemp -d /dev/shm/ctr-phases.XXXXXX)
prefix=ctrphases$$
export FLOOR_CGROUP_PARENT=$prefix-floor
cleanup() {
	local r id
	for r in "$state"/*; do
		[ -d "$r" ] || continue
		for id in $("${paths[${r##*/}]:-false}" --root "$r" list -q 2>/dev/null); do
			"${paths[${r##*/}]}" --root "$r" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	find /sys/fs/cgroup -maxdepth 3 -depth -type d -name "$prefix*" -exec rmdir {} \; 2>/dev/null || true
	rm -rf "$tmp" "$state"
}
declare -A paths
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$tmp/b/rootfs/bin"
cp "$bb" "$tmp/b/rootfs/bin/busybox"
ln -s busybox "$tmp/b/rootfs/bin/true"
spec_rt=$(command -v runc || command -v crun || true)
if [ -n "$spec_rt" ]; then (cd "$tmp/b" && "$spec_rt" spec); else (cd "$tmp/b" && "${CTR:-$here/../src/ctr}" spec); fi
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$tmp/b/config.json" >"$tmp/c.json"
mv "$tmp/c.json" "$tmp/b/config.json"

for rt in "$@"; do
	case "$rt" in
	ctr) name=ctr path=${CTR:-$here/../src/ctr} ;;
	floor)
		name=floor path=$tmp/floor
		"${CC:-cc}" -O2 -std=gnu11 -o "$path" "$here/floor.c" -lyajl
		;;
	*) name=$(basename "$rt") path=$rt ;;
	esac
	[ -x "$path" ] || { echo "phases.sh: $name: no executable at $path" >&2 && exit 1; }
	paths[$name]=$path
	mkdir -p "$state/$name"
	"$path" --root "$state/$name" run --bundle "$tmp/b" "$prefix-warm" >/dev/null
	# shellcheck disable=SC2016 # the loop expands in its own shell
	perf record -q -o "$tmp/perf.data" -e raw_syscalls:sys_enter -e sched:sched_process_exec \
		-e sched:sched_process_fork -e sched:sched_process_exit -- \
		bash -c 'for ((i = 0; i < $1; i++)); do "$2" --root "$3" run --bundle "$4" "$5-$i" >/dev/null; done' \
		_ "$runs" "$path" "$state/$name" "$tmp/b" "$prefix" 2>"$tmp/perf.err" ||
		{ cat "$tmp/perf.err" >&2 && exit 1; }
	perf script -i "$tmp/perf.data" -F tid,time,event,trace 2>/dev/null | awk -v rt="$(basename "$path")" -v label="$name" '
	function mean(k,   n, i, sum) {
		for (i = 1; i <= done; i++) if ((i, k) in d) { n++; sum += d[i, k] }
		return n ? sum / n : 0
	}
	function med(k,   n, i, j, t, a) {
		n = 0
		for (i = 1; i <= done; i++) if ((i, k) in d) a[++n] = d[i, k]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
	}
	# one run: T0 exec of the runtime, T1 its clone3, T2 the child first runs, T3 the child
	# executes, T4 /bin/true runs, T5 it exits, T6 the runtime runs again, T7 it exits
	function finish() {
		if (!cur || !(6 in T) || !(7 in T) || !(3 in T) || !(4 in T)) return
		done++
		for (k = 1; k <= 7; k++) d[done, k] = T[k] - T[k - 1]
		d[done, 8] = T[7] - T[0]
		for (k = 1; k <= 7; k++) d[done, "n" k] = S[k]
	}
	{
		tid = $1 + 0; t = $2 * 1000; ev = $3
		if (ev ~ /sched_process_exec/) {
			match($0, /filename=[^ ]+/); fn = substr($0, RSTART + 9, RLENGTH - 9)
			n = split(fn, parts, "/")
			if (parts[n] == rt) { finish(); cur = tid; child = 0; delete T; delete S; T[0] = t; phase = 1; next }
			if (cur && fn == "/bin/true") { T[4] = t; truepid = tid; if (!(3 in T)) T[3] = t; phase = 5 }
			next
		}
		if (!cur) next
		if (ev ~ /sched_process_fork/ && tid == cur && !child) { match($0, /child_pid=[0-9]+/); child = substr($0, RSTART + 10, RLENGTH - 10) + 0; next }
		if (ev ~ /sched_process_exit/) {
			if (tid == truepid && 4 in T) { T[5] = t; phase = 6 }
			if (tid == cur) T[7] = t
			next
		}
		if (ev !~ /sys_enter/) next
		match($0, /NR [0-9]+/); nr = substr($0, RSTART + 3, RLENGTH - 3) + 0
		# the runtime counts before its clone3 and after the program (teardown), the
		# child from its first system call to the program
		if (tid == cur) {
			if (phase == 1) S[1]++
			if (nr == 435 && !(1 in T)) { T[1] = t; phase = 2 }
			if (phase == 6 && !(6 in T)) { T[6] = t; phase = 7 }
			if (phase == 7) S[7]++
		} else if (tid == child) {
			if (!(2 in T)) { T[2] = t; phase = 3 }
			if ((nr == 59 || nr == 322) && !(3 in T)) { T[3] = t; phase = 4 }
			if (phase == 3 || phase == 4) S[phase]++
		}
	}
	END {
		finish()
		split("start -> clone3|clone3 -> child runs|child setup|exec(s)|program|exit -> parent wakes|teardown|total", names, "|")
		printf "%s: %d runs  %-11s %7s %9s\n", label, done, "", "median", "mean ms"
		for (k = 1; k <= 8; k++) {
			printf "  %-22s %7.2f %9.2f", names[k], med(k), mean(k)
			if (k == 1 || k == 3 || k == 4 || k == 7) printf "   %d system calls", med("n" k)
			printf "\n"
		}
	}'
done
