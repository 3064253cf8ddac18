#!/bin/sh
# Quick start on a fresh Debian 12 machine, as root: installs the build dependencies,
# builds ctr in this checkout, and runs a busybox container that says hello.
set -eu
cd "$(dirname "$0")"

packages="build-essential autoconf automake pkg-config libyajl-dev libcap-dev libseccomp-dev
  libmnl-dev libcgroup-dev busybox-static jq scdoc bats iproute2 procps util-linux"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -x configure ] || ./autogen.sh >/dev/null
# CI builds with warnings as errors
[ -f Makefile ] || ./configure --quiet ${CI:+--enable-werror}
make -s -j"$(nproc)"

# A bundle: busybox as the root filesystem, the config from `ctr spec`.
bundle=$(mktemp -d /tmp/ctr-quickstart.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
# relative links: `busybox --install -s` would point them at the host path
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done
(cd "$bundle" && "$OLDPWD/src/ctr" spec)
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo \"Hello from ctr: I am pid $$ on $(hostname), root is $(ls / | wc -w) entries\""]' \
  "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
./src/ctr run --bundle "$bundle" "quickstart-$$"
