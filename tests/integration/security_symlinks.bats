#!/usr/bin/env bats
# security_symlinks.bats: symlinks in the rootfs never take a mount or a created file onto
# the host (CVE-2021-30465 mount-destination swaps, CVE-2023-27561 class; security rule 3):
# destinations resolve inside the root, /dev symlinks are never followed.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# A host directory with a marker file the container must never touch or see over.
make_host_dir() {
	HOST_DIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$HOST_DIR"
	echo host-marker >"$HOST_DIR/marker"
	HOST_FILE=$BATS_TEST_TMPDIR/hostfile
	echo host-file-content >"$HOST_FILE"
}

# The host side is exactly as make_host_dir left it.
host_untouched() {
	[ "$(ls -A "$HOST_DIR")" = marker ] || fail "host dir changed: $(ls -A "$HOST_DIR")"
	[ "$(cat "$HOST_DIR/marker")" = host-marker ] || fail "host marker changed"
	[ "$(cat "$HOST_FILE")" = host-file-content ] || fail "host file changed: $(cat "$HOST_FILE")"
	! grep -qF " $HOST_DIR " /proc/self/mountinfo || fail "a mount landed on the host dir"
}

# mount_through_link LINK_TARGET: /link -> LINK_TARGET in the rootfs, a tmpfs mounted on
# /link; the container writes into it and lists it. The tmpfs must end up inside the root.
mount_through_link() {
	make_host_dir
	make_bundle sh -c "$TH write /link/inside x && ls -A /link && stat -f -c %T /link/"
	ln -s "$1" "$BUNDLE/rootfs/link"
	update_config '.mounts += [{destination: "/link", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
}

@test "a mount destination symlinked to an absolute host path lands inside the root" {
	mount_through_link "$BATS_TEST_TMPDIR/host"
	assert_success
	# the tmpfs is where the link points *inside* the root, empty but for the new file
	[ "${lines[1]}" = inside ] || fail "container sees in /link: $output"
	[ "${lines[2]}" = tmpfs ] || fail "/link is not the tmpfs: $output"
	assert_output_not_contains marker
	[ -d "$BUNDLE/rootfs$BATS_TEST_TMPDIR/host" ] || fail "target not created inside the root"
}

@test "a mount destination symlinked with ../../ lands inside the root" {
	mount_through_link "../../../../../../../../../..$BATS_TEST_TMPDIR/host"
	assert_success
	[ "${lines[1]}" = inside ] || fail "container sees in /link: $output"
	[ "${lines[2]}" = tmpfs ] || fail "/link is not the tmpfs: $output"
	assert_output_not_contains marker
}

@test "a bind mount through a symlinked parent directory stays inside the root" {
	make_host_dir
	mkdir -p "$BATS_TEST_TMPDIR/src"
	echo from-src >"$BATS_TEST_TMPDIR/src/f"
	make_bundle sh -c "cat /etc2/x/f"
	ln -s "$HOST_DIR" "$BUNDLE/rootfs/etc2"
	update_config '.mounts += [{destination: "/etc2/x", type: "bind", source: $s, options: ["bind"]}]' \
		--arg s "$BATS_TEST_TMPDIR/src"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains from-src
	host_untouched
}

@test "a bind source that is a symlink is resolved on the host (the usual case)" {
	mkdir -p "$BATS_TEST_TMPDIR/real"
	echo real-content >"$BATS_TEST_TMPDIR/real/f"
	ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/srclink"
	make_bundle cat /mnt/f
	update_config '.mounts += [{destination: "/mnt", type: "bind", source: $s, options: ["bind"]}]' \
		--arg s "$BATS_TEST_TMPDIR/srclink"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains real-content
}

@test "a rootfs whose /dev is a symlink to a host directory does not touch the host" {
	make_host_dir
	make_bundle ls -A /dev
	rm -rf "$BUNDLE/rootfs/dev"
	ln -s "$HOST_DIR" "$BUNDLE/rootfs/dev"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	# either refused, or /dev inside is the container's own (no host marker)
	[ "$status" -ne 0 ] || assert_output_not_contains marker
}

