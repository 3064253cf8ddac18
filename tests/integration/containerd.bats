#!/usr/bin/env bats
# containerd.bats: ctr as the runtime of containerd's runc shim (io.containerd.runc.v2, the
# shim Kubernetes reaches through containerd), on a private containerd: its own config,
# root, state, socket and namespace, started and stopped by this file.
#
# Two ways in. containerd's own client (`ctr run --runc-binary`), and the CRI plugin, the
# way Kubernetes comes, where config.toml alone names the runtime (BinaryName): the CRI
# calls are made by a small gRPC client of this file (python3-grpcio), as the kubelet would.
#
# containerd's client is also called ctr. Here it is always $CLIENT, an absolute path
# (/usr/bin/ctr, or /usr/bin/containerd-ctr where ctr's Debian package diverts it), and
# always through cctr or the $CD/cctr wrapper; the runtime under test is $CTR.

# bats sets $stderr (run --separate-stderr)
# shellcheck disable=SC2154
load helpers

IMAGE=localhost/ctr-busybox:latest
# the same busybox, running `sleep` by default: the CRI's pod sandboxes run it
PAUSE_IMAGE=localhost/ctr-busybox:pause
# the CRI plugin keeps everything in this namespace of containerd
CRI_NS=k8s.io

# containerd's client: the first of these whose --version names containerd.
find_containerd_client() {
	local c
	for c in /usr/bin/containerd-ctr /usr/bin/ctr; do
		if [ -x "$c" ] && timeout 10 "$c" --version 2>/dev/null | grep -q containerd; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# Why the file is skipped on this host, or nothing.
containerd_missing() {
	[ "$(id -u)" = 0 ] || { echo "containerd tests need root" && return 0; }
	command -v containerd >/dev/null ||
		{ echo "containerd is not installed (apt-get install containerd)" && return 0; }
	command -v containerd-shim-runc-v2 >/dev/null ||
		{ echo "containerd-shim-runc-v2 is not installed (apt-get install containerd)" && return 0; }
	find_containerd_client >/dev/null ||
		{ echo "containerd's client is neither /usr/bin/ctr nor /usr/bin/containerd-ctr (apt-get install containerd)" && return 0; }
	command -v umoci >/dev/null ||
		{ echo "umoci is not installed, the test image is built with it (apt-get install umoci)" && return 0; }
	return 1
}

# cctr ARGS...: containerd's client on this file's containerd and namespace ($CCTR_NS, when
# set: the CRI's). Every call has a timeout, so a hang fails the test instead of blocking
# the suite.
cctr() {
	timeout -k 5 30 "$CLIENT" --address "$CD/containerd.sock" --namespace "${CCTR_NS:-$NS}" "$@"
}

# ctr_at ROOT ARGS...: the runtime on a state root of the shim's. The shim passes it
# --root ROOT/NAMESPACE, ROOT being the runc options' Root (--runc-root).
ctr_at() {
	local root=$1
	shift
	timeout -k 5 30 "$CTR" --root "$root" "$@"
}

# ctr on the root of containerd's own client's containers.
ctr_on_shim_root() {
	ctr_at "$CD/runc/$NS" "$@"
}

# $CD/config.toml: containerd 1.6, config version 2; everything under $CD. The CRI part is
# docs/containerd.md's: a runtime "ctr" of type io.containerd.runc.v2 whose BinaryName is
# $CTR, made the default; its Root (the runtime's --root, ROOT/k8s.io) is in $CD too. The
# sandbox ("pause") image is ours; no CNI: the pods here use the host's network.
write_containerd_config() {
	# Lowering a process's oom_score_adj (the CRI gives sandboxes -998) needs
	# CAP_SYS_RESOURCE, which sandboxed hosts lack: runc, crun and ctr all fail there alike.
	# restrict_oom_score_adj keeps the CRI's values at or above containerd's own.
	local restrict_oom=false
	sh -c 'echo -1 >/proc/self/oom_score_adj' 2>/dev/null || restrict_oom=true
	cat >"$CD/config.toml" <<-EOF
		version = 2
		root = "$CD/root"
		state = "$CD/state"

		[grpc]
		  address = "$CD/containerd.sock"

		[ttrpc]
		  address = "$CD/containerd.sock.ttrpc"

		[plugins."io.containerd.runtime.v2.task"]
		  platforms = ["linux/$(containerd_arch)"]

		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "$PAUSE_IMAGE"
		  restrict_oom_score_adj = $restrict_oom
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    default_runtime_name = "ctr"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctr]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctr.options]
		        BinaryName = "$CTR_PATH"
		        Root = "$CD/runc"
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "$CD/cni/bin"
		    conf_dir = "$CD/cni/conf"
	EOF
	# the wrapper for `script -c`, which runs a command line, not a shell function. Its
	# timeout stays in the terminal's foreground process group (--foreground): in a group of
	# its own, the client's raw mode (tcsetattr) would stop it with SIGTTOU whenever
	# script's shell ($SHELL) forks the wrapper instead of exec'ing it (dash does).
	cat >"$CD/cctr" <<-EOF
		#!/bin/sh
		exec timeout --foreground -k 5 30 "$CLIENT" --address "$CD/containerd.sock" --namespace "$NS" "\$@"
	EOF
	chmod 0755 "$CD/cctr"
}

