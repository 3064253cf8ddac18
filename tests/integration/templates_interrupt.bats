#!/usr/bin/env bats
# templates_interrupt.bats: nothing of `ctr create -t` outlives ctr: a kill -9 takes the
# template and everything it started along, an interrupt (SIGTERM, `timeout`) stops it and
# removes the half-made container before ctr exits, and a staging directory left behind
# is found by `destroy -f NAME` and by the next `ls`; so is what a destroy killed midway left.

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	NAME=tpl-${BATS_SUITE_TEST_NUMBER}-$$
	# a template that never ends: it writes into the rootfs and starts a helper that leaves
	# its process group (setsid), both named after the container
	local dir=$BATS_TEST_TMPDIR/templates
	mkdir -p "$dir"
	cat >"$dir/ctr-forever" <<-'EOS'
		#!/bin/sh
		while [ $# -gt 0 ]; do case $1 in --rootfs) rootfs=$2; shift ;; --name) name=$2; shift ;; esac; shift; done
		setsid sh -c 'while :; do sleep 1; done' "$name-helper" &
		while :; do date >>"$rootfs/progress"; sleep 0.1; done
	EOS
	chmod +x "$dir/ctr-forever"
	export CTR_TEMPLATE_PATH=$dir:$CTR_TEMPLATE_PATH
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	local pids
	pids=$(pgrep -f -- "$NAME" | grep -vx "$$" || true)
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	rm -rf "$CTR_STORE"
}

template_procs() {
	pgrep -af -- "$NAME" | grep -v "^$$ " | grep -v bats || true
}

# start_create: `ctr create -t forever` in the background ($CPID), once the template runs;
# SIGINT back to its default (a background job of a script starts with it ignored).
start_create() {
	env --default-signal=INT "$CTR" --root "$STATE_ROOT" create -t forever "$NAME" --net none </dev/null >"$BATS_TEST_TMPDIR/create.log" 2>&1 &
	CPID=$!
	wait_until test -s "$CTR_STORE/.$NAME.new/rootfs/progress"
	wait_until sh -c "pgrep -f -- '$NAME-helper' >/dev/null"
}

# ctr_exited: $CPID is gone (or a zombie): its status can be waited for without hanging.
ctr_exited() {
	case $(ps -o stat= -p "$CPID") in '' | Z*) return 0 ;; esac
	return 1
}

# interrupt SIG STATUS: SIG to the create, which ends by it with STATUS, having cleaned up.
interrupt() {
	kill -"$1" "$CPID"
	wait_until ctr_exited || fail "ctr still running after SIG$1"
	local rc=0
	wait "$CPID" || rc=$?
	[ "$rc" -eq "$2" ] || fail "exit status $rc: $(cat "$BATS_TEST_TMPDIR/create.log")"
}

@test "kill -9 of create -t: the template and what it started die with ctr; destroy -f removes the rest" {
	start_create
	kill -KILL "$CPID"
	wait "$CPID" || true
	wait_until_none template_procs || fail "still running after ctr died: $(template_procs)"
	local size
	size=$(wc -l <"$CTR_STORE/.$NAME.new/rootfs/progress")
	sleep 0.5
	[ "$(wc -l <"$CTR_STORE/.$NAME.new/rootfs/progress")" = "$size" ] || fail "still writing"
	run ctr destroy -f "$NAME"
	assert_success
	[ ! -e "$CTR_STORE/.$NAME.new" ]
}

@test "kill -9 of create -t started with SIGTERM, SIGINT and SIGCHLD ignored: the template dies too" {
	# a caller's ignored signals are inherited: they must not keep the template alive
	(
		trap '' TERM INT HUP CHLD
		exec "$CTR" --root "$STATE_ROOT" create -t forever "$NAME" --net none </dev/null >"$BATS_TEST_TMPDIR/create.log" 2>&1
	) &
	CPID=$!
	wait_until test -s "$CTR_STORE/.$NAME.new/rootfs/progress"
	wait_until sh -c "pgrep -f -- '$NAME-helper' >/dev/null"
	kill -KILL "$CPID"
	wait "$CPID" || true
	wait_until_none template_procs || fail "still running after ctr died: $(template_procs)"
	run ctr destroy -f "$NAME"
	assert_success
	[ ! -e "$CTR_STORE/.$NAME.new" ]
}

