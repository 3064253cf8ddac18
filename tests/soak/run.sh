#!/usr/bin/env bash
# tests/soak/run.sh: a soak test of the real ctr binary (not part of make check): many OCI
# container lives, many concurrent runs, many system-container lives, with leak and growth
# checks. See tests/soak/README.md.
# shellcheck disable=SC2016
set -u

SOAK_CYCLES=${SOAK_CYCLES:-1000}
SOAK_CONCURRENT=${SOAK_CONCURRENT:-200}
SOAK_SYSTEM=${SOAK_SYSTEM:-200}
SOAK_PARTS=${SOAK_PARTS:-cycles concurrent system}
SOAK_TEMPLATE=${SOAK_TEMPLATE:-app}
SOAK_TIMEOUT=${SOAK_TIMEOUT:-60}
SOAK_RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-256}
SOAK_KEEP=${SOAK_KEEP:-0}

usage() {
	cat <<EOF
Usage: [SOAK_CYCLES=N] [SOAK_CONCURRENT=N] [SOAK_SYSTEM=N] [SOAK_PARTS="cycles concurrent system"]
       [SOAK_TEMPLATE=app|busybox] [CTR=PATH] tests/soak/run.sh
Runs as root. Exits 0 only when every part ran without failure, leak or growth.
EOF
}
case "${1:-}" in
-h | --help) usage && exit 0 ;;
"") ;;
*) usage >&2 && exit 2 ;;
esac

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRCDIR}
CTR=${CTR:-$BUILD_DIR/src/ctr}
CTR_INIT_BIN=${CTR_INIT:-$BUILD_DIR/src/init/ctr-init}

die() {
	echo "soak: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$CTR" ] || die "runtime not found: $CTR (build it, or set CTR)"
for t in jq timeout busybox; do
	command -v "$t" >/dev/null || die "$t not found"
done
case "$SOAK_CYCLES$SOAK_CONCURRENT$SOAK_SYSTEM" in
*[!0-9]*) die "SOAK_CYCLES, SOAK_CONCURRENT and SOAK_SYSTEM must be numbers" ;;
esac

MARKER=soak-$$
WORK=$(mktemp -d "/tmp/$MARKER.XXXXXX") || die "mktemp failed"
STATE_ROOT=$WORK/state
mkdir -m 0700 "$STATE_ROOT"
ERRLOG=$WORK/errors.log
: >"$ERRLOG"
TOTAL_BAD=0

# ctr with the soak's state root; the marker in its environment lets the leak check find
# every process it (or a container, a monitor) left behind.
ctr() {
	CTR_SOAK_MARKER=$MARKER timeout --foreground -k 5 "$SOAK_TIMEOUT" \
		"$CTR" --root "$STATE_ROOT" "$@"
}

# note PART MESSAGE: one failure, kept for the report (the first ones are printed).
note() {
	echo "[$1] $2" >>"$ERRLOG"
}

now_ms() {
	date +%s%3N
}

# ---------------------------------------------------------------- the rootfs and bundles

TH=/bin/ctr-testhelper
HOST_TH=${CTR_TESTHELPER:-$BUILD_DIR/tests/helper/ctr-testhelper}
if [ ! -x "$HOST_TH" ]; then
	HOST_TH=$WORK/ctr-testhelper
	gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -o "$HOST_TH" "$SRCDIR/tests/helper/ctr-testhelper.c" ||
		die "cannot build the test helper (make check builds it; or apt-get install gcc libc6-dev)"
fi

# The same rootfs approach as tests/integration/helpers.bash: static busybox and the static
# helper, shared read-only by every OCI container of the soak.
ROOTFS=$WORK/rootfs
make_rootfs() {
	local bb applet
	bb=$(command -v busybox)
	mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,sys,dev,root}
	chmod 1777 "$ROOTFS/tmp"
	cp "$bb" "$ROOTFS/bin/busybox"
	for applet in $("$bb" --list); do
		[ -e "$ROOTFS/bin/$applet" ] || ln -s busybox "$ROOTFS/bin/$applet"
	done
	cp "$HOST_TH" "$ROOTFS$TH"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
	echo 'root:x:0:' >"$ROOTFS/etc/group"
	(cd "$WORK" && "$CTR" spec) || die "$CTR spec failed"
	mv "$WORK/config.json" "$WORK/spec.json"
}

