# helpers.bash: shared setup for the bats suite (runtime, bundles, config edits, leak checks).
# shellcheck shell=bash
# jq filters name their $variables in single quotes; HOST_TH and LOG are for the tests.
# shellcheck disable=SC2016,SC2034,SC2119,SC2120

bats_require_minimum_version 1.5.0

# The runtime under test: $CTR, else the build dir's binary (tests/run-all.sh exports CTR).
if [ -z "${CTR:-}" ]; then
	if [ -n "${BUILD_DIR:-}" ]; then
		CTR=$BUILD_DIR/src/ctr
	elif [ -x "$BATS_TEST_DIRNAME/../../src/ctr" ]; then
		CTR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/src/ctr
	else
		CTR=/tmp/b-main/src/ctr
	fi
fi
CTR_NAME=$(basename "$CTR")
# The helper program inside containers, and the same static binary on the host.
TH=/bin/ctr-testhelper
HOST_TH=$BATS_RUN_TMPDIR/template/rootfs$TH

# Runs the runtime with the per-test state root. The marker in its environment lets
# check_no_leaks find any process it left behind; the timeout keeps a hung runtime from
# hanging the suite (exit 124).
ctr() {
	CTR_TEST_MARKER=$MARKER timeout --foreground -k 5 "${CTR_TIMEOUT:-30}" \
		"$CTR" --root "$STATE_ROOT" "$@"
}

is_ctr() {
	[ "$CTR_NAME" = ctr ]
}

# For assertions about ctr itself (message wording, version format, state layout).
requires_ctr() {
	is_ctr || skip "asserts ctr-specific behaviour ($CTR_NAME under test)"
}

requires_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

# requires_feature NAMESPACE: skip unless `features` lists the namespace type.
requires_namespace() {
	"$CTR" features 2>/dev/null | jq -e --arg n "$1" '.linux.namespaces | index($n)' >/dev/null ||
		skip "runtime does not support the $1 namespace"
	[ -e "/proc/self/ns/$1" ] || skip "kernel lacks the $1 namespace"
}

# Fails the test with a message (bats only shows output of failing commands).
fail() {
	echo "$@" >&2
	return 1
}

# Asserts the last `run` exited with status $1, printing the output when not.
assert_status() {
	[ "$status" -eq "$1" ] ||
		fail "expected exit status $1, got $status; output: $output${stderr:+; stderr: $stderr}"
}

assert_success() {
	assert_status 0
}

assert_failure() {
	[ "$status" -ne 0 ] || fail "expected failure, got success; output: $output"
}

# assert_output_contains STRING...: each string occurs in $output.
assert_output_contains() {
	local s
	for s in "$@"; do
		[[ $output == *"$s"* ]] || fail "expected output to contain '$s'; got: $output"
	done
}

assert_output_not_contains() {
	[[ $output != *"$1"* ]] || fail "expected output without '$1'; got: $output"
}

# Usage errors exit 2 in ctr; other runtimes only have to fail.
assert_usage_error() {
	if is_ctr; then
		assert_status 2
	else
		assert_failure
	fi
}

# Message wording is only asserted for ctr.
assert_ctr_output_contains() {
	if is_ctr; then
		assert_output_contains "$@"
	fi
}