@test "a staging directory left by a killed create -t is removed by the next ls" {
	start_create
	kill -KILL "$CPID"
	wait "$CPID" || true
	# the template's keeper holds the staging directory until the template is gone
	wait_until_none template_procs
	run ctr ls
	assert_success
	[[ $output != *"$NAME"* ]] || fail "$output"
	[ ! -e "$CTR_STORE/.$NAME.new" ]
}

@test "SIGTERM to create -t stops the template and removes the half-made container, then ends ctr by it" {
	start_create
	interrupt TERM 143
	grep -q "template \`forever\` stopped" "$BATS_TEST_TMPDIR/create.log" || fail "$(cat "$BATS_TEST_TMPDIR/create.log")"
	[ ! -e "$CTR_STORE/.$NAME.new" ]
	[ -z "$(template_procs)" ] || fail "left running: $(template_procs)"
}

@test "Ctrl-C (SIGINT) to create -t stops the template and removes the half-made container" {
	start_create
	interrupt INT 130
	[ ! -e "$CTR_STORE/.$NAME.new" ]
	[ -z "$(template_procs)" ] || fail "left running: $(template_procs)"
}

@test "timeout 2 ctr create -t: nothing left when the time is up" {
	# output to a file: a template that outlived ctr would hold a pipe open for ever
	local rc=0
	timeout -k 10 2 "$CTR" --root "$STATE_ROOT" create -t forever "$NAME" --net none \
		</dev/null >"$BATS_TEST_TMPDIR/create.log" 2>&1 || rc=$?
	[ "$rc" -eq 124 ] || fail "status $rc: $(cat "$BATS_TEST_TMPDIR/create.log")"
	[ ! -e "$CTR_STORE/.$NAME.new" ]
	[ -z "$(ls -A "$CTR_STORE")" ]
	wait_until_none template_procs || fail "left running: $(template_procs)"
}

@test "destroy -f of a container being created leaves it to its creator" {
	start_create
	run ctr destroy -f "$NAME"
	assert_failure
	assert_output_contains "is being created"
	[ -d "$CTR_STORE/.$NAME.new" ]
	# nor does a second create of the same name
	run ctr create -t forever "$NAME" --net none
	assert_failure
	assert_output_contains "is being created"
	[ -s "$CTR_STORE/.$NAME.new/rootfs/progress" ] || fail "the first create's work is gone"
	interrupt TERM 143
	[ ! -e "$CTR_STORE/.$NAME.new" ]
}

@test "kill -9 of destroy while it removes: the next destroy -f removes the rest" {
	# a container with many files, so that removing it takes a while
	cat >"$BATS_TEST_TMPDIR/templates/ctr-many" <<-'EOS'
		#!/bin/sh
		while [ $# -gt 0 ]; do case $1 in --rootfs) rootfs=$2; shift ;; --path) path=$2; shift ;; esac; shift; done
		mkdir "$rootfs/many" && cd "$rootfs/many" && seq 1 40000 | xargs touch
		echo arg=/bin/sh >"$path/template.conf"
	EOS
	chmod +x "$BATS_TEST_TMPDIR/templates/ctr-many"
	run ctr create -t many "$NAME" --net none
	assert_success
	"$CTR" --root "$STATE_ROOT" destroy -f "$NAME" </dev/null >/dev/null 2>&1 &
	CPID=$!
	# killed once its definition is out of the store, before the rest is removed
	while [ -e "$CTR_STORE/$NAME/ctr.json" ]; do :; done
	kill -KILL "$CPID"
	wait "$CPID" || true
	run ctr destroy -f "$NAME"
	assert_success
	[ -z "$(ls -A "$CTR_STORE")" ] || fail "left in the store: $(ls -A "$CTR_STORE")"
}
