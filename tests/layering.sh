#!/bin/bash
# layering.sh: checks that src/ keeps the plan of docs/architecture.md, as TAP:
#   - every #include "dir/file.h" goes to the same layer or one below;
#   - every call (a symbol one object file takes from another, read with nm from the built
#     objects) goes to the same layer or one below;
#   - no files use each other in a circle (includes and calls together; a source, its
#     header and its private header X-internal.h are one module);
#   - no file reaches 1,000 lines, no function 80.
# Usage: layering.sh [--list] [SRCDIR [BUILD_DIR]]; --list prints every module edge with
# the names that make it, for reading the structure. Without built objects the call
# checks are skipped with the reason.

set -u
list=no
[ "${1:-}" = --list ] && list=yes && shift
SRCDIR=${1:-${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}}
BUILD_DIR=${2:-${BUILD_DIR:-$SRCDIR}}
cd "$SRCDIR" || exit 1

# The layers, bottom first. Folders on one line are one layer: they may use each other, but
# never in a circle. src/ctr.c belongs to the cli layer. Programs of their own (init/, the
# stub's program) include nothing of ctr; stub/stub.h is the protocol ctr and the stub share.
LAYERS="stub
base
oci
namespaces rootfs cgroups netlink process
runtime
network
system
checkconfig
cli"

declare -A rank
n=0
while read -r line; do
	for dir in $line; do rank[$dir]=$n; done
	n=$((n + 1))
done <<<"$LAYERS"

