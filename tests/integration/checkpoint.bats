#!/usr/bin/env bats
# checkpoint.bats: `checkpoint` and `restore` through criu(8): the flags and errors anywhere,
# the real checkpoint -> restore where `criu check` passes (the cgroup v2 guest; make check-v2).

load helpers

# A busybox loop that counts in /tmp/count of its rootfs.
counter_bundle() {
	make_bundle sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	COUNT=$BUNDLE/rootfs/tmp/count
}

@test "checkpoint and restore: every flag of runc 1.1 is in --help" {
	requires_ctr
	local f
	for f in --image-path --work-path --parent-path --leave-running --tcp-established \
		--ext-unix-sk --shell-job --lazy-pages --status-fd --page-server --file-locks \
		--pre-dump --manage-cgroups-mode --empty-ns --auto-dedup; do
		ctr checkpoint --help | grep -qE -- "(^| )$f( |,|$)" || fail "checkpoint --help lacks $f"
	done
	for f in --console-socket --image-path --work-path --tcp-established --ext-unix-sk \
		--shell-job --file-locks --manage-cgroups-mode --bundle --detach --pid-file \
		--no-subreaper --no-pivot --empty-ns --auto-dedup --lazy-pages --lsm-profile \
		--lsm-mount-context; do
		ctr restore --help | grep -qE -- "(^| )$f( |,|$)" || fail "restore --help lacks $f"
	done
}

