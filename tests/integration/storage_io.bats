#!/usr/bin/env bats
# storage_io.bats: moving data in and out of system containers: ctr export and import
# (round trips, checks of hostile archives, kills), ctr cp (stopped and running, both
# directions, symlinks in the container that point at the host).

# shellcheck disable=SC2154
load helpers

setup() {
	system_setup || return 1
	requires_tools tar zstd xz gzip python3 setcap getcap setfacl getfacl setfattr getfattr
	NAME=sio-${BATS_SUITE_TEST_NUMBER}-$$
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$WORK"
	chmod 700 "$WORK"
}

teardown() {
	local n
	[ -n "${MARKER:-}" ] || return 0
	for n in "$CTR_STORE"/* "$CTR_STORE"/.*.new; do
		[ -e "$n" ] || continue
		n=${n##*/}
		n=${n#.}
		ctr destroy -f "${n%.new}" >/dev/null 2>&1 || true
	done
	delete_all_containers
	if [ -n "${LOOP:-}" ]; then
		umount "$WORK/mnt" 2>/dev/null || true
		losetup -d "$LOOP" 2>/dev/null || true
	fi
	check_no_leaks && check_store_empty && return 0
	remove_leftovers
	return 1
}

check_store_empty() {
	[ -z "$(ls -A "$CTR_STORE" 2>/dev/null | grep -v '^\.pools$' || true)" ] ||
		fail "store: $(ls -A "$CTR_STORE")"
	! pgrep -f "^tar .*$WORK" >/dev/null || fail "tar left running: $(pgrep -af "^tar .*$WORK")"
}

# A busybox container with a file of another owner (with an ACL and a user xattr), a
# setuid copy of busybox holding a file capability, and a hard link.
make_marked() {
	local r
	ctr create -t busybox "$1" --net none
	r=$CTR_STORE/$1/rootfs
	echo "data of $1" >"$r/data.txt"
	chown 1234:2345 "$r/data.txt"
	setfacl -m u:4321:r "$r/data.txt"
	setfattr -n user.note -v kept "$r/data.txt"
	cp "$r/bin/busybox" "$r/suid"
	chmod 4755 "$r/suid"
	setcap cap_net_raw+ep "$r/suid"
	chmod 4755 "$r/suid"
	ln "$r/data.txt" "$r/hard.txt"
}

check_marked() {
	local r=$CTR_STORE/$1/rootfs
	[ "$(stat -c '%u:%g %a' "$r/data.txt")" = "1234:2345 644" ] || fail "data.txt: $(stat -c '%u:%g %a' "$r/data.txt")"
	getfacl -n "$r/data.txt" 2>/dev/null | grep -qx "user:4321:r--" || fail "ACL: $(getfacl -n "$r/data.txt")"
	[ "$(getfattr --only-values -n user.note "$r/data.txt")" = kept ] || fail "user.note lost"
	[ "$(stat -c '%a' "$r/suid")" = 4755 ] || fail "suid: $(stat -c '%a' "$r/suid")"
	[[ $(getcap "$r/suid") == *cap_net_raw=ep* ]] || fail "capability: $(getcap "$r/suid")"
	[ "$(stat -c '%i' "$r/data.txt")" = "$(stat -c '%i' "$r/hard.txt")" ] || fail "hard link lost"
}

@test "export/import: round trip through zstd keeps data, owners, setuid bit and capability" {
	make_marked "$NAME"
	run ctr export "$NAME" "$WORK/c.tar.zst"
	assert_success
	[ "$(stat -c %a "$WORK/c.tar.zst")" = 600 ]
	[ "$(ls -A "$WORK")" = c.tar.zst ] || fail "left: $(ls -A "$WORK")"
	zstd -t -q "$WORK/c.tar.zst"
	tar --zstd -tf "$WORK/c.tar.zst" | grep -qx "$NAME/ctr.json"
	ctr destroy "$NAME"
	run ctr import "$WORK/c.tar.zst"
	assert_success
	[ "$output" = "$NAME" ]
	check_marked "$NAME"
	run ctr start "$NAME"
	assert_success
	run ctr attach "$NAME" -- cat /data.txt
	[ "$output" = "data of $NAME" ]
	run ctr attach "$NAME" -- hostname
	[ "$output" = "$NAME" ]
	ctr stop "$NAME"
}

