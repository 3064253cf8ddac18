#!/usr/bin/env bats
# compat_cli.bats: runc compatibility, the command line: verbs, flags, options after the id, exit codes, list/state output, the --debug log.
# Each check runs against ctr, then against runc where it is installed (compat-helpers.bash).

# shellcheck disable=SC2016
load compat-helpers

delete_created() {
	create_container
	local pid
	pid=$(state_field "$(cid)" pid)
	run ctr delete "$(cid)"
	assert_success
	wait_until process_gone "$pid"
	run ctr state "$(cid)"
	assert_failure
}

@test "delete of a created container deletes it without --force" {
	make_bundle
	also_runc delete_created
}

kill_zero() {
	run_detached
	run ctr kill "$(cid)" 0
	assert_success
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete -f "$(cid)"
	run ctr kill "$(cid)" 0
	assert_failure
}

@test "kill ID 0 checks that the container exists and signals nothing" {
	make_bundle
	also_runc kill_zero
}

exec_fails_255() {
	run_detached
	run ctr exec "$(cid)" /no/such/program
	assert_status 255
	run ctr exec --pid-file /no/such/dir/pid "$(cid)" true
	assert_status 255
	ctr pause "$(cid)"
	run ctr exec "$(cid)" true
	assert_status 255
	ctr resume "$(cid)"
	# the process's own 1 stays 1
	run ctr exec "$(cid)" sh -c 'exit 1'
	assert_status 1
	ctr delete -f "$(cid)"
}

@test "exec that fails before its process runs exits 255, apart from the process's own status" {
	make_bundle
	also_runc exec_fails_255
}

list_json_keys() {
	run_detached
	run ctr list --format json
	assert_success
	ctr delete -f "$(cid)"
	[ "$(jq -c '.[0] | keys_unsorted' <<<"$output")" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","owner"]' ] ||
		fail "keys: $output"
	[ "$(jq -r '.[0].rootfs' <<<"$output")" = "$BUNDLE/rootfs" ] || fail "rootfs: $output"
}

@test "list --format json has runc's keys in runc's order, ociVersion and rootfs among them" {
	make_bundle
	also_runc list_json_keys
}

options_after_id() {
	local pidf=$BATS_TEST_TMPDIR/pid.$CTR_NAME
	run_logged ctr create --bundle "$BUNDLE" "$(cid)" --pid-file "$pidf"
	assert_success
	[ "$(cat "$pidf")" = "$(state_field "$(cid)" pid)" ] || fail "pid file: $(cat "$pidf")"
	ctr start "$(cid)"
	run ctr update "$(cid)" --pids-limit 50
	assert_success
	run ctr kill "$(cid)" KILL --all
	assert_success
	run ctr delete "$(cid)" --force
	assert_success
}

@test "options after the container id are accepted (create, update, kill, delete)" {
	make_bundle
	also_runc options_after_id
}

run_keep() {
	run ctr run --keep --bundle "$BUNDLE" "$(cid keep)"
	assert_status 3
	[ "$(state_field "$(cid keep)" status)" = stopped ]
	run ctr delete "$(cid keep)"
	assert_success
	run ctr state "$(cid keep)"
	assert_failure
}

@test "run --keep leaves the stopped container for delete" {
	make_bundle sh -c 'exit 3'
	also_runc run_keep
}

exec_ignore_paused() {
	run_detached
	ctr pause "$(cid)"
	run ctr exec "$(cid)" true
	assert_failure
	(ctr exec --ignore-paused "$(cid)" sh -c 'echo ran >/tmp/ran') &
	local bgpid=$!
	sleep 0.5
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ] || fail "ran while paused"
	ctr resume "$(cid)"
	wait "$bgpid" || fail "exec --ignore-paused failed"
	[ "$(cat "$BUNDLE/rootfs/tmp/ran")" = ran ]
	rm -f "$BUNDLE/rootfs/tmp/ran"
	ctr delete -f "$(cid)"
}

