#!/usr/bin/env bats
# system_lxcfs.bats: a system container gets lxcfs's /proc and /sys files over its own
# when lxcfs runs (src/rootfs/lxcfs.c), read-only, as LXC's lxcfs hook does; the `lxcfs`
# key turns it off or makes it required; `ctr check-config` says where lxcfs is. Each test
# that needs one starts its own lxcfs on a directory of its own ($CTR_LXCFS_DIR), so a
# system lxcfs at /var/lib/lxcfs (Debian's lxcfs.service) neither helps nor disturbs.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=lxcfs-${BATS_SUITE_TEST_NUMBER}-$$
	LXCFS_PID=
	export CTR_LXCFS_DIR=$BATS_TEST_TMPDIR/lxcfs
	mkdir -p "$CTR_LXCFS_DIR"
}

# Stops this test's lxcfs and takes its mount away: after the containers that used it.
stop_lxcfs() {
	if [ -n "$LXCFS_PID" ]; then
		kill -TERM "$LXCFS_PID" 2>/dev/null || true
		wait "$LXCFS_PID" 2>/dev/null || true
		LXCFS_PID=
	fi
	if grep -qF " $CTR_LXCFS_DIR " /proc/self/mountinfo; then
		umount "$CTR_LXCFS_DIR" 2>/dev/null || umount -l "$CTR_LXCFS_DIR"
	fi
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in $(ls "$CTR_STORE" 2>/dev/null); do
		ctr destroy -f "$n" >/dev/null 2>&1 || true
	done
	delete_all_containers
	stop_lxcfs
	check_no_leaks && [ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] && return 0
	remove_leftovers
	return 1
}

# start_lxcfs: lxcfs in the foreground of a background job, on $CTR_LXCFS_DIR, until its
# files answer.
start_lxcfs() {
	requires_tools lxcfs
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	lxcfs -f -p "$BATS_TEST_TMPDIR/lxcfs.pid" "$CTR_LXCFS_DIR" \
		>"$BATS_TEST_TMPDIR/lxcfs.log" 2>&1 </dev/null 3>&- &
	LXCFS_PID=$!
	wait_until test -f "$CTR_LXCFS_DIR/proc/meminfo" ||
		fail "lxcfs did not come up: $(cat "$BATS_TEST_TMPDIR/lxcfs.log")"
}

in_guest() {
	run ctr attach "$NAME" -- sh -c "$1" </dev/null
}

make_system() {
	run ctr create -t busybox "$NAME" --net none
	assert_success
}

# lxcfs reads the limit from the cgroup v2 files there
# bats test_tags=v2
@test "lxcfs: a system container sees its memory limit and cpuset in lxcfs's files, bound read-only" {
	start_lxcfs
	make_system
	run ctr config "$NAME" get lxcfs
	assert_success
	[ "$output" = auto ] || fail "default lxcfs: $output"
	run ctr config "$NAME" set memory 64M
	assert_success
	run ctr config "$NAME" set cpuset.cpus 0
	assert_success
	run ctr start "$NAME"
	assert_success
	# free, top and friends read MemTotal: the limit, not the host's memory
	in_guest "awk '/^MemTotal:/ {print \$2}' /proc/meminfo"
	assert_success
	[ "$output" = 65536 ] || fail "MemTotal inside: $output kB, want 65536 (64 MiB)"
	# the CPUs of the cpuset, where the host has more
	in_guest "cat /sys/devices/system/cpu/online"
	assert_success
	[ "$output" = 0 ] || fail "online CPUs inside: $output, want 0"
	# each file is lxcfs's, read-only
	in_guest "grep -E ' /(proc/(cpuinfo|diskstats|loadavg|meminfo|stat|swaps|uptime)|sys/devices/system/cpu/online) ' /proc/self/mountinfo"
	assert_success
	[ "${#lines[@]}" = 8 ] || fail "lxcfs mounts inside: $output"
	for l in "${lines[@]}"; do
		[[ $l == *" ro,"*" - fuse.lxcfs "* ]] || fail "not a read-only lxcfs mount: $l"
	done
	# the container's uptime, not the host's
	in_guest "cut -d. -f1 /proc/uptime"
	assert_success
	host_up=$(cut -d. -f1 /proc/uptime)
	[ "$output" -lt "$host_up" ] || fail "uptime inside $output s, host $host_up s"
	# the stored definition stays as it was: lxcfs is looked for at each start
	jq -e '[.mounts[] | select(.destination == "/proc/meminfo")] | length == 0' \
		"$CTR_STORE/$NAME/config.json" >/dev/null || fail "config.json holds lxcfs mounts"
	run ctr stop -t 10 "$NAME"
	assert_success
}

@test "lxcfs false: the container keeps the kernel's /proc files although lxcfs runs" {
	start_lxcfs
	make_system
	run ctr config "$NAME" set memory 64M
	assert_success
	run ctr config "$NAME" set lxcfs false
	assert_success
	jq -e '.lxcfs == "false"' "$CTR_STORE/$NAME/ctr.json" >/dev/null
	run ctr start "$NAME"
	assert_success
	in_guest "awk '/^MemTotal:/ {print \$2}' /proc/meminfo; grep -c fuse.lxcfs /proc/self/mountinfo"
	[ "${lines[0]}" != 65536 ] && [ "${lines[1]}" = 0 ] || fail "lxcfs false: $output"
	run ctr stop -t 10 "$NAME"
	assert_success
	# auto again: the key goes away from ctr.json
	run ctr config "$NAME" set lxcfs auto
	assert_success
	jq -e 'has("lxcfs") | not' "$CTR_STORE/$NAME/ctr.json" >/dev/null
}

