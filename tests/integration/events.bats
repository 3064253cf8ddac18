#!/usr/bin/env bats
# events.bats: `events`: stats and OOM events in runc's format, intervals, errors.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
# bats file_tags=v2
load helpers

# lines_at_least FILE N
lines_at_least() {
	[ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

@test "events --stats prints one stats event in runc's layout" {
	make_bundle
	update_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 40}'
	run_detached
	run ctr events --stats "$(cid)"
	assert_success
	[ "${#lines[@]}" -eq 1 ] || fail "$output"
	jq -e --arg id "$(cid)" '.type == "stats" and .id == $id' <<<"$output" >/dev/null || fail "$output"
	[ "$(jq -c '.data | keys' <<<"$output")" = '["blkio","cpu","cpuset","hugetlb","intel_rdt","memory","network_interfaces","pids"]' ] ||
		fail "$output"
	jq -e '.data.cpu.usage.total > 0 and (.data.cpu.usage | has("kernel") and has("user"))
		and (.data.cpu.throttling | type == "object")
		and .data.memory.usage.usage > 0 and .data.memory.usage.limit == 67108864
		and (.data.memory.usage | has("failcnt")) and (.data.memory.raw | type == "object")
		and (.data.memory | has("swap") and has("kernel") and has("kernelTCP"))
		and .data.pids.current >= 1 and .data.pids.limit == 40
		and (.data.hugetlb | type == "object") and (.data.blkio | type == "object")' <<<"$output" >/dev/null ||
		fail "$output"
	ctr delete --force "$(cid)"
}

@test "events prints stats every --interval and ends with the container" {
	make_bundle
	run_detached
	ev=$BATS_TEST_TMPDIR/events
	ctr events --interval 200ms "$(cid)" >"$ev" &
	events_pid=$!
	BG_PIDS+=("$events_pid")
	wait_until lines_at_least "$ev" 2
	ctr kill "$(cid)" KILL
	rc=0
	wait "$events_pid" || rc=$?
	[ "$rc" = 0 ] || fail "events exited with $rc"
	run jq -r .type "$ev"
	[ "$(sort -u <<<"$output")" = stats ] || fail "$(cat "$ev")"
	ctr delete --force "$(cid)"
}

@test "events: an OOM kill is reported at once" {
	make_bundle sh -c "while [ ! -e /tmp/go ]; do sleep 0.05; done; $TH alloc 256; sleep 3600"
	update_config '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	run_detached
	ev=$BATS_TEST_TMPDIR/events
	bg ctr events --interval 1h "$(cid)" >"$ev"
	sleep 0.3
	touch "$BUNDLE/rootfs/tmp/go"
	wait_until grep -q oom "$ev"
	[ "$(cat "$ev")" = "{\"type\":\"oom\",\"id\":\"$(cid)\"}" ] || fail "$(cat "$ev")"
	ctr delete --force "$(cid)"
}

@test "events: unknown id, stopped container, bad interval" {
	run ctr events --stats "$(cid)-nosuch"
	assert_failure
	assert_ctr_output_contains "does not exist"
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr events --stats "$(cid)"
	assert_failure
	assert_ctr_output_contains "not running"
	local t
	for t in 0 -1s abc 5 1x ""; do
		run ctr events --interval "$t" "$(cid)"
		assert_usage_error
		assert_ctr_output_contains "--interval"
		[ "${#lines[@]}" -le 2 ] || fail "$output"
	done
	run ctr events
	assert_usage_error
	ctr delete "$(cid)"
}
