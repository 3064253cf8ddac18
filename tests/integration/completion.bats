#!/usr/bin/env bats
# completion.bats: bash and zsh completion (completion/) against the real binary.

load helpers

# the source tree (make check exports it; a direct `bats` run finds it from here)
SRCDIR=${SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}

# complete WORD...: what the bash completion offers for the last word, one line
# (the names come from ctr itself: a test's own store, not the host's)
complete_bash() {
	CTR_STORE=${CTR_STORE:-$BATS_TEST_TMPDIR/store} run bash -c '
		source "$1/completion/bash/ctr"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_ctr
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$SRCDIR" "$@"
	output=${output% }
}

@test "bash: verbs, global and verb options, option values" {
	complete_bash "$CTR" st
	[ "$output" = "start state stop" ] || fail "$output"
	complete_bash "$CTR" --ro
	[ "$output" = "--root --rootless" ] || fail "$output"
	complete_bash "$CTR" run --de
	[ "$output" = --detach ] || fail "$output"
	complete_bash "$CTR" network create --sub
	[ "$output" = --subnet ] || fail "$output"
	complete_bash "$CTR" list --format ""
	[ "$output" = "json table" ] || fail "$output"
	# the values a verb's help names
	complete_bash "$CTR" migrate --format ""
	[ "$output" = "json text" ] || fail "migrate --format: $output"
	complete_bash "$CTR" kill x SIGKI
	[ "$output" = SIGKILL ] || fail "$output"
	complete_bash "$CTR" network ""
	[ "$output" = "create inspect ls rm" ] || fail "$output"
	# every option of a verb's --help is offered
	complete_bash "$CTR" exec --
	for o in --tty --user --cwd --env --detach --pid-file --preserve-fds; do
		[[ " $output " == *" $o "* ]] || fail "exec: $o missing from $output"
	done
}

@test "bash: container names from the state root the command line names" {
	make_bundle
	run_detached
	complete_bash "$CTR" --root "$STATE_ROOT" kill ""
	[ "$output" = "$(cid)" ] || fail "$output"
	complete_bash "$CTR" --root "$STATE_ROOT" exec --tty ""
	[ "$output" = "$(cid)" ] || fail "$output"
	# another root has none
	complete_bash "$CTR" --root "$BATS_TEST_TMPDIR/empty" kill ""
	[ -z "$output" ] || fail "$output"
	ctr delete -f "$(cid)"
}

@test "bash: templates after create -t, networks after --net" {
	export CTR_TEMPLATE_PATH=$SRCDIR/templates
	complete_bash "$CTR" create -t bu
	[ "$output" = busybox ] || fail "$output"
	complete_bash "$CTR" create -t busybox x --net no
	[ "$output" = none ] || fail "$output"
}

@test "bash: clone and snapshot: commands, container and snapshot names, options" {
	system_setup
	ctr create -t busybox compl-$$ --net none
	ctr snapshot create compl-$$ keep
	complete_bash "$CTR" snapshot ""
	[ "$output" = "create ls restore rm" ] || fail "$output"
	complete_bash "$CTR" snapshot restore ""
	[ "$output" = "compl-$$" ] || fail "$output"
	complete_bash "$CTR" snapshot restore "compl-$$" ""
	[ "$output" = keep ] || fail "$output"
	complete_bash "$CTR" snapshot create --com
	[ "$output" = --comment ] || fail "$output"
	complete_bash "$CTR" clone ""
	[ "$output" = "compl-$$" ] || fail "$output"
	complete_bash "$CTR" migrate ""
	[ "$output" = "compl-$$" ] || fail "$output"
	complete_bash "$CTR" migrate "compl-$$" ""
	[ "$output" = "tcp: unix:" ] || fail "$output"
	complete_bash "$CTR" migrate --pre
	[ "$output" = --pre-dumps ] || fail "$output"
	ctr destroy compl-$$
}

@test "bash: move: container names, pools after --pool, start --ephemeral" {
	system_setup
	ctr create -t busybox compl-$$ --net none
	ctr pool create compl-p --type dir --path "$BATS_TEST_TMPDIR/p"
	complete_bash "$CTR" --store "$CTR_STORE" move ""
	[ "$output" = "compl-$$" ] || fail "$output"
	complete_bash "$CTR" --store "$CTR_STORE" move "compl-$$" --pool ""
	[ "$output" = "compl-p default" ] || fail "$output"
	complete_bash "$CTR" --store "$CTR_STORE" create -t busybox x --pool com
	[ "$output" = "compl-p" ] || fail "$output"
	complete_bash "$CTR" start --eph
	[ "$output" = --ephemeral ] || fail "$output"
	ctr destroy compl-$$
	ctr pool rm compl-p
}

@test "bash: export, import and cp: container names, NAME: for cp, pools after --pool" {
	system_setup
	ctr create -t busybox compl-$$ --net none
	complete_bash "$CTR" export ""
	[ "$output" = "compl-$$" ] || fail "$output"
	complete_bash "$CTR" cp "compl-"
	[ "$output" = "compl-$$:" ] || fail "$output"
	complete_bash "$CTR" cp "compl-$$:/etc" "$SRCDIR/completion/ba"
	[ "$output" = "$SRCDIR/completion/bash" ] || fail "$output"
	complete_bash "$CTR" import --pool ""
	[ "$output" = "default" ] || fail "$output"
	complete_bash "$CTR" import "$SRCDIR/completion/ba"
	[ "$output" = "$SRCDIR/completion/bash" ] || fail "$output"
	ctr destroy compl-$$
}

@test "zsh: the completion function offers verbs, options and names" {
	command -v zsh >/dev/null || skip "zsh not installed (Debian package zsh)"
	zsh -n "$SRCDIR/completion/zsh/_ctr"
	make_bundle
	run_detached
	# the completion system's builtins, replaced by ones that print what they are given
	CTR_STORE=${CTR_STORE:-$BATS_TEST_TMPDIR/store} run zsh -fc '
		compadd() { [[ $1 == -- ]] && shift; print -r -- "add: $*" }
		_describe() { local a=${@[-1]} e; local -a out; for e in ${(P)a}; do out+=(${e%%:*}); done; print -r -- "describe: $out" }
		_files() { print files }
		zmodload zsh/parameter
		words=("$1" st); CURRENT=2; PREFIX=st; source "$2"
		words=("$1" --root "$3" kill ""); CURRENT=5; PREFIX=; source "$2"
		words=("$1" run --de); CURRENT=3; PREFIX=--de; source "$2"
		words=("$1" migrate -f ""); CURRENT=4; PREFIX=; source "$2"
		words=("$1" ls --format ""); CURRENT=4; PREFIX=; source "$2"' \
		_ "$CTR" "$SRCDIR/completion/zsh/_ctr" "$STATE_ROOT"
	ctr delete -f "$(cid)"
	assert_success
	[[ "${lines[0]} " == "describe: "*" start "*" state "*" network "* ]] || fail "verbs: $output"
	[ "${lines[1]}" = "add: $(cid)" ] || fail "names: $output"
	[[ ${lines[2]} == "add: "*--detach* ]] || fail "options: $output"
	[ "${lines[3]}" = "add: text json" ] || fail "migrate -f: $output"
	[ "${lines[4]}" = "add: table json" ] || fail "ls --format: $output"
}
