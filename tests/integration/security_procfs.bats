#!/usr/bin/env bats
# security_procfs.bats: the container's /proc cannot be faked or redirected to trick ctr's
# writes (CVE-2019-16884 and CVE-2019-19921 class, security rule 4): mounts over /proc are
# refused, and the writes ctr makes under /proc (oom_score_adj, sysctls) land in the
# container's own procfs.

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# refused MOUNT_JSON: a run with MOUNT_JSON appended to mounts fails, naming /proc.
refused() {
	update_config ".mounts += [$1]"
	run_logged ctr run --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_output_contains /proc
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left: $(ls -A "$STATE_ROOT")"
	cp "$BUNDLE/config.json.orig" "$BUNDLE/config.json"
}

setup_bundle() {
	make_bundle "$TH" exit 0
	cp "$BUNDLE/config.json" "$BUNDLE/config.json.orig"
}

@test "a tmpfs over /proc is refused" {
	setup_bundle
	refused '{destination: "/proc", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
}

@test "a bind mount over /proc is refused" {
	setup_bundle
	mkdir -p "$BATS_TEST_TMPDIR/fakeproc/self"
	refused '{destination: "/proc", type: "bind", source: "'"$BATS_TEST_TMPDIR/fakeproc"'", options: ["rbind"]}'
}

@test "mounts over files and directories under /proc are refused" {
	setup_bundle
	echo fake >"$BATS_TEST_TMPDIR/fakefile"
	mkdir -p "$BATS_TEST_TMPDIR/fakedir"
	refused '{destination: "/proc/self", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
	refused '{destination: "/proc/sys", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
	refused '{destination: "/proc/self/attr", type: "bind", source: "'"$BATS_TEST_TMPDIR/fakedir"'", options: ["bind"]}'
	refused '{destination: "/proc/sys/kernel/shmmax", type: "bind", source: "'"$BATS_TEST_TMPDIR/fakefile"'", options: ["bind"]}'
	refused '{destination: "/proc/../proc/sys", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
}

@test "a mount whose destination is a symlink into /proc is refused" {
	setup_bundle
	ln -s /proc "$BUNDLE/rootfs/p"
	ln -s ../proc/sys "$BUNDLE/rootfs/ps"
	refused '{destination: "/p", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
	refused '{destination: "/ps", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
	refused '{destination: "/p/self", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}'
}

@test "a proc mount whose destination is a symlink lands inside the root" {
	make_bundle sh -c "$TH stat /newproc/self/status && stat -f -c %T /newproc/"
	mkdir -p "$BATS_TEST_TMPDIR/hostdir"
	ln -s "$BATS_TEST_TMPDIR/hostdir" "$BUNDLE/rootfs/newproc"
	update_config '.mounts += [{destination: "/newproc", type: "proc", source: "proc"}]'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdir")" ] || fail "host dir received the procfs"
	! grep -qF " $BATS_TEST_TMPDIR/hostdir " /proc/self/mountinfo || fail "procfs on the host dir"
	[ "$status" -ne 0 ] || assert_output_contains proc
}

@test "a rootfs /proc that is a symlink is refused or kept inside the root" {
	make_bundle "$TH" oom
	mkdir -p "$BATS_TEST_TMPDIR/hostdir"
	rmdir "$BUNDLE/rootfs/proc"
	ln -s "$BATS_TEST_TMPDIR/hostdir" "$BUNDLE/rootfs/proc"
	update_config '.process.oomScoreAdj = 123'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdir")" ] || fail "host dir received the procfs"
	! grep -qF " $BATS_TEST_TMPDIR/hostdir " /proc/self/mountinfo || fail "procfs on the host dir"
	[ "$status" -ne 0 ] || [ "$output" = 123 ] || fail "$output"
}

@test "oomScoreAdj lands in the container process" {
	make_bundle "$TH" oom
	local host_before
	host_before=$(cat /proc/self/oom_score_adj)
	update_config '.process.oomScoreAdj = 432'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$output" = 432 ] || fail "oom_score_adj inside: $output"
	[ "$(cat /proc/self/oom_score_adj)" = "$host_before" ] || fail "the caller's value changed"
}

@test "oomScoreAdj applies to an exec'd process too" {
	# runc gives exec'd processes the container's process.oomScoreAdj
	make_bundle
	update_config '.process.oomScoreAdj = 321'
	run_detached
	run ctr exec "$(cid)" "$TH" oom
	assert_success
	[ "$output" = 321 ] || fail "oom_score_adj of exec: $output"
	ctr delete --force "$(cid)"
}

@test "sysctls land in the container's namespaces, not the host's" {
	make_bundle sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/hostname'
	local fwd shmmni
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	shmmni=$(cat /proc/sys/kernel/shmmni)
	local want_fwd=$((1 - fwd)) want_shm=$((shmmni - 7))
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": $f, "kernel.shmmni": $s}' \
		--arg f "$want_fwd" --arg s "$want_shm"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "${lines[0]}" = "$want_fwd" ] || fail "ip_forward inside: $output"
	[ "${lines[1]}" = "$want_shm" ] || fail "shmmni inside: $output"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ] || fail "host ip_forward changed"
	[ "$(cat /proc/sys/kernel/shmmni)" = "$shmmni" ] || fail "host shmmni changed"
}