# folder of a path under src/ ("src/ctr.c" -> cli)
folder() {
	local p=${1#src/}
	case $p in
	ctr.c) echo cli ;;
	*/*) echo "${p%%/*}" ;;
	*) echo "?" ;;
	esac
}
# a source, its header and its private header are one module:
# src/rootfs/rootfs.c, rootfs.h, rootfs-internal.h -> src/rootfs/rootfs
module() {
	local m=${1%.[ch]}
	echo "${m%-internal}"
}

# shellcheck source=tests/tap.bash
. "$SRCDIR/tests/tap.bash"

sources=$(find src -name '*.[ch]' ! -path 'src/init/*' ! -path 'src/stub/ctr-stub.c' | sort)
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# --- includes ---
bad=""
for f in $sources; do
	from=$(folder "$f")
	while read -r inc; do
		[ -n "$inc" ] || continue
		case $inc in
		*/*) ;;
		*) continue ;; # config.h (autoconf)
		esac
		to=${inc%%/*}
		if [ -z "${rank[$to]:-}" ]; then
			bad+="$f includes \"$inc\": $to/ is on no layer (add it to LAYERS and docs/architecture.md)"$'\n'
		elif [ -z "${rank[$from]:-}" ]; then
			bad+="$f: $from/ is on no layer (add it to LAYERS and docs/architecture.md)"$'\n'
		elif [ "${rank[$to]}" -gt "${rank[$from]}" ]; then
			bad+="$f includes \"$inc\": $from/ may not include $to/, a higher layer"$'\n'
		fi
		[ "$(module "$f")" = "$(module "src/$inc")" ] ||
			echo "$(module "$f") $(module "src/$inc") #include" >>"$edges"
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
if [ -z "$bad" ]; then ok "every #include goes to the same layer or below"; else
	not_ok "every #include goes to the same layer or below" "${bad%$'\n'}"
fi

# --- calls (symbols taken from other objects) ---
objects=()
for f in $sources; do
	case $f in *.c) ;; *) continue ;; esac
	o="$BUILD_DIR/${f%.c}.o"
	[ -f "$o" ] && objects+=("$o")
	[ -f "$o" ] && [ "$o" -ot "$f" ] && stale="$o"
done
have_calls=no
if [ -n "${stale:-}" ]; then
	skip "every call goes to the same layer or below" "$stale is older than its source (run make first)"
elif ! command -v nm >/dev/null; then
	skip "every call goes to the same layer or below" "nm not found (apt-get install binutils)"
elif [ ${#objects[@]} -lt 10 ]; then
	skip "every call goes to the same layer or below" "no built objects in $BUILD_DIR (run make first)"
else
	have_calls=yes
	declare -A defined_in
	for o in "${objects[@]}"; do
		src=src/${o#"$BUILD_DIR"/src/}
		src=${src%.o}.c
		while read -r sym _; do defined_in[$sym]=$(module "$src"); done \
			< <(nm -P --defined-only --extern-only "$o" 2>/dev/null)
	done
	bad=""
	for o in "${objects[@]}"; do
		src=src/${o#"$BUILD_DIR"/src/}
		src=${src%.o}.c
		from=$(folder "$src")
		while read -r sym _; do
			target=${defined_in[$sym]:-}
			[ -n "$target" ] && [ "$target" != "$(module "$src")" ] || continue
			to=$(folder "$target")
			if [ "${rank[$to]:-0}" -gt "${rank[$from]:-0}" ]; then
				bad+="$src calls $sym() of $target.c: $from/ may not call $to/, a higher layer"$'\n'
			fi
			echo "$(module "$src") $target $sym" >>"$edges"
		done < <(nm -P --undefined-only "$o" 2>/dev/null)
	done
	if [ -z "$bad" ]; then ok "every call goes to the same layer or below"; else
		not_ok "every call goes to the same layer or below" "${bad%$'\n'}"
	fi
fi

if [ "$list" = yes ]; then
	sort -u "$edges" | awk '{k=$1" -> "$2; a[k]=a[k] (a[k]==""?"":", ") $3} END {for (k in a) print k": "a[k]}' |
		sort >&2
fi

# --- circles: tsort names one loop at a time; each is shown with the names that tie it ---
loops=$(awk '{print $1, $2}' "$edges" | sort -u | tsort 2>&1 >/dev/null |
	awk '/input contains a loop/ {if (l != "") print l; l = ""; next}
	     /^tsort: src\// {sub(/^tsort: /, ""); l = l (l == "" ? "" : " ") $0}
	     END {if (l != "") print l}')
what="no files use each other in a circle"
[ "$have_calls" = yes ] || what="$what (includes only)"
if [ -z "$loops" ]; then ok "$what"; else
	detail=$(while read -r loop; do
		echo "circle: $loop"
		awk -v loop=" $loop " 'index(loop, " " $1 " ") && index(loop, " " $2 " ") {
			k = "  " $1 " -> " $2 ": "; n[k] = n[k] (n[k] == "" ? "" : ", ") $3}
			END {for (k in n) print k n[k]}' <(sort -u "$edges") | sort
	done <<<"$loops")
	not_ok "$what" "$detail"
fi

# --- sizes (clang-format's GNU style: a function body opens with "{" alone in column 0) ---
big=$(for f in $sources; do
	l=$(wc -l <"$f")
	[ "$l" -lt 1000 ] || echo "$f: $l lines"
done)
if [ -z "$big" ]; then ok "every file is under 1,000 lines"; else
	not_ok "every file is under 1,000 lines" "$big"
fi
long=$(awk 'FNR == 1 {body = 0}
	/^[A-Za-z_].* \(/ && !/;$/ {l = $0; gsub(/__attribute__ \(\([^)]*\)\)/, "", l)
		sub(/ \(.*/, "", l); n = split(l, w, /[ *]+/); name = w[n]}
	/^\{$/ {start = FNR; body = 1; next}
	/^\}$/ && body {if (FNR - start - 1 >= 80) print FILENAME ": " name "(): " FNR - start - 1 " lines"; body = 0}
	/^\};/ {body = 0}' $(grep '\.c$' <<<"$sources") src/init/*.c src/stub/*.c)
if [ -z "$long" ]; then ok "every function is under 80 lines"; else
	not_ok "every function is under 80 lines" "$long"
fi

tap_end