@test "lxcfs true without a running lxcfs: start fails with one line naming it, nothing left" {
	make_system
	run ctr config "$NAME" set lxcfs true
	assert_success
	run ctr start "$NAME"
	assert_failure
	[ "${#lines[@]}" = 1 ] || fail "not one line: $output"
	[[ $output == *"lxcfs is required"*"no running lxcfs mounted at \`$CTR_LXCFS_DIR\`"* ]] ||
		fail "$output"
	run ctr ls
	assert_success
	[[ $output == *"$NAME"*stopped* ]] || fail "$output"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "state left: $(ls -A "$STATE_ROOT")"
	# auto starts without it, with the kernel's files
	run ctr config "$NAME" set lxcfs auto
	assert_success
	run ctr start "$NAME"
	assert_success
	in_guest "grep -c fuse.lxcfs /proc/self/mountinfo"
	[ "$output" = 0 ] || fail "$output"
	run ctr stop -t 10 "$NAME"
	assert_success
}

@test "lxcfs: a mount whose lxcfs was killed does not count; an lxcfs found anywhere by its type does" {
	start_lxcfs
	make_system
	run ctr config "$NAME" set lxcfs true
	assert_success
	# without $CTR_LXCFS_DIR: /var/lib/lxcfs when mounted, else any fuse.lxcfs mount
	if ! grep -qE ' /var/lib/lxcfs [^ ]+ [^-]*- fuse.lxcfs ' /proc/self/mountinfo; then
		run env -u CTR_LXCFS_DIR "$CTR" --root "$STATE_ROOT" check-config --format json
		assert_success
		jq -e --arg d "$CTR_LXCFS_DIR" '.[] | select(.name == "lxcfs")
			| .status == "ok" and (.detail | contains($d))' <<<"$output" >/dev/null ||
			fail "$output"
	fi
	kill -KILL "$LXCFS_PID"
	wait "$LXCFS_PID" 2>/dev/null || true
	LXCFS_PID=
	grep -qF " $CTR_LXCFS_DIR " /proc/self/mountinfo || skip "the killed lxcfs took its mount along"
	run ctr start "$NAME"
	assert_failure
	[[ $output == *"lxcfs is required"* ]] || fail "$output"
	umount -l "$CTR_LXCFS_DIR"
}

@test "lxcfs key: a bad value is refused naming the key and the value" {
	make_system
	before=$(sha256sum "$CTR_STORE/$NAME/ctr.json")
	run ctr config "$NAME" set lxcfs maybe
	assert_status 1
	[ "$output" = "ctr: lxcfs: \`maybe\` is not auto (when lxcfs runs), true (required) or false" ] ||
		fail "$output"
	[ "$before" = "$(sha256sum "$CTR_STORE/$NAME/ctr.json")" ] || fail "ctr.json changed"
	run ctr config "$NAME" get
	assert_success
	grep -qxF "lxcfs = auto" <<<"$output" || fail "$output"
}

@test "check-config: lxcfs running is ok with its mount point; absent is a warning with advice" {
	start_lxcfs
	run ctr check-config --format json
	assert_success
	jq -e --arg d "$CTR_LXCFS_DIR" '.[] | select(.name == "lxcfs")
		| .status == "ok" and (.detail | contains("running, mounted at " + $d))' \
		<<<"$output" >/dev/null || fail "$output"
	stop_lxcfs
	run ctr check-config
	assert_success
	[[ $output == *"warn     lxcfs "*"no running lxcfs mounted at \`$CTR_LXCFS_DIR\`"* ]] ||
		fail "$output"
	[[ $output == *"warn lxcfs: start it"* ]] || fail "no advice: $output"
}

@test "lxcfs: free -m and top in a Debian guest with memory 64M see 64 MiB (slow: CI or CTR_SLOW_TESTS)" {
	[ "${CI:-}" = true ] || [ -n "${CTR_SLOW_TESTS:-}" ] || skip "slow: set CTR_SLOW_TESTS=1"
	requires_tools debootstrap
	requires_init
	local hash tarball
	# procps brings free and top (busybox's free asks sysinfo(2), which lxcfs cannot change)
	hash=$(printf 'procps\nsysvinit-core\n' | sha256sum | cut -c1-12)
	tarball=$(ls /var/cache/ctr/debian/*-"$hash".tar 2>/dev/null | head -1)
	if [ -z "$tarball" ] && ! getent hosts deb.debian.org >/dev/null; then
		skip "no cached Debian tree with procps and no mirror to build one"
	fi
	start_lxcfs
	CTR_TIMEOUT=1200 run ctr create -t debian "$NAME" --net none --packages procps
	assert_success
	run ctr config "$NAME" set memory 64M
	assert_success
	run ctr start "$NAME"
	assert_success
	in_guest "free -m | awk '/^Mem:/ {print \$2}'"
	assert_success
	[ "$output" = 64 ] || fail "free -m total inside: $output, want 64"
	in_guest "top -bn1 | awk '/^MiB Mem/ {print \$4}'"
	[ "$output" = 64.0 ] || fail "top's total inside: $output"
	# a sysvinit halt may use the template's 60 s (the emulated v2 guest is slow)
	CTR_TIMEOUT=90 run ctr stop "$NAME"
	assert_success
}