# Builds (once per bats run) a busybox rootfs with the helper and a default config.json.
build_template() {
	local t=$BATS_RUN_TMPDIR/template
	[ -e "$t/done" ] && return 0
	local helper=${CTR_TESTHELPER:-}
	if [ -z "$helper" ]; then
		for helper in "${BUILD_DIR:-/nonexistent}/tests/helper/ctr-testhelper" \
			"$(dirname "$CTR")/../tests/helper/ctr-testhelper" ""; do
			[ -x "$helper" ] && break
		done
	fi
	if [ -z "$helper" ]; then
		helper=$BATS_RUN_TMPDIR/ctr-testhelper
		gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -o "$helper" \
			"$BATS_TEST_DIRNAME/../helper/ctr-testhelper.c" ||
			fail "cannot build the test helper (apt-get install gcc libc6-dev)" || return 1
	fi
	local busybox
	busybox=$(command -v busybox) || fail "busybox not found (apt-get install busybox-static)" || return 1
	file -L "$busybox" 2>/dev/null | grep -q dynamic && fail "$busybox is not static (apt-get install busybox-static)" && return 1
	rm -rf "$t"
	mkdir -p "$t/rootfs"/{bin,etc,tmp,proc,sys,dev,root}
	chmod 1777 "$t/rootfs/tmp"
	cp "$busybox" "$t/rootfs/bin/busybox"
	local applet
	for applet in $("$busybox" --list); do
		[ -e "$t/rootfs/bin/$applet" ] || ln -s busybox "$t/rootfs/bin/$applet"
	done
	cp "$helper" "$t/rootfs$TH"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'tester:x:1000:1000:tester:/tmp:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$t/rootfs/etc/passwd"
	printf '%s\n' 'root:x:0:' 'tester:x:1000:' 'nogroup:x:65534:' >"$t/rootfs/etc/group"
	(cd "$t" && "$CTR" spec) || fail "$CTR spec failed" || return 1
	# tests write into the rootfs and read the result from the host
	jq '.root.readonly = false' "$t/config.json" >"$t/c" && mv "$t/c" "$t/config.json"
	touch "$t/done"
}

