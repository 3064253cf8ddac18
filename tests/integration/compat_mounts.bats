#!/usr/bin/env bats
# compat_mounts.bats: runc compatibility, namespaces and mounts: shared and joined namespaces, binds, /, /dev, /proc, devices.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

lo_is_up() {
	run ctr run --bundle "$BUNDLE" "$(cid lo)"
	assert_success
	[[ $output == *"<LOOPBACK,UP"* ]] || fail "lo: $output"
}

@test "the loopback interface is up in a new network namespace" {
	make_bundle ip link show lo
	update_config '.linux.namespaces |= (map(select(.type != "network")) + [{"type": "network"}])'
	also_runc lo_is_up
}

device_trailing_slash() {
	run ctr run --bundle "$BUNDLE" "$(cid dev)"
	assert_success
	[[ $output == c*" 1,"*" 3 "*/dev/nul2 ]] || fail "$output"
}

@test "linux.devices[].path with a trailing slash names the device" {
	make_bundle ls -l /dev/nul2
	update_config '.linux.devices = [{path: "/dev/nul2/", type: "c", major: 1, minor: 3}]'
	also_runc device_trailing_slash
}

proc_symlink_refused() {
	run ctr run --bundle "$BUNDLE" "$(cid proc)"
	assert_failure
	ctr delete -f "$(cid proc)" >/dev/null 2>&1 || true
	[[ $output == *proc* ]] || fail "$output"
}

@test "a /proc that is a symlink in the rootfs is refused" {
	make_bundle true
	rm -rf "$BUNDLE/rootfs/proc"
	mkdir "$BUNDLE/rootfs/elsewhere"
	ln -s elsewhere "$BUNDLE/rootfs/proc"
	also_runc proc_symlink_refused
	requires_ctr
	assert_output_contains "a proc mount needs an ordinary directory, and \`/proc\` is not"
}

ns_path_empty() {
	run ctr run --bundle "$BUNDLE" "$(cid ns)"
	assert_success
	[ "$output" != "$(readlink /proc/self/ns/ipc)" ] || fail "the host's ipc namespace: $output"
}

@test "a namespace whose path is empty is a new one" {
	make_bundle readlink /proc/self/ns/ipc
	update_config '.linux.namespaces |= map(if .type == "ipc" then .path = "" else . end)'
	also_runc ns_path_empty
}

dev_readonly() {
	run ctr run --bundle "$BUNDLE" "$(cid devro)"
	assert_success
	[[ ${lines[0]} == "tmpfs /dev tmpfs ro,"* ]] || fail "/dev: $output"
	[[ $output == *"Read-only file system"* ]] || fail "/dev writable: $output"
	[[ $output == *"null ok"* ]] || fail "/dev/null: $output"
}

@test "a read-only /dev keeps the default devices and mounts, and ends read-only" {
	make_bundle sh -c 'grep " /dev " /proc/self/mounts; touch /dev/x 2>&1; echo x >/dev/null && echo null ok'
	update_config '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
	also_runc dev_readonly
}

# runtime-spec 1.2: an idmapped bind mount (runc 1.2 and crun do it; runc 1.1 refuses or
# ignores the mappings)
idmapped_bind() {
	run ctr run --bundle "$BUNDLE" "$(cid idm)"
	assert_success
	[ "$output" = "0:0" ] || fail "$output"
}

@test "an idmapped bind mount shows the source's uid 1000 as the mapped root" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	touch "$src/owned"
	chown -R 1000:1000 "$src"
	make_bundle stat -c %u:%g /data/owned
	update_config '.mounts += [{destination: "/data", type: "bind", source: $s,
		options: ["bind", "idmap"],
		uidMappings: [{containerID: 1000, hostID: 0, size: 1}],
		gidMappings: [{containerID: 1000, hostID: 0, size: 1}]}]' --arg s "$src"
	also_runc idmapped_bind
}