containerd_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	*) uname -m ;;
	esac
}

# $CD/cri.py: a CRI client (runtime.v1, the kubelet's API) for the calls the tests make,
# each a subcommand. The messages are encoded by hand (protobuf's wire format: a varint
# key, field number << 3 | type, then a varint or a length and bytes), so only grpcio is
# needed. The pod is $POD_NAME in $POD_NAMESPACE under cgroup $POD_CGROUP_PARENT, logging
# to $POD_LOG_DIR, on the host's network (NamespaceMode NODE: no CNI).
write_cri_client() {
	cat >"$CD/cri.py" <<-'EOF'
		import os, sys, grpc

		def varint(n):
		    out = bytearray()
		    while n > 0x7f:
		        out.append(n & 0x7f | 0x80)
		        n >>= 7
		    return bytes(out + bytes([n]))

		# msg((number, value), ...): ints are varints, str/bytes length-delimited (also messages)
		def msg(*fields):
		    out = b""
		    for num, v in fields:
		        if isinstance(v, int):
		            out += varint(num << 3) + varint(v)
		        else:
		            v = v.encode() if isinstance(v, str) else v
		            out += varint(num << 3 | 2) + varint(len(v)) + v
		    return out

		def read_varint(data, i):
		    n = shift = 0
		    while True:
		        b = data[i]
		        n, i, shift = n | (b & 0x7f) << shift, i + 1, shift + 7
		        if not b & 0x80:
		            return n, i

		# parse(bytes) -> {number: first value}: varints as ints, the rest as bytes
		def parse(data):
		    out, i = {}, 0
		    while i < len(data):
		        key, i = read_varint(data, i)
		        if key & 7 == 0:
		            v, i = read_varint(data, i)
		        elif key & 7 == 2:
		            n, i = read_varint(data, i)
		            v, i = data[i:i + n], i + n
		        else:
		            size = 8 if key & 7 == 1 else 4
		            v, i = data[i:i + size], i + size
		        out.setdefault(key >> 3, v)
		    return out

		def sandbox_config():
		    e = os.environ
		    metadata = msg((1, e["POD_NAME"]), (2, e["POD_NAME"] + "-uid"), (3, e["POD_NAMESPACE"]))
		    namespace_options = msg((1, 2))  # network: NODE
		    linux = msg((1, e["POD_CGROUP_PARENT"]), (2, msg((1, namespace_options))))
		    return msg((1, metadata), (3, e["POD_LOG_DIR"]), (8, linux))

		def call(method, request):
		    channel = grpc.insecure_channel("unix://" + os.environ["CRI_SOCK"])
		    rpc = channel.unary_unary("/runtime.v1.RuntimeService/" + method)
		    return parse(rpc(request, timeout=25))

		def main(cmd, *args):
		    if cmd == "version":
		        r = call("Version", msg((1, "v1")))
		        print(r[2].decode(), r[3].decode())
		    elif cmd == "runp":  # [RUNTIME_HANDLER] -> pod id
		        r = call("RunPodSandbox", msg((1, sandbox_config()), (2, args[0] if args else "")))
		        print(r[1].decode())
		    elif cmd == "create":  # POD NAME IMAGE LOG_PATH ARGS... -> container id
		        pod, name, image, log = args[:4]
		        config = msg((1, msg((1, name))), (2, msg((1, image))),
		                     *[(4, a) for a in args[4:]], (11, log))
		        r = call("CreateContainer", msg((1, pod), (2, config), (3, sandbox_config())))
		        print(r[1].decode())
		    elif cmd == "start":  # CONTAINER
		        call("StartContainer", msg((1, args[0])))
		    elif cmd == "exec":  # CONTAINER ARGS...: their output, and their exit code
		        r = call("ExecSync", msg((1, args[0]), *[(2, a) for a in args[1:]], (3, 20)))
		        sys.stdout.write(r.get(1, b"").decode())
		        sys.stderr.write(r.get(2, b"").decode())
		        return r.get(3, 0)
		    elif cmd == "status":  # CONTAINER -> STATE EXIT_CODE
		        status = parse(call("ContainerStatus", msg((1, args[0])))[1])
		        state = ["CREATED", "RUNNING", "EXITED", "UNKNOWN"][status.get(3, 0)]
		        print(state, status.get(7, 0))
		    elif cmd in ("stopp", "rmp"):  # POD
		        call({"stopp": "StopPodSandbox", "rmp": "RemovePodSandbox"}[cmd], msg((1, args[0])))
		    else:
		        sys.exit("cri.py: unknown command " + cmd)
		    return 0

		try:
		    sys.exit(main(*sys.argv[1:]))
		except grpc.RpcError as e:
		    sys.exit("cri.py: %s: %s" % (e.code().name, e.details()))
	EOF
}

