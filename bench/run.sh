#!/bin/bash
# bench/run.sh: side-by-side, interleaved benchmark of ctr against crun and runc (see bench/README.md).
set -eu -o pipefail

usage() {
	cat <<EOF
usage: $0 [--quick] [--runs N] [--cold N] [--concurrency N] [--rounds N] [--warmup N] [--timeout S]
          [--no-limits] [--raw FILE] [RUNTIME...]

Times \`run\` of /bin/true in a busybox bundle, the create/start/delete split, \`exec\` of
/bin/true into a running container, the peak RSS of the runtime process, N concurrent \`run\`s and what cgroup limits add to \`run\`, for every
RUNTIME in one interleaved run; for ctr also what the protection of its binary (ctr-stub)
adds to \`run\` and \`exec\`.

  --runs N          timed iterations per runtime (default 200)
  --concurrency N   containers started at once in the concurrent test (default 50, 0 = skip)
  --rounds N        rounds of the concurrent test (default 5)
  --cold N          runs after 1.5 s of idle per runtime, as a single user run sees it (default 10)
  --warmup N        untimed iterations first (default 3)
  --timeout S       a runtime command that takes longer is killed and counted as failed (30)
  --no-limits       skip the limits phase (run with vs. without memory, pids and cpu limits)
  --quick           smoke run: --runs 20 --rounds 2 --cold 3
  --raw FILE        also write every sample to FILE (tab separated)

RUNTIME is ctr, crun, runc, floor, a path, or NAME=PATH (default: ctr crun runc floor).
ctr is found at \$CTR, else <repo>/build/src/ctr, else /tmp/b-main/src/ctr.
floor is bench/floor.c, built here with \${CC:-cc} (needs libyajl-dev): the kernel floor of
\`run\` (clone3 with the bundle's namespaces into a fresh cgroup, pivot_root, /proc, exec),
timed in the run, cold and concurrent phases only; every runtime's ratios to it are printed.
State roots are made on a tmpfs (/dev/shm), as /run is on a systemd host.
Must run as root.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
runs=200 conc=50 rounds=5 warmup=3 timeout=30 raw='' cold=10 limits=1

# Internal modes, run inside the private mount namespace: --inner TMP ... and --cleanup TMP ...
mode=outer tmp=
case "${1:-}" in
--inner | --cleanup) mode=${1#--} tmp=$2 && shift 2 ;;
esac

while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2 && shift ;;
	--concurrency) conc=$2 && shift ;;
	--rounds) rounds=$2 && shift ;;
	--cold) cold=$2 && shift ;;
	--warmup) warmup=$2 && shift ;;
	--timeout) timeout=$2 && shift ;;
	--quick) runs=20 rounds=2 cold=3 ;;
	--no-limits) limits=0 ;;
	--raw) raw=$(realpath -m "$2") && shift ;;
	-h | --help) usage && exit 0 ;;
	--) shift && break ;;
	-*) echo "run.sh: unknown option $1" >&2 && usage >&2 && exit 2 ;;
	*) break ;;
	esac
	shift
done
for n in "$runs" "$conc" "$rounds" "$warmup" "$timeout" "$cold"; do
	case "$n" in '' | *[!0-9]*) echo "run.sh: not a number: $n" >&2 && exit 2 ;; esac
done

# NAME=PATH for one runtime argument, or nothing (with a warning) when it is not installed.
resolve() {
	local spec=$1 name path=
	case "$spec" in
	*=*) name=${spec%%=*} path=${spec#*=} ;;
	*/*) name=$(basename "$spec") path=$spec ;;
	floor)
		name=floor path=$tmp/floor
		if ! "${CC:-cc}" -O2 -std=gnu11 -Wall -Wextra -o "$path" "$here/floor.c" -lyajl >&2; then
			echo "run.sh: skipping floor: cannot build bench/floor.c (libyajl-dev?)" >&2
			return 0
		fi
		;;
	ctr)
		name=ctr
		if [ -n "${CTR:-}" ]; then
			path=$CTR
		else
			for p in "$here/../build/src/ctr" /tmp/b-main/src/ctr; do
				[ -x "$p" ] && path=$p && break
			done
		fi
		;;
	*) name=$spec path=$(command -v "$spec" || true) ;;
	esac
	case "$name" in '' | *[!A-Za-z0-9_.+-]*) echo "run.sh: bad runtime name '$name'" >&2 && exit 2 ;; esac
	if [ -z "$path" ] || [ ! -x "$path" ]; then
		echo "run.sh: skipping $name: no executable found${path:+ at $path}" >&2
		return 0
	fi
	echo "$name=$(realpath "$path")"
}

# Our cgroups (named after our ids), deepest first.
our_cgroups() {
	find /sys/fs/cgroup -maxdepth 6 -depth -type d -name "$prefix-*" 2>/dev/null || true
}

# Delete every container left in our state roots and every cgroup named after our prefix.
# Processes still in our cgroups are killed first: a stuck container process may hold a
# lock that `delete` would wait for.
cleanup_containers() {
	local spec name path root id d ids cg pid
	for cg in $(our_cgroups); do
		while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$cg/cgroup.procs"
	done
	for spec in "$@"; do
		name=${spec%%=*} path=${spec#*=} root=$tmp/state/$name
		[ -d "$root" ] || continue
		ids=$(timeout 10 "$path" --root "$root" list -q 2>/dev/null | grep "^$prefix-" || true)
		for d in "$root/$prefix"-*; do
			[ -d "$d" ] && ids+=" ${d##*/}"
		done
		for id in $ids; do
			timeout 10 "$path" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	for cg in $(our_cgroups); do rmdir "$cg" 2>/dev/null || true; done
	touch "$tmp/cleaned"
}

# crun refuses hybrid hosts whose cgroup2 mount holds a controller (here: hugetlb): in this
# namespace only, the unified hierarchy claims none. Every runtime runs under the same view.
hide_unified_controllers() {
	local f=/sys/fs/cgroup/unified/cgroup.controllers
	if [ -e "$f" ] && grep -q . "$f"; then
		: >"$tmp/empty"
		mount --bind "$tmp/empty" "$f"
	fi
}

make_bundle() {
	local b=$tmp/bundle bb spec_rt
	bb=$(command -v busybox || true)
	if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
		echo "run.sh: need a static busybox (apt-get install busybox-static)" >&2 && return 1
	fi
	mkdir -p "$b/rootfs/bin"
	cp "$bb" "$b/rootfs/bin/busybox"
	ln -s busybox "$b/rootfs/bin/true"
	ln -s busybox "$b/rootfs/bin/sh"
	spec_rt=$(command -v runc || command -v crun || echo "${specs[0]#*=}")
	(cd "$b" && "$spec_rt" spec)
	jq '.process.terminal = false | .process.args = ["/bin/true"]' "$b/config.json" >"$b/config.tmp"
	mv "$b/config.tmp" "$b/config.json"
	# the limits phase: the same bundle and rootfs with typical limits
	mkdir -p "$tmp/bundle-limits"
	jq '.root.path = $r | .linux.resources.memory = {limit: 268435456}
		| .linux.resources.pids = {limit: 128}
		| .linux.resources.cpu = {quota: 50000, period: 100000}' --arg r "$b/rootfs" \
		"$b/config.json" >"$tmp/bundle-limits/config.json"
	# the exec and seal phases: a running container to exec /bin/true into
	ln -s busybox "$b/rootfs/bin/sleep"
	mkdir -p "$tmp/bundle-sleep"
	jq '.root.path = $r | .process.args = ["/bin/sleep", "3600"]' --arg r "$b/rootfs" \
		"$b/config.json" >"$tmp/bundle-sleep/config.json"
}

# One untimed `run` per runtime; a runtime that cannot run a container is left out.
# Prints the NAME=PATH of those that work.
smoke_check() {
	local spec name path
	for spec in "$@"; do
		name=${spec%%=*} path=${spec#*=}
		if "$path" --root "$tmp/state/$name" run --bundle "$tmp/bundle" "$prefix-$name-smoke" \
			</dev/null >/dev/null 2>"$tmp/smoke.err"; then
			echo "$spec"
		else
			echo "run.sh: LEFT OUT $name: \`$name run\` failed: $(tr '\n' ' ' <"$tmp/smoke.err")" >&2
			"$path" --root "$tmp/state/$name" delete --force "$prefix-$name-smoke" >/dev/null 2>&1 || true
		fi
	done
}

inner() {
	local specs=("$@") ok=() spec rc=0
	prefix=ctr-bench-$$
	echo "$prefix" >"$tmp/prefix"
	# the floor's cgroups: <ctrl>/$prefix-floor/<id>, found and removed by cleanup_containers
	export FLOOR_CGROUP_PARENT=$prefix-floor
	trap 'cleanup_containers "${specs[@]}"' EXIT
	trap 'exit 130' INT TERM HUP
	hide_unified_controllers
	make_bundle
	mkdir -p "$tmp/logs"
	for spec in "${specs[@]}"; do mkdir -p "$tmp/state/${spec%%=*}"; done
	gcc -O2 -std=gnu11 -Wall -Wextra -o "$tmp/bench-run" "$here/bench-run.c" -lm
	mapfile -t ok < <(smoke_check "${specs[@]}")
	local limits_bundle=
	[ "$limits" = 0 ] || limits_bundle=$tmp/bundle-limits
	[ ${#ok[@]} -gt 0 ] || { echo "run.sh: no runtime can run the bundle" >&2 && return 1; }
	[ ${#ok[@]} -eq ${#specs[@]} ] || rc=1
	for spec in "${ok[@]}"; do
		printf '%-6s %s (%s)\n' "${spec%%=*}" "${spec#*=}" "$("${spec#*=}" --version 2>&1 | head -n1)"
	done
	# the exec phase (and ctr's seal phase) exec into each runtime's running container,
	# started here so that it is no child of bench-run's
	local exec_phase=-E
	for spec in "${ok[@]}"; do
		[ "${spec%%=*}" != floor ] || continue
		if ! "${spec#*=}" --root "$tmp/state/${spec%%=*}" run -d --bundle "$tmp/bundle-sleep" \
			"$prefix-${spec%%=*}-exec" </dev/null >/dev/null 2>"$tmp/exec.err"; then
			echo "run.sh: cannot start a ${spec%%=*} container to exec into: $(tr '\n' ' ' <"$tmp/exec.err"); exec phase skipped" >&2
			exec_phase=
		fi
	done
	"$tmp/bench-run" -b "$tmp/bundle" -s "$tmp/state" -l "$tmp/logs" -p "$prefix" \
		-n "$runs" -w "$warmup" -c "$conc" -r "$rounds" -t "$timeout" -k "$cold" ${raw:+-o "$raw"} \
		${limits_bundle:+-L "$limits_bundle"} ${exec_phase:+"$exec_phase"} "${ok[@]}" || rc=$?
	return $rc
}

outer() {
	local specs=() spec rc=0 missing=0 extra=()
	[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2 && exit 1; }
	[ $# -gt 0 ] || set -- ctr crun runc floor
	tmp=$(mktemp -d /tmp/ctr-bench.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	# The state roots live on a tmpfs, as /run/ctr, /run/crun and /run/runc do on a
	# systemd host: on a disk, every runtime's state writes would time the journal.
	local shm=''
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		shm=$(mktemp -d /dev/shm/ctr-bench-state.XXXXXX)
		ln -s "$shm" "$tmp/state"
		trap 'rm -rf "$tmp" "$shm"' EXIT
	fi
	for spec in "$@"; do
		spec=$(resolve "$spec")
		if [ -n "$spec" ]; then specs+=("$spec"); else missing=1; fi
	done
	[ ${#specs[@]} -gt 0 ] || { echo "run.sh: no runtime to run" >&2 && exit 1; }
	# The namespace dies with its last process; whatever the inner run could not delete
	# (it was killed) is deleted from a fresh one before the directory goes.
	trap '[ -e "$tmp/cleaned" ] || unshare -m --propagation private -- "$BASH" "$0" --cleanup "$tmp" "${specs[@]}"; rm -rf "$tmp" ${shm:+"$shm"}' EXIT
	trap 'exit 130' INT TERM HUP
	[ "$limits" = 1 ] || extra+=(--no-limits)
	unshare -m --propagation private -- "$BASH" "$0" --inner "$tmp" --runs "$runs" --concurrency "$conc" \
		--rounds "$rounds" --warmup "$warmup" --timeout "$timeout" --cold "$cold" ${raw:+--raw "$raw"} \
		"${extra[@]}" -- "${specs[@]}" || rc=$?
	[ "$rc" != 0 ] || rc=$missing
	exit "$rc"
}

case "$mode" in
outer) outer "$@" ;;
inner) inner "$@" ;;
cleanup)
	prefix=$(cat "$tmp/prefix" 2>/dev/null) || exit 0
	hide_unified_controllers
	cleanup_containers "$@"
	;;
esac
