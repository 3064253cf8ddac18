# podman-helpers.bash: a private podman (storage, config, network) with ctr as its OCI runtime.
# shellcheck shell=bash

IMAGE=localhost/ctr-busybox
# A bridge of our own, so neither the host's podman0 nor ctr's own ctr0 (10.88.0.0/16) is touched.
PODMAN_NET=ctrtest
PODMAN_SUBNET=10.89.213.0/24
PODMAN_BRIDGE=ctrpm0

# pm ARGS...: podman on the private store ($PM/podman is a wrapper, usable from `script -c`).
pm() {
	"$PM/podman" "$@"
}

# Why a test is skipped on this host, or nothing.
podman_missing() {
	command -v podman >/dev/null || { echo "podman is not installed" && return 0; }
	[ "$(id -u)" = 0 ] || { echo "podman tests need root" && return 0; }
	command -v conmon >/dev/null || [ -x /usr/bin/conmon ] || [ -x /usr/libexec/podman/conmon ] ||
		{ echo "conmon is not installed" && return 0; }
	return 1
}

# The hard limit of `ulimit -$1`, at most $2 (podman itself lowers some of its own limits).
hard_limit() {
	local v
	v=$(ulimit -H "-$1")
	if [ "$v" = unlimited ] || [ "$v" -gt "$2" ]; then v=$2; fi
	echo "$v"
}

# Writes $PM/containers.conf, $PM/storage.conf and the $PM/podman wrapper.
write_podman_config() {
	local nofile nproc
	# podman asks for nofile=1048576 and a large nproc by default: raising a hard limit
	# needs CAP_SYS_RESOURCE, which sandboxed hosts (like this VM) lack. Stay at ours.
	nofile=$(hard_limit n 1048576)
	nproc=$(hard_limit u 32768)
	cat >"$PM/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

		[engine]
		runtime = "ctr"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		tmp_dir = "$PM/tmp"

		[engine.runtimes]
		ctr = ["$CTR_PATH"]

		[network]
		network_backend = "netavark"
		network_config_dir = "$PM/networks"
	EOF
	cat >"$PM/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$PM/storage"
		runroot = "$PM/runroot"
	EOF
	cat >"$PM/podman" <<-EOF
		#!/bin/sh
		export CONTAINERS_CONF="$PM/containers.conf" CONTAINERS_STORAGE_CONF="$PM/storage.conf"
		exec podman --root "$PM/storage" --runroot "$PM/runroot" --tmpdir "$PM/tmp" \\
			--network-config-dir "$PM/networks" --storage-driver overlay "\$@"
	EOF
	chmod 0755 "$PM/podman"
}

# Imports a busybox rootfs (Debian's busybox-static with `--install -s` links) as $IMAGE.
import_busybox_image() {
	local rootfs=$PM/rootfs busybox
	busybox=$(command -v busybox) || fail "busybox not found (apt-get install busybox-static)" || return 1
	if file -L "$busybox" 2>/dev/null | grep -q dynamic; then
		fail "$busybox is not static (apt-get install busybox-static)" || return 1
	fi
	mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root}
	chmod 1777 "$rootfs/tmp"
	cp "$busybox" "$rootfs/bin/busybox"
	chroot "$rootfs" /bin/busybox --install -s /bin
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
	printf '%s\n' 'root:x:0:' >"$rootfs/etc/group"
	tar -C "$rootfs" -c . | pm import - "$IMAGE" >/dev/null || fail "podman import failed" || return 1
	rm -rf "$rootfs"
}

# The bridge network of this file, then made the default for its containers.
# podman 4.3 has no --interface-name: the bridge's name is set in the network's file.
create_podman_network() {
	local f=$PM/networks/$PODMAN_NET.json
	pm network create --subnet "$PODMAN_SUBNET" --disable-dns "$PODMAN_NET" >/dev/null ||
		fail "podman network create failed" || return 1
	[ -f "$f" ] || fail "podman wrote no $f" || return 1
	jq --arg i "$PODMAN_BRIDGE" '.network_interface = $i' "$f" >"$f.new" && mv "$f.new" "$f"
	# [network] is the last section of containers.conf
	echo "default_network = \"$PODMAN_NET\"" >>"$PM/containers.conf"
}

