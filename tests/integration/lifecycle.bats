#!/usr/bin/env bats
# lifecycle.bats: create/start/kill/delete, run, list, pid files and signals.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

# bats test_tags=v2
@test "create, start, kill and delete walk through the states" {
	make_bundle
	create_container
	run ctr state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = created ]
	[ "$(jq -r .id <<<"$output")" = "$(cid)" ]
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
	[ -n "$(jq -r .ociVersion <<<"$output")" ]
	pid=$(jq -r .pid <<<"$output")
	[ "$pid" -gt 1 ]
	kill -0 "$pid"

	run ctr start "$(cid)"
	assert_success
	wait_for_state "$(cid)" running
	[ "$(state_field "$(cid)" pid)" = "$pid" ]

	run ctr kill "$(cid)" KILL
	assert_success
	wait_for_state "$(cid)" stopped
	wait_until process_gone "$pid"

	run ctr delete "$(cid)"
	assert_success
	run ctr state "$(cid)"
	assert_failure
}

@test "the process does not run before start" {
	make_bundle "$TH" write /started yes
	create_container
	sleep 0.2
	[ ! -e "$BUNDLE/rootfs/started" ]
	run ctr start "$(cid)"
	assert_success
	wait_for_file "$BUNDLE/rootfs/started"
	wait_for_state "$(cid)" stopped
	run ctr start "$(cid)"
	assert_failure
	ctr delete "$(cid)"
}

@test "start of a running container is refused" {
	make_bundle
	run_detached
	run ctr start "$(cid)"
	assert_failure
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete --force "$(cid)"
}

@test "run in the foreground passes output and the exit code through" {
	make_bundle sh -c 'echo hello from the container; exit 3'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 3
	assert_output_contains "hello from the container"
	run ctr state "$(cid)"
	assert_failure
}

@test "run: exit code 0" {
	make_bundle "$TH" exit 0
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_success
}

@test "run: a container killed by SIGKILL exits 137" {
	make_bundle
	(
		rc=0
		ctr run --bundle "$BUNDLE" "$(cid)" </dev/null >/dev/null 2>&1 || rc=$?
		echo "$rc" >"$BATS_TEST_TMPDIR/rc"
	) &
	BG_PIDS+=($!)
	wait_for_state "$(cid)" running
	run ctr kill "$(cid)" KILL
	assert_success
	wait_for_file "$BATS_TEST_TMPDIR/rc"
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" = 137 ]
	run ctr state "$(cid)"
	assert_failure
}

@test "run: a process killed by a signal it sent itself exits 128+signal" {
	# without a pid namespace the process is not an init that ignores its own signals
	make_bundle "$TH" signal-exit TERM
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	run ctr run --bundle "$BUNDLE" "$(cid)"
	assert_status 143
}

@test "run -d returns while the container runs" {
	make_bundle
	run_detached
	[ "$(state_field "$(cid)" status)" = running ]
	pid=$(state_field "$(cid)" pid)
	kill -0 "$pid"
	run ctr kill "$(cid)" KILL
	wait_for_state "$(cid)" stopped
	run ctr delete "$(cid)"
	assert_success
}

@test "a container that exits on its own is stopped" {
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr delete "$(cid)"
	assert_success
}

@test "a duplicate id is refused and the first container is untouched" {
	make_bundle
	create_container
	pid=$(state_field "$(cid)" pid)
	run_logged ctr create --bundle "$BUNDLE" "$(cid)"
	assert_failure
	assert_ctr_output_contains "$(cid)"
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid)"
	assert_failure
	[ "$(state_field "$(cid)" status)" = created ]
	[ "$(state_field "$(cid)" pid)" = "$pid" ]
	kill -0 "$pid"
	ctr delete --force "$(cid)"
}

@test "delete of a running container is refused without --force" {
	make_bundle
	run_detached
	pid=$(state_field "$(cid)" pid)
	run ctr delete "$(cid)"
	assert_failure
	[ "$(state_field "$(cid)" status)" = running ]
	kill -0 "$pid"
	run ctr delete --force "$(cid)"
	assert_success
	wait_until process_gone "$pid"
	run ctr state "$(cid)"
	assert_failure
}

@test "delete of a created container deletes it without --force, as runc does" {
	make_bundle
	create_container
	pid=$(state_field "$(cid)" pid)
	run ctr delete "$(cid)"
	assert_success
	wait_until process_gone "$pid"
	run ctr state "$(cid)"
	assert_failure
}