@test "exec --ignore-paused runs in a paused container once it is resumed" {
	make_bundle
	update_config '.root.readonly = false'
	mkdir -p "$BUNDLE/rootfs/tmp"
	also_runc exec_ignore_paused
}

exec_sub_cgroup() {
	run_detached
	local d dirs
	dirs=$(find /sys/fs/cgroup -mindepth 1 -type d -name "$(cid)" 2>/dev/null)
	[ -n "$dirs" ] || fail "no cgroup of $(cid)"
	for d in $dirs; do
		mkdir "$d/sub"
		# a new v1 cpuset has no cpus or mems until it is given some
		if [ -e "$d/sub/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	run ctr exec --cgroup sub "$(cid)" cat /proc/self/cgroup
	for d in $dirs; do rmdir "$d/sub" 2>/dev/null || true; done
	ctr delete -f "$(cid)"
	assert_success
	grep -q '/sub$' <<<"$output" || fail "not in sub: $output"
}

@test "exec --cgroup runs the process in an existing sub-cgroup of the container's" {
	make_bundle
	update_config 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	also_runc exec_sub_cgroup
}

update_reservation() {
	run_detached
	run ctr update --memory-reservation 32m "$(cid)"
	assert_success
	ctr delete -f "$(cid)"
}

@test "update --memory-reservation, and Intel RDT refused with the reason" {
	make_bundle
	also_runc update_reservation
	requires_ctr
	run_detached
	run ctr update --l3-cache-schema "L3:0=f" "$(cid)"
	assert_failure
	assert_output_contains "Intel RDT"
	ctr delete -f "$(cid)"
}

@test "every flag of runc's --help is one of ctr's" {
	requires_ctr
	command -v runc >/dev/null || skip "runc not installed (Debian package runc)"
	local v missing=
	for v in create start run exec state list ps kill pause resume update events delete spec features \
		checkpoint restore; do
		for f in $(runc "$v" --help | grep -oE '^ +--[a-z0-9-]+' | tr -d ' '); do
			"$CTR" "$v" --help | grep -qE -- "(^| )$f( |,|$)" || missing+=" $v $f"
		done
	done
	# the global options (--root, --log, --log-format, --debug, --systemd-cgroup, --rootless, --criu)
	for f in $(runc --help | sed -n '/GLOBAL OPTIONS/,$p' | grep -oE '^ +--[a-z0-9-]+' | tr -d ' '); do
		"$CTR" --help | grep -qE -- "(^| )$f( |,|=|$)" || missing+=" (global) $f"
	done
	[ -z "$missing" ] || fail "missing:$missing"
}

# --log FILE, as runc writes it: engines read the runtime's log (containerd takes the last
# "error" record of the json log as the reason a create failed). A rootfs path with a quote
# in it: the text record still parses as logfmt (the msg quoted and escaped, as logrus does).
log_records() {
	local log=$BATS_TEST_TMPDIR/log.$CTR_NAME
	rm -f "$log".*
	update_config '.root.path = "no\"such"'
	run ctr --log "$log.txt" create --bundle "$BUNDLE" "$(cid log)"
	assert_failure
	run ctr --log "$log.json" --log-format json create --bundle "$BUNDLE" "$(cid log)"
	assert_failure
	ctr delete -f "$(cid log)" >/dev/null 2>&1 || true
	grep -qE '^time="[^"]+" level=error msg="([^"\\]|\\.)*no\\"such([^"\\]|\\.)*"$' "$log.txt" ||
		fail "text: $(cat "$log.txt")"
	tail -n 1 "$log.json" | jq -e '.level == "error" and (.msg | contains("no\"such"))
		and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' >/dev/null ||
		fail "json: $(cat "$log.json")"
	# --debug: debug records in either format, every json line an object of its own
	update_config '.root.path = "rootfs"'
	run_logged ctr --debug --log "$log.dtxt" create --bundle "$BUNDLE" "$(cid log)"
	assert_success
	ctr delete -f "$(cid log)"
	grep -qE '^time="[^"]+" level=debug msg="' "$log.dtxt" || fail "debug text: $(cat "$log.dtxt")"
	run_logged ctr --debug --log "$log.djson" --log-format json create --bundle "$BUNDLE" "$(cid log)"
	assert_success
	ctr delete -f "$(cid log)"
	jq -e -s 'length > 0 and all(.level and .msg and .time) and any(.level == "debug")' "$log.djson" \
		>/dev/null || fail "debug json: $(cat "$log.djson")"
}

@test "--log writes runc's records: text and json, the failure last, --debug records too" {
	make_bundle
	also_runc log_records
}

# runc's `state` and `list --format json` documents: its keys in its order, annotations
# (when the config has some) before owner, in both
state_json_keys() {
	run_detached
	run ctr state "$(cid)"
	assert_success
	[ "$(jq -c 'keys_unsorted' <<<"$output")" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]' ] ||
		fail "state keys: $output"
	[ "$(jq -c .annotations <<<"$output")" = '{"org.example.k":"v"}' ] || fail "state: $output"
	run ctr list --format json
	assert_success
	ctr delete -f "$(cid)"
	[ "$(jq -c '.[0] | keys_unsorted' <<<"$output")" = \
		'["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]' ] ||
		fail "list keys: $output"
	[ "$(jq -c '.[0].annotations' <<<"$output")" = '{"org.example.k":"v"}' ] || fail "list: $output"
}

@test "state and list --format json carry runc's keys in runc's order, annotations and owner among them" {
	make_bundle
	update_config '.annotations = {"org.example.k": "v"}'
	also_runc state_json_keys
}

# runc and crun freeze a created container (its process is there, waiting for start): it is
# paused, cannot be started or deleted without --force until resumed, then created again
pause_created() {
	create_container
	run ctr pause "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = paused ] || fail "after pause: $(ctr state "$(cid)")"
	run ctr start "$(cid)"
	assert_failure
	run ctr delete "$(cid)"
	assert_failure
	run ctr resume "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = created ] || fail "after resume: $(ctr state "$(cid)")"
	run ctr start "$(cid)"
	assert_success
	[ "$(state_field "$(cid)" status)" = running ] || fail "after start: $(ctr state "$(cid)")"
	ctr delete -f "$(cid)"
}

@test "pause and resume of a created container: paused, then created again and startable" {
	make_bundle
	also_runc pause_created
}

# runc's kill: an empty signal argument is the default SIGTERM (a caller's `"$SIG"` unset)
kill_empty_signal() {
	rm -f "$BUNDLE/rootfs/tmp/trapped"
	run_detached
	wait_for_file "$BUNDLE/rootfs/tmp/trapped"
	run ctr kill "$(cid)" ""
	assert_success
	wait_for_state "$(cid)" stopped
	ctr delete "$(cid)"
}

@test "kill ID with an empty signal sends SIGTERM" {
	make_bundle sh -c 'trap "exit 0" TERM; echo y >/tmp/trapped; while :; do sleep 0.1; done'
	mkdir -p "$BUNDLE/rootfs/tmp"
	also_runc kill_empty_signal
}

@test "exec --apparmor and --process-label on a host without that LSM: exit 255, naming the flag" {
	requires_ctr
	local apparmor=no selinux=no
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && apparmor=yes
	[ "$(stat -f -c %T /sys/fs/selinux 2>/dev/null)" = selinuxfs ] && selinux=yes
	[ "$apparmor$selinux" != yesyes ] || skip "AppArmor and SELinux both enabled on this host"
	make_bundle
	run_detached
	if [ "$apparmor" = no ]; then
		run ctr exec --apparmor some-profile "$(cid)" true
		assert_status 255
		[ "$output" = "ctr: --apparmor: apparmor is not enabled on this host" ] || fail "$output"
	fi
	if [ "$selinux" = no ]; then
		run ctr exec --process-label system_u:system_r:container_t:s0 "$(cid)" true
		assert_status 255
		[ "$output" = "ctr: --process-label: selinux is not enabled on this host" ] || fail "$output"
	fi
	ctr delete -f "$(cid)"
}
