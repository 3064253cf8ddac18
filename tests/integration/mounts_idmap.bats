#!/usr/bin/env bats
# mounts_idmap.bats: idmapped bind mounts (mounts[].uidMappings/gidMappings, the idmap and
# ridmap options of runtime-spec 1.2): what the container sees, where its files land on the
# host, and the errors create gives.

load helpers

# A host directory of uid/gid 1000 with one file, and the bundle's mount of it at /data.
idmap_source() {
	SRC=$BATS_TEST_TMPDIR/src
	mkdir -p "$SRC"
	touch "$SRC/owned"
	chown -R 1000:1000 "$SRC"
	chmod 0755 "$BATS_RUN_TMPDIR" "$BATS_TEST_TMPDIR" "$BATS_RUN_TMPDIR/test" 2>/dev/null || true
}

# with_userns: a user namespace mapping 0-65535 to 100000-165535 (the rootfs stays root's:
# /data is made beforehand).
with_userns() {
	mkdir -p "$BUNDLE/rootfs/data"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))'
}

# add_idmap_mount OPTIONS_JSON [MAPPINGS_JSON]: $SRC at /data.
add_idmap_mount() {
	local m=${2:-}
	[ -n "$m" ] || m='{}'
	update_config '.mounts += [{destination: "/data", type: "bind", source: $s,
		options: $o} + $m]' --arg s "$SRC" --argjson o "$1" --argjson m "$m"
}

map_1000_to() {
	echo "{\"uidMappings\": [{\"containerID\": 1000, \"hostID\": $1, \"size\": 1}],
		\"gidMappings\": [{\"containerID\": 1000, \"hostID\": $1, \"size\": 1}]}"
}

@test "idmap without a user namespace: uid 1000 of the source is root inside, root's files land as 1000" {
	idmap_source
	make_bundle sh -c 'stat -c %u:%g /data/owned; touch /data/new; stat -c %u:%g /data/new'
	add_idmap_mount '["bind", "idmap"]' "$(map_1000_to 0)"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "0:0
0:0" ] || fail "$output"
	[ "$(stat -c %u:%g "$SRC/new")" = 1000:1000 ] || fail "on the host: $(stat -c %u:%g "$SRC/new")"
	# the source itself is not idmapped
	[ "$(stat -c %u:%g "$SRC/owned")" = 1000:1000 ]
}

@test "idmap with a user namespace: explicit mappings, and the container's own namespace for idmap alone" {
	requires_namespace user
	idmap_source
	make_bundle sh -c 'stat -c %u:%g /data/owned; touch /data/new; stat -c %u:%g /data/new'
	with_userns
	# host id 100000 is root inside the container: uid 1000 of the source shows as root
	add_idmap_mount '["bind", "idmap"]' "$(map_1000_to 100000)"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "0:0
0:0" ] || fail "$output"
	[ "$(stat -c %u:%g "$SRC/new")" = 1000:1000 ] || fail "on the host: $(stat -c %u:%g "$SRC/new")"
	rm "$SRC/new"
	# without mappings: the container's own, so the source's ids are the container's ids
	make_bundle sh -c 'stat -c %u:%g /data/owned; id -u; touch /data/new'
	with_userns
	add_idmap_mount '["rbind", "ridmap"]'
	update_config '.process.user = {uid: 1000, gid: 1000}'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = "1000:1000
1000" ] || fail "$output"
	[ "$(stat -c %u:%g "$SRC/new")" = 1000:1000 ] || fail "on the host: $(stat -c %u:%g "$SRC/new")"
}

@test "idmapped mount errors at create name the mount, and leave nothing" {
	idmap_source
	make_bundle true
	cp "$BUNDLE/config.json" "$BUNDLE/config.orig"
	# sysfs has no idmapped mounts
	update_config '.mounts += [{destination: "/data", type: "bind", source: "/sys/kernel",
		options: ["bind", "idmap"]} + $m]' --argjson m "$(map_1000_to 0)"
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "(/data): \`/sys/kernel\`: filesystem does not support idmapped mounts"
	run ctr list -q
	[ -z "$output" ] || fail "left: $output"

	cp "$BUNDLE/config.orig" "$BUNDLE/config.json"
	add_idmap_mount '["bind"]' "$(map_1000_to 0)"
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains '.options: uidMappings and gidMappings need the option "idmap"'

	cp "$BUNDLE/config.orig" "$BUNDLE/config.json"
	add_idmap_mount '["bind", "idmap"]'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "(/data): \"idmap\" without uidMappings and gidMappings takes the container's user namespace, and it has none"

	cp "$BUNDLE/config.orig" "$BUNDLE/config.json"
	update_config '.mounts += [{destination: "/data", type: "tmpfs", source: "tmpfs",
		options: ["idmap"]} + $m]' --argjson m "$(map_1000_to 0)"
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "an idmapped mount must be a bind mount"

	cp "$BUNDLE/config.orig" "$BUNDLE/config.json"
	add_idmap_mount '["bind", "idmap"]' '{"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10},
		{"containerID": 5, "hostID": 2000, "size": 1}],
		"gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}'
	run ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains "uidMappings[1]: overlaps uidMappings[0]"
	run ctr list -q
	[ -z "$output" ] || fail "left: $output"
}

@test "features: idmapped mounts enabled, idmap and ridmap among the mount options" {
	run ctr features
	assert_success
	[ "$(jq -r '.linux.mountExtensions.idmap.enabled' <<<"$output")" = true ] || fail "$output"
	jq -e '.mountOptions | index("idmap") and index("ridmap")' <<<"$output" >/dev/null ||
		fail "$output"
}
