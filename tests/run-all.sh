#!/bin/bash
# run-all.sh: runs the unit tests (TAP) and the bats suite, ends with one summary line.
#
# Environment: BUILD_DIR (holds src/ctr and tests/ binaries; default: the current
# directory), SRCDIR (the source tree; default: this script's parent), TESTS (bats files or
# directories to run instead of tests/integration and tests/fault), CTR (the runtime; default
# $BUILD_DIR/src/ctr), BATS_FILTER_TAGS (only the tests with these bats tags: the guest run's
# "v2"). The last line is always "N passed, N failed, N skipped".
# --no-unit: only the bats suite (the cgroup v2 guest run).

set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$(pwd)}
SRCDIR=$(cd "$SRCDIR" && pwd)
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
export SRCDIR BUILD_DIR
export CTR=${CTR:-$BUILD_DIR/src/ctr}
[ -x "$BUILD_DIR/tests/helper/ctr-testhelper" ] &&
	export CTR_TESTHELPER=${CTR_TESTHELPER:-$BUILD_DIR/tests/helper/ctr-testhelper}

passed=0 failed=0 skipped=0
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT

# count_tap FILE: adds the results of a TAP stream; returns 1 when it has no result lines
# (a plan of "1..0 # SKIP why", a program skipped whole, counts as one skip).
count_tap() {
	local p f s
	if grep -Eiq '^1\.\.0 *# *skip' "$1"; then
		skipped=$((skipped + 1))
		return 0
	fi
	p=$(grep -Ec '^ok ' "$1")
	s=$(grep -Eic '^ok .*# *skip' "$1")
	f=$(grep -Ec '^not ok ' "$1")
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
	[ $((p + f)) -gt 0 ]
}

# A program that fails without reporting a failure (crash, bad plan) counts as one failure.
run_tap() {
	local name=$1 rc
	shift
	echo "# $name"
	"$@" 2>&1 | tee "$tap"
	rc=${PIPESTATUS[0]}
	if ! count_tap "$tap" || { [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$tap"; }; then
		echo "not ok - $name exited with status $rc"
		failed=$((failed + 1))
	fi
}

unit=yes
[ "${1:-}" = --no-unit ] && unit=no

# the layers of src/ (docs/architecture.md): includes and calls go down, no circles
[ "$unit" = yes ] && run_tap layering.sh "$SRCDIR/tests/layering.sh" "$SRCDIR" "$BUILD_DIR"
# every option of every --help is in the man pages
[ "$unit" = yes ] && run_tap manpages.sh "$SRCDIR/tests/manpages.sh" "$SRCDIR" "$CTR"

for t in "$BUILD_DIR"/tests/unit/test-*; do
	[ "$unit" = yes ] || break
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		continue
	fi
	run_tap "$(basename "$t")" "$t"
done

if ! command -v bats >/dev/null; then
	echo "ok - bats suite # skip bats not installed (apt-get install bats)"
	skipped=$((skipped + 1))
elif [ "$(id -u)" != 0 ]; then
	echo "ok - bats suite # skip the integration tests need root"
	skipped=$((skipped + 1))
else
	files=()
	for f in ${TESTS:-$SRCDIR/tests/integration $SRCDIR/tests/fault}; do
		for candidate in "$f" "$SRCDIR/$f" "$SRCDIR/tests/integration/$f" \
			"$SRCDIR/tests/integration/$f.bats"; do
			[ -e "$candidate" ] && break
		done
		files+=("$candidate")
	done
	filter=()
	[ -z "${BATS_FILTER_TAGS:-}" ] || filter=(--filter-tags "$BATS_FILTER_TAGS")
	run_tap "bats" bats --tap --timing "${filter[@]}" "${files[@]}"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