# Runs in a mount namespace of its own (unshare -m), which is "the caller's" for the
# runtime: runc would otherwise make the host's "/" rslave and leave its mounts there.
shares_callers_mount_ns() {
	run unshare -m --propagation unchanged sh -c 'readlink /proc/self/ns/mnt
		"$1" --root "$2" run --bundle "$3" "$4"' sh "$CTR" "$STATE_ROOT" "$BUNDLE" "$(cid shared)"
	assert_success
	[ "${lines[0]}" = "${lines[1]}" ] || fail "not the caller's mount namespace: $output"
	[ "${lines[2]}" = "$TH" ] || fail "not chrooted into the rootfs: $output"
	[ "${lines[3]}" = "/dev/null" ] || fail "no /dev of its own: $output"
}

@test "without a mount namespace the container shares the caller's, chrooted into its root" {
	make_bundle sh -c "readlink /proc/self/ns/mnt; ls $TH; ls /dev/null"
	update_config '.linux.namespaces |= map(select(.type != "mount"))
		| del(.linux.maskedPaths) | del(.linux.readonlyPaths)'
	also_runc shares_callers_mount_ns
	requires_ctr
	# in the host's namespace: its mounts live in the container's state, gone with it
	run_detached
	grep -qF "$STATE_ROOT/$(cid)/root " /proc/self/mountinfo || fail "no root in the state"
	ctr delete -f "$(cid)"
	run grep -F "$STATE_ROOT" /proc/self/mountinfo
	assert_failure
	# nothing can be masked in a namespace that is not the container's (runc refuses too)
	update_config '.linux.maskedPaths = ["/proc/kcore"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "linux.maskedPaths: needs a mount namespace"
}

own_mount_ns() {
	[ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

# A namespace of its own for each runtime: both set the container up in it, pivot_root
# included, which moves the holder's root too.
joins_mount_ns() {
	local holder
	bg unshare -m --propagation private sleep 600
	holder=${BG_PIDS[-1]}
	wait_until own_mount_ns "$holder"
	update_config '.linux.namespaces |= map(if .type == "mount" then .path = $p else . end)' \
		--arg p "/proc/$holder/ns/mnt"
	local want
	want=$(readlink "/proc/$holder/ns/mnt")
	run ctr run --bundle "$BUNDLE" "$(cid join)"
	kill "$holder"
	assert_success
	[ "$output" = "$want" ] || fail "$output"
}

@test "a mount namespace is joined by path" {
	make_bundle readlink /proc/self/ns/mnt
	also_runc joins_mount_ns
}

joins_userns_without_maps() {
	run ctr run --bundle "$BUNDLE" "$(cid userns)"
	assert_success
	[ "$(echo "${lines[0]}" | tr -s ' ')" = " 0 100000 65536" ] || fail "$output"
	[ "${lines[1]}" = 0 ] || fail "$output"
}

@test "a user namespace joined by path needs no uid/gid mappings in the config" {
	requires_namespace user
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	make_bundle
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))'
	run_detached
	local pid
	pid=$(state_field "$(cid)" pid)
	make_bundle sh -c 'cat /proc/self/uid_map; id -u'
	update_config '.linux.namespaces += [{type: "user", path: $p}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))' \
		--arg p "/proc/$pid/ns/user"
	# runc 1.1 refuses ("no uid mappings found"); runc 1.2 and crun read the joined maps
	also_runc joins_userns_without_maps
}

bind_source_of_host_root() {
	run ctr run --bundle "$BUNDLE" "$(cid bind)"
	assert_success
	[ "$output" = private ] || fail "$output"
}

@test "a bind source the container's mapped root cannot reach is opened by the host" {
	requires_namespace user
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
	make_bundle cat /data/f
	mkdir "$BUNDLE/rootfs/data"
	mkdir -p "$BATS_TEST_TMPDIR/secret/data"
	echo private >"$BATS_TEST_TMPDIR/secret/data/f"
	chmod 0700 "$BATS_TEST_TMPDIR/secret"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))
		| .mounts += [{destination: "/data", type: "bind", source: $s, options: ["rbind", "ro"]}]' \
		--arg s "$BATS_TEST_TMPDIR/secret/data"
	also_runc bind_source_of_host_root
}