# make_bundle DIR ARG...: DIR/config.json running ARGS in the shared rootfs.
make_bundle() {
	local dir=$1 args
	shift
	args=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	mkdir -p "$dir"
	jq --arg r "$ROOTFS" --arg m "CTR_SOAK_MARKER=$MARKER" --argjson a "$args" \
		'.root = {path: $r, readonly: true} | .process.terminal = false
		| .process.args = $a | .process.env += [$m]' "$WORK/spec.json" >"$dir/config.json"
}

# ------------------------------------------------------------------ leak and growth probes

# Cgroup directories of the soak's containers and monitors, in every hierarchy
# (<hierarchy>/ctr/<id>, <hierarchy>/ctr.monitor/<name>). Other users' containers under
# /ctr on a shared host are not ours to judge.
leaked_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$MARKER*" 2>/dev/null
}

leaked_processes() {
	local f pid
	grep -lszF "CTR_SOAK_MARKER=$MARKER" /proc/[0-9]*/environ | while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = $$ ] && continue
		[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ] && continue
		echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
	pgrep -af -- "$MARKER-" | grep -v -e "^$$ " -e pgrep || true
}

leaked_mounts() {
	grep -F -e "$MARKER-" -e "$WORK/" /proc/self/mountinfo || true
}

leaked_state() {
	ls -A "$STATE_ROOT" 2>/dev/null
	[ -z "${CTR_STORE:-}" ] || ls -A "$CTR_STORE" 2>/dev/null
}

