#!/usr/bin/env bats
# cgroups.bats: the container's cgroup, resource limits, pause/resume and update.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
# bats file_tags=v2
load helpers

cgroup_v2() {
	[ -e /sys/fs/cgroup/cgroup.controllers ]
}

# cgroup_dir PID CONTROLLER: the host directory of PID's cgroup for CONTROLLER.
cgroup_dir() {
	local path
	if cgroup_v2; then
		path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup$path"
	else
		path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup/$2$path"
	fi
}

# Without a cgroup namespace /proc/self/cgroup shows the host's paths.
no_cgroupns() {
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
}

@test "the container runs in its own cgroup, removed on delete" {
	make_bundle
	no_cgroupns
	run_detached
	pid=$(state_field "$(cid)" pid)
	run ctr exec "$(cid)" "$TH" cgroup
	assert_success
	[[ $output == *"/$(cid)"$'\n'* || $output == *"/$(cid)" ]] || fail "$output"
	# not the caller's cgroup
	[ "$output" != "$(cat /proc/self/cgroup)" ]
	pids_dir=$(cgroup_dir "$pid" pids)
	[[ $pids_dir == */"$(cid)" ]] || fail "pids cgroup $pids_dir"
	grep -qx "$pid" "$pids_dir/cgroup.procs"
	[ -n "$(leaked_cgroups)" ]
	ctr delete --force "$(cid)"
	[ ! -e "$pids_dir" ]
	[ -z "$(leaked_cgroups)" ] || fail "left: $(leaked_cgroups)"
}

@test "the default cgroup path is /ctr/<id>" {
	requires_ctr
	make_bundle "$TH" cgroup
	no_cgroupns
	update_config 'del(.linux.cgroupsPath)'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	if cgroup_v2; then
		grep -qx "0::/ctr/$(cid)" <<<"$output" || fail "$output"
	else
		grep -q ":pids:/ctr/$(cid)$" <<<"$output" || fail "$output"
		grep -q ":memory:/ctr/$(cid)$" <<<"$output" || fail "$output"
	fi
}

@test "linux.cgroupsPath" {
	make_bundle "$TH" cgroup
	no_cgroupns
	update_config '.linux.cgroupsPath = $p' --arg p "/$MARKER-custom"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	grep -q ":/$MARKER-custom\$" <<<"$output" || fail "$output"
}

@test "a cgroup namespace hides the host's cgroup paths" {
	requires_namespace cgroup
	make_bundle "$TH" cgroup
	update_config '.linux.namespaces |= map(select(.type != "cgroup")) + [{type: "cgroup"}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_not_contains "$(cid)"
}

@test "linux.resources.pids.limit" {
	make_bundle "$TH" fork 50
	update_config '.linux.resources.pids = {limit: 10}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	n=${lines[-1]}
	[ "$n" -lt 50 ] && [ "$n" -ge 5 ] || fail "forked $n of 50 with a limit of 10"
}

@test "pids limit is written to the cgroup" {
	make_bundle
	update_config '.linux.resources.pids = {limit: 17}'
	run_detached
	dir=$(cgroup_dir "$(state_field "$(cid)" pid)" pids)
	[ "$(cat "$dir/pids.max")" = 17 ]
	ctr delete --force "$(cid)"
}

@test "memory limit: exceeding it gets the process OOM-killed" {
	make_bundle "$TH" alloc 256
	update_config '.linux.resources.memory = {limit: 33554432}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 137
	assert_output_not_contains allocated
}

@test "memory limit: allocating below it works" {
	make_bundle "$TH" alloc 8
	update_config '.linux.resources.memory = {limit: 67108864}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains "allocated 8 MB"
}