mount_onto_root() {
	run ctr run --bundle "$BUNDLE" "$(cid root)"
	assert_success
	[ "${lines[0]}" = other ] || fail "$output"
	assert_output_contains "Read-only file system"
}

@test "a mount onto / becomes the container's root" {
	make_bundle sh -c 'cat /marker; touch /x 2>&1; ls /proc/self/ns >/dev/null && echo proc'
	cp -a "$BUNDLE/rootfs" "$BATS_TEST_TMPDIR/other"
	echo other >"$BATS_TEST_TMPDIR/other/marker"
	# first in the list: the later mounts (/proc, /dev ...) go into the new root
	update_config '.mounts = [{destination: "/", type: "bind", source: $s,
		options: ["rbind", "ro"]}] + .mounts' --arg s "$BATS_TEST_TMPDIR/other"
	also_runc mount_onto_root
	assert_output_contains proc
}

no_pivot_private_refused() {
	run ctr run --no-pivot --bundle "$BUNDLE" "$(cid nopivot)"
	assert_failure
	run ctr run --no-pivot --bundle "$BUNDLE.ok" "$(cid nopivot)"
	assert_success
	[ "$output" = "mounted
unshared" ] || fail "$output"
}

@test "--no-pivot refuses a private rootfsPropagation, and gives a working mount namespace" {
	make_bundle sh -c 'mount -t tmpfs t /mnt && echo mounted; unshare -m true && echo unshared'
	mkdir -p "$BUNDLE/rootfs/mnt"
	update_config '.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN"]) | del(.linux.seccomp)'
	mkdir "$BUNDLE.ok"
	jq '.root.path = $r' --arg r "$BUNDLE/rootfs" "$BUNDLE/config.json" >"$BUNDLE.ok/config.json"
	update_config '.linux.rootfsPropagation = "rprivate"'
	also_runc no_pivot_private_refused
	requires_ctr
	run ctr run --no-pivot --bundle "$BUNDLE" "$(cid nopivot)"
	assert_output_contains "linux.rootfsPropagation: \`rprivate\` is not safe with --no-pivot"
}

device_access_sets() {
	local a
	for a in rwm mrw rrrw wwwwr; do
		update_config '.linux.resources.devices[1].access = $a' --arg a "$a"
		run ctr run --bundle "$BUNDLE" "$(cid dev)"
		assert_success
		[ "$output" = "w-ok r-ok" ] || fail "access $a: $output"
	done
	update_config '.linux.resources.devices[1].access = "wm"'
	run ctr run --bundle "$BUNDLE" "$(cid dev)"
	[ "$output" = "w-ok r-denied" ] || fail "access wm: $output"
	for a in '""' null; do
		update_config ".linux.resources.devices[1].access = $a"
		run ctr run --bundle "$BUNDLE" "$(cid dev)"
		assert_failure
		ctr delete -f "$(cid dev)" >/dev/null 2>&1 || true
	done
}

@test "device access letters in any order and repeated name their set; an empty access is refused" {
	make_bundle sh -c '(: >/dev/loop-control) 2>/dev/null && echo -n w-ok || echo -n w-denied
		(: </dev/loop-control) 2>/dev/null && echo " r-ok" || echo " r-denied"'
	update_config '.linux.devices = [{path: "/dev/loop-control", type: "c", major: 10, minor: 237}]
		| .linux.resources.devices = [{allow: false, access: "rwm"},
			{allow: true, type: "c", major: 10, minor: 237, access: "rwm"}]'
	also_runc device_access_sets
	requires_ctr
	assert_output_contains "linux.resources.devices[1].access: required, and must not be empty"
}
