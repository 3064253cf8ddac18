#!/usr/bin/env bats
# cli.bats: global options, help, usage errors, container id and signal validation.

# jq filters name their $variables in single quotes
# shellcheck disable=SC2016,SC2119,SC2120,SC2154
load helpers

VERBS=(create start run state kill delete exec list ps pause resume spec features update)

@test "--version prints the version" {
	run "$CTR" --version
	assert_success
	assert_output_contains version
	if is_ctr; then
		[[ ${lines[0]} =~ ^ctr\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]] || fail "first line: ${lines[0]}"
	fi
}

@test "--help lists every verb" {
	run "$CTR" --help
	assert_success
	for verb in "${VERBS[@]}"; do
		assert_output_contains "$verb"
	done
}

@test "every verb has --help" {
	for verb in "${VERBS[@]}"; do
		run "$CTR" "$verb" --help
		[ "$status" -eq 0 ] || fail "$verb --help: exit $status: $output"
		assert_output_contains "$verb"
	done
}

@test "an unknown verb is a usage error" {
	run ctr frobnicate
	assert_usage_error
	assert_ctr_output_contains frobnicate
}

@test "an unknown global option is a usage error" {
	run "$CTR" --frobnicate list
	assert_usage_error
	assert_ctr_output_contains frobnicate
}

@test "an unknown verb option is a usage error" {
	make_bundle
	run ctr create --frobnicate --bundle "$BUNDLE" "$(cid)"
	assert_usage_error
	assert_ctr_output_contains frobnicate
	run ctr state "$(cid)"
	assert_failure
}

@test "a mistyped verb or option suggests the nearest one" {
	requires_ctr
	run "$CTR" strat
	assert_status 2
	[ "${lines[0]}" = 'ctr: unknown command "strat"; did you mean "start"?' ] || fail "$output"
	run "$CTR" lsit
	[ "${lines[0]}" = 'ctr: unknown command "lsit"; did you mean "list"?' ] || fail "$output"
	run "$CTR" frobnicate
	[ "${lines[0]}" = 'ctr: unknown command "frobnicate"' ] || fail "$output"
	run "$CTR" run --detatch x
	assert_status 2
	[ "${lines[0]}" = 'ctr run: unknown option --detatch; did you mean --detach?' ] || fail "$output"
	run "$CTR" --roott /tmp list
	[ "${lines[0]}" = 'ctr: unknown option --roott; did you mean --root?' ] || fail "$output"
	run "$CTR" network create --subnett 10.1.0.0/24 n
	[ "${lines[0]}" = 'ctr network create: unknown option --subnett; did you mean --subnet?' ] ||
		fail "$output"
}

@test "containerd's client syntax gets one line saying which ctr this is" {
	requires_ctr
	local want="ctr: this is ctr, the container runtime (runc's command line), not containerd's client of the same name: see CONTAINERD'S CLIENT in ctr(1)"
	for args in "-n k8s.io containers ls" "--namespace=default tasks ls" "images ls" "version" \
		"--address /run/containerd/containerd.sock ns ls"; do
		# shellcheck disable=SC2086
		run "$CTR" $args
		assert_status 2
		[ "$output" = "$want" ] || fail "ctr $args: $output"
	done
	# containerd's bash completion asks this: nothing, and success
	run "$CTR" --generate-bash-completion
	assert_success
	[ -z "$output" ] || fail "$output"
	# what both have keeps this ctr's meaning
	run ctr list -q
	assert_success
}

@test "a missing container id is a usage error" {
	for verb in create start run state kill delete exec ps pause resume; do
		run ctr "$verb"
		[ "$status" -ne 0 ] || fail "$verb without an id succeeded: $output"
		if is_ctr; then
			[ "$status" -eq 2 ] || fail "$verb without an id: exit $status, expected 2: $output"
		fi
	done
}

@test "state with extra arguments is a usage error" {
	run ctr state a b
	assert_usage_error
}