@test "checkpoint of a missing container, restore of a missing image: errors naming them" {
	requires_ctr
	make_bundle
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" nosuch
	assert_failure
	assert_output_contains "container \`nosuch\` does not exist"
	[ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "image dir left behind"
	run ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/none" "$(cid)"
	assert_failure
	assert_output_contains "--image-path \`$BATS_TEST_TMPDIR/none\`: No such file or directory"
	mkdir "$BATS_TEST_TMPDIR/empty"
	run ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/empty" "$(cid)"
	assert_failure
	assert_output_contains "not a container checkpoint"
	run ctr state "$(cid)"
	assert_failure
}

@test "restore refuses --no-pivot, and bad flag values are named" {
	requires_ctr
	make_bundle
	run ctr restore --no-pivot --bundle "$BUNDLE" "$(cid)"
	assert_usage_error
	assert_output_contains "--no-pivot: not supported"
	run_detached
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" --manage-cgroups-mode bogus "$(cid)"
	assert_failure
	assert_output_contains '--manage-cgroups-mode: unknown mode "bogus"'
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" --empty-ns pid "$(cid)"
	assert_failure
	assert_output_contains '--empty-ns: "pid"'
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" --page-server nowhere "$(cid)"
	assert_failure
	assert_output_contains '--page-server: "nowhere": want ADDRESS:PORT'
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" --status-fd 1 "$(cid)"
	assert_failure
	assert_output_contains "--status-fd: only used with --lazy-pages"
	[ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "image dir left behind"
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete -f "$(cid)"
}

@test "checkpoint where criu cannot dump: criu's own error, the container keeps running" {
	requires_ctr
	command -v criu >/dev/null || skip "criu not installed (Debian package criu)"
	criu check >/dev/null 2>&1 && skip "criu check passes here: the dump would succeed"
	counter_bundle
	run_detached
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_failure
	assert_output_contains "checkpoint \`$(cid)\`: criu dump failed: Error ("
	[ ! -e "$BATS_TEST_TMPDIR/img" ] || fail "image dir left behind: $(ls "$BATS_TEST_TMPDIR/img")"
	[ "$(state_field "$(cid)" status)" = running ]
	# with a work path the log stays there, and the message names it
	run ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" --work-path "$BATS_TEST_TMPDIR/work" "$(cid)"
	assert_failure
	assert_output_contains "(log: $BATS_TEST_TMPDIR/work/dump.log)"
	[ -s "$BATS_TEST_TMPDIR/work/dump.log" ]
	ctr delete -f "$(cid)"
}

# criu dumps and restores in the cgroup v2 guest (its check fails on the host): these run there
# bats test_tags=v2
@test "checkpoint stops a counting container, restore -d continues the count" {
	requires_ctr
	requires_criu
	counter_bundle
	run_detached
	count_grows 3
	run_logged ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	# as runc: the checkpointed container is gone, its id free for restore
	run ctr state "$(cid)"
	assert_failure
	local at
	at=$(count)
	sleep 0.5
	[ "$(count)" = "$at" ] || fail "the counter went on after the checkpoint"
	run_logged ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" \
		--pid-file "$BATS_TEST_TMPDIR/pid" "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	[ "$(state_field "$(cid)" pid)" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
	count_grows $((at + 2))
	# the restored container is an ordinary one: exec, kill, delete
	run ctr exec "$(cid)" cat /tmp/count
	assert_success
	ctr kill "$(cid)" KILL
	wait_for_state "$(cid)" stopped
	ctr delete "$(cid)"
}

# bats test_tags=v2
@test "checkpoint --leave-running keeps the container; restore after its delete" {
	requires_ctr
	requires_criu
	counter_bundle
	run_detached
	count_grows 3
	run_logged ctr checkpoint --leave-running --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	local at
	at=$(count)
	count_grows $((at + 2))
	ctr delete -f "$(cid)"
	run_logged ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	at=$(count)
	count_grows $((at + 2))
	ctr delete -f "$(cid)"
}

# bats test_tags=v2
@test "restore under another id leaves no cgroup of the old one" {
	requires_ctr
	requires_criu
	skip "known gap: criu (soft mode) remakes the checkpointed container's cgroup, which stays"
	counter_bundle
	run_detached
	count_grows 3
	run_logged ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	run_logged ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$(cid again)"
	assert_success
	ctr delete -f "$(cid again)"
}

# bats test_tags=v2
@test "checkpoint --pre-dump, then a dump with --parent-path, restores" {
	requires_ctr
	requires_criu
	counter_bundle
	run_detached
	count_grows 3
	run_logged ctr checkpoint --pre-dump --image-path "$BATS_TEST_TMPDIR/parent" "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	run_logged ctr checkpoint --parent-path ../parent --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	[ -L "$BATS_TEST_TMPDIR/img/parent" ] || fail "the dump did not use the pre-dump"
	local at
	at=$(count)
	run_logged ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	count_grows $((at + 2))
	ctr delete -f "$(cid)"
}

# bats test_tags=v2
@test "restore in the foreground waits for the container and returns its status" {
	requires_ctr
	requires_criu
	make_bundle sh -c 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); sleep 0.1; done; exit 7'
	run_detached
	sleep 0.5
	run_logged ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	run_logged ctr restore --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_status 7
	run ctr state "$(cid)"
	assert_failure
}

# bats test_tags=v2
@test "a terminal container: checkpoint, restore with a new pty on --console-socket" {
	requires_ctr
	requires_criu
	command -v python3 >/dev/null || skip "python3 needed for the console socket"
	counter_bundle
	update_config '.process.terminal = true'
	local sock=$BATS_TEST_TMPDIR/console.sock
	# a receiver that keeps every pty master it gets (and drains it)
	bg python3 -c '
import socket, sys, os, array, threading
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
def drain(fd):
    try:
        while os.read(fd, 4096): pass
    except OSError: pass
while True:
    c, _ = s.accept()
    fds = array.array("i")
    msg, anc, _, _ = c.recvmsg(16, socket.CMSG_LEN(4))
    for lvl, typ, data in anc:
        fds.frombytes(data[:4])
    for fd in fds:
        threading.Thread(target=drain, args=(fd,), daemon=True).start()
' "$sock"
	wait_until test -S "$sock"
	run_detached --console-socket "$sock"
	count_grows 3
	run_logged ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	local at
	at=$(count)
	run_logged ctr restore -d --console-socket "$sock" --bundle "$BUNDLE" \
		--image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	count_grows $((at + 2))
	run ctr exec "$(cid)" sh -c 'test -t 0 && echo tty'
	ctr delete -f "$(cid)"
}

# bats test_tags=v2
@test "a failed restore leaves no state and no cgroup" {
	requires_ctr
	requires_criu
	counter_bundle
	run_detached
	count_grows 2
	run_logged ctr checkpoint --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_success
	# criu finds no pages where the image says there are some
	rm -f "$BATS_TEST_TMPDIR"/img/pages-*.img
	run_logged ctr restore -d --bundle "$BUNDLE" --image-path "$BATS_TEST_TMPDIR/img" "$(cid)"
	assert_failure
	assert_output_contains "restore \`$(cid)\`: criu restore failed"
	run ctr state "$(cid)"
	assert_failure
	[ -z "$(leaked_cgroups)" ] || fail "cgroup left: $(leaked_cgroups)"
}