@test "a rootfs /dev symlinked with ../ to a host directory does not touch the host" {
	make_host_dir
	make_bundle ls -A /dev
	rm -rf "$BUNDLE/rootfs/dev"
	ln -s "../../../../../../../../..$HOST_DIR" "$BUNDLE/rootfs/dev"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	[ "$status" -ne 0 ] || assert_output_not_contains marker
}

@test "a rootfs /dev/null that is a symlink to a host file is not followed" {
	make_host_dir
	make_bundle sh -c "echo injected >/dev/null; $TH stat /dev/null"
	ln -s "$HOST_FILE" "$BUNDLE/rootfs/dev/null"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	if [ "$status" -eq 0 ]; then
		assert_output_contains "char 1:3"
	fi
	# the link in the bundle, if still there, still points where it did
	[ ! -L "$BUNDLE/rootfs/dev/null" ] || [ "$(readlink "$BUNDLE/rootfs/dev/null")" = "$HOST_FILE" ]
}

@test "rootfs /dev/zero, /dev/ptmx and /dev/console symlinks to host files are not followed" {
	make_host_dir
	make_bundle sh -c "echo injected >/dev/zero; echo injected >/dev/console; $TH stat /dev/zero"
	update_config '.process.terminal = false'
	ln -s "$HOST_FILE" "$BUNDLE/rootfs/dev/zero"
	ln -s "$HOST_FILE" "$BUNDLE/rootfs/dev/ptmx"
	ln -s "$HOST_FILE" "$BUNDLE/rootfs/dev/console"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	[ "$status" -ne 0 ] || assert_output_contains "char 1:5"
}

@test "masked and read-only paths that are symlinks to host paths act inside the root" {
	make_host_dir
	make_bundle sh -c "echo injected >/maskme; echo injected >/romedir/x; echo mask:\$(cat /maskme); ls -A /romedir /maskdir; true"
	ln -s "$HOST_FILE" "$BUNDLE/rootfs/maskme"
	ln -s "$HOST_DIR" "$BUNDLE/rootfs/romedir"
	mkdir -p "$BATS_TEST_TMPDIR/host2" "$BUNDLE/rootfs$BATS_TEST_TMPDIR/host2"
	echo host-marker2 >"$BATS_TEST_TMPDIR/host2/m2"
	echo inside-marker2 >"$BUNDLE/rootfs$BATS_TEST_TMPDIR/host2/m2"
	ln -s "../../../../../../../../..$BATS_TEST_TMPDIR/host2" "$BUNDLE/rootfs/maskdir"
	# the same paths inside the root: that is what the links mean in the container
	mkdir -p "$BUNDLE/rootfs$HOST_DIR"
	echo inside-marker >"$BUNDLE/rootfs$HOST_DIR/inside"
	echo inside-content >"$BUNDLE/rootfs$HOST_FILE"
	update_config '.linux.maskedPaths += ["/maskme", "/maskdir"] | .linux.readonlyPaths += ["/romedir"]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	assert_success
	assert_output_not_contains host-file-content
	assert_output_not_contains marker
	assert_output_not_contains inside-content
	assert_output_contains "mask:"$'\n'
	# /romedir is read-only and shows the root's copy; /maskdir is masked (empty)
	assert_output_contains "/romedir/x: Read-only file system"
	[ "$(cat "$BUNDLE/rootfs$HOST_DIR/inside")" = inside-marker ]
	[ ! -e "$BUNDLE/rootfs$HOST_DIR/x" ] || fail "read-only path written"
	[[ $output == *"/romedir:"$'\n'"inside"* ]] || fail "romedir listing: $output"
	[[ $output == *"/maskdir:"$'\n'$'\n'* ]] || fail "maskdir not empty: $output"
	[ "$(cat "$BATS_TEST_TMPDIR/host2/m2")" = host-marker2 ] || fail "host2 changed"
	! grep -qF " $BATS_TEST_TMPDIR/host2 " /proc/self/mountinfo || fail "mask on the host"
}

@test "a mount destination that is a dangling symlink gets its target inside the root" {
	make_host_dir
	make_bundle sh -c "$TH write /dangling/f x"
	ln -s "$HOST_DIR/newdir" "$BUNDLE/rootfs/dangling"
	update_config '.mounts += [{destination: "/dangling", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	host_untouched
	[ "$status" -ne 0 ] || [ -d "$BUNDLE/rootfs$HOST_DIR/newdir" ] || fail "where did the mount go? $output"
}