# Host paths and firewall chains that podman/netavark create on first use and never remove.
# Recorded before the file runs, so teardown removes only what this file created.
record_host_state() {
	local p
	: >"$PM/host-before"
	for p in /run/netns /run/containers /var/lib/containers /sys/fs/cgroup/*/libpod_parent \
		/sys/fs/cgroup/libpod_parent; do
		[ -e "$p" ] && echo "path $p" >>"$PM/host-before"
	done
	if command -v iptables-save >/dev/null; then
		iptables-save 2>/dev/null | grep -q NETAVARK && echo "netavark-chains" >>"$PM/host-before"
		for p in filter nat; do
			nft list table ip "$p" >/dev/null 2>&1 && echo "table $p" >>"$PM/host-before"
		done
	fi
	return 0
}

existed_before() {
	grep -qxF "$1" "$PM/host-before" 2>/dev/null
}

# Removes netavark's chains, /run/netns, /run/containers, /var/lib/containers/cache and
# podman's cgroupfs parent (libpod_parent, with its conmon child) when they were not there
# before this file ran. Cgroups go only when empty (rmdir).
restore_host_state() {
	local p t r c
	for p in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
		if [ -d "$p" ] && ! existed_before "path $p"; then
			find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		fi
	done
	if command -v iptables-save >/dev/null && ! existed_before netavark-chains; then
		for t in filter nat; do
			iptables-save -t "$t" 2>/dev/null | grep '^-A' | grep NETAVARK | while read -r r; do
				eval "iptables -t $t -D ${r#-A }" 2>/dev/null || true
			done
			iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(NETAVARK[^ ]*\) .*/\1/p' |
				while read -r c; do iptables -t "$t" -X "$c" 2>/dev/null || true; done
			if ! existed_before "table $t" && [ "$(iptables-save -t "$t" 2>/dev/null | grep -c '^-A')" = 0 ]; then
				nft delete table ip "$t" 2>/dev/null || true
			fi
		done
	fi
	# podman makes /run/netns a shared bind mount of itself
	if ! existed_before "path /run/netns" && [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ]; then
		umount /run/netns 2>/dev/null || true
		rmdir /run/netns 2>/dev/null || true
	fi
	existed_before "path /run/containers" || rm -rf /run/containers
	existed_before "path /var/lib/containers" || rm -rf /var/lib/containers
}

# Containers the runtime (at its default root, where podman keeps them) still has from us.
leaked_runtime_state() {
	"$CTR_PATH" list --format json 2>/dev/null |
		jq -r --arg p "$PM/" '.[]? | select(.bundle | startswith($p)) | .id' 2>/dev/null || true
}

leaked_podman_mounts() {
	[ -n "${PM:-}" ] || return 0
	grep -F " $PM/" /proc/self/mountinfo | awk '{print $5}' | grep -vx "$PM/storage/overlay" || true
}

# conmon and container processes of this file (conmon's command line names $PM).
leaked_podman_processes() {
	[ -n "${PM:-}" ] || return 0
	pgrep -af -- "$PM/" | grep -v "^$$ " || true
}

check_podman_leaks() {
	local mounts procs state
	wait_until_none leaked_podman_processes || true
	mounts=$(leaked_podman_mounts)
	procs=$(leaked_podman_processes)
	state=$(leaked_runtime_state)
	[ -z "$mounts$procs$state" ] && return 0
	[ -z "$mounts" ] || echo "leaked mounts: $mounts" >&2
	[ -z "$procs" ] || echo "leaked processes: $procs" >&2
	[ -z "$state" ] || echo "leaked runtime state (containers at $CTR_PATH's default root): $state" >&2
	return 1
}

remove_podman_leftovers() {
	local id m pid
	for id in $(leaked_runtime_state); do
		"$CTR_PATH" delete --force "$id" >/dev/null 2>&1 || true
	done
	for pid in $(leaked_podman_processes | awk '{print $1}'); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	leaked_podman_mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# The setup and teardown of a podman test file: setup_file() { podman_setup_file; } and so on.
# Once per file: the private podman home ($PM, short, because conmon's socket paths must fit
# in 108 bytes), its config, the image and the network. Exported values reach the tests.
# (bats 1.8 cannot skip from setup_file: the reason goes to setup.)
podman_setup_file() {
	if PODMAN_SKIP=$(podman_missing); then
		export PODMAN_SKIP
		return 0
	fi
	[ -x "$CTR" ] || fail "runtime not found: $CTR (build it, or set CTR)" || return 1
	CTR_PATH=$(realpath "$CTR")
	PM=$(mktemp -d /tmp/ctr-podman.XXXXXX)
	export CTR_PATH PM
	record_host_state
	write_podman_config
	import_busybox_image || return 1
	create_podman_network || return 1
}

podman_teardown_file() {
	if [ -z "${PM:-}" ] || [ ! -d "$PM" ]; then
		return 0
	fi
	local leaks=0
	pm rm -af -t 0 >/dev/null 2>&1 || true
	pm rmi -af >/dev/null 2>&1 || true
	pm system reset -f >/dev/null 2>&1 || true
	if grep -qF " $PM/" /proc/self/mountinfo; then
		echo "leaked mounts after podman system reset:" >&2
		grep -F " $PM/" /proc/self/mountinfo >&2
		leaks=1
		grep -F " $PM/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done
	fi
	rm -rf "$PM"
	restore_host_state
	return $leaks
}

# In place of helpers.bash's per-test setup, which makes runtime state roots podman does not use.
podman_setup() {
	[ -z "${PODMAN_SKIP:-}" ] || skip "$PODMAN_SKIP"
}

podman_teardown() {
	[ -n "${PM:-}" ] || return 0
	pm rm -af -t 0 >/dev/null 2>&1 || true
	check_podman_leaks && return 0
	remove_podman_leftovers
	return 1
}