# cri COMMAND ARGS...: one CRI call (write_cri_client), for the test's pod.
cri() {
	CRI_SOCK=$CD/containerd.sock POD_NAME=$MARKER POD_NAMESPACE=$NS POD_CGROUP_PARENT=/$NS \
		POD_LOG_DIR=$CD/pod-logs/$MARKER timeout -k 5 30 /usr/bin/python3 "$CD/cri.py" "$@"
}

# Starts containerd in the background (its fd 3 closed: bats waits on it) and waits for
# its socket to answer.
start_containerd() {
	CTR_TEST_MARKER=$CD_MARKER containerd --config "$CD/config.toml" \
		</dev/null >"$CD/containerd.log" 2>&1 3>&- &
	echo $! >"$CD/containerd.pid"
	local tries=200
	until [ -S "$CD/containerd.sock" ] && cctr version >/dev/null 2>&1; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ] || ! kill -0 "$(cat "$CD/containerd.pid")" 2>/dev/null; then
			echo "containerd did not start; its log:" >&2
			tail -20 "$CD/containerd.log" >&2
			return 1
		fi
		sleep 0.05
	done
}

# An OCI image of Debian's static busybox, built offline with umoci, imported as $IMAGE.
import_busybox_image() {
	local lay=$CD/layout b=$CD/umoci-bundle busybox
	busybox=$(command -v busybox) || fail "busybox not found (apt-get install busybox-static)" || return 1
	if file -L "$busybox" 2>/dev/null | grep -q dynamic; then
		fail "$busybox is not static (apt-get install busybox-static)" || return 1
	fi
	umoci init --layout "$lay" &&
		umoci new --image "$lay:latest" &&
		umoci unpack --image "$lay:latest" "$b" >/dev/null || fail "umoci failed" || return 1
	mkdir -p "$b/rootfs"/{bin,etc,proc,sys,dev,tmp,root}
	chmod 1777 "$b/rootfs/tmp"
	cp "$busybox" "$b/rootfs/bin/busybox"
	chroot "$b/rootfs" /bin/busybox --install -s /bin
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' >"$b/rootfs/etc/passwd"
	printf '%s\n' 'root:x:0:' >"$b/rootfs/etc/group"
	umoci repack --image "$lay:latest" "$b" || fail "umoci repack failed" || return 1
	rm -rf "$b"
	# PATH, as real images have it: the CRI gives the container the image's environment
	umoci config --image "$lay:latest" \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin &&
		umoci config --image "$lay:latest" --tag "${PAUSE_IMAGE##*:}" \
		--config.cmd sleep --config.cmd 1000000000 || fail "umoci config failed" || return 1
	tar -C "$lay" -cf "$CD/image.tar" . || return 1
	local ns
	for ns in "$NS" "$CRI_NS"; do
		CCTR_NS=$ns cctr images import --base-name "${IMAGE%:*}" "$CD/image.tar" >/dev/null ||
			fail "containerd could not import the image" || return 1
	done
	rm -rf "$lay" "$CD/image.tar"
	[ "$(cctr images ls -q | sort | tr '\n' ' ')" = "$IMAGE $PAUSE_IMAGE " ] ||
		fail "imported images: $(cctr images ls -q)"
}