# check_leaks PART: prints every leftover of the soak, returns how many kinds there were.
check_leaks() {
	local part=$1 n=0 tries=100 what out
	while [ -n "$(leaked_processes)" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	for what in processes mounts cgroups state; do
		out=$(leaked_$what)
		[ -z "$out" ] && continue
		n=$((n + 1))
		note "$part" "leaked $what: $(echo "$out" | head -5 | tr '\n' ';')"
	done
	return "$n"
}

# Host-wide counters sampled during a run: mountinfo lines, cgroup directories, allocated
# file handles, slab memory (kB).
host_sample() {
	local files
	read -r files _ </proc/sys/fs/file-nr
	echo "$(wc -l </proc/self/mountinfo) $(find /sys/fs/cgroup -type d 2>/dev/null | wc -l) $files $(awk '/^Slab:/ {print $2}' /proc/meminfo)"
}

# fd count and VmRSS (kB) of a process: "FDS RSS", empty when it is gone. The fewest fds
# of a few looks: a sample taken while it reads its stats (ctr events opens a dozen cgroup
# files every interval) would count those too, where a leak stays in every look.
proc_sample() {
	local fds rss n k
	[ -d "/proc/$1/fd" ] || return 1
	fds=
	for k in 1 2 3 4 5; do
		n=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		[ -n "$fds" ] && [ "$fds" -le "$n" ] || fds=$n
		[ "$k" = 5 ] || sleep 0.03
	done
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[ -n "$rss" ] || return 1
	echo "$fds $rss"
}

# host_growth PART BEFORE AFTER TRIALS: reports and judges the growth of host counters.
# A leak of one object per trial shows as growth of about TRIALS; other users of a shared
# host move these counters too, so growth below the slack is noise, above it a failure.
# Slab memory is reported only (the kernel's caches grow and shrink on their own).
HOST_GROWTH=
host_growth() {
	local part=$1 trials=$4 slack bad=0
	read -r m0 c0 f0 s0 <<<"$2"
	read -r m1 c1 f1 s1 <<<"$3"
	slack=$((trials / 4))
	[ "$slack" -ge 32 ] || slack=32
	HOST_GROWTH="mounts $((m1 - m0)) cgroups $((c1 - c0)) files $((f1 - f0)) slab $((s1 - s0))kB"
	if [ $((m1 - m0)) -gt "$slack" ] || [ $((c1 - c0)) -gt "$slack" ]; then
		note "$part" "host growth over $trials trials: $HOST_GROWTH (slack $slack)"
		bad=1
	fi
	# open files: every cycle opens and closes many; a leak of one per cycle still shows
	if [ $((f1 - f0)) -gt $((slack * 4)) ]; then
		note "$part" "open files grew by $((f1 - f0)) over $trials trials (slack $((slack * 4)))"
		bad=1
	fi
	return "$bad"
}

# proc_growth PART WHAT "FDS RSS" "FDS RSS": a long-lived ctr process must keep its fds and
# (within SOAK_RSS_SLACK_KB) its resident memory.
PROC_GROWTH=
proc_growth() {
	local part=$1 what=$2
	read -r fd0 rss0 <<<"$3"
	read -r fd1 rss1 <<<"$4"
	PROC_GROWTH="$what fds $fd0->$fd1 rss ${rss0}->${rss1}kB"
	if [ "$fd1" -ne "$fd0" ] || [ $((rss1 - rss0)) -gt "$SOAK_RSS_SLACK_KB" ]; then
		note "$part" "$what grew: $PROC_GROWTH"
		return 1
	fi
}

# summary PART TRIALS FAILURES LEAKS GROWTH START_MS
summary() {
	local ms=$(($(now_ms) - $6))
	printf 'soak %s: trials %d, failures %d, leaks %d, growth: %s, wall %d.%03ds\n' \
		"$1" "$2" "$3" "$4" "$5" $((ms / 1000)) $((ms % 1000))
	[ "$3" -eq 0 ] && [ "$4" -eq 0 ] || TOTAL_BAD=$((TOTAL_BAD + 1))
}

# Removes whatever a failed part left, so the next part starts clean.
cleanup_leftovers() {
	local d pid m cg
	for d in "$STATE_ROOT"/*; do
		[ -e "$d" ] && ctr delete -f "${d##*/}" >/dev/null 2>&1
	done
	if [ -n "${CTR_STORE:-}" ]; then
		for d in "$CTR_STORE"/*; do
			[ -e "$d" ] && ctr destroy -f "${d##*/}" >/dev/null 2>&1
		done
	fi
	for pid in $(leaked_processes | awk '{print $1}'); do
		kill -KILL "$pid" 2>/dev/null
	done
	leaked_mounts | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	sleep 0.2
	for cg in $(leaked_cgroups | sort -r); do
		rmdir "$cg" 2>/dev/null
	done
}