@test "memory and cpu limits are written to the cgroup" {
	make_bundle
	update_config '.linux.resources.memory = {limit: 67108864}
		| .linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}'
	run_detached
	pid=$(state_field "$(cid)" pid)
	if cgroup_v2; then
		dir=$(cgroup_dir "$pid" memory)
		[ "$(cat "$dir/memory.max")" = 67108864 ]
		[ "$(cat "$dir/cpu.max")" = "50000 100000" ]
	else
		[ "$(cat "$(cgroup_dir "$pid" memory)/memory.limit_in_bytes")" = 67108864 ]
		[ "$(cat "$(cgroup_dir "$pid" cpu)/cpu.shares")" = 512 ]
		[ "$(cat "$(cgroup_dir "$pid" cpu)/cpu.cfs_quota_us")" = 50000 ]
	fi
	ctr delete --force "$(cid)"
}

@test "pause and resume" {
	make_bundle "$TH" tick /tmp/counter
	run_detached
	counter=$BUNDLE/rootfs/tmp/counter
	wait_for_file "$counter"
	run ctr pause "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = paused ]
	a=$(cat "$counter")
	sleep 0.3
	b=$(cat "$counter")
	[ "$a" = "$b" ] || fail "counter moved while paused: $a -> $b"
	run ctr pause "$(cid)"
	assert_failure # already paused
	run ctr resume "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	wait_until eval 'test "$(cat "$counter")" != "$b"'
	run ctr resume "$(cid)"
	assert_failure # not paused
	ctr delete --force "$(cid)"
}

@test "a paused container can be killed and deleted" {
	make_bundle
	run_detached
	pid=$(state_field "$(cid)" pid)
	run ctr pause "$(cid)"
	assert_success
	run ctr delete --force "$(cid)"
	assert_success
	wait_until process_gone "$pid"
}

@test "pause of a stopped container fails" {
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr pause "$(cid)"
	assert_failure
	ctr delete "$(cid)"
}

@test "update changes the pids limit of a running container" {
	make_bundle
	update_config '.linux.resources.pids = {limit: 10}'
	run_detached
	dir=$(cgroup_dir "$(state_field "$(cid)" pid)" pids)
	run ctr update --pids-limit 25 "$(cid)"
	assert_success
	[ "$(cat "$dir/pids.max")" = 25 ]
	ctr delete --force "$(cid)"
}

@test "update --resources reads a JSON file" {
	make_bundle
	run_detached
	dir=$(cgroup_dir "$(state_field "$(cid)" pid)" pids)
	echo '{"pids": {"limit": 33}}' >"$BATS_TEST_TMPDIR/res.json"
	run ctr update --resources "$BATS_TEST_TMPDIR/res.json" "$(cid)"
	assert_success
	[ "$(cat "$dir/pids.max")" = 33 ]
	ctr delete --force "$(cid)"
}