@test "bad container ids are refused and create nothing" {
	make_bundle
	long=$(printf 'a%.0s' {1..1025})
	for id in ../x "" "$long" a/b . ..; do
		run_logged ctr create --bundle "$BUNDLE" "$id"
		[ "$status" -ne 0 ] || fail "id '${id:0:20}' accepted"
		[ ! -e "$BATS_TEST_TMPDIR/x" ] || fail "../x escaped the state root"
		[ -z "$(ls -A "$STATE_ROOT")" ] || fail "id '${id:0:20}' left state: $(ls -A "$STATE_ROOT")"
	done
}

@test "ids starting with a dot are refused" {
	requires_ctr # ctr's id rule: [A-Za-z0-9_+-][A-Za-z0-9_+.-]*
	make_bundle
	run_logged ctr create --bundle "$BUNDLE" .hidden
	assert_failure
	assert_output_contains .hidden
}

@test "ids with every allowed character work" {
	make_bundle "$TH" exit 0
	id=$(cid)_A-z+0.9
	run ctr run --bundle "$BUNDLE" "$id"
	assert_success
}

@test "bad signals are refused and the container keeps running" {
	make_bundle
	run_detached
	# real-time offsets past the range, not wrapped to a valid one (RTMIN+4294967298 is no
	# RTMIN+2; found by tests/fuzz)
	for sig in FOO SIGFOO 99 65 -1 9x RTMIN+4294967298 SIGRTMAX-4294967296 RTMIN+2147483647; do
		run ctr kill "$(cid)" "$sig"
		[ "$status" -ne 0 ] || fail "signal '$sig' accepted"
		if is_ctr; then
			assert_output_contains "$sig"
		fi
	done
	[ "$(state_field "$(cid)" status)" = running ]
	ctr delete --force "$(cid)"
}

@test "operations on a missing container fail with exit 1 naming the id" {
	for verb in state kill delete start pause resume ps; do
		run ctr "$verb" nosuch-container
		[ "$status" -eq 1 ] || fail "$verb: exit $status, expected 1: $output"
		assert_ctr_output_contains nosuch-container
	done
	run ctr exec nosuch-container /bin/true
	[ "$status" -ne 0 ] || fail "exec into a missing container succeeded"
	assert_ctr_output_contains nosuch-container
}

@test "delete --force of a missing container succeeds" {
	requires_ctr # runc also fails here; `delete --force` is idempotent in ctr
	run ctr delete --force nosuch-container
	assert_success
}

@test "errors go to stderr, not stdout" {
	run --separate-stderr ctr state nosuch-container 2>/dev/null
	[ "$status" -eq 1 ]
	[ -z "$output" ] || fail "stdout: $output"
	[ -n "$stderr" ] || fail "no message on stderr"
}

@test "spec writes a valid default config.json" {
	cd "$BATS_TEST_TMPDIR"
	run "$CTR" spec
	assert_success
	jq -e '.ociVersion and .process.args and .root.path == "rootfs" and (.linux.namespaces | length > 0)' config.json
	run "$CTR" spec
	assert_failure # refuses to overwrite
}

@test "spec --bundle writes into the bundle" {
	mkdir "$BATS_TEST_TMPDIR/bundle"
	run "$CTR" spec --bundle "$BATS_TEST_TMPDIR/bundle"
	assert_success
	jq -e .ociVersion "$BATS_TEST_TMPDIR/bundle/config.json"
}

@test "features prints a JSON document" {
	run "$CTR" features
	assert_success
	jq -e '.ociVersionMin and .ociVersionMax and (.linux.namespaces | index("pid"))' <<<"$output"
}

@test "--root is created when missing" {
	make_bundle "$TH" exit 0
	root=$BATS_TEST_TMPDIR/newroot
	run "$CTR" --root "$root" run --bundle "$BUNDLE" "$(cid)"
	assert_success
	[ -d "$root" ]
	[ -z "$(ls -A "$root")" ]
}
