#!/bin/sh
# Runs each libFuzzer target for a bounded time on its committed corpus (tests/fuzz/corpus/T,
# read only: new inputs go to BUILD/corpus/T) with its dictionary (T.dict) when there is one.
# Usage: run.sh BUILD SRC SECONDS TARGET...   Fails when any target reports a crash, a leak,
# undefined behaviour or a hang; the input is then in BUILD/artifacts/ (README.md says how to
# make it a regression seed).
set -u
build=$1 src=$2 seconds=$3
shift 3
failed=""
total=$#
mkdir -p "$build/artifacts"
for t in "$@"; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-"
  [ -f "$src/$t.dict" ] && set -- "$@" -dict="$src/$t.dict"
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/fuzz-$t" "$@" "$work" "$src/corpus/$t" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (log: $build/$t.log):"
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)" \
      "$build/$t.log" | head -n 20
    failed="$failed $t"
  else
    grep -E "^stat::number_of_executed_units" "$build/$t.log" | sed "s/^/fuzz: $t: /"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed"
  exit 1
fi
echo "fuzz: ok ($total targets, ${seconds}s each)"