@test "ctr's parent cgroup /ctr goes away with the last container in it" {
	requires_ctr
	cgroup_v2 && skip "checked on v1/hybrid hosts, where /ctr exists in every hierarchy"
	for d in /sys/fs/cgroup/*/ctr; do
		[ -d "$d" ] || continue
		[ -z "$(find "$d" -mindepth 1 -maxdepth 1 -type d)" ] || skip "other containers use $d"
	done
	make_bundle "$TH" sleep 100
	ctr create --bundle "$BUNDLE" "$(cid)-a"
	ctr create --bundle "$BUNDLE" "$(cid)-b"
	# the second create found /ctr made by the first: it still must not leave it behind
	ctr delete --force "$(cid)-a"
	[ -d /sys/fs/cgroup/pids/ctr ] || fail "/ctr removed while $(cid)-b lives in it"
	ctr delete --force "$(cid)-b"
	run find /sys/fs/cgroup -maxdepth 2 -name ctr
	[ -z "$output" ] || fail "left behind: $output"
}

@test "a container starts under a /ctr parent whose cpuset is still empty (concurrent create)" {
	requires_ctr
	[ -d /sys/fs/cgroup/cpuset ] || skip "no v1 cpuset hierarchy"
	[ -d /sys/fs/cgroup/cpuset/ctr ] && skip "/ctr already exists"
	# what a concurrent create leaves for a moment: /ctr made, its cpuset not yet copied
	mkdir /sys/fs/cgroup/cpuset/ctr
	[ -z "$(cat /sys/fs/cgroup/cpuset/ctr/cpuset.cpus)" ] || skip "cgroup.clone_children is set"
	make_bundle "$TH" exit 0
	run ctr run --bundle "$BUNDLE" "$(cid)"
	rmdir /sys/fs/cgroup/cpuset/ctr 2>/dev/null || true
	assert_success
}

# memory_file PID NAME: v1 memory.NAME_in_bytes or its v2 equivalent, of PID's cgroup.
memory_limit_of() {
	if cgroup_v2; then
		cat "$(cgroup_dir "$1" memory)/memory.max"
	else
		cat "$(cgroup_dir "$1" memory)/memory.limit_in_bytes"
	fi
}

@test "memory limit: the OOM kill happens at the limit and ctr events reports it" {
	make_bundle sh -c "while [ ! -e /tmp/go ]; do sleep 0.05; done; $TH alloc 256 && echo survived; sleep 3600"
	update_config '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	run_detached
	ev=$BATS_TEST_TMPDIR/events
	bg ctr events --interval 1h "$(cid)" >"$ev"
	# events is watching before the allocation starts
	sleep 0.3
	touch "$BUNDLE/rootfs/tmp/go"
	wait_until grep -q oom "$ev"
	[ "$(head -n 1 "$ev")" = "{\"type\":\"oom\",\"id\":\"$(cid)\"}" ] || fail "$(cat "$ev")"
	run ctr events --stats "$(cid)"
	assert_success
	# it got to its limit (peak usage), no further
	max=$(jq '.data.memory.usage.max // 0' <<<"$output")
	limit=$(jq '.data.memory.usage.limit' <<<"$output")
	[ "$limit" = 33554432 ] || fail "limit $limit"
	if [ "$max" != 0 ]; then
		[ "$max" -le 33554432 ] && [ "$max" -ge $((33554432 * 8 / 10)) ] || fail "peak $max"
	fi
	run cat "$LOG"
	assert_output_not_contains survived
	ctr delete --force "$(cid)"
}

@test "cpu quota caps the cpu time a busy process gets" {
	make_bundle "$TH" spin 1
	update_config '.linux.resources.cpu = {quota: 20000, period: 100000}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	ms=$(awk '/^cpu_ms/ {print $2}' <<<"$output")
	# 20% of one second, with room for the first period's burst and slow guests
	[ -n "$ms" ] && [ "$ms" -le 450 ] || fail "cpu time $ms ms in 1 s with a 20% quota: $output"
}

@test "a device rule denies opening a device node" {
	# the default rules (null, zero...) come after the config's, as in runc: use kmsg,
	# whose write side needs no capability
	make_bundle "$TH" write /dev/ctr-kmsg "ctr-test: device rule check"
	update_config '.linux.devices = [{path: "/dev/ctr-kmsg", type: "c", major: 1, minor: 11, fileMode: 384}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "rwm"}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	update_config '.linux.resources.devices += [{allow: false, type: "c", major: 1, minor: 11, access: "w"}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains EPERM
}

@test "a device the rules allow exists for access(2) F_OK (systemd's ConditionPathExists=/dev/console)" {
	# F_OK asks the device program no access bits: on cgroup v2 it once found no rule and
	# said EPERM, so systemd skipped its console getty
	make_bundle "$TH" access /dev/null
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = ok ] || fail "$output"
}

@test "update changes the memory limit of a running container" {
	make_bundle
	update_config '.linux.resources.memory = {limit: 67108864}'
	run_detached
	pid=$(state_field "$(cid)" pid)
	[ "$(memory_limit_of "$pid")" = 67108864 ]
	run ctr update --memory 128m "$(cid)"
	assert_success
	[ "$(memory_limit_of "$pid")" = 134217728 ]
	ctr delete --force "$(cid)"
}

@test "bad resource values are refused, naming the resource, and leave no cgroup" {
	make_bundle "$TH" exit 0
	local f
	for f in '.linux.resources.memory = {limit: -5}' \
		'.linux.resources.cpu = {quota: 1, period: 100000}' \
		'.linux.resources.cpu = {cpus: "abc"}' \
		'.linux.resources.blockIO = {weight: 5000}' \
		'.linux.resources.unified = {"nosuch.controller": "1"}' \
		'.linux.resources.memory = {limit: 1e30}'; do
		update_config "del(.linux.resources) | .linux.resources = {} | $f"
		run_logged ctr run --bundle "$BUNDLE" "$(cid)"
		assert_failure
		res=$(jq -r '.linux.resources | keys[0]' "$BUNDLE/config.json")
		assert_ctr_output_contains "linux.resources.$res"
		[ -z "$(leaked_cgroups)" ] || fail "$f left: $(leaked_cgroups)"
		[ -z "$(ls -A "$STATE_ROOT")" ] || fail "$f left state"
	done
}

@test "update orders cpu quota and period so that a change under a parent's limit succeeds" {
	cgroup_v2 && skip "v1: cpu.max (v2) sets both at once"
	local parent=/sys/fs/cgroup/cpu/$MARKER-parent
	mkdir "$parent"
	echo 100000 >"$parent/cpu.cfs_period_us"
	echo 50000 >"$parent/cpu.cfs_quota_us"
	make_bundle
	update_config '.linux.cgroupsPath = $p | .linux.resources.cpu = {quota: 50000, period: 100000}' \
		--arg p "/$MARKER-parent/$(cid)"
	run_detached
	# period first would make 50000/50000 = a whole cpu, over the parent's half: EINVAL
	run ctr update --cpu-quota 25000 --cpu-period 50000 "$(cid)"
	assert_success
	[ "$(cat "$parent/$(cid)/cpu.cfs_quota_us")" = 25000 ]
	[ "$(cat "$parent/$(cid)/cpu.cfs_period_us")" = 50000 ]
	# and back: quota first would be 50000/50000
	run ctr update --cpu-quota 50000 --cpu-period 100000 "$(cid)"
	assert_success
	[ "$(cat "$parent/$(cid)/cpu.cfs_quota_us")" = 50000 ]
	ctr delete --force "$(cid)"
	rmdir "$parent"
}

@test "cpu.realtimeRuntime: /ctr gets the realtime budget its containers ask for, and too much is refused naming the fix" {
	requires_ctr
	[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no v1 realtime group scheduling (CONFIG_RT_GROUP_SCHED)"
	make_bundle
	update_config '.linux.resources.cpu = {realtimeRuntime: 10000, realtimePeriod: 1000000}'
	run_detached
	[ "$(cat "/sys/fs/cgroup/cpu/ctr/$(cid)/cpu.rt_runtime_us")" = 10000 ]
	[ "$(cat /sys/fs/cgroup/cpu/ctr/cpu.rt_runtime_us)" -ge 10000 ]
	# a second one adds to the budget
	local first=$BUNDLE
	make_bundle
	update_config '.linux.resources.cpu = {realtimeRuntime: 20000}'
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid)-2"
	assert_success
	[ "$(cat "/sys/fs/cgroup/cpu/ctr/$(cid)-2/cpu.rt_runtime_us")" = 20000 ]
	[ "$(cat /sys/fs/cgroup/cpu/ctr/cpu.rt_runtime_us)" -ge 30000 ]
	# more than the host's budget: refused, naming the key and the fix, nothing left
	update_config '.linux.resources.cpu = {realtimeRuntime: 990000}'
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid)-3"
	assert_failure
	assert_output_contains linux.resources.cpu.realtimeRuntime "990000" "cpu.rt_runtime_us"
	[ ! -e "/sys/fs/cgroup/cpu/ctr/$(cid)-3" ]
	ctr delete --force "$(cid)"
	ctr delete --force "$(cid)-2"
	BUNDLE=$first
}