@test "export/import: gzip, xz, stdout; a new name renames the host; address not kept" {
	make_marked "$NAME"
	ctr config "$NAME" set publish 18089:80
	ctr export "$NAME" "$WORK/c.tgz"
	ctr export "$NAME" "$WORK/c.tar.xz"
	ctr export "$NAME" - >"$WORK/c.tar"
	gzip -t "$WORK/c.tgz"
	xz -t "$WORK/c.tar.xz"
	tar -tf "$WORK/c.tar" | grep -qx "$NAME/config.json"
	for f in c.tgz c.tar.xz c.tar; do
		run ctr import "$WORK/$f" "$NAME-${f//./}"
		assert_success
		[[ $output == *"not kept"* ]] || fail "$output"
		check_marked "$NAME-${f//./}"
		[ "$(ctr config "$NAME-${f//./}" get publish)" = "" ]
		[ "$(ctr config "$NAME-${f//./}" get hostname)" = "$NAME-${f//./}" ]
		[ "$(cat "$CTR_STORE/$NAME-${f//./}/rootfs/etc/hostname")" = "$NAME-${f//./}" ]
	done
	run ctr start "$NAME-ctgz"
	assert_success
	run ctr attach "$NAME-ctgz" -- cat /data.txt
	[ "$output" = "data of $NAME" ]
	ctr stop "$NAME-ctgz"
	# the source is as it was
	[ "$(ctr config "$NAME" get publish)" = "18089:80" ]
}

@test "export/import: --snapshots carries the snapshots, which restore" {
	make_marked "$NAME"
	ctr snapshot create "$NAME" before
	echo changed >"$CTR_STORE/$NAME/rootfs/data.txt"
	ctr export "$NAME" "$WORK/plain.tar"
	ctr export --snapshots "$NAME" "$WORK/snaps.tar"
	! tar -tf "$WORK/plain.tar" | grep -q "^$NAME/snapshots" || fail "snapshots without --snapshots"
	ctr import "$WORK/snaps.tar" "$NAME-b"
	run ctr snapshot ls --format json "$NAME-b"
	[ "$(jq -r '.[0].name' <<<"$output")" = before ]
	ctr snapshot restore "$NAME-b" before
	[ "$(cat "$CTR_STORE/$NAME-b/rootfs/data.txt")" = "data of $NAME" ]
	check_marked "$NAME-b"
}

@test "import --pool: into a dir pool; destroy takes the volume" {
	make_marked "$NAME"
	mkdir -m 700 "$WORK/pool"
	ctr pool create sio-p --type dir --path "$WORK/pool"
	ctr export "$NAME" "$WORK/c.tar.zst"
	run ctr import --pool sio-p "$WORK/c.tar.zst" "$NAME-p"
	assert_success
	[ "$(ctr config "$NAME-p" get pool)" = sio-p ]
	[ -d "$WORK/pool/$NAME-p" ]
	check_marked "$NAME-p"
	run ctr start "$NAME-p"
	assert_success
	run ctr attach "$NAME-p" -- cat /data.txt
	[ "$output" = "data of $NAME" ]
	ctr stop "$NAME-p"
	ctr destroy "$NAME-p"
	[ -z "$(ls -A "$WORK/pool")" ] || fail "pool: $(ls -A "$WORK/pool")"
	ctr destroy "$NAME"
	ctr pool rm sio-p
}

@test "export/import: btrfs pools: from a subvolume, into a new one; destroy takes it" {
	command -v mkfs.btrfs >/dev/null || skip "btrfs-progs is not installed"
	grep -qw btrfs /proc/filesystems || skip "the kernel has no btrfs"
	truncate -s 300M "$WORK/btrfs.img"
	mkfs.btrfs -q "$WORK/btrfs.img" >/dev/null
	LOOP=$(losetup -f --show "$WORK/btrfs.img")
	mkdir -p "$WORK/mnt"
	mount "$LOOP" "$WORK/mnt"
	chmod 700 "$WORK/mnt"
	ctr pool create sio-b --type btrfs --path "$WORK/mnt"
	ctr create -t busybox "$NAME" --net none --pool sio-b
	echo in-btrfs >"$WORK/mnt/$NAME/data.txt"
	ctr snapshot create "$NAME" s1
	run ctr export --snapshots "$NAME" "$WORK/b.tar"
	assert_failure
	[[ $output == *"native volumes of pool \`sio-b\`"* ]] || fail "$output"
	run ctr export "$NAME" "$WORK/b.tar"
	assert_success
	run ctr import --pool sio-b "$WORK/b.tar" "$NAME-2"
	assert_success
	btrfs subvolume show "$WORK/mnt/$NAME-2" >/dev/null
	[ "$(cat "$CTR_STORE/$NAME-2/rootfs/data.txt")" = in-btrfs ]
	run ctr start "$NAME-2"
	assert_success
	run ctr attach "$NAME-2" -- cat /data.txt
	[ "$output" = in-btrfs ]
	ctr stop "$NAME-2"
	# the default pool takes it too
	run ctr import "$WORK/b.tar" "$NAME-3"
	assert_success
	[ -d "$CTR_STORE/$NAME-3/rootfs/bin" ] && [ ! -L "$CTR_STORE/$NAME-3/rootfs" ]
	ctr destroy "$NAME-2"
	ctr destroy "$NAME"
	ctr destroy "$NAME-3"
	# (the pool's base, the source's template tree, goes with the pool)
	ctr pool rm sio-b
	[ -z "$(btrfs subvolume list "$WORK/mnt")" ] || fail "subvolumes: $(btrfs subvolume list "$WORK/mnt")"
	umount "$WORK/mnt"
	losetup -d "$LOOP"
	LOOP=
}

@test "export: errors name the container or the file, and leave nothing" {
	ctr create -t busybox "$NAME" --net none
	run ctr export "$NAME" "$WORK/c.zip"
	assert_failure
	[[ $output == *"\`$WORK/c.zip\`: unknown archive type"* ]] || fail "$output"
	run ctr export nosuch-$$ "$WORK/c.tar"
	assert_failure
	[[ $output == *"container \`nosuch-$$\` does not exist"* ]] || fail "$output"
	run ctr export "$NAME" "$WORK/nodir/c.tar"
	assert_failure
	[[ $output == *"$WORK/nodir"* ]] || fail "$output"
	run ctr export "$NAME"
	assert_usage_error
	ctr start "$NAME"
	run ctr export "$NAME" "$WORK/c.tar"
	assert_failure
	[ "${#lines[@]}" = 1 ] || fail "$output"
	[[ $output == *"export: container \`$NAME\` is running: stop it first"* ]] || fail "$output"
	ctr stop "$NAME"
	[ -z "$(ls -A "$WORK")" ] || fail "left: $(ls -A "$WORK")"
}

# A hostile archive of container x made by python's tarfile: each argument adds a member,
# TYPE:NAME[:TARGET] (f file, d dir, l symlink, h hard link, c char device).
make_archive() {
	local out=$1
	shift
	python3 - "$out" "$SRCDIR" "$@" <<'PY'
import io, sys, tarfile
out, _, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for m in members:
        kind, name, *rest = m.split(":", 2)
        i = tarfile.TarInfo(name)
        data = b""
        if kind == "f":
            data = rest[0].encode() if rest else b"{}"
            i.size = len(data)
        elif kind == "d":
            i.type, i.mode = tarfile.DIRTYPE, 0o755
        elif kind == "l":
            i.type, i.linkname = tarfile.SYMTYPE, rest[0]
        elif kind == "h":
            i.type, i.linkname = tarfile.LNKTYPE, rest[0]
        elif kind == "c":
            i.type, i.devmajor, i.devminor = tarfile.CHRTYPE, 1, 3
        t.addfile(i, io.BytesIO(data) if data else None)
PY
}

# The members every archive of a container has (x/config.json is a valid definition).
base_members() {
	echo "d:x d:x/rootfs f:x/ctr.json:{\"template\":\"busybox\"}"
}

@test "import: hostile archives are refused with one line; nothing written outside, nothing left" {
	local cfg b
	ctr create -t busybox "$NAME" --net none
	cfg=$(cat "$CTR_STORE/$NAME/config.json")
	ctr destroy "$NAME"
	b=$(base_members)
	mkdir "$WORK/target"
	# shellcheck disable=SC2086
	{
		make_archive "$WORK/abs.tar" $b "f:x/config.json:$cfg" "f:/x/rootfs/etc/passwd:owned"
		make_archive "$WORK/dotdot.tar" $b "f:x/config.json:$cfg" "f:x/rootfs/../../../$WORK/target/f:owned"
		make_archive "$WORK/dev.tar" $b "f:x/config.json:$cfg" "c:x/rootfs/etc/mem"
		make_archive "$WORK/link.tar" $b "f:x/config.json:$cfg" "l:x/rootfs/l:$WORK/target" "f:x/rootfs/l/owned:owned"
		make_archive "$WORK/hard.tar" $b "f:x/config.json:$cfg" "h:x/rootfs/shadow:/etc/shadow"
		make_archive "$WORK/volume.tar" $b "f:x/config.json:$cfg" "f:x/volume.json:{}"
		make_archive "$WORK/other.tar" $b "f:x/config.json:$cfg" "f:y/rootfs/f:owned"
		make_archive "$WORK/noconfig.tar" $b
		make_archive "$WORK/hooks.tar" $b "f:x/config.json:$(jq -c '.hooks = {"prestart": [{"path": "/bin/true"}]}' <<<"$cfg")"
		make_archive "$WORK/root.tar" $b "f:x/config.json:$(jq -c '.root.path = "/"' <<<"$cfg")"
	}
	echo "not an archive" >"$WORK/junk.tar"
	declare -A want=(
		[abs.tar]="member \`/x/rootfs/etc/passwd\` is an absolute path"
		[dotdot.tar]="has a \`..\` in it"
		[dev.tar]="member \`x/rootfs/etc/mem\` is a device node outside /dev"
		[link.tar]="member \`x/rootfs/l/owned\` lies beneath the symlink \`x/rootfs/l\`"
		[hard.tar]="hard link \`x/rootfs/shadow\` points outside \`x/\`"
		[volume.tar]="unexpected member \`x/volume.json\`"
		[other.tar]="member \`y/rootfs/f\` is outside \`x/\`"
		[noconfig.tar]="not an archive of \`ctr export\`"
		[hooks.tar]="has hooks (programs run on this host)"
		[root.tar]="root.path is \`/\`, not \`rootfs\`"
		[junk.tar]="not a tar archive"
	)
	for f in "${!want[@]}"; do
		run ctr import "$WORK/$f" "$NAME"
		[ "$status" = 1 ] || fail "$f: status $status: $output"
		[ "${#lines[@]}" = 1 ] || fail "$f: $output"
		[[ $output == *"${want[$f]}"* ]] || fail "$f: $output"
		[ -z "$(ls -A "$WORK/target")" ] || fail "$f: wrote $(ls -A "$WORK/target")"
		[ ! -e /x ] || fail "$f: made /x"
		check_store_empty
	done
	# tar reads it twice: a file others may write between the two is refused
	chmod 0666 "$WORK/junk.tar"
	run ctr import "$WORK/junk.tar" "$NAME"
	assert_failure
	[[ $output == *"\`$WORK/junk.tar\` can be written by others (owner 0, mode 0666)"* ]] || fail "$output"
	chmod 0644 "$WORK/junk.tar"
	chown 1000 "$WORK/junk.tar"
	run ctr import "$WORK/junk.tar" "$NAME"
	[[ $output == *"can be written by others (owner 1000,"* ]] || fail "$output"
	chown 0 "$WORK/junk.tar"
	run ctr import "$WORK/none.tar"
	assert_failure
	[[ $output == *"open \`$WORK/none.tar\`"* ]] || fail "$output"
	run ctr import "$WORK"
	[[ $output == *"\`$WORK\` is not a regular file"* ]] || fail "$output"
	run ctr import "$WORK/junk.tar" "bad/name"
	assert_failure
	run ctr import --pool nosuch "$WORK/junk.tar"
	assert_failure
	[[ $output == *nosuch* ]] || fail "$output"
	check_store_empty
}

@test "import: an existing name is refused; a good archive of python's tarfile imports" {
	local cfg
	ctr create -t busybox "$NAME" --net none
	cfg=$(cat "$CTR_STORE/$NAME/config.json")
	# shellcheck disable=SC2046
	make_archive "$WORK/ok.tar" $(base_members) "f:x/config.json:$cfg" "d:x/rootfs/dev" "c:x/rootfs/dev/null" "l:x/rootfs/etc:/" "f:x/rootfs/f:hi" "h:x/rootfs/g:x/rootfs/f"
	run ctr import "$WORK/ok.tar" "$NAME"
	assert_failure
	[[ $output == *"container \`$NAME\` already exists"* ]] || fail "$output"
	run ctr import "$WORK/ok.tar"
	assert_success
	[ "$output" = x ]
	[ "$(cat "$CTR_STORE/x/rootfs/g")" = hi ]
	[ -c "$CTR_STORE/x/rootfs/dev/null" ]
	ctr destroy x
}

# Starts an import of $1 that tar unpacks slowly, and kills ctr while tar runs.
kill_import() {
	local spid ctr_pid
	CTR_TEST_MARKER=$MARKER strace -f -qq -o /dev/null -e trace=fchownat,lchown,fchown,chown \
		-e inject=fchownat,lchown,fchown,chown:delay_enter=100000 \
		"$CTR" --root "$STATE_ROOT" import "$1" 3>&- &
	spid=$!
	BG_PIDS+=("$spid")
	wait_until pgrep -f "^tar --extract .*$CTR_STORE/.$NAME.new"
	ctr_pid=$(pgrep -P "$spid" -x ctr)
	[ -n "$ctr_pid" ]
	kill -KILL "$ctr_pid"
	# tar dies with it
	wait_until_none pgrep -f "^tar --extract .*$CTR_STORE"
	wait "$spid" || true
	[ -d "$CTR_STORE/.$NAME.new" ]
}

@test "import killed while tar unpacks: destroy -f NAME, or the next ls, removes what is left" {
	requires_tools strace
	make_marked "$NAME"
	ctr export "$NAME" "$WORK/c.tar"
	ctr destroy "$NAME"
	kill_import "$WORK/c.tar"
	run ctr destroy -f "$NAME"
	assert_success
	[ -z "$(ls -A "$CTR_STORE")" ] || fail "left: $(ls -A "$CTR_STORE")"
	kill_import "$WORK/c.tar"
	run ctr ls --format json
	assert_success
	[ "$(jq -r --arg n "$NAME" 'map(select(.name == $n)) | length' <<<"$output")" = 0 ]
	[ -z "$(ls -A "$CTR_STORE")" ] || fail "left: $(ls -A "$CTR_STORE")"
	run ctr import "$WORK/c.tar"
	assert_success
	check_marked "$NAME"
}

@test "export killed while tar writes: no archive and no FILE.tmp" {
	requires_tools strace
	local spid ctr_pid
	make_marked "$NAME"
	CTR_TEST_MARKER=$MARKER strace -f -qq -o /dev/null -e trace=openat -e inject=openat:delay_enter=20000 \
		"$CTR" --root "$STATE_ROOT" export "$NAME" "$WORK/c.tar.gz" 3>&- &
	spid=$!
	BG_PIDS+=("$spid")
	wait_until pgrep -f "^tar --create .*$CTR_STORE"
	ctr_pid=$(pgrep -P "$spid" -x ctr)
	[ -n "$ctr_pid" ]
	kill -KILL "$ctr_pid"
	wait_until_none pgrep -f "^tar --create .*$CTR_STORE"
	wait "$spid" || true
	[ -z "$(ls -A "$WORK")" ] || fail "left: $(ls -A "$WORK")"
	# the container is unlocked and whole
	run ctr start "$NAME"
	assert_success
	ctr stop "$NAME"
}

@test "cp: files and directories in and out of a stopped container; owners; -a" {
	local r
	ctr create -t busybox "$NAME" --net none
	r=$CTR_STORE/$NAME/rootfs
	mkdir -p "$WORK/in/sub"
	echo one >"$WORK/in/a"
	echo two >"$WORK/in/sub/b"
	ln -s a "$WORK/in/l"
	chown -R 1000:1000 "$WORK/in"
	chmod 4750 "$WORK/in/a"
	run ctr cp "$WORK/in" "$NAME:/root"
	assert_success
	[ "$(cat "$r/root/in/sub/b")" = two ]
	[ "$(readlink "$r/root/in/l")" = a ]
	# copied in as root: the container's root owns it; modes kept
	[ "$(stat -c '%u:%g %a' "$r/root/in/a")" = "0:0 4750" ]
	run ctr cp -a "$WORK/in/a" "$NAME:/root/a-kept"
	assert_success
	[ "$(stat -c '%u:%g %a' "$r/root/a-kept")" = "1000:1000 4750" ]
	# a new name in an existing directory
	run ctr cp "$WORK/in/sub/b" "$NAME:/etc/renamed"
	assert_success
	[ "$(cat "$r/etc/renamed")" = two ]
	# out again
	run ctr cp "$NAME:/root/in" "$WORK/out"
	assert_success
	[ "$(cat "$WORK/out/sub/b")" = two ]
	[ "$(stat -c '%u:%g' "$WORK/out/sub/b")" = "0:0" ]
	chown 77:78 "$r/etc/renamed"
	run ctr cp -a "$NAME:/etc/renamed" "$WORK"
	assert_success
	[ "$(stat -c '%u:%g' "$WORK/renamed")" = "77:78" ]
}

@test "cp: a running container's own mount namespace is what it reads and writes" {
	local r
	ctr create -t busybox "$NAME" --net none
	r=$CTR_STORE/$NAME/rootfs
	ctr start "$NAME"
	# /dev is the container's own tmpfs: invisible in the stored rootfs
	ctr attach "$NAME" -- sh -c 'echo inside >/dev/made-inside'
	[ ! -e "$r/dev/made-inside" ]
	run ctr cp "$NAME:/dev/made-inside" "$WORK/got"
	assert_success
	[ "$(cat "$WORK/got")" = inside ]
	echo pushed >"$WORK/push"
	run ctr cp "$WORK/push" "$NAME:/dev/"
	assert_success
	run ctr attach "$NAME" -- cat /dev/push
	[ "$output" = pushed ]
	[ ! -e "$r/dev/push" ]
	run ctr cp "$WORK/push" "$NAME:/root/"
	assert_success
	run ctr attach "$NAME" -- stat -c '%u:%g' /root/push
	[ "$output" = "0:0" ]
	ctr stop "$NAME"
}

# The container's symlinks that point at the host: /etc/x -> /../../host/file (a file of
# the host's /tmp) and /etc/d -> the host's directory; what they name inside the root is
# the container's own.
plant_escapes() {
	local r=$CTR_STORE/$NAME/rootfs
	mkdir -p "$WORK/host" "$r/$WORK/host"
	echo host-secret >"$WORK/host/file"
	echo guest-file >"$r/$WORK/host/file"
	ln -s "/../../../../../../..$WORK/host/file" "$r/etc/x"
	ln -s "$WORK/host" "$r/etc/d"
}

check_escapes() {
	local r=$CTR_STORE/$NAME/rootfs
	echo written >"$WORK/w"
	# reading through them gives the container's files (or the link itself), never the host's
	run ctr cp -L "$NAME:/etc/x" "$WORK/read-x"
	assert_success
	[ "$(cat "$WORK/read-x")" = guest-file ]
	run ctr cp "$NAME:/etc/x" "$WORK/link-x"
	assert_success
	[ -L "$WORK/link-x" ]
	run ctr cp "$NAME:/etc/d/file" "$WORK/read-d"
	assert_success
	[ "$(cat "$WORK/read-d")" = guest-file ]
	# writing through them never reaches the host
	run ctr cp "$WORK/w" "$NAME:/etc/x"
	assert_success
	run ctr cp "$WORK/w" "$NAME:/etc/d/file"
	assert_success
	run ctr cp "$WORK/w" "$NAME:/etc/d/new"
	assert_success
	[ "$(cat "$WORK/host/file")" = host-secret ] || fail "the host's file was written"
	[ ! -e "$WORK/host/new" ] || fail "a file was made on the host"
	[ "$(cat "$r/$WORK/host/file")" = written ]
	[ "$(cat "$r/$WORK/host/new")" = written ]
	# a directory copied out with such a link in it keeps it as a link
	run ctr cp "$NAME:/etc" "$WORK/etc-out"
	assert_success
	[ -L "$WORK/etc-out/d" ]
}

@test "cp: symlinks of a stopped container never lead to the host, either way" {
	ctr create -t busybox "$NAME" --net none
	plant_escapes
	check_escapes
}

@test "cp: symlinks of a running container never lead to the host, either way" {
	ctr create -t busybox "$NAME" --net none
	plant_escapes
	ctr start "$NAME"
	# and one the guest makes while it runs: a directory that points at the host's
	ctr attach "$NAME" -- ln -s "/../../..$WORK" /root/w
	check_escapes
	run ctr cp "$WORK/w" "$NAME:/root/w/host/file"
	assert_success
	[ "$(cat "$WORK/host/file")" = host-secret ]
	ctr stop "$NAME"
}

@test "cp: errors are one line naming the path" {
	ctr create -t busybox "$NAME" --net none
	run ctr cp "$NAME:/nonexistent" "$WORK/x"
	assert_failure
	[ "$output" = "ctr: cp: \`$NAME:/nonexistent\`: No such file or directory" ] || fail "$output"
	run ctr cp "$WORK/nonexistent" "$NAME:/tmp"
	assert_failure
	[[ $output == *"\`$WORK/nonexistent\`"* ]] || fail "$output"
	run ctr cp "$NAME:/etc/passwd" "$WORK/no/dir/x"
	assert_failure
	[[ $output == *"$WORK/no/dir"* ]] || fail "$output"
	run ctr cp "$WORK" "$NAME:/no/such/dir/x"
	assert_failure
	[[ $output == *"\`/no/such/dir\`"* ]] || fail "$output"
	run ctr cp "$NAME:etc/passwd" "$WORK/x"
	assert_failure
	[[ $output == *"the path in the container must be absolute"* ]] || fail "$output"
	run ctr cp "$NAME:/a" "$NAME:/b"
	[[ $output == *"both in containers"* ]] || fail "$output"
	run ctr cp "$WORK/a" "$WORK/b"
	[[ $output == *"is a container's path"* ]] || fail "$output"
	run ctr cp "nosuch-$$:/a" "$WORK/b"
	[[ $output == *"container \`nosuch-$$\` does not exist"* ]] || fail "$output"
	run ctr cp "$WORK/a"
	assert_usage_error
	[ ! -e "$WORK/x" ]
}

@test "cp: an OCI container by id: its own mount namespace; its symlinks stay inside" {
	make_bundle
	mkdir -p "$WORK/host" "$BUNDLE/rootfs/$WORK/host"
	echo host-secret >"$WORK/host/file"
	echo guest-file >"$BUNDLE/rootfs/$WORK/host/file"
	ln -s "/../../../../..$WORK/host/file" "$BUNDLE/rootfs/x"
	run_detached
	run ctr cp -L "$(cid):/x" "$WORK/read-x"
	assert_success
	[ "$(cat "$WORK/read-x")" = guest-file ]
	echo pushed >"$WORK/push"
	run ctr cp "$WORK/push" "$(cid):/dev/"
	assert_success
	[ ! -e "$BUNDLE/rootfs/dev/push" ]
	run ctr cp "$(cid):/dev/push" "$WORK/back"
	assert_success
	[ "$(cat "$WORK/back")" = pushed ]
	ctr delete -f "$(cid)"
	run ctr cp "$WORK/push" "$(cid):/dev/"
	assert_failure
	[[ $output == *"container \`$(cid)\` does not exist"* ]] || fail "$output"
	[ "$(cat "$WORK/host/file")" = host-secret ]
}

@test "cp: a container's tree copied into itself (stopped: its rootfs is a host path) ends" {
	ctr create -t busybox "$NAME" --net none
	mkdir -p "$CTR_STORE/$NAME/rootfs/srv/t/a"
	echo x >"$CTR_STORE/$NAME/rootfs/srv/t/a/f"
	run ctr cp "$NAME:/srv/t" "$CTR_STORE/$NAME/rootfs/srv/t/copy"
	assert_success
	[ "$(cat "$CTR_STORE/$NAME/rootfs/srv/t/copy/a/f")" = x ]
	[ ! -e "$CTR_STORE/$NAME/rootfs/srv/t/copy/copy" ]
}