# Once per file: the private containerd ($CD, under /tmp; the shim's own sockets are
# hashed into /run/containerd/s, whatever the config), its namespace $NS (also the parent
# of its containers' cgroups), the image. Exported values reach the tests.
# (bats 1.8 cannot skip from setup_file: the reason goes to setup.)
setup_file() {
	if CONTAINERD_SKIP=$(containerd_missing); then
		export CONTAINERD_SKIP
		return 0
	fi
	[ -x "$CTR" ] || fail "runtime not found: $CTR (build it, or set CTR)" || return 1
	CTR_PATH=$(realpath "$CTR")
	CLIENT=$(find_containerd_client)
	CD=$(mktemp -d /tmp/ctr-containerd.XXXXXX)
	NS=ctrtest-$$
	CD_MARKER=ctr-containerd-$$
	export CTR_PATH CLIENT CD NS CD_MARKER
	: >"$CD/host-before"
	for p in /run/containerd /run/containerd/s; do
		[ -e "$p" ] && echo "$p" >>"$CD/host-before"
	done
	if ! /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
		export CRI_SKIP="no CRI client: python3-grpcio is not installed (apt-get install python3-grpcio)"
	fi
	write_containerd_config
	write_cri_client
	start_containerd || return 1
	import_busybox_image || return 1
}

# Pods the test made, through the CRI; then every task and container left in $NS and in
# the CRI's namespace, through containerd.
remove_all_containers() {
	local id pod ns
	for pod in "${PODS[@]}"; do
		cri stopp "$pod" >/dev/null 2>&1 || true
		cri rmp "$pod" >/dev/null 2>&1 || true
	done
	PODS=()
	for ns in "$NS" "$CRI_NS"; do
		for id in $(CCTR_NS=$ns cctr tasks ls -q 2>/dev/null); do
			CCTR_NS=$ns cctr tasks delete -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(CCTR_NS=$ns cctr containers ls -q 2>/dev/null); do
			CCTR_NS=$ns cctr containers delete "$id" >/dev/null 2>&1 || true
		done
	done
}
PODS=()

# kill_shims [STRING]: SIGKILL for this containerd's shims (those whose command line has
# STRING), and their sockets, which a killed shim leaves in the host's /run/containerd/s:
# each is named SHA-256(ADDRESS/NAMESPACE/ID).
kill_shims() {
	local pid args ns id
	for pid in $(pgrep -f -- "-address $CD/containerd.sock"); do
		args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		[[ $args == *"${1:-}"* ]] || continue
		ns=$(sed -n 's/.* -namespace \([^ ]*\) .*/\1/p' <<<"$args")
		id=$(sed -n 's/.* -id \([^ ]*\) .*/\1/p' <<<"$args")
		kill -KILL "$pid" 2>/dev/null || true
		if [ -n "$ns" ] && [ -n "$id" ]; then
			rm -f "/run/containerd/s/$(printf %s "$CD/containerd.sock/$ns/$id" | sha256sum | cut -c1-64)"
		fi
	done
}