# bats test_tags=v2
@test "delete --force of a stopped container and of a created one" {
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr delete --force "$(cid)"
	assert_success
	make_bundle
	create_container
	pid=$(state_field "$(cid)" pid)
	run ctr delete --force "$(cid)"
	assert_success
	wait_until process_gone "$pid"
}

@test "list shows containers as a table, as JSON and as ids" {
	make_bundle
	run_logged ctr create --bundle "$BUNDLE" "$(cid a)"
	assert_success
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid b)"
	assert_success

	run ctr list
	assert_success
	[[ ${lines[0]} == ID*PID*STATUS*BUNDLE* ]] || fail "no table header: $output"
	[[ $output == *"$(cid a)"*created* ]] || fail "$output"
	[[ $output == *"$(cid b)"*running* ]] || fail "$output"

	run ctr list --format json
	assert_success
	[ "$(jq length <<<"$output")" = 2 ]
	[ "$(jq -r --arg id "$(cid a)" '.[] | select(.id == $id) | .status' <<<"$output")" = created ]
	[ "$(jq -r --arg id "$(cid b)" '.[] | select(.id == $id) | .status' <<<"$output")" = running ]
	[ "$(jq -r --arg id "$(cid b)" '.[] | select(.id == $id) | .bundle' <<<"$output")" = "$BUNDLE" ]

	run ctr list -q
	assert_success
	[ "$(sort <<<"$output")" = "$(printf '%s\n' "$(cid a)" "$(cid b)" | sort)" ]

	ctr delete --force "$(cid a)"
	ctr delete --force "$(cid b)"
	run ctr list -q
	assert_success
	[ -z "$output" ]
}

@test "list of hundreds of containers, read by several threads, shows each once, in order, as it is" {
	make_bundle
	run_logged ctr create --bundle "$BUNDLE" "$(cid a)"
	assert_success
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid b)"
	assert_success
	# 300 more state directories: copies of those two under other names (their processes
	# are the two real ones), and one whose state.json does not parse
	local i src id
	for i in $(seq 100 399); do
		src=$(cid a) && [ $((i % 2)) = 1 ] && src=$(cid b)
		id=$(cid "m$i")
		cp -a "$STATE_ROOT/$src" "$STATE_ROOT/$id"
		jq -c --arg id "$id" '.id = $id' "$STATE_ROOT/$src/state.json" >"$STATE_ROOT/$id/state.json"
	done
	printf '{"id": "half' >"$STATE_ROOT/$(cid m250)/state.json"

	run --separate-stderr ctr list --format json
	assert_success
	[ "$(jq length <<<"$output")" = 302 ] || fail "$(jq length <<<"$output") rows"
	[ "$(jq -r '.[].id' <<<"$output")" = "$(jq -r '.[].id' <<<"$output" | LC_ALL=C sort)" ] ||
		fail "not in order"
	[ "$(jq -r '.[].id' <<<"$output" | sort -u | wc -l)" = 302 ] || fail "a row twice"
	[ "$(jq '[.[] | select(.status == "created")] | length' <<<"$output")" = 150 ] || fail "$output"
	[ "$(jq '[.[] | select(.status == "running")] | length' <<<"$output")" = 151 ] || fail "$output"
	[ "$(jq -r --arg id "$(cid m250)" '.[] | select(.id == $id) | .status' <<<"$output")" = unknown ]
	[ "$(jq -r --arg id "$(cid m301)" '.[] | select(.id == $id) | .pid' <<<"$output")" = \
		"$(state_field "$(cid b)" pid)" ]
	# the one warning, said once, after the threads
	[ "$(grep -c state.json <<<"$stderr")" = 1 ] || fail "$stderr"
	[[ $stderr == *"$(cid m250)"* ]] || fail "$stderr"

	for i in $(seq 100 399); do rm -rf "${STATE_ROOT:?}/$(cid "m$i")"; done
	ctr delete --force "$(cid a)"
	ctr delete --force "$(cid b)"
}

