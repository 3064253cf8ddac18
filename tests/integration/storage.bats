#!/usr/bin/env bats
# storage.bats: copies of stopped system containers: ctr clone, ctr snapshot
# create|ls|restore|rm, destroy with snapshots and clones; errors; a clone killed mid-copy.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=stor-${BATS_SUITE_TEST_NUMBER}-$$
	CLONE=$NAME-copy
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/*; do
		[ -e "$n" ] && ctr destroy -f "${n##*/}" >/dev/null 2>&1 || true
	done
	ctr network rm ctrtstor >/dev/null 2>&1 || true
	delete_all_containers
	check_no_leaks && check_no_copies && return 0
	remove_leftovers
	return 1
}

# Nothing of the test's containers in the store, and no cp of theirs still running.
check_no_copies() {
	local procs
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null)" ] || fail "leaked store entries: $(ls -A "$CTR_STORE")"
	procs=$(pgrep -af "^cp .*$CTR_STORE" || true)
	[ -z "$procs" ] || fail "cp left running: $procs"
}

@test "clone: the copy boots with its own name, the source still boots, info names the source" {
	ctr create -t busybox "$NAME" --net none
	run ctr clone "$NAME" "$CLONE"
	assert_success
	run ctr start "$CLONE"
	assert_success
	run ctr attach "$CLONE" -- hostname
	assert_success
	[ "$output" = "$CLONE" ]
	run ctr attach "$CLONE" -- cat /etc/hostname
	[ "$output" = "$CLONE" ]
	run ctr info "$CLONE"
	assert_success
	[[ $output == *"Clone of:   $NAME"* ]] || fail "$output"
	run ctr info --format json "$CLONE"
	[ "$(jq -r .cloned_from <<<"$output")" = "$NAME" ]
	run ctr config "$CLONE" get cloned_from
	[ "$output" = "$NAME" ]
	# the source is untouched and boots as itself, beside its clone
	run ctr start "$NAME"
	assert_success
	run ctr attach "$NAME" -- hostname
	[ "$output" = "$NAME" ]
	ctr stop "$NAME"
	ctr stop "$CLONE"
	# the clone is a full copy: it outlives its source
	run ctr destroy "$NAME"
	assert_success
	run ctr start "$CLONE"
	assert_success
	run ctr attach "$CLONE" -- hostname
	[ "$output" = "$CLONE" ]
	ctr stop "$CLONE"
}

@test "clone: a static address and published ports are not shared" {
	ctr create -t busybox "$NAME" --net none
	ctr network create ctrtstor --subnet 10.211.0.0/24
	ctr config "$NAME" set net ctrtstor
	ctr config "$NAME" set ip 10.211.0.7
	ctr config "$NAME" set publish 18080:80
	run ctr clone "$NAME" "$CLONE"
	assert_success
	[[ $output == *"not copied"* ]] || fail "$output"
	[ "$(ctr config "$CLONE" get ip)" = "" ]
	[ "$(ctr config "$CLONE" get publish)" = "" ]
	[ "$(ctr config "$CLONE" get net)" = ctrtstor ]
	[ "$(ctr config "$NAME" get ip)" = 10.211.0.7 ]
}

@test "clone: errors name the container (running, unknown, taken name) and leave nothing" {
	ctr create -t busybox "$NAME" --net none
	ctr create -t busybox "$CLONE" --net none
	run ctr clone "$NAME" "$CLONE"
	assert_failure
	[ "$output" = "ctr: clone \`$NAME\`: container \`$CLONE\` already exists" ] || fail "$output"
	run ctr clone nosuch-$$ "$NAME-x"
	assert_failure
	[ "$output" = "ctr: container \`nosuch-$$\` does not exist" ] || fail "$output"
	run ctr clone "$NAME" "$NAME"
	assert_failure
	[[ $output == *"\`$NAME\`"* ]] || fail "$output"
	run ctr clone "$NAME" "bad/name"
	assert_failure
	ctr start "$NAME"
	run ctr clone "$NAME" "$NAME-x"
	assert_failure
	[ "$output" = "ctr: clone: container \`$NAME\` is running: stop it first" ] || fail "$output"
	run ctr clone "$NAME"
	[ "$status" -eq 2 ]
	ctr stop "$NAME"
	[ "$(ls -A "$CTR_STORE" | sort | tr '\n' ' ')" = "$NAME $CLONE " ] || fail "$(ls -A "$CTR_STORE")"
}

@test "snapshot: create, change a file while running, restore brings it back" {
	ctr create -t busybox "$NAME" --net none
	ctr start "$NAME"
	ctr attach "$NAME" -- sh -c 'echo before >/etc/marker'
	ctr stop "$NAME"
	run ctr snapshot create "$NAME" first --comment "a known good state"
	assert_success
	[ "$output" = first ]
	ctr start "$NAME"
	ctr attach "$NAME" -- sh -c 'echo after >/etc/marker; echo new >/etc/extra'
	# refused while it runs
	run ctr snapshot restore "$NAME" first
	assert_failure
	[ "$output" = "ctr: snapshot restore: container \`$NAME\` is running: stop it first" ] ||
		fail "$output"
	run ctr snapshot create "$NAME"
	assert_failure
	[ "$output" = "ctr: snapshot create: container \`$NAME\` is running: stop it first" ] ||
		fail "$output"
	ctr stop "$NAME"
	run ctr snapshot restore "$NAME" first
	assert_success
	ctr start "$NAME"
	run ctr attach "$NAME" -- cat /etc/marker
	assert_success
	[ "$output" = before ]
	run ctr attach "$NAME" -- test -e /etc/extra
	assert_failure
	ctr stop "$NAME"
	# no staging copy or old rootfs stays behind
	[ ! -e "$CTR_STORE/$NAME/.rootfs.new" ] || fail "$(ls -A "$CTR_STORE/$NAME")"
}

