#!/usr/bin/env bats
# security_masking.bats: the default masked and read-only paths hide the host's kernel
# interfaces and cannot be undone from inside (masked-path bypasses such as a rootfs
# /dev/null swap, CVE-2020-15257-ish host interface exposure; security rule 5).

# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# The masked files of the default spec that this host has, and its masked directories.
masked_files() {
	local p
	for p in /proc/kcore /proc/keys /proc/timer_list /proc/latency_stats /proc/timer_stats \
		/proc/sched_debug; do
		[ -e "$p" ] && [ ! -d "$p" ] && echo "$p"
	done
	return 0
}

masked_dirs() {
	local p
	for p in /proc/acpi /proc/asound /proc/scsi /sys/firmware; do
		[ -d "$p" ] && [ -n "$(ls -A "$p" 2>/dev/null)" ] && echo "$p"
	done
	return 0
}

# check_masked: in $output of check_script, every masked file read empty and is a
# /dev/null (char 1:3, whoever owns it), every masked directory listed empty.
check_script() {
	local p s=''
	for p in $(masked_files); do
		s+="echo file $p; cat $p; $TH stat $p | cut -d' ' -f1-3; "
	done
	for p in $(masked_dirs); do
		s+="echo dir $p; ls -A $p; "
	done
	echo "$s echo end"
}

check_masked() {
	local expected='' p
	for p in $(masked_files); do
		expected+="file $p"$'\n'"char 1:3 0666"$'\n'
	done
	for p in $(masked_dirs); do
		expected+="dir $p"$'\n'
	done
	expected+=end
	[ "$output" = "$expected" ] || fail "masking differs; expected:"$'\n'"$expected"$'\n'"got:"$'\n'"$output"
}

@test "the default masked paths are masked" {
	[ -n "$(masked_files)" ] || skip "no maskable /proc file on this host"
	make_bundle sh -c "$(check_script)"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	check_masked
}

@test "the default masked paths are masked for exec'd processes too" {
	make_bundle
	run_detached
	run ctr exec "$(cid)" sh -c "$(check_script)"
	assert_success
	check_masked
	ctr delete --force "$(cid)"
}

@test "a rootfs /dev/null replaced by a regular file does not unmask" {
	make_bundle sh -c "$(check_script)"
	rm -f "$BUNDLE/rootfs/dev/null"
	echo not-null >"$BUNDLE/rootfs/dev/null"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	check_masked
}

@test "a rootfs /dev/null replaced by a symlink does not unmask" {
	make_bundle sh -c "$(check_script)"
	rm -f "$BUNDLE/rootfs/dev/null"
	# to a file with content, and to the very file it should hide
	echo not-null >"$BUNDLE/rootfs/content"
	ln -s /content "$BUNDLE/rootfs/dev/null"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	check_masked
	if [ -e /proc/keys ]; then
		rm -f "$BUNDLE/rootfs/dev/null"
		ln -s /proc/keys "$BUNDLE/rootfs/dev/null"
		run ctr run --bundle "$BUNDLE" "$(cid)"
		assert_success
		check_masked
	fi
}

@test "a /dev bind mount from the host does not unmask either" {
	make_bundle sh -c "$(check_script)"
	mkdir -p "$BATS_TEST_TMPDIR/fakedev"
	echo not-null >"$BATS_TEST_TMPDIR/fakedev/null"
	update_config '.mounts |= map(select(.destination != "/dev"))
		| .mounts += [{destination: "/dev", type: "bind", source: $s, options: ["rbind"]}]' \
		--arg s "$BATS_TEST_TMPDIR/fakedev"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[ "$(cat "$BATS_TEST_TMPDIR/fakedev/null")" = not-null ] || fail "the bind source was written"
	[ "$status" -ne 0 ] || check_masked
}

@test "the default read-only paths are read-only" {
	# empty writes: a failed protection must not trigger sysrq or change a sysctl
	local p s='' want=0
	for p in /proc/sys/kernel/domainname /proc/sysrq-trigger /proc/sys/vm/drop_caches \
		/proc/irq/default_smp_affinity; do
		[ -e "$p" ] && s+="$TH write $p '' 2>/dev/null; " && want=$((want + 1))
	done
	# and each read-only path is a read-only mount of its own
	s+="awk '\$5 ~ /^\\/proc\\/(bus|fs|irq|sys|sysrq-trigger)\$/ {split(\$6, o, \",\"); print \$5, o[1]}' /proc/self/mountinfo"
	make_bundle sh -c "$s"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(grep -c '^EROFS$' <<<"$output")" -eq "$want" ] || fail "not all EROFS: $output"
	for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
		[ -e "$p" ] || continue
		grep -qx "$p ro" <<<"$output" || fail "$p is not a read-only mount: $output"
	done
	assert_output_not_contains " rw"
}

@test "/sys is read-only and /sys/firmware is an empty read-only directory" {
	[ -d /sys/firmware ] || skip "no /sys/firmware"
	make_bundle sh -c "ls -A /sys/firmware; $TH write /sys/firmware/x x 2>/dev/null; $TH write /sys/kernel/x x 2>/dev/null; true"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	[ "$output" = "$(printf 'EROFS\nEROFS')" ] || fail "$output"
}

@test "masked paths cannot be unmounted by the container process" {
	make_bundle sh -c "umount /proc/keys; umount -l /proc/timer_list; umount /proc/sys; umount -l /sys/firmware; $(check_script)"
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ "$(grep -c 'Operation not permitted' <<<"$output")" -eq 4 ] || fail "$output"
	output=$(grep -v 'Operation not permitted' <<<"$output")
	check_masked
}

@test "masked paths cannot be unmounted from an exec'd process" {
	make_bundle
	run_detached
	run ctr exec "$(cid)" sh -c "umount /proc/keys; umount -l /proc/timer_list; $(check_script)"
	assert_success
	[ "$(grep -c 'Operation not permitted' <<<"$output")" -eq 2 ] || fail "$output"
	output=$(grep -v 'Operation not permitted' <<<"$output")
	check_masked
	ctr delete --force "$(cid)"
}

@test "with CAP_SYS_ADMIN, unmounting a mask changes only the container's mounts" {
	# with CAP_SYS_ADMIN the container may unmount its masks; that changes only its own
	# mount namespace, never the host's /proc
	make_bundle sh -c "umount /proc/keys && cat /proc/keys >/dev/null; echo done"
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
	assert_output_contains "done"
	grep -q ' /proc/keys ' /proc/self/mountinfo && fail "a mask is on the host's /proc/keys"
	true
}
