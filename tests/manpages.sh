#!/bin/bash
# manpages.sh: the man pages say what --help says, as TAP: every verb of `ctr --help` has a
# page (man/ctr-VERB.1.scd) and is named in ctr(1); every option of `ctr --help` is in
# ctr(1), and every option of `ctr VERB --help` (and of its subcommands) in ctr-VERB(1).
# Usage: manpages.sh [SRCDIR [CTR]]

set -u
SRCDIR=${1:-${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}}
CTR=${2:-${CTR:-$SRCDIR/src/ctr}}
MAN=$SRCDIR/man
# shellcheck source=tests/tap.bash
. "$SRCDIR/tests/tap.bash"

# The long and short options a help text lists: "--name", "-x" at the start of its lines.
options_of() {
	grep -oE '^ {1,8}(-[A-Za-z0-9], )?--?[A-Za-z0-9][A-Za-z0-9-]*' | grep -oE -- '--?[A-Za-z0-9][A-Za-z0-9-]*'
}
# Whether a page names an option: scdoc writes it as *--name* (or -x), often inside *...*.
page_has() {
	grep -qE -- "(^|[^A-Za-z0-9-])$(sed 's/[.]/\\./g' <<<"$2")([^A-Za-z0-9-]|$)" "$1"
}

if [ ! -x "$CTR" ]; then
	skip "man pages" "$CTR not built"
	tap_end
	exit
fi

verbs=$("$CTR" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
missing=""
for v in $verbs; do
	[ -f "$MAN/ctr-$v.1.scd" ] || missing+="ctr-$v.1.scd is missing"$'\n'
	page_has "$MAN/ctr.1.scd" "$v" || missing+="ctr.1.scd does not name the verb $v"$'\n'
done
if [ -z "$missing" ]; then ok "every verb has a page and is in ctr(1)"; else
	not_ok "every verb has a page and is in ctr(1)" "${missing%$'\n'}"
fi

missing=""
for o in $("$CTR" --help | options_of); do
	page_has "$MAN/ctr.1.scd" "$o" || missing+="ctr.1.scd lacks $o"$'\n'
done
if [ -z "$missing" ]; then ok "ctr(1) has every global option"; else
	not_ok "ctr(1) has every global option" "${missing%$'\n'}"
fi

for v in $verbs; do
	page=$MAN/ctr-$v.1.scd
	[ -f "$page" ] || continue
	help=$("$CTR" "$v" --help 2>&1)
	# verbs with subcommands (network, config): their help lists them; each has options too
	subs=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p' <<<"$help")
	for s in $subs; do
		help+=$'\n'$("$CTR" "$v" "$s" --help 2>&1)
	done
	missing=""
	for o in $(options_of <<<"$help" | sort -u); do
		page_has "$page" "$o" || missing+="ctr-$v.1.scd lacks $o"$'\n'
	done
	if [ -z "$missing" ]; then ok "ctr-$v(1) has every option of ctr $v --help"; else
		not_ok "ctr-$v(1) has every option of ctr $v --help" "${missing%$'\n'}"
	fi
done

tap_end