finish() {
	cleanup_leftovers
	if [ -s "$ERRLOG" ]; then
		echo "soak: first failures ($(wc -l <"$ERRLOG") in $ERRLOG):" >&2
		head -20 "$ERRLOG" >&2
	fi
	if [ "$TOTAL_BAD" -eq 0 ] && [ "$SOAK_KEEP" = 0 ]; then
		rm -rf "$WORK"
	else
		echo "soak: work directory kept: $WORK" >&2
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM

# -------------------------------------------------- part 1: create/start/delete cycles

# Even cycles: a process that exits by itself, waited for, plain delete. Odd cycles: a
# sleeping process, delete --force. A long-lived `ctr events` on an anchor container is
# sampled for its fds and RSS all along.
part_cycles() {
	local n=$SOAK_CYCLES i id st fails=0 leaks=0 t0 warm every base_h base_p last_p s tries
	local ev_pid growth
	t0=$(now_ms)
	make_bundle "$WORK/b-exit" "$TH" exit 0
	make_bundle "$WORK/b-sleep" "$TH" sleep 3600
	ctr run -d --bundle "$WORK/b-sleep" "$MARKER-anchor" </dev/null >/dev/null 2>>"$ERRLOG" ||
		note cycles "anchor container did not start"
	CTR_SOAK_MARKER=$MARKER "$CTR" --root "$STATE_ROOT" events --interval 100ms "$MARKER-anchor" \
		>"$WORK/events.out" 2>"$WORK/events.err" &
	ev_pid=$!
	warm=$((n / 10))
	[ "$warm" -le 20 ] || warm=20
	every=$((n / 10))
	[ "$every" -ge 1 ] || every=1
	base_h=$(host_sample)
	base_p=$(proc_sample "$ev_pid")
	for ((i = 0; i < n; i++)); do
		if [ "$i" -eq "$warm" ]; then
			base_h=$(host_sample)
			base_p=$(proc_sample "$ev_pid")
		fi
		id=$MARKER-c-$i
		if [ $((i % 2)) -eq 0 ]; then
			if ! ctr create --bundle "$WORK/b-exit" "$id" </dev/null >/dev/null 2>"$WORK/err" ||
				! ctr start "$id" 2>>"$WORK/err"; then
				note cycles "cycle $i: create/start: $(tr '\n' ' ' <"$WORK/err")"
				fails=$((fails + 1))
				ctr delete -f "$id" >/dev/null 2>&1
				continue
			fi
			tries=200
			st=
			while [ "$tries" -gt 0 ]; do
				st=$(ctr state "$id" 2>/dev/null | jq -r .status)
				[ "$st" = stopped ] && break
				sleep 0.01
				tries=$((tries - 1))
			done
			if [ "$st" != stopped ] || ! ctr delete "$id" 2>"$WORK/err"; then
				note cycles "cycle $i: status '$st', delete: $(tr '\n' ' ' <"$WORK/err")"
				fails=$((fails + 1))
				ctr delete -f "$id" >/dev/null 2>&1
			fi
		else
			st=
			if ! ctr create --bundle "$WORK/b-sleep" "$id" </dev/null >/dev/null 2>"$WORK/err" ||
				! ctr start "$id" 2>>"$WORK/err" ||
				! st=$(ctr state "$id" 2>>"$WORK/err" | jq -r .status) || [ "$st" != running ] ||
				! ctr delete -f "$id" 2>>"$WORK/err"; then
				note cycles "cycle $i: status '$st': $(tr '\n' ' ' <"$WORK/err")"
				fails=$((fails + 1))
				ctr delete -f "$id" >/dev/null 2>&1
			fi
		fi
		if [ $((i % every)) -eq 0 ] && [ "$i" -gt "$warm" ]; then
			s=$(proc_sample "$ev_pid") || {
				note cycles "cycle $i: ctr events (pid $ev_pid) is gone: $(cat "$WORK/events.err")"
				fails=$((fails + 1))
				every=$((n + 1))
			}
			[ -z "$s" ] || last_p=$s
		fi
	done
	s=$(proc_sample "$ev_pid") && last_p=$s
	growth=
	host_growth cycles "$base_h" "$(host_sample)" "$((n - warm))" || leaks=$((leaks + 1))
	growth=$HOST_GROWTH
	if [ -n "$base_p" ] && [ -n "${last_p:-}" ]; then
		proc_growth cycles "events" "$base_p" "$last_p" || leaks=$((leaks + 1))
		growth="$growth; $PROC_GROWTH"
	fi
	ctr delete -f "$MARKER-anchor" >/dev/null 2>>"$ERRLOG"
	# `events` ends when the container's process exits
	tries=100
	while kill -0 "$ev_pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	if kill -0 "$ev_pid" 2>/dev/null; then
		note cycles "ctr events did not end with its container"
		fails=$((fails + 1))
		kill -KILL "$ev_pid"
	fi
	wait "$ev_pid" 2>/dev/null
	[ "$(grep -c '"type":"stats"' "$WORK/events.out")" -gt 0 ] ||
		note cycles "ctr events printed no stats: $(head -c 300 "$WORK/events.out")"
	check_leaks cycles || leaks=$((leaks + $?))
	summary cycles "$n" "$fails" "$leaks" "$growth" "$t0"
	cleanup_leftovers
}

# ------------------------------------------------------ part 2: concurrent foreground runs

# N `ctr run` at once, each container exiting with its own status (i % 120: below the
# statuses of `timeout`); each run must return exactly that status.
part_concurrent() {
	local n=$SOAK_CONCURRENT i fails=0 leaks=0 t0 before want got
	local -a pids=() wants=()
	t0=$(now_ms)
	for ((i = 0; i < n; i++)); do
		make_bundle "$WORK/r-$i" "$TH" exit $((i % 120))
		wants[i]=$((i % 120))
	done
	before=$(host_sample)
	for ((i = 0; i < n; i++)); do
		ctr run --bundle "$WORK/r-$i" "$MARKER-r-$i" </dev/null >"$WORK/r-$i/out" 2>&1 &
		pids[i]=$!
	done
	for ((i = 0; i < n; i++)); do
		got=0
		wait "${pids[i]}" || got=$?
		want=${wants[i]}
		if [ "$got" -ne "$want" ]; then
			fails=$((fails + 1))
			note concurrent "run $i: exit status $got, expected $want: $(head -c 300 "$WORK/r-$i/out" | tr '\n' ' ')"
		fi
	done
	check_leaks concurrent || leaks=$((leaks + $?))
	host_growth concurrent "$before" "$(host_sample)" "$n" || leaks=$((leaks + 1))
	summary concurrent "$n" "$fails" "$leaks" "$HOST_GROWTH" "$t0"
	cleanup_leftovers
}

# ------------------------------------------------------ part 3: system-container lives

# The monitor (comm ctr-monitor) of the soak whose pid is not in $1.
find_monitor() {
	local f pid
	for f in /proc/[0-9]*/comm; do
		[ "$(cat "$f" 2>/dev/null)" = ctr-monitor ] || continue
		pid=${f#/proc/}
		pid=${pid%/comm}
		[ "$pid" = "${1:-}" ] && continue
		grep -qszF "CTR_SOAK_MARKER=$MARKER" "/proc/$pid/environ" && echo "$pid" && return 0
	done
	return 1
}

# create_system NAME: `ctr create -t` of the soak's template (app: the static helper
# sleeping behind ctr-init; busybox: busybox init).
create_system() {
	if [ "$SOAK_TEMPLATE" = app ]; then
		ctr create -t app "$1" --net none -- "$HOST_TH" sleep 3600
	else
		ctr create -t "$SOAK_TEMPLATE" "$1" --net none
	fi
}

# exec_system NAME: a program run in it, printing its hostname.
exec_system() {
	if [ "$SOAK_TEMPLATE" = app ]; then
		ctr exec "$1" "$HOST_TH" hostname
	else
		ctr attach "$1" -- hostname
	fi
}

# Each life: create -t, start, exec, a console-log request to a long-lived anchor's
# monitor, stop, destroy. The anchor's monitor is sampled for fd/RSS growth; each life's
# own monitor must hold the same number of fds in every life.
part_system() {
	local n=$SOAK_SYSTEM i name fails=0 leaks=0 t0 out anchor a_pid mon s base_p last_p warm
	local before after fd_min=999999 fd_max=0 growth
	t0=$(now_ms)
	export CTR_STORE=$WORK/store CTR_TEMPLATE_PATH=$SRCDIR/templates CTR_INIT=$CTR_INIT_BIN
	export CTR_NETWORK_ROOT=$WORK/netroot
	[ -x "$CTR_INIT" ] || die "ctr-init not found: $CTR_INIT"
	anchor=$MARKER-s-anchor
	if ! create_system "$anchor" >/dev/null 2>"$WORK/err" || ! ctr start "$anchor" 2>>"$WORK/err"; then
		note system "anchor: $(tr '\n' ' ' <"$WORK/err")"
		summary system 0 1 0 "-" "$t0"
		cleanup_leftovers
		return
	fi
	a_pid=$(find_monitor) || note system "anchor: no monitor process found"
	warm=$((n / 10))
	[ "$warm" -le 10 ] || warm=10
	before=$(host_sample)
	base_p=$(proc_sample "${a_pid:-0}")
	for ((i = 0; i < n; i++)); do
		if [ "$i" -eq "$warm" ]; then
			before=$(host_sample)
			base_p=$(proc_sample "${a_pid:-0}")
		fi
		name=$MARKER-s-$i
		if ! create_system "$name" >/dev/null 2>"$WORK/err" || ! ctr start "$name" 2>>"$WORK/err"; then
			note system "life $i: create/start: $(tr '\n' ' ' <"$WORK/err")"
			fails=$((fails + 1))
			ctr destroy -f "$name" >/dev/null 2>&1
			continue
		fi
		out=$(exec_system "$name" </dev/null 2>&1)
		if [ "$out" != "$name" ]; then
			note system "life $i: exec printed '$out', expected '$name'"
			fails=$((fails + 1))
		fi
		if ! ctr console --log "$anchor" >/dev/null 2>"$WORK/err"; then
			note system "life $i: console --log of the anchor: $(tr '\n' ' ' <"$WORK/err")"
			fails=$((fails + 1))
		fi
		if mon=$(find_monitor "${a_pid:-}") && s=$(proc_sample "$mon"); then
			s=${s%% *}
			[ "$s" -ge "$fd_min" ] || fd_min=$s
			[ "$s" -le "$fd_max" ] || fd_max=$s
		else
			note system "life $i: no monitor process found"
			fails=$((fails + 1))
		fi
		if ! ctr stop -t 10 "$name" >/dev/null 2>"$WORK/err"; then
			note system "life $i: stop: $(tr '\n' ' ' <"$WORK/err")"
			fails=$((fails + 1))
		fi
		if ! ctr destroy "$name" >/dev/null 2>"$WORK/err"; then
			note system "life $i: destroy: $(tr '\n' ' ' <"$WORK/err")"
			fails=$((fails + 1))
			ctr destroy -f "$name" >/dev/null 2>&1
		fi
		s=$(proc_sample "${a_pid:-0}") && last_p=$s
	done
	growth=
	if [ "$fd_max" -gt 0 ] && [ "$fd_min" -ne "$fd_max" ]; then
		note system "the monitors' fd counts differ between lives: $fd_min..$fd_max"
		leaks=$((leaks + 1))
	fi
	growth="monitor fds $fd_min..$fd_max per life"
	if [ -n "$base_p" ] && [ -n "${last_p:-}" ]; then
		proc_growth system "anchor monitor" "$base_p" "$last_p" || leaks=$((leaks + 1))
		growth="$growth; $PROC_GROWTH"
	else
		note system "the anchor's monitor could not be sampled"
		fails=$((fails + 1))
	fi
	# the host's counters with the anchor still there, as at the start
	after=$(host_sample)
	if ! ctr stop -t 10 "$anchor" >/dev/null 2>"$WORK/err" || ! ctr destroy "$anchor" >/dev/null 2>>"$WORK/err"; then
		note system "anchor: stop/destroy: $(tr '\n' ' ' <"$WORK/err")"
		fails=$((fails + 1))
	fi
	check_leaks system || leaks=$((leaks + $?))
	host_growth system "$before" "$after" "$((n - warm))" || leaks=$((leaks + 1))
	growth="$growth; $HOST_GROWTH"
	summary system "$n" "$fails" "$leaks" "$growth" "$t0"
	cleanup_leftovers
}

make_rootfs
echo "soak: $CTR, cycles $SOAK_CYCLES, concurrent $SOAK_CONCURRENT, system $SOAK_SYSTEM ($SOAK_TEMPLATE), work $WORK"
for part in $SOAK_PARTS; do
	case $part in
	cycles) [ "$SOAK_CYCLES" -eq 0 ] || part_cycles ;;
	concurrent) [ "$SOAK_CONCURRENT" -eq 0 ] || part_concurrent ;;
	system) [ "$SOAK_SYSTEM" -eq 0 ] || part_system ;;
	*) die "unknown part '$part' in SOAK_PARTS (cycles concurrent system)" ;;
	esac
done
[ "$TOTAL_BAD" -eq 0 ]
