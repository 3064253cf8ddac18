#!/bin/sh
# Quick start on a fresh Debian 12 machine, as root: installs the dependencies (also those
# of `make check`), builds and installs ctr (/usr/local), runs an OCI container that says
# hello, then boots a busybox system container on the default network, talks to it, and
# removes it again.
set -eu
cd "$(dirname "$0")"

# to build, to run containers and templates, and everything `make check` uses (the suite
# skips nothing for want of a Debian package): uidmap for rootless ranges, passt and
# slirp4netns for user-mode networks, dnsmasq-base for the DNS server of bridge networks, skopeo/umoci/debootstrap for the oci and debian
# templates, crun and runc beside ctr, python3 for the seccomp notify tests, zsh for its
# completion, containerd (and python3-grpcio for its CRI plugin) to drive ctr as Kubernetes does,
# strace for the fault test (kill -9 of ctr at each of its system calls), openssh-client to
# log in to a Debian guest's sshd, btrfs-progs, lvm2 and thin-provisioning-tools for storage pools,
# tar, zstd, xz-utils and gzip for ctr export/import, libcap2-bin (setcap, getcap), acl and
# attr for their tests of file capabilities, ACLs and xattrs
# criu: `ctr checkpoint` / `ctr restore` run it (their real tests skip where `criu check` fails)
packages="build-essential autoconf automake pkg-config libyajl-dev libcap-dev libseccomp-dev
  libmnl-dev libcgroup-dev busybox-static jq scdoc bats iproute2 procps util-linux nftables
  uidmap passt slirp4netns dnsmasq-base skopeo umoci debootstrap crun runc conmon python3 zsh
  containerd python3-grpcio strace openssh-client btrfs-progs lvm2 thin-provisioning-tools
  criu tar zstd xz-utils gzip libcap2-bin acl attr"
# lxcfs: system containers see their limits in /proc; the tests (system_lxcfs.bats) start
# an lxcfs of their own. mmdebstrap: rootless `ctr create -t debian` (--mode=unshare).
packages="$packages lxcfs mmdebstrap"
missing=""
for p in $packages podman netavark aardvark-dns; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  # podman with its recommends, and netavark and aardvark-dns, its network backend: Debian's
  # podman no longer recommends them, and without them it falls back to CNI
  apt-get install -y -qq podman netavark aardvark-dns >/dev/null
fi
# udev gives /dev/net/tun mode 0666; on a machine without udev (containers, minimal VMs)
# do what it would, or unprivileged user-mode networks cannot start
if [ -c /dev/net/tun ] && [ ! -e /run/udev/control ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  echo "quickstart: no udev here: /dev/net/tun gets mode 0666, as udev gives it"
  chmod 0666 /dev/net/tun
fi

[ -x configure ] || ./autogen.sh >/dev/null
# CI builds with warnings as errors
[ -f Makefile ] || ./configure --quiet ${CI:+--enable-werror}
make -s -j"$(nproc)"
make -s install >/dev/null

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
ctr run --bundle "$bundle" "quickstart-$$"

# The LXC face: a named system container from a template, booted under its monitor, on
# the default network ctr0 (made on first use: a bridge, 10.88.0.0/16, NAT).
name="quickstart-$$"
trap 'ctr destroy -f "$name" >/dev/null 2>&1 || true; ctr network rm ctr0 >/dev/null 2>&1 || true; rm -rf "$bundle"' EXIT
ctr create -t busybox "$name"
ctr start "$name"
ctr ls
echo "attach: $(ctr attach "$name" -- hostname) answers; it reaches its gateway:"
ctr attach "$name" -- ping -c 1 -W 2 10.88.0.1 | head -n 2
ctr stop "$name"
ctr destroy "$name"
echo "quickstart: done (ctr --help, man ctr)"