# make_bundle [ARGS...]: $BUNDLE with its own rootfs copy and a config.json running ARGS
# (default: the helper sleeping), terminal false, the leak marker in the environment.
make_bundle() {
	build_template || return 1
	BUNDLE=$BATS_TEST_TMPDIR/b
	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE"
	cp -a "$BATS_RUN_TMPDIR/template/rootfs" "$BUNDLE/rootfs"
	cp "$BATS_RUN_TMPDIR/template/config.json" "$BUNDLE/config.json"
	update_config '.process.terminal = false | .root.path = "rootfs"
		| .process.env += ["CTR_TEST_MARKER=" + $m]' --arg m "$MARKER"
	if [ $# -gt 0 ]; then
		set_args "$@"
	else
		set_args "$TH" sleep 3600
	fi
}

# update_config FILTER [JQ ARGS...]: edits $BUNDLE/config.json in place.
update_config() {
	local filter=$1
	shift
	jq "$@" "$filter" "$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_args ARG...: process.args.
set_args() {
	update_config ".process.args = $(jq_array "$@")"
}

# jq_array ARG...: a JSON array of strings (jq 1.6 reads options even after --args).
jq_array() {
	local i=0 a filter=
	local -a opts=()
	for a in "$@"; do
		opts+=(--arg "a$i" "$a")
		filter+="${filter:+,}\$a$i"
		i=$((i + 1))
	done
	jq -nc "${opts[@]}" "[$filter]"
}

# Container ids: unique per test, so leak checks can find anything named after them.
cid() {
	echo "$MARKER${1:+-$1}"
}

# wait_for_state ID STATUS [TIMEOUT_SECONDS]
wait_for_state() {
	local id=$1 want=$2 tries=$((${3:-10} * 20)) got=
	while [ "$tries" -gt 0 ]; do
		got=$(ctr state "$id" 2>/dev/null | jq -r .status)
		[ "$got" = "$want" ] && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	fail "container $id: status '$got', expected '$want'"
}

# wait_for_file PATH [TIMEOUT_SECONDS]: until PATH exists and is not empty.
wait_for_file() {
	local tries=$((${2:-10} * 20))
	while [ ! -s "$1" ] && [ "$tries" -gt 0 ]; do
		sleep 0.05
		tries=$((tries - 1))
	done
	[ -s "$1" ] || fail "timed out waiting for $1"
}

# wait_until COMMAND...: polls COMMAND for up to 10 seconds. Its arguments are expanded
# once: to poll a "$(...)", quote it for eval (wait_until eval 'test "$(...)" = x').
wait_until() {
	local tries=${WAIT_TRIES:-200}
	until "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "timed out waiting for: $*" || return 1
		sleep 0.05
	done
}

# reaches ADDR PORT [NETNS]: waits until a TCP connection to ADDR:PORT (from NETNS) is told
# hello-from-container, what the network tests' container server says. That server is nc in
# a loop, one connection each: a connect right after the last one may come before the next
# nc listens, so even a second check waits.
reaches() {
	wait_until ${3:+ip netns exec "$3"} sh -c "busybox nc -w 2 $1 $2 </dev/null | grep -q hello-from-container"
}

# wait_until_none COMMAND...: polls for up to 10 seconds until COMMAND prints nothing
# (a process list, say: `wait_until test -z "$(...)"` would test one early snapshot).
wait_until_none() {
	local tries=200 out
	while out=$("$@") && [ -n "$out" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "timed out waiting for \`$*\` to print nothing: $out" || return 1
		sleep 0.05
	done
}

# state_field ID FIELD: one field of the state document.
state_field() {
	ctr state "$1" | jq -r ".$2"
}

# Background processes started by a test (killed in teardown).
BG_PIDS=()
bg() {
	"$@" &
	BG_PIDS+=($!)
}

# Cgroup directories named after this test's containers, in every hierarchy.
leaked_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -type d \( -name "$MARKER" -o -name "$MARKER-*" \) 2>/dev/null
}

# Processes still carrying this test's marker (runtime or container processes).
leaked_processes() {
	local f pid
	grep -lszFx "CTR_TEST_MARKER=$MARKER" /proc/[0-9]*/environ | while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		# zombies waiting for their parent are gone as soon as it reaps them
		[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ] && continue
		echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
	pgrep -af -- "$MARKER(\$|[^0-9])" | grep -v "^$$ " || true
}

check_no_leaks() {
	local mounts cgroups procs state hostdev
	# processes on their way out (a reaped helper, a detached veth deleter) are waited for
	wait_until_none leaked_processes 2>/dev/null || true
	procs=$(leaked_processes)
	mounts=$(grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo || true)
	cgroups=$(leaked_cgroups)
	state=$(ls -A "$STATE_ROOT" 2>/dev/null || true)
	# devices bound in from the host (user namespaces, masking) must come out untouched
	hostdev=$(stat -c '%u:%g %t:%T %a' /dev/null)
	if [ "$hostdev" = "0:0 1:3 666" ]; then
		hostdev=""
	else
		hostdev="the host's /dev/null changed: $hostdev"
	fi
	[ -z "$procs$mounts$cgroups$state$hostdev" ] && return 0
	[ -z "$hostdev" ] || echo "$hostdev" >&2
	[ -z "$procs" ] || echo "leaked processes: $procs" >&2
	[ -z "$mounts" ] || echo "leaked mounts: $mounts" >&2
	[ -z "$cgroups" ] || echo "leaked cgroups: $cgroups" >&2
	[ -z "$state" ] || echo "leaked state in $STATE_ROOT: $state" >&2
	return 1
}

# Deletes every container of the test (a failing test often stops before its own
# delete) and stops its background jobs.
delete_all_containers() {
	local id pid
	for id in $(ctr list -q 2>/dev/null) $(ls "$STATE_ROOT" 2>/dev/null); do
		ctr delete --force "$id" >/dev/null 2>&1 || true
	done
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# Last resort after a leak, so one failure does not spill into the next test.
remove_leftovers() {
	local pid m cg
	for pid in $(leaked_processes | awk '{print $1}'); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	sleep 0.2
	for cg in $(leaked_cgroups | sort -r); do
		rmdir "$cg" 2>/dev/null || true
	done
	rm -rf "${STATE_ROOT:?}"/* 2>/dev/null || true
}

setup() {
	requires_root
	[ -x "$CTR" ] || fail "runtime not found: $CTR (build it, or set CTR)" || return 1
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	STATE_ROOT=$BATS_TEST_TMPDIR/state
	mkdir -p "$STATE_ROOT"
	chmod 0700 "$STATE_ROOT"
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	delete_all_containers
	check_no_leaks && return 0
	remove_leftovers
	return 1
}

# run_logged CMD...: like bats `run`, but with stdio on a file ($LOG): a detached container
# inherits the runtime's stdio, so a `run` pipe would never reach end of file. Container
# output keeps going to $LOG.
run_logged() {
	LOG=$BATS_TEST_TMPDIR/log.$((++LOG_COUNT))
	status=0
	"$@" </dev/null >"$LOG" 2>&1 || status=$?
	output=$(cat "$LOG")
}
LOG_COUNT=0

# create_container [OPTIONS...]: `create` of $(cid) from $BUNDLE, asserting success.
create_container() {
	run_logged ctr create --bundle "$BUNDLE" "$@" "$(cid)"
	assert_success
}

# run_detached [OPTIONS...]: `run -d` of $(cid) from $BUNDLE, asserting success.
run_detached() {
	run_logged ctr run -d --bundle "$BUNDLE" "$@" "$(cid)"
	assert_success
}

# True once PID has exited (gone, or a zombie nobody reaped yet).
process_gone() {
	[ ! -e "/proc/$1" ] || [ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ]
}

# make_image DIR: an OCI layout DIR:v1 built offline with umoci: busybox, an entrypoint, a
# cmd, a variable and a working directory the image itself lacks.
make_image() {
	local lay=$1 b=$BATS_TEST_TMPDIR/umoci-bundle
	umoci init --layout "$lay"
	umoci new --image "$lay:v1"
	umoci unpack --image "$lay:v1" "$b" >/dev/null
	mkdir -p "$b/rootfs/bin"
	cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
	ln -s busybox "$b/rootfs/bin/sh"
	umoci repack --image "$lay:v1" "$b"
	rm -rf "$b"
	umoci config --image "$lay:v1" --config.entrypoint /bin/sh --config.entrypoint -c \
		--config.cmd 'echo "image says $GREETING in $(pwd)"; exit 3' \
		--config.env GREETING=hello --config.workingdir /work
}

# system_setup: the per-test setup of system-container tests: a state root, a store, the
# source tree's templates and the build's ctr-init, a private network root.
system_setup() {
	requires_root
	requires_ctr
	[ -x "$CTR" ] || fail "runtime not found: $CTR" || return 1
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	STATE_ROOT=$BATS_TEST_TMPDIR/state
	mkdir -p "$STATE_ROOT"
	chmod 0700 "$STATE_ROOT"
	SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
	BUILD_DIR=${BUILD_DIR:-$(dirname "$(dirname "$CTR")")}
	export CTR_STORE=$BATS_TEST_TMPDIR/store
	export CTR_TEMPLATE_PATH=$SRCDIR/templates
	export CTR_INIT=$BUILD_DIR/src/init/ctr-init
	export CTR_NETWORK_ROOT=$BATS_TEST_TMPDIR/netroot
	# the host's own lxcfs (Debian's lxcfs.service, where systemd runs) stays out of the
	# tests: only those that start an lxcfs of their own there see one (system_lxcfs.bats)
	export CTR_LXCFS_DIR=$BATS_TEST_TMPDIR/lxcfs
}

# system_is_running NAME [CTR]: systemd's verdict on the booted guest, once it is no longer
# "initializing" or "starting" (a failure shows the failed units); CTR is the command that
# runs ctr (default: ctr; a rootless test's own).
system_is_running() {
	local state tries=1200 c=${2:-ctr}
	while :; do
		state=$("$c" attach "$1" -- systemctl is-system-running 2>&1 </dev/null || true)
		case $state in
		running | degraded) break ;;
		initializing | starting | "Failed to connect to bus"* | *"not been booted"*) ;;
		*) break ;;
		esac
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || break
		sleep 0.1
	done
	[ "$state" = running ] || [ "$state" = degraded ] ||
		fail "systemctl is-system-running: $state; failed units: $("$c" attach "$1" -- \
			systemctl list-units --failed --no-legend --plain </dev/null 2>&1)"
}

# rebooted_from NAME PID [CTR]: NAME runs again, with an init other than PID (CTR: the
# command that runs ctr, as for system_is_running).
rebooted_from() {
	local info c=${3:-ctr}
	info=$("$c" info --format json "$1") || return 1
	[ "$(jq -r .state <<<"$info")" = running ] && [ "$(jq -r .pid <<<"$info")" != "$2" ] &&
		[ "$(jq -r .pid <<<"$info")" != 0 ]
}

# subids_save / subids_restore: /etc/subuid and /etc/subgid kept for the file's test users.
subids_save() {
	cp /etc/subuid "$BATS_FILE_TMPDIR/subuid.orig"
	cp /etc/subgid "$BATS_FILE_TMPDIR/subgid.orig"
}

subids_restore() {
	cp "$BATS_FILE_TMPDIR/subuid.orig" /etc/subuid
	cp "$BATS_FILE_TMPDIR/subgid.orig" /etc/subgid
}

# requires_tools TOOL...: skips the test unless every TOOL is on PATH.
requires_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t not installed (apt-get install $t)"
	done
}

# requires_criu: skips the test unless criu can dump on this kernel (criu check's own verdict;
# it passes in the cgroup v2 guest, not on the development host).
requires_criu() {
	command -v criu >/dev/null || skip "criu not installed (Debian package criu)"
	local why
	why=$(criu check 2>&1 | grep -m1 -i error) &&
		skip "criu check fails on this kernel ($(uname -r)): ${why:-no reason given}"
	criu check >/dev/null 2>&1 || skip "criu check fails on this kernel ($(uname -r))"
}

# A counting loop's file on the host ($COUNT): its value, 0 while it has none.
count() {
	cat "$COUNT" 2>/dev/null || echo 0
}

count_above() {
	[ "$(count)" -gt "$1" ]
}

# count_grows FROM: the counter passes FROM (the guest emulates its CPU: a minute at most).
count_grows() {
	local tries=600
	until count_above "$1"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the counter stays at $(count), not above $1" || return 1
		sleep 0.1
	done
}

# make_btrfs: a 300 MiB btrfs filesystem on a loop device ($LOOP), mounted at $WORK/mnt
# (0700), for the pool tests; the test's teardown unmounts it and detaches $LOOP.
make_btrfs() {
	command -v mkfs.btrfs >/dev/null || fail "btrfs-progs is not installed"
	grep -qw btrfs /proc/filesystems || skip "the kernel has no btrfs"
	truncate -s 300M "$WORK/btrfs.img"
	mkfs.btrfs -q "$WORK/btrfs.img" >/dev/null
	LOOP=$(losetup -f --show "$WORK/btrfs.img")
	mkdir -p "$WORK/mnt"
	mount "$LOOP" "$WORK/mnt"
	chmod 700 "$WORK/mnt"
}

# make_lvm NAME: a volume group NAME ($VG) on a 400 MiB loop device ($LOOP) with a 300 MiB
# thin pool VG/thin, for the lvm pool tests, with an lvm.conf of the test's own (no udev, no
# devices file: LVM_SYSTEM_DIR); skips where the kernel has no device-mapper or thin
# provisioning. remove_lvm (in teardown) removes both.
make_lvm() {
	local dir=${WORK:-$BATS_TEST_TMPDIR}
	command -v lvcreate >/dev/null || fail "lvm2 is not installed" || return 1
	grep -qw device-mapper /proc/devices || modprobe dm_thin_pool 2>/dev/null || true
	grep -qw device-mapper /proc/devices || skip "the kernel has no device-mapper"
	modprobe dm_thin_pool 2>/dev/null || true
	export LVM_SYSTEM_DIR=$dir/lvm
	mkdir -p "$LVM_SYSTEM_DIR"
	cat >"$LVM_SYSTEM_DIR/lvm.conf" <<-EOS
		devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 }
		activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
		global { use_lvmetad = 0 }
	EOS
	VG=$1
	truncate -s 400M "$dir/lvm.img"
	LOOP=$(losetup -f --show "$dir/lvm.img")
	pvcreate -q "$LOOP" >/dev/null
	vgcreate -q "$VG" "$LOOP" >/dev/null
	lvcreate -q -L 300M -T "$VG/thin" >/dev/null || skip "no thin provisioning here"
}

remove_lvm() {
	[ -z "${VG:-}" ] || vgremove -f "$VG" >/dev/null 2>&1 || true
	[ -z "${VG:-}" ] || [ -z "${LOOP:-}" ] || pvremove -ff -y "$LOOP" >/dev/null 2>&1 || true
}

# requires_init: skips the test unless ctr-init ($CTR_INIT) is built.
requires_init() {
	[ -x "$CTR_INIT" ] || skip "ctr-init not built: $CTR_INIT"
}
