#!/usr/bin/env bats
# compat_cgroups.bats: runc compatibility, cgroups and resources: frozen and shared cgroups, update, sysctl, memory policy.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

hostname_sysctl_refused() {
	run ctr run --bundle "$BUNDLE" "$(cid sysctl)"
	assert_failure
	ctr delete -f "$(cid sysctl)" >/dev/null 2>&1 || true
	[[ $output == *kernel.hostname* ]] || fail "$output"
}

@test "linux.sysctl kernel.hostname is refused: the hostname field sets it" {
	make_bundle true
	update_config '.linux.sysctl = {"kernel.hostname": "other"} | .hostname = "c"'
	also_runc hostname_sysctl_refused
	requires_ctr
	assert_output_contains "linux.sysctl: \`kernel.hostname\` is not allowed"
}

shared_cgroup_warns() {
	run_detached
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid second)"
	local second_status=$status second_output=$output
	ctr delete -f "$(cid second)"
	ctr delete -f "$(cid)"
	[ "$second_status" = 0 ] || fail "second container: $second_output"
	[[ $second_output == *"already has 1 process(es)"* ]] || fail "no warning: $second_output"
}

@test "a container whose cgroup already holds processes starts with a warning" {
	requires_ctr
	make_bundle
	update_config '.linux.cgroupsPath = $p' --arg p "/$MARKER-shared"
	shared_cgroup_warns
}

@test "run -d into a frozen cgroup returns at once, refused, and leaves nothing" {
	requires_ctr
	make_bundle
	update_config '.linux.cgroupsPath = $p' --arg p "/$MARKER-frozen"
	run_detached
	ctr pause "$(cid)"
	# the helper's timeout turns a hang into a failure (124)
	CTR_TIMEOUT=10 run_logged ctr run -d --bundle "$BUNDLE" "$(cid second)"
	assert_status 1
	assert_output_contains "cgroup /$MARKER-frozen is frozen"
	run ctr state "$(cid second)"
	assert_failure
	ctr resume "$(cid)"
	ctr delete -f "$(cid)"
}

# runtime-spec 1.3: linux.memoryPolicy is set_mempolicy(2) in the container process (runc 1.3
# and crun do the same; runc 1.1 ignores the key, so runc here does not agree)
memory_policy_bind() {
	run ctr run --bundle "$BUNDLE" "$(cid mpol)"
	assert_success
	[ "${lines[0]}" = "bind:0" ] || fail "$output"
}

@test "linux.memoryPolicy MPOL_BIND on node 0 is the container process's policy" {
	[ -e /sys/devices/system/node/node0 ] || skip "no NUMA node 0 on this host"
	make_bundle sh -c 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0"}'
	also_runc memory_policy_bind
	update_config '.linux.memoryPolicy = {mode: "MPOL_INTERLEAVE", nodes: "0",
		flags: ["MPOL_F_STATIC_NODES"]}'
	run ctr run --bundle "$BUNDLE" "$(cid mpol2)"
	assert_success
	[ "${lines[0]}" = "interleave=static:0" ] || fail "$output"
}

@test "linux.memoryPolicy: an unknown mode or a node the host lacks fails create, naming the value" {
	[ -e /sys/devices/system/node/node0 ] || skip "no NUMA node 0 on this host"
	requires_ctr
	make_bundle true
	update_config '.linux.memoryPolicy = {mode: "MPOL_FOO", nodes: "0"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'config.json: linux.memoryPolicy.mode: unknown mode "MPOL_FOO"'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0,99"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'config.json: linux.memoryPolicy.nodes: node 99 of "0,99" is not on this host'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_NOPE"]}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'linux.memoryPolicy.flags[0]: unknown flag "MPOL_F_NOPE"'
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND"}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains 'linux.memoryPolicy.nodes: required with mode MPOL_BIND'
	run ctr list -q
	[ -z "$output" ] || fail "left: $output"
	run ctr features
	jq -e '.linux.memoryPolicy.modes | index("MPOL_WEIGHTED_INTERLEAVE")' <<<"$output" >/dev/null ||
		fail "features: $output"
}

# Which parts of a writable /sys/fs/cgroup the container may write: NAME:rw or NAME:ro for
# each hierarchy (a sub-cgroup made and removed), and the tmpfs above them on v1.
cgroup_rw_probe() {
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	local expected
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		# cgroup2: the namespace's root is the container's own cgroup; the kernel guards its
		# limits (cgroup.max.depth is not delegatable) only when the host mounted cgroup2
		# with nsdelegate (systemd does)
		if grep -qE '^cgroup2 /sys/fs/cgroup cgroup2 .*nsdelegate' /proc/mounts; then
			expected="/:rw limits:ro"
		else
			expected="/:rw limits:rw"
		fi
	else
		expected=$(for d in /sys/fs/cgroup/*/; do
			d=$(basename "$d")
			[ -L "/sys/fs/cgroup/$d" ] && continue
			case $d in systemd | unified) echo "$d:rw" ;; *) echo "$d:ro" ;; esac
		done | sort | tr '\n' ' ')"tmpfs:ro"
	fi
	[ "$output" = "$expected" ] || fail "expected: $expected; got: $output"
}

@test "a writable cgroup mount in a cgroup namespace: the own subtree writable, v1 controllers not" {
	make_bundle /bin/sh -c '
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			mkdir /sys/fs/cgroup/probe 2>/dev/null && rmdir /sys/fs/cgroup/probe && r=rw || r=ro
			echo 0 2>/dev/null >/sys/fs/cgroup/cgroup.max.depth && l=rw || l=ro
			echo "/:$r limits:$l"; exit 0
		fi
		for d in /sys/fs/cgroup/*/; do
			[ -L "${d%/}" ] && continue
			n=$(basename "$d")
			mkdir "$d/probe" 2>/dev/null && rmdir "$d/probe" && echo "$n:rw" || echo "$n:ro"
		done | sort | tr "\n" " "
		mkdir /sys/fs/cgroup/probe 2>/dev/null && rmdir /sys/fs/cgroup/probe && echo tmpfs:rw || echo tmpfs:ro'
	update_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{type: "cgroup"}])
		| (.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= (map(select(. != "ro")) + ["rw"])'
	also_runc cgroup_rw_probe
}