# Processes of this file's containerd: the shims (their command line names its socket),
# and whatever still carries the marker of containerd's environment (shims, runtimes).
containerd_processes() {
	local pid
	{
		pgrep -f -- "-address $CD/containerd.sock"
		grep -lszFx "CTR_TEST_MARKER=$CD_MARKER" /proc/[0-9]*/environ | sed 's|^/proc/||; s|/environ$||'
	} | sort -u | while read -r pid; do
		[ "$pid" != "$$" ] || continue
		[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ] && continue
		[ -e "/proc/$pid" ] && echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
}

# The namespace's cgroup parents (/sys/fs/cgroup/*/$NS: the client's cgroupsPath is
# /NAMESPACE/ID); runtimes remove the container's cgroup, not its parent.
namespace_cgroups() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$NS" 2>/dev/null
}

teardown_file() {
	if [ -z "${CD:-}" ] || [ ! -d "$CD" ]; then
		return 0
	fi
	local leaks=0 pid left m root
	remove_all_containers
	pid=$(cat "$CD/containerd.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && ! wait_until process_gone "$pid"; then
		echo "containerd ignored SIGTERM" >&2
		leaks=1
		kill -KILL "$pid" 2>/dev/null || true
		wait_until process_gone "$pid" || true
	fi
	# shims outlive containerd by design: every one of this containerd's should be gone
	left=$(containerd_processes)
	if [ -n "$left" ]; then
		echo "leaked processes: $left" >&2
		leaks=1
		kill_shims
		while read -r pid _; do kill -KILL "$pid" 2>/dev/null || true; done <<<"$left"
	fi
	for root in "$CD/runc/$NS" "$CD/runc/$CRI_NS"; do
		left=$(ctr_at "$root" list -q 2>/dev/null || true)
		[ -n "$left" ] || continue
		echo "leaked runtime state in $root: $left" >&2
		leaks=1
		for m in $left; do ctr_at "$root" delete --force "$m" >/dev/null 2>&1 || true; done
	done
	if grep -qF " $CD/" /proc/self/mountinfo; then
		echo "leaked mounts:" >&2
		grep -F " $CD/" /proc/self/mountinfo >&2
		leaks=1
		grep -F " $CD/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done
	fi
	left=$(namespace_cgroups | while read -r m; do find "$m" -mindepth 1 -type d; done)
	if [ -n "$left" ]; then
		echo "leaked cgroups: $left" >&2
		leaks=1
	fi
	namespace_cgroups | while read -r m; do
		find "$m" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
	rm -rf "$CD/root" "$CD/state" # containerd's, with the image's layers
	grep -qxF /run/containerd/s "$CD/host-before" || rmdir /run/containerd/s 2>/dev/null || true
	grep -qxF /run/containerd "$CD/host-before" || rmdir /run/containerd 2>/dev/null || true
	rm -rf "$CD"
	return $leaks
}

# helpers.bash's MARKER (container ids, and the containers' environment) and STATE_ROOT
# (here the state root the shim gives ctr) keep its leak checks working.
# RUN_OPTS: the options of `ctr run` that make ctr the runc shim's runtime (containerd's own
# client takes no runtime options from config.toml: only the CRI plugin does), keep the
# runtime's state root and the client's fifos inside $CD, and put the marker in the
# container's environment.
setup() {
	[ -z "${CONTAINERD_SKIP:-}" ] || skip "$CONTAINERD_SKIP"
	MARKER=ctr-test-${BATS_SUITE_TEST_NUMBER}-$$
	STATE_ROOT=$CD/runc/$NS
	RUN_OPTS=(--runc-binary "$CTR_PATH" --runc-root "$CD/runc" --fifo-dir "$CD/fifo"
		--env "CTR_TEST_MARKER=$MARKER")
}

# Mounts of this test's containers (their rootfs under containerd's state) and containerd
# objects still named after them.
check_no_containerd_leaks() {
	local mounts objects
	mounts=$(grep -F "/$MARKER" /proc/self/mountinfo || true)
	objects=$( (cctr containers ls -q; cctr tasks ls -q; cctr snapshots ls) 2>&1 | grep -F "$MARKER" || true)
	[ -z "$mounts$objects" ] && return 0
	[ -z "$mounts" ] || echo "leaked mounts: $mounts" >&2
	[ -z "$objects" ] || echo "left in containerd: $objects" >&2
	return 1
}

teardown() {
	[ -n "${MARKER:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "containerd's log, last lines:" >&2
		tail -15 "$CD/containerd.log" >&2
	fi
	remove_all_containers
	check_no_leaks && check_no_containerd_leaks && return 0
	kill_shims "-id $MARKER"
	remove_leftovers
	return 1
}

# run_client ARGS...: like bats `run cctr ARGS...`, with stdio on a file: a detached task's
# fifos stay open after the client exits, so a `run` pipe may not reach end of file.
run_client() {
	run_logged cctr "$@"
}

@test "containerd: the runc shim runs ctr, which keeps the container in the shim's root" {
	run_client run -d "${RUN_OPTS[@]}" "$IMAGE" "$(cid)" sleep 100
	assert_success
	run cctr tasks ls
	assert_success
	local pid
	pid=$(awk -v id="$(cid)" '$1 == id && $3 == "RUNNING" {print $2}' <<<"$output")
	[ -n "$pid" ] || fail "no running task $(cid): $output"

	# the shim called $CTR with --root $CD/runc/$NS: our runtime knows the container there,
	# with the pid containerd reports
	run ctr_on_shim_root state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state: $output"
	[ "$(jq -r .pid <<<"$output")" = "$pid" ] || fail "runtime pid $(jq -r .pid <<<"$output"), containerd's $pid"
	[ "$(jq -r .bundle <<<"$output")" = "$CD/state/io.containerd.runtime.v2.task/$NS/$(cid)" ] ||
		fail "bundle: $output"
	run ctr_on_shim_root list -q
	assert_success
	[ "$output" = "$(cid)" ] || fail "runtime list: $output"
	grep -qF "CTR_TEST_MARKER=$MARKER" "/proc/$pid/environ" || fail "the task's environment lacks the marker"
}

@test "containerd: run --rm prints the output and passes the exit code through" {
	run cctr run --rm "${RUN_OPTS[@]}" "$IMAGE" "$(cid)" echo hello from ctr
	assert_success
	[ "$output" = "hello from ctr" ] || fail "expected 'hello from ctr', got: $output"

	run cctr run --rm "${RUN_OPTS[@]}" "$IMAGE" "$(cid 2)" sh -c 'exit 3'
	assert_status 3

	# --rm removed the containers; the runtime kept nothing
	run cctr containers ls -q
	assert_success
	[ -z "$output" ] || fail "containers left after run --rm: $output"
	[ -z "$(ls -A "$STATE_ROOT" 2>/dev/null)" ] || fail "runtime state left: $(ls -A "$STATE_ROOT")"
}

@test "containerd: exec into a detached task, its output, exit status and ps" {
	run_client run -d "${RUN_OPTS[@]}" "$IMAGE" "$(cid)" sleep 100
	assert_success

	run cctr tasks exec --exec-id e1 --fifo-dir "$CD/fifo" "$(cid)" echo hi
	assert_success
	[ "$output" = hi ] || fail "exec printed: $output"

	run cctr tasks exec --exec-id e2 --fifo-dir "$CD/fifo" "$(cid)" sh -c 'exit 4'
	assert_status 4

	# the exec runs in the container: its pid namespace, where sleep is pid 1
	run cctr tasks exec --exec-id e3 --fifo-dir "$CD/fifo" "$(cid)" sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_success
	[ "$output" = "sleep 100 " ] || fail "pid 1 in the container: '$output'"

	# tasks ps asks the runtime (ps --format json) for the container's processes
	run cctr tasks ps "$(cid)"
	assert_success
	local pid
	pid=$(cctr tasks ls | awk -v id="$(cid)" '$1 == id {print $2}')
	[ -n "$pid" ] || fail "no task $(cid)"
	awk 'NR > 1 {print $1}' <<<"$output" | grep -qx "$pid" || fail "tasks ps lacks pid $pid: $output"
}

@test "containerd: run -t and exec -t give the task a terminal" {
	command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
	# script's stdin must not reach end of file (it would send ^D into the pty): a fifo we
	# hold open never ends. The size set on script's pty is the one the client gives the
	# task's, once it has started (so the container waits for it).
	mkfifo "$BATS_TEST_TMPDIR/stdin"
	exec {keep}<>"$BATS_TEST_TMPDIR/stdin" # not fd 3: bats reports through it
	run script -qec "stty cols 123 rows 45; $CD/cctr run --rm -t ${RUN_OPTS[*]} $IMAGE $(cid) \
		sh -c 'tty; test -t 0 && test -t 1 && echo both-ttys
			for i in \$(seq 100); do [ \"\$(stty size 2>&1)\" = \"45 123\" ] && break; sleep 0.05; done
			stty size; exit 6'" /dev/null <"$BATS_TEST_TMPDIR/stdin"
	assert_status 6
	assert_output_contains /dev/pts/0 both-ttys "45 123"

	run_client run -d "${RUN_OPTS[@]}" "$IMAGE" "$(cid 2)" sleep 100
	assert_success
	run script -qec "$CD/cctr tasks exec -t --exec-id t1 --fifo-dir $CD/fifo $(cid 2) \
		sh -c 'tty; test -t 0 && echo exec-tty'" /dev/null <"$BATS_TEST_TMPDIR/stdin"
	exec {keep}>&-
	assert_success
	assert_output_contains /dev/pts/ exec-tty
}

# frozen PID: the freezer holds PID's cgroup frozen (v1: freezer.state; v2: cgroup.events).
frozen() {
	local p
	p=$(awk -F: '$2 ~ /(^|,)freezer(,|$)/ {print $3}' "/proc/$1/cgroup")
	if [ -n "$p" ]; then
		[ "$(cat "/sys/fs/cgroup/freezer$p/freezer.state")" = FROZEN ]
	else
		p=$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup")
		grep -qx 'frozen 1' "/sys/fs/cgroup$p/cgroup.events"
	fi
}

@test "containerd: pause and resume reach the runtime" {
	run_client run -d "${RUN_OPTS[@]}" "$IMAGE" "$(cid)" sleep 100
	assert_success

	run cctr tasks pause "$(cid)"
	assert_success
	run cctr tasks ls
	assert_success
	[ "$(awk -v id="$(cid)" '$1 == id {print $3}' <<<"$output")" = PAUSED ] || fail "after pause: $output"
	run ctr_on_shim_root state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = paused ] || fail "runtime state after pause: $output"
	local pid
	pid=$(jq -r .pid <<<"$output")
	frozen "$pid" || fail "the container's cgroup is not frozen"

	run cctr tasks resume "$(cid)"
	assert_success
	run cctr tasks ls
	assert_success
	[ "$(awk -v id="$(cid)" '$1 == id {print $3}' <<<"$output")" = RUNNING ] || fail "after resume: $output"
	run ctr_on_shim_root state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = running ] || fail "runtime state after resume: $output"
	! frozen "$pid" || fail "the container's cgroup is still frozen"
	run cctr tasks exec --exec-id e2 --fifo-dir "$CD/fifo" "$(cid)" echo alive
	assert_success
	[ "$output" = alive ] || fail "exec after resume: $output"
}

@test "containerd: kill, delete, and nothing of the container is left" {
	run_client run -d "${RUN_OPTS[@]}" "$IMAGE" "$(cid)" sleep 100
	assert_success
	local pid
	pid=$(cctr tasks ls | awk -v id="$(cid)" '$1 == id {print $2}')
	[ -n "$pid" ] || fail "no task $(cid)"
	[ -n "$(leaked_cgroups)" ] || fail "the container has no cgroup named $(cid)"

	run cctr tasks kill -s SIGKILL "$(cid)"
	assert_success
	task_stopped() {
		[ "$(cctr tasks ls | awk -v id="$(cid)" '$1 == id {print $3}')" = STOPPED ]
	}
	wait_until task_stopped
	wait_until process_gone "$pid"
	run ctr_on_shim_root state "$(cid)"
	assert_success
	[ "$(jq -r .status <<<"$output")" = stopped ] || fail "runtime state after kill: $output"

	run cctr tasks delete "$(cid)"
	assert_success
	assert_output_contains "exit code 137"
	run cctr containers delete "$(cid)"
	assert_success
	run cctr containers ls -q
	assert_success
	[ -z "$output" ] || fail "containers left: $output"

	# the runtime's state, the container's cgroups and rootfs mount are gone
	[ -z "$(ls -A "$STATE_ROOT" 2>/dev/null)" ] || fail "runtime state left: $(ls -A "$STATE_ROOT")"
	[ -z "$(leaked_cgroups)" ] || fail "cgroups left: $(leaked_cgroups)"
	! grep -qF "/$(cid)/rootfs" /proc/self/mountinfo || fail "the rootfs is still mounted"
}

# cgroups_of ID: the cgroup directories of a pod or container, under /$NS (v1: one per
# hierarchy; v2: one).
cgroups_of() {
	find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$NS/$1"
}

@test "containerd: the CRI plugin runs a pod on ctr from config.toml alone" {
	[ -z "${CRI_SKIP:-}" ] || skip "$CRI_SKIP"
	local cri_root=$CD/runc/$CRI_NS pod c1 c1_pid
	run cri version
	assert_success
	assert_output_contains containerd

	# no runtime handler: the default runtime, "ctr"
	mkdir -p "$CD/pod-logs/$MARKER"
	run cri runp
	assert_success
	pod=$output
	PODS+=("$pod")
	[[ $pod =~ ^[0-9a-f]{64}$ ]] || fail "expected a pod sandbox id, got: $pod"
	# the shim ran BinaryName with Root/k8s.io as its --root: ctr has the sandbox there
	run ctr_at "$cri_root" state "$pod"
	assert_success
	[ "$(jq -r .status <<<"$output")" = running ] || fail "the sandbox in ctr: $output"

	run cri create "$pod" c1 "$IMAGE" c1.log sh -c 'echo hello from a pod; exec sleep 100'
	assert_success
	c1=$output
	run cri start "$c1"
	assert_success
	run cri status "$c1"
	assert_success
	[ "$output" = "RUNNING 0" ] || fail "container status: $output"
	run ctr_at "$cri_root" state "$c1"
	assert_success
	[ "$(jq -r .status <<<"$output")" = running ] || fail "the container in ctr: $output"
	c1_pid=$(jq -r .pid <<<"$output")
	# their cgroups: under the pod's cgroup_parent, named after them
	[ -n "$(cgroups_of "$pod")" ] && [ -n "$(cgroups_of "$c1")" ] ||
		fail "no cgroups of the pod and its container under $NS"

	# its output reaches the CRI's log file (the kubelet's `kubectl logs`)
	wait_until grep -q ' stdout F hello from a pod$' "$CD/pod-logs/$MARKER/c1.log" ||
		fail "the log: $(cat "$CD/pod-logs/$MARKER/c1.log")"

	# ExecSync (the kubelet's exec probes): output, exit code
	run --separate-stderr cri exec "$c1" sh -c 'echo out; echo err >&2; exit 5'
	assert_status 5
	[ "$output" = out ] && [ "$stderr" = err ] || fail "exec: stdout '$output', stderr '$stderr'"
	# the container joined the sandbox's pid namespace, where the pause process is pid 1
	run cri exec "$c1" sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_success
	[ "$output" = "sleep 1000000000 " ] || fail "pid 1 in the pod: '$output'"

	# the kubelet's way out: stop the pod (its containers are killed), remove it
	run cri stopp "$pod"
	assert_success
	run cri status "$c1"
	assert_success
	[ "$output" = "EXITED 137" ] || fail "container status after stopping the pod: $output"
	run cri rmp "$pod"
	assert_success
	PODS=()
	wait_until process_gone "$c1_pid"
	run ctr_at "$cri_root" list -q
	assert_success
	[ -z "$output" ] || fail "the runtime still has: $output"
	[ -z "$(cgroups_of "$pod")$(cgroups_of "$c1")" ] || fail "cgroups left: $(cgroups_of "$pod") $(cgroups_of "$c1")"
	! grep -qF "$CD/state/" /proc/self/mountinfo || fail "mounts left: $(grep -F "$CD/state/" /proc/self/mountinfo)"
}
