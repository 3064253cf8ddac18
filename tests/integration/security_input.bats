#!/usr/bin/env bats
# security_input.bats: hostile input is refused before anything is created (security rule 8):
# container ids that could name a path outside the state root, a cgroupsPath escaping its
# parent, oversized or deeply nested config.json, and sysctls that would change the host.
# check_no_leaks (teardown) asserts no state dir, cgroup, mount or process is left behind.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# refused ID: `run` of the bundle under id ID fails and leaves nothing in the state root
# nor next to it (a `..` id would land in the parent).
refused_id() {
	run_logged ctr run --bundle "$BUNDLE" "$1"
	assert_failure
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "id '$1' left: $(ls -A "$STATE_ROOT")"
	[ "$(entries)" = "$BEFORE" ] || fail "id '$1' created: $(entries) (before: $BEFORE)"
}

# The test's directory without the logs run_logged writes there.
entries() {
	find "$BATS_TEST_TMPDIR" -mindepth 1 -maxdepth 2 ! -name 'log.*' | sort | tr '\n' ' '
}

snapshot() {
	BEFORE=$(entries)
}

@test "container ids with /, .., a leading dot, 256 chars or empty are refused" {
	make_bundle "$TH" exit 0
	mkdir -p "$STATE_ROOT/../victim"
	snapshot
	local id
	for id in a/b ../victim .. . .hidden '../../x' 'a/../../b' '' "$(printf 'a%.0s' {1..256})" \
		'a b' 'a\nb' 'a:b'; do
		refused_id "$id"
	done
	[ -z "$(ls -A "$STATE_ROOT/../victim")" ] || fail "victim dir written"
	rmdir "$STATE_ROOT/../victim"
}

@test "create with an invalid id is refused too, with the reason" {
	make_bundle "$TH" exit 0
	snapshot
	refused_id ../escape
	assert_ctr_output_contains "invalid container id"
	refused_id "$(printf 'b%.0s' {1..300})"
	assert_ctr_output_contains "is too long (300 bytes; the limit is 255)"
	# the message shows the start of the id, not all of it
	[ "${#output}" -lt 200 ] || ! is_ctr || fail "message too long: $output"
	run_logged ctr create --bundle "$BUNDLE" ""
	assert_failure
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
}

@test "long ids: 255 chars work, 256 are refused at the id check, leaving nothing" {
	make_bundle "$TH" exit 0
	local id
	id=$(cid)$(printf 'c%.0s' {1..1024})
	run_logged ctr run --bundle "$BUNDLE" "${id:0:255}"
	assert_success
	# a state directory name is at most 255 bytes (NAME_MAX)
	run_logged ctr run --bundle "$BUNDLE" "${id:0:256}"
	assert_failure
	assert_ctr_output_contains "(256 bytes; the limit is 255)"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
	run_logged ctr create --bundle "$BUNDLE" "${id:0:1024}"
	assert_failure
	assert_ctr_output_contains "(1024 bytes; the limit is 255)"
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
}

@test "a cgroupsPath with .. is refused and creates no cgroup" {
	make_bundle "$TH" exit 0
	local p
	for p in "/$(cid)/../../../$(cid)-esc" "../$(cid)-esc" "/$(cid)/.." "/.."; do
		update_config '.linux.cgroupsPath = $p' --arg p "$p"
		run_logged ctr run --bundle "$BUNDLE" "$(cid)"
		assert_failure
		assert_ctr_output_contains cgroupsPath
		[ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$(cid)-esc" 2>/dev/null)" ] ||
			fail "cgroupsPath $p created a cgroup"
		[ -z "$(ls -A "$STATE_ROOT")" ] || fail "cgroupsPath $p left state"
	done
}

@test "a config.json over 4 MiB is refused" {
	make_bundle "$TH" exit 0
	# valid JSON, only too large
	update_config '.annotations.pad = ("x" * (4 * 1024 * 1024))'
	[ "$(stat -c %s "$BUNDLE/config.json")" -gt $((4 * 1024 * 1024)) ]
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains config.json
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
}

@test "a config.json just under 4 MiB is accepted (the cap is a size, not a guess)" {
	make_bundle "$TH" exit 0
	local size
	size=$(stat -c %s "$BUNDLE/config.json")
	update_config '.annotations.pad = ("x" * $n)' --argjson n $((4 * 1024 * 1024 - size - 200))
	[ "$(stat -c %s "$BUNDLE/config.json")" -le $((4 * 1024 * 1024)) ]
	[ "$(stat -c %s "$BUNDLE/config.json")" -gt $((4 * 1024 * 1024 - 8192)) ]
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
}

@test "a config.json nested 100 levels deep is refused" {
	make_bundle "$TH" exit 0
	local open close
	open=$(printf '[%.0s' {1..100})
	close=$(printf ']%.0s' {1..100})
	update_config '.annotations = {"x": "y"}'
	sed -i "s/\"x\": \"y\"/\"x\": $open$close/" "$BUNDLE/config.json"
	grep -qF "$open" "$BUNDLE/config.json" || fail "nesting not inserted"
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains nesting
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
}

@test "sysctls outside the container's namespaces are refused, naming the key" {
	make_bundle "$TH" exit 0
	local before key
	before=$(cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/vm/swappiness)
	for key in kernel.panic vm.swappiness fs.file-max kernel.core_pattern; do
		update_config '.linux.sysctl = {($k): "1"}' --arg k "$key"
		run_logged ctr run --bundle "$BUNDLE" "$(cid)"
		assert_failure
		assert_output_contains "$key"
	done
	# net.* with no network namespace of its own
	update_config '.linux.namespaces |= map(select(.type != "network"))
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains net.ipv4.ip_forward
	# an IPC key without an IPC namespace
	update_config '.linux.namespaces |= map(select(.type != "ipc"))
		| .linux.sysctl = {"kernel.shmmax": "4096"}'
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains kernel.shmmax
	[ "$before" = "$(cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/vm/swappiness)" ] ||
		fail "a host sysctl changed"
}

@test "sysctl keys with path tricks are refused" {
	make_bundle "$TH" exit 0
	local key
	for key in ../../proc/sys/kernel/panic net/../../kernel/panic net..ipv4.ip_forward \
		net.ipv4.ip_forward. .net.ipv4; do
		update_config '.linux.sysctl = {($k): "1"}' --arg k "$key"
		run_logged ctr run --bundle "$BUNDLE" "$(cid)"
		assert_failure
	done
}
