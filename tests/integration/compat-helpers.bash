# compat-helpers.bash: what the compat_*.bats files share: each check runs against ctr,
# then against runc where it is installed, and the output says whether runc agrees, flagging
# a behaviour only ctr has (docs/runc-compat.md).

# shellcheck disable=SC2016
load helpers

# also_runc CHECK [ARGS...]: CHECK must pass for ctr; it then runs for runc (in a state root
# of its own) and its result is reported, never failed: runc is the reference, not the test.
# Neither run sits in an `if` or `||`, where bash would ignore the failed assertions inside.
also_runc() {
	"$@"
	local runc
	runc=$(command -v runc) || return 0
	(
		CTR=$runc CTR_NAME=runc STATE_ROOT=$(mktemp -d "$BATS_TEST_TMPDIR/runc.XXXXXX")
		"$@"
	) >/dev/null 2>&1 &
	if wait $!; then
		echo "# runc agrees" >&3
	else
		echo "# ctr-only behaviour: runc does not pass this check" >&3
	fi
	local r id
	for r in "$BATS_TEST_TMPDIR"/runc.*; do
		[ -d "$r" ] || continue
		for id in $("$runc" --root "$r" list -q 2>/dev/null); do
			"$runc" --root "$r" delete -f "$id" >/dev/null 2>&1
		done
	done
}
