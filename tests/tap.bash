# tap.bash: TAP output for the shell checks run by run-all.sh (layering.sh, manpages.sh).
# ok NAME; not_ok NAME DETAIL (each line of DETAIL as a # comment); skip NAME REASON;
# tap_end prints the plan and returns non-zero when a check failed.
tap_n=0
tap_failures=0
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failures=$((tap_failures + 1))
	echo "not ok $tap_n - $1"
	sed 's/^/# /' <<<"$2"
}
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # skip $2"
}
tap_end() {
	echo "1..$tap_n"
	[ "$tap_failures" -eq 0 ]
}
