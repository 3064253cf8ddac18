#!/usr/bin/env bats
# podman_checkpoint.bats: `podman container checkpoint` and `restore` with ctr as podman's
# runtime: podman calls ctr's checkpoint and restore with runc's flags, and conmon waits on the
# restored process. Needs criu that can dump (the cgroup v2 guest: make check-v2).

# bats file_tags=v2
load helpers
load podman-helpers

setup_file() { podman_setup_file; }
teardown_file() { podman_teardown_file; }
setup() { podman_setup; }
teardown() { podman_teardown; }

# pm_status NAME: podman's state of the container.
pm_status() {
	pm inspect --format '{{.State.Status}}' "$1"
}

# counting NAME: a container counting in $COUNT, a host directory bound into it (podman tells
# the runtime, and the runtime criu, that the bind mount is external to the image).
counting() {
	local w=$BATS_TEST_TMPDIR/w
	mkdir -p "$w"
	COUNT=$w/count
	run pm run -d --name "$1" -v "$w:/w" "$IMAGE" \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i >/w/count; sleep 0.1; done'
	assert_success
	count_grows 3
}

# stopped_at: the count, once it no longer moves (the process is checkpointed or gone).
stopped_at() {
	local at
	at=$(count)
	sleep 0.5
	[ "$(count)" = "$at" ] || fail "the counter went on after the checkpoint ($at, then $(count))" || return 1
	echo "$at"
}

# went_on_from AT: the restored process counts on from AT; a new one would start again at 1.
went_on_from() {
	local tries=600 c
	while c=$(count) && { [ -z "$c" ] || [ "$c" = "$1" ]; }; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "the counter stays at $1 after the restore" || return 1
		sleep 0.1
	done
	[ "$c" -gt "$1" ] || fail "the count started again ($c after $1): a new process, not the restored one"
}

@test "podman: container checkpoint and restore through ctr: the process goes on where it stopped" {
	requires_criu
	counting ck
	local at
	run pm container checkpoint ck
	assert_success
	[ "$(pm_status ck)" = exited ] || fail "after checkpoint podman says $(pm_status ck)"
	# the runtime's container is gone with the checkpoint, as with runc
	run "$CTR_PATH" state "$(pm inspect --format '{{.Id}}' ck)"
	assert_failure
	at=$(stopped_at)
	run pm container restore ck
	assert_success
	[ "$(pm_status ck)" = running ] || fail "after restore podman says $(pm_status ck)"
	went_on_from "$at"
	run pm exec ck cat /w/count
	assert_success
	run pm stop -t 0 ck
	assert_success
}

@test "podman: checkpoint --export, then restore --import under a new name" {
	requires_criu
	counting ck
	local at
	run pm container checkpoint --export "$BATS_TEST_TMPDIR/ck.tar.gz" ck
	assert_success
	[ -s "$BATS_TEST_TMPDIR/ck.tar.gz" ]
	at=$(stopped_at)
	run pm rm ck
	assert_success
	run pm container restore --import "$BATS_TEST_TMPDIR/ck.tar.gz" --name ck2
	assert_success
	[ "$(pm_status ck2)" = running ] || fail "after restore --import podman says $(pm_status ck2)"
	went_on_from "$at"
	run pm stop -t 0 ck2
	assert_success
}

@test "podman: checkpoint --leave-running keeps the container running" {
	requires_criu
	counting ck
	local at
	run pm container checkpoint --leave-running ck
	assert_success
	[ "$(pm_status ck)" = running ] || fail "after checkpoint --leave-running podman says $(pm_status ck)"
	at=$(count)
	count_grows $((at + 2))
	run pm stop -t 0 ck
	assert_success
}