@test "list and state skip a state directory that is not the caller's" {
	make_bundle
	run_logged ctr run -d --bundle "$BUNDLE" "$(cid a)"
	assert_success
	# copies of a running container's state: one writable by others, one another user's
	cp -a "$STATE_ROOT/$(cid a)" "$STATE_ROOT/$(cid open)"
	jq -c --arg id "$(cid open)" '.id = $id' "$STATE_ROOT/$(cid a)/state.json" >"$STATE_ROOT/$(cid open)/state.json"
	chmod 0777 "$STATE_ROOT/$(cid open)"
	cp -a "$STATE_ROOT/$(cid a)" "$STATE_ROOT/$(cid theirs)"
	jq -c --arg id "$(cid theirs)" '.id = $id' "$STATE_ROOT/$(cid a)/state.json" >"$STATE_ROOT/$(cid theirs)/state.json"
	chown 65534 "$STATE_ROOT/$(cid theirs)"
	run ctr list -q
	assert_success
	[ "$output" = "$(cid a)" ] || fail "listed: $output"
	run ctr state "$(cid open)"
	assert_failure
	assert_output_contains "state directory \`$STATE_ROOT/$(cid open)\` is writable by others"
	run ctr state "$(cid theirs)"
	assert_failure
	assert_output_contains "state directory \`$STATE_ROOT/$(cid theirs)\` belongs to uid 65534"
	rm -rf "${STATE_ROOT:?}/$(cid open)" "${STATE_ROOT:?}/$(cid theirs)"
	ctr delete --force "$(cid a)"
}

@test "list of an empty root prints only the header" {
	run ctr list
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	run ctr list --format json
	assert_success
	[ "$(jq length <<<"$output")" = 0 ]
}

@test "create --pid-file writes the container's pid" {
	make_bundle
	create_container --pid-file "$BATS_TEST_TMPDIR/pid"
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(state_field "$(cid)" pid)" ]
	ctr delete --force "$(cid)"
}

@test "run -d --pid-file writes the container's pid" {
	make_bundle
	run_detached --pid-file "$BATS_TEST_TMPDIR/pid"
	pid=$(cat "$BATS_TEST_TMPDIR/pid")
	[ "$pid" = "$(state_field "$(cid)" pid)" ]
	[ "$(cat "/proc/$pid/comm")" = ctr-testhelper ]
	ctr delete --force "$(cid)"
}

@test "kill accepts signal names, SIG-prefixed names and numbers" {
	make_bundle "$TH" catch /signals
	run_detached
	wait_for_file "$LOG"
	sigs=$BUNDLE/rootfs/signals
	run ctr kill "$(cid)" USR1
	assert_success
	wait_until grep -qx USR1 "$sigs"
	run ctr kill "$(cid)" SIGUSR2
	assert_success
	wait_until grep -qx USR2 "$sigs"
	run ctr kill "$(cid)" 1
	assert_success
	wait_until grep -qx HUP "$sigs"
	run ctr kill "$(cid)"
	assert_success
	wait_until grep -qx TERM "$sigs"
	wait_for_state "$(cid)" stopped
	[ "$(cat "$sigs")" = "$(printf 'USR1\nUSR2\nHUP\nTERM')" ]
	ctr delete "$(cid)"
}

# bats test_tags=v2
@test "kill --all reaches every process of the container" {
	make_bundle sh -c "$TH sleep 3600 & $TH sleep 3600 & exec $TH sleep 3600"
	run_detached
	wait_until eval 'test "$(ctr ps --format json "$(cid)" | jq length)" -ge 3'
	pids=$(ctr ps --format json "$(cid)" | jq -r '.[]')
	run ctr kill --all "$(cid)" KILL
	assert_success
	wait_for_state "$(cid)" stopped
	for pid in $pids; do
		wait_until process_gone "$pid"
	done
	ctr delete "$(cid)"
}

@test "kill of a stopped container fails" {
	make_bundle "$TH" exit 0
	run_detached
	wait_for_state "$(cid)" stopped
	run ctr kill "$(cid)" KILL
	assert_failure
	ctr delete "$(cid)"
}

# bats test_tags=v2
@test "ps lists the container's processes" {
	make_bundle sh -c "$TH sleep 3600 & exec $TH sleep 3600"
	run_detached
	pid=$(state_field "$(cid)" pid)
	wait_until eval 'test "$(ctr ps --format json "$(cid)" | jq length)" -eq 2'
	run ctr ps --format json "$(cid)"
	assert_success
	jq -e --argjson p "$pid" 'index($p) != null' <<<"$output"
	ctr delete --force "$(cid)"
}

@test "the state directory is private and removed on delete" {
	requires_ctr # ctr's layout: <root>/<id>/ (0700) with state.json
	make_bundle
	create_container
	dir=$STATE_ROOT/$(cid)
	[ "$(stat -c %a "$dir")" = 700 ]
	[ "$(stat -c %a "$STATE_ROOT")" = 700 ]
	jq -e --arg id "$(cid)" '.id == $id' "$dir/state.json" >/dev/null
	run ctr delete --force "$(cid)"
	assert_success
	[ -z "$(ls -A "$STATE_ROOT")" ] || fail "left in the state root: $(ls -A "$STATE_ROOT")"
}