# `update` changes the cgroup only: the bundle is the engine's, and a restart starts from it
# (ctr keeps new limits only for its own system containers: system_config.bats)
update_leaves_bundle() {
	local before
	before=$(sha256sum "$BUNDLE/config.json")
	run_detached
	run ctr update --memory 64M --pids-limit 20 "$(cid)"
	assert_success
	[ "$before" = "$(sha256sum "$BUNDLE/config.json")" ] || fail "update rewrote config.json"
	ctr delete -f "$(cid)" >/dev/null 2>&1
}

@test "update of an OCI container leaves its bundle's config.json as it was" {
	make_bundle sleep 100
	also_runc update_leaves_bundle
}

# runc's spellings of update's cpu flags: --cpu-share, and the v1 realtime pair
update_cpu_share() {
	run_detached
	run ctr update --cpu-share 512 "$(cid)"
	assert_success
	local d top=/sys/fs/cgroup
	[ -e "$top/cgroup.controllers" ] || top=/sys/fs/cgroup/cpu/
	d=$(find "$top" -mindepth 1 -type d -name "$(cid)" 2>/dev/null | head -n 1)
	if [ -e "$d/cpu.shares" ]; then
		[ "$(cat "$d/cpu.shares")" = 512 ] || fail "cpu.shares: $(cat "$d/cpu.shares")"
		run ctr update --cpu-rt-period 500000 --cpu-rt-runtime 0 "$(cid)"
		assert_success
		[ ! -e "$d/cpu.rt_period_us" ] || [ "$(cat "$d/cpu.rt_period_us")" = 500000 ] ||
			fail "cpu.rt_period_us: $(cat "$d/cpu.rt_period_us")"
	else
		# cgroup v2: shares 512 is weight 1 + (512 - 2) * 9999 / 262142 = 20
		[ "$(cat "$d/cpu.weight")" = 20 ] || fail "cpu.weight: $(cat "$d/cpu.weight")"
	fi
	ctr delete -f "$(cid)"
}

@test "update --cpu-share, --cpu-rt-period and --cpu-rt-runtime (runc's flags) reach the cgroup" {
	make_bundle
	also_runc update_cpu_share
}

# v1: a quota and a period written one after the other pass through a ratio the parent's
# limit may refuse; runc writes the period again after the quota when the kernel said EINVAL
update_cpu_order() {
	local parent=/sys/fs/cgroup/cpu/$MARKER-$CTR_NAME
	mkdir "$parent"
	echo 100000 >"$parent/cpu.cfs_period_us"
	echo 50000 >"$parent/cpu.cfs_quota_us"
	update_config '.linux.cgroupsPath = $p | .linux.resources.cpu = {quota: 50000, period: 100000}' \
		--arg p "/$MARKER-$CTR_NAME/$(cid)"
	run_detached
	# the period first would make 50000/50000, a whole cpu, over the parent's half
	run ctr update --cpu-quota 25000 --cpu-period 50000 "$(cid)"
	local st1=$status q1 p1
	q1=$(cat "$parent/$(cid)/cpu.cfs_quota_us")
	p1=$(cat "$parent/$(cid)/cpu.cfs_period_us")
	# and back: the quota first would make 50000/50000
	run ctr update --cpu-quota 50000 --cpu-period 100000 "$(cid)"
	local st2=$status q2
	q2=$(cat "$parent/$(cid)/cpu.cfs_quota_us")
	ctr delete -f "$(cid)"
	# runc makes the parent in every hierarchy, and leaves it there
	local d
	for d in /sys/fs/cgroup/*/"$MARKER-$CTR_NAME"; do
		[ ! -d "$d" ] || rmdir "$d"
	done
	[ "$st1 $q1 $p1" = "0 25000 50000" ] || fail "halving: status $st1, quota $q1, period $p1"
	[ "$st2 $q2" = "0 50000" ] || fail "doubling: status $st2, quota $q2"
}

@test "update of cpu quota and period under a parent's limit succeeds either way, as with runc" {
	[ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] || skip "v1 only: cgroup v2's cpu.max sets both at once"
	make_bundle
	also_runc update_cpu_order
}
