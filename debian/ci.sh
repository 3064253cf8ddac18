#!/usr/bin/env bash
# debian/ci.sh: builds the Debian package from a copy of this tree, holds it to lintian,
# installs it, runs containers with /usr/bin/ctr, checks the diversions of containerd's
# ctr with Debian's containerd package, and purges everything again. As root, on Debian 12.
#
# Environment: CTR_CI_CONTAINERD=0 skips the containerd part (a download of ~25 MB).
# containerd, when it was installed before, is used and left installed.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
export DEBIAN_FRONTEND=noninteractive

say() { echo "debian/ci.sh: $*"; }
# another apt or dpkg at work (an unattended upgrade) is waited for, not a failure
apt_get() { apt-get -o DPkg::Lock::Timeout=300 "$@"; }
fail() {
	echo "debian/ci.sh: FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || fail "run as root (it installs packages)"

work=$(mktemp -d /tmp/ctr-deb-ci.XXXXXX)
added_policy=""
installed_containerd=""
cleanup() {
	local rc=$?
	if dpkg-query -W -f='${Status}' ctr 2>/dev/null | grep -q installed; then
		apt_get purge -y -qq ctr >/dev/null 2>&1 || true
	fi
	if [ -n "$installed_containerd" ]; then
		# shellcheck disable=SC2086
		apt_get purge -y -qq $installed_containerd >/dev/null 2>&1 || true
	fi
	[ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

# --- the tools and the Build-Depends -------------------------------------------------
start=$SECONDS
apt_get update -qq
apt_get install -y -qq --no-install-recommends dpkg-dev debhelper lintian man-db busybox-static \
	jq >/dev/null
# the build copy: what git tracks or would track (uncommitted work included), else all
mkdir -p "$work/ctr"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$work/ctr"
else
	tar -C "$src" -cf - . | tar -xf - -C "$work/ctr"
fi
apt_get build-dep -y -qq "$work/ctr" >/dev/null
say "tools and Build-Depends installed ($((SECONDS - start)) s)"

# --- build ---------------------------------------------------------------------------
start=$SECONDS
if ! (cd "$work/ctr" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	fail "dpkg-buildpackage failed (the last 60 lines above)"
fi
# the unit tests and checks of dh_auto_test: one line per TAP file
grep -E '^1\.\.[0-9]+$' "$work/build.log" | paste -sd ' ' | sed 's/^/debian\/ci.sh: tests in the build: plans /'
grep -q '^not ok ' "$work/build.log" && fail "a test in the build failed"
changes=$(ls "$work"/ctr_*.changes)
deb=$(ls "$work"/ctr_*_"$(dpkg --print-architecture)".deb)
say "built $(basename "$deb") ($((SECONDS - start)) s)"

# --- lintian: errors fail, warnings and the rest are printed -------------------------
rc=0
lintian --fail-on error --display-info "$changes" >"$work/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges' "$work/lintian.log" || true
[ "$rc" = 0 ] || fail "lintian found errors (exit status $rc)"
say "lintian: $(grep -c '^E: ' "$work/lintian.log" || true) errors, $(grep -c '^W: ' "$work/lintian.log" || true) warnings"

# --- install -------------------------------------------------------------------------
# no service starts from a package script here (containerd's, below)
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	added_policy=yes
fi
apt_get install -y -qq "$deb" >/dev/null
dpkg-query -W -f='${Status}\n' ctr | grep -q 'install ok installed' || fail "ctr is not installed"
version=$(/usr/bin/ctr --version)
say "installed: $version"
grep -q "$(dpkg-query -W -f='${Version}' ctr)" <<<"$version" || fail "ctr --version does not name the package's version"
man -aw ctr | grep -qx /usr/share/man/man1/ctr.1.gz || fail "man -w ctr: no /usr/share/man/man1/ctr.1.gz"
man -aw ctr-run | grep -qx /usr/share/man/man1/ctr-run.1.gz || fail "man -w ctr-run"
for t in busybox debian app oci; do
	[ -x /usr/share/ctr/templates/ctr-$t ] || fail "template $t missing"
done
/usr/bin/ctr templates | grep -q busybox || fail "ctr templates does not list busybox"
[ -x /usr/libexec/ctr/ctr-init ] || fail "/usr/libexec/ctr/ctr-init missing"
bash_completion=/usr/share/bash-completion/completions/ctr
zsh_completion=/usr/share/zsh/vendor-completions/_ctr
files=$(dpkg-query -L ctr)
{ grep -qx "$bash_completion" <<<"$files" && grep -qx "$zsh_completion" <<<"$files"; } ||
	fail "the package lacks $bash_completion or $zsh_completion"
# containerd's completions call `ctr ... --generate-bash-completion`; ctr's do not
! grep -q generate-bash-completion "$bash_completion" "$zsh_completion" ||
	fail "a completion of ctr is containerd's"
unit=$(dpkg -L ctr | grep '/systemd/system/ctr-autostart.service$') || fail "no ctr-autostart.service"
grep -qx 'ExecStart=/usr/bin/ctr start --autostart' "$unit" || fail "$unit: ExecStart"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
fi
[ -L /etc/systemd/system/multi-user.target.wants/ctr-autostart.service ] ||
	fail "ctr-autostart.service is not enabled"
diversions() { dpkg-divert --list | grep -c ' by ctr$' || true; }
[ "$(diversions)" = 4 ] || fail "expected 4 diversions by ctr, got $(diversions)"
say "files, man pages, completions, templates, unit and diversions are in place"

# --- containers with /usr/bin/ctr: an OCI bundle, then an app system container --------
# state and store in the work dir: nothing of /run/ctr or /var/lib/ctr is touched
ctr=(/usr/bin/ctr --root "$work/state" --store "$work/store")
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done
(cd "$bundle" && /usr/bin/ctr spec)
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo deb-ci $(hostname) pid $$"]' \
	"$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
out=$("${ctr[@]}" run --bundle "$bundle" "deb-ci-$$")
[ "$out" = "deb-ci $(jq -r .hostname "$bundle/config.json") pid 1" ] || fail "ctr run said: $out"
say "ctr run: $out"
# the packaged template and ctr-init: /usr/share/ctr/templates/ctr-app, /usr/libexec/ctr
"${ctr[@]}" create -t app "deb-ci-app-$$" --net none -- /bin/echo deb-ci app >/dev/null
out=$("${ctr[@]}" start -F "deb-ci-app-$$" </dev/null)
"${ctr[@]}" destroy "deb-ci-app-$$" >/dev/null
grep -q 'deb-ci app' <<<"$out" || fail "the app container said: $out"
say "ctr create -t app + start -F: deb-ci app"

# --- containerd: both installed, in either order --------------------------------------
containerd_is() { "$1" --version 2>/dev/null | grep -q containerd; }
if [ "${CTR_CI_CONTAINERD:-1}" != 0 ]; then
	if ! dpkg-query -W -f='${Status}' containerd 2>/dev/null | grep -q 'ok installed'; then
		# ctr first: containerd's client is unpacked straight to containerd-ctr
		installed_containerd=$(apt_get install -s -qq --no-install-recommends containerd |
			awk '/^Inst /{print $2}' | paste -sd ' ')
		apt_get install -y -qq --no-install-recommends containerd >/dev/null
		say "containerd installed after ctr (and with it: $installed_containerd)"
	fi
	containerd_is /usr/bin/containerd-ctr || fail "/usr/bin/containerd-ctr is not containerd's client"
	containerd_is /usr/bin/ctr && fail "/usr/bin/ctr is containerd's"
	man -w containerd-ctr >/dev/null || fail "man containerd-ctr"
	man -aw ctr | grep -q man8 && fail "man ctr still finds containerd's ctr(8)"
	# bash-completion loads completions/containerd-ctr for containerd-ctr; it binds that name
	bash -c '. /usr/share/bash-completion/completions/containerd-ctr && complete -p containerd-ctr' \
		>/dev/null || fail "containerd's bash completion does not complete containerd-ctr"
	grep -q generate-bash-completion /usr/share/zsh/vendor-completions/containerd-ctr.zsh ||
		fail "containerd's zsh completion was not diverted"
	apt_get purge -y -qq ctr >/dev/null
	containerd_is /usr/bin/ctr || fail "after ctr's purge /usr/bin/ctr is not containerd's again"
	[ -e /usr/share/man/man8/ctr.8.gz ] || fail "ctr.8.gz is not back"
	{ grep -q generate-bash-completion "$bash_completion" &&
		grep -q generate-bash-completion "$zsh_completion"; } || fail "containerd's completions are not back"
	# containerd first: ctr's preinst renames containerd's files
	apt_get install -y -qq "$deb" >/dev/null
	containerd_is /usr/bin/containerd-ctr || fail "containerd's client was not renamed"
	/usr/bin/ctr --version | grep -q containerd && fail "/usr/bin/ctr is containerd's"
	[ -e /usr/share/man/man8/containerd-ctr.8.gz ] || fail "ctr.8.gz was not renamed"
	say "containerd: its client is /usr/bin/containerd-ctr beside ctr, in either order"
fi

# --- purge: the package, its diversions and its enablement are gone -------------------
apt_get purge -y -qq ctr >/dev/null
[ "$(diversions)" = 0 ] || fail "diversions left after purge: $(dpkg-divert --list | grep ' by ctr$')"
{ [ ! -e /usr/share/ctr ] && [ ! -e /usr/libexec/ctr ]; } || fail "files left after purge"
[ ! -e /etc/systemd/system/multi-user.target.wants/ctr-autostart.service ] ||
	fail "ctr-autostart.service still enabled after purge"
if [ -n "$installed_containerd" ] || dpkg-query -W -f='${Status}' containerd 2>/dev/null | grep -q 'ok installed'; then
	containerd_is /usr/bin/ctr || fail "after purge /usr/bin/ctr is not containerd's"
else
	[ ! -e /usr/bin/ctr ] || fail "/usr/bin/ctr left after purge"
fi
say "purged: no diversion, file or unit link left"
say "ok"