@test "snapshot ls: text and json (name, created, comment, size); rm; default names" {
	ctr create -t busybox "$NAME" --net none
	run ctr snapshot ls "$NAME"
	assert_success
	[ "${#lines[@]}" -eq 1 ] || fail "$output"
	run ctr snapshot ls --format json "$NAME"
	[ "$output" = "[]" ]
	ctr snapshot create "$NAME" base --comment "fresh from the template"
	run ctr snapshot create "$NAME"
	assert_success
	[ "$output" = snap0 ]
	run ctr snapshot ls --format json "$NAME"
	assert_success
	[ "$(jq -r 'map(.name) | join(",")' <<<"$output")" = base,snap0 ]
	[ "$(jq -r '.[0].comment' <<<"$output")" = "fresh from the template" ]
	[ "$(jq -r '.[0].size > 0' <<<"$output")" = true ]
	[[ "$(jq -r '.[0].created' <<<"$output")" == 20*T*Z ]] || fail "$output"
	run ctr snapshot ls "$NAME"
	[[ ${lines[0]} == NAME*CREATED*SIZE*COMMENT ]] || fail "$output"
	[[ ${lines[1]} == base*"fresh from the template" ]] || fail "$output"
	run ctr snapshot rm "$NAME" snap0
	assert_success
	run ctr snapshot ls --format json "$NAME"
	[ "$(jq -r 'map(.name) | join(",")' <<<"$output")" = base ]
}

@test "snapshot: errors name the container and the snapshot" {
	ctr create -t busybox "$NAME" --net none
	ctr snapshot create "$NAME" one
	run ctr snapshot create "$NAME" one
	assert_failure
	[ "$output" = "ctr: container \`$NAME\` already has a snapshot \`one\`" ] || fail "$output"
	run ctr snapshot restore "$NAME" nope
	assert_failure
	[ "$output" = "ctr: container \`$NAME\` has no snapshot \`nope\`" ] || fail "$output"
	run ctr snapshot rm "$NAME" nope
	assert_failure
	[ "$output" = "ctr: container \`$NAME\` has no snapshot \`nope\`" ] || fail "$output"
	run ctr snapshot create "$NAME" ../x
	assert_failure
	[ "$output" = "ctr: container \`$NAME\`: invalid snapshot name \`../x\`" ] || fail "$output"
	run ctr snapshot ls nosuch-$$
	assert_failure
	[ "$output" = "ctr: container \`nosuch-$$\` does not exist" ] || fail "$output"
	run ctr snapshot frobnicate "$NAME"
	[ "$status" -eq 2 ]
	[[ $output == *"unknown command \"frobnicate\""* ]] || fail "$output"
}

@test "destroy takes the snapshots with the container; clones keep theirs apart" {
	ctr create -t busybox "$NAME" --net none
	ctr snapshot create "$NAME" one
	ctr clone "$NAME" "$CLONE"
	# a clone starts with no snapshots of its own
	run ctr snapshot ls --format json "$CLONE"
	[ "$output" = "[]" ]
	run ctr destroy "$NAME"
	assert_success
	[ ! -e "$CTR_STORE/$NAME" ]
	run ctr snapshot ls "$NAME"
	assert_failure
	run ctr info --format json "$CLONE"
	assert_success
	[ "$(jq -r .cloned_from <<<"$output")" = "$NAME" ]
}

@test "clone killed during the copy: destroy -f DST leaves only the source" {
	command -v strace >/dev/null || skip "strace not installed (apt-get install strace)"
	local spid ctr_pid
	ctr create -t busybox "$NAME" --net none
	# every chown of cp waits a while, so the copy is surely under way when ctr is killed
	CTR_TEST_MARKER=$MARKER strace -f -qq -o /dev/null -e trace=fchownat,lchown,fchown \
		-e inject=fchownat,lchown,fchown:delay_enter=100000 \
		"$CTR" --root "$STATE_ROOT" clone "$NAME" "$CLONE" 3>&- &
	spid=$!
	BG_PIDS+=("$spid")
	wait_until pgrep -f "^cp -a --reflink=auto -- $CTR_STORE/$NAME/rootfs"
	ctr_pid=$(pgrep -P "$spid" -x ctr)
	[ -n "$ctr_pid" ]
	[ -d "$CTR_STORE/.$CLONE.new/rootfs" ]
	kill -KILL "$ctr_pid"
	# cp dies with it (by itself it would go on chown by chown for much longer)
	wait_until_none pgrep -f "^cp .*$CTR_STORE"
	# destroy -f takes what is left; it never was a container
	[ -d "$CTR_STORE/.$CLONE.new" ]
	run ctr destroy -f "$CLONE"
	assert_success
	run ctr ls --format json
	[ "$(jq -r --arg n "$CLONE" 'map(select(.name == $n)) | length' <<<"$output")" = 0 ]
	[ "$(ls -A "$CTR_STORE")" = "$NAME" ] || fail "left: $(ls -A "$CTR_STORE")"
	# the source is whole
	run ctr start "$NAME"
	assert_success
	ctr stop "$NAME"
}
