#!/usr/bin/env bash
# The pure cgroup v2 test lane.
#
# This machine's cgroup controllers live on v1, so the v2 backend is proven on
# a throwaway QEMU guest booted with cgroup_no_v1=all: Debian's own kernel,
# booted directly (the uncompressed vmlinux through its PVH entry), a busybox
# initramfs, and the host's / shared read-only over virtio-9p with a tmpfs
# overlay on top, so the guest runs this checkout's dist/isolate and bun at
# the same paths. Only the guest's RAM is written; nothing of the host changes
# but the asset cache.
#
# usage: scripts/vm-lane.sh [TEST_FILE...]
#        scripts/vm-lane.sh --sh 'COMMAND'   (a bash command instead, e.g. to explore)
#   default tests: the cgroup suites (test/cgroup/*, test/facilities/limits/*
#   but load.test.ts) and the named sandboxes where cgroups differ (test/named/{detach,enter,users}: monitors that
#   outlive the CLI, as root and as nobody), run with ISOLATE_TEST_STRICT=1
#   and ISOLATE_VMLANE=1.
#   Exit status: bun test's; 124 when the VM timed out; 125 when it failed.
#
# environment:
#   ISOLATE_VMLANE_CACHE    asset cache (default /var/tmp/isolate-vmlane, ~140 MB)
#   ISOLATE_VMLANE_TIMEOUT  seconds before the VM is killed (default 1800)
#   ISOLATE_VMLANE_MEM      guest memory (default 2G)
#   ISOLATE_VMLANE_VERBOSE  1: print the guest's kernel console at the end
#
# It installs what it needs from Debian (qemu-system-x86, busybox-static, cpio,
# xz-utils) and downloads the kernel package linux-image-amd64 depends on with
# apt-get download (unpacked into the cache; /boot is not touched). Runs under
# TCG (software emulation): about 7 s to boot, and tests run several times
# slower than on the host, so timing bounds in the tests are loose.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${ISOLATE_VMLANE_CACHE:-/var/tmp/isolate-vmlane}
TIMEOUT=${ISOLATE_VMLANE_TIMEOUT:-1800}
MEM=${ISOLATE_VMLANE_MEM:-2G}
VERBOSE=${ISOLATE_VMLANE_VERBOSE:-0}

say() { echo "vm-lane: $*" >&2; }
die() { say "$*"; exit 125; }

# Kernel modules the guest needs to reach the host's files (and an ext4 scratch disk), in load order.
MODULES=(
  drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
  net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay drivers/block/virtio_blk
  lib/crc16 crypto/crc32c_generic fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4
)

install_packages() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || missing+=(busybox-static)
  command -v cpio >/dev/null || missing+=(cpio)
  command -v xz >/dev/null || missing+=(xz-utils)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
}

# Stage 1, the initramfs's /init (busybox sh): modules, the host's / read-only
# with a RAM overlay, cgroup2 with every controller enabled at the root, then
# switch_root (user namespaces refuse chrooted callers).
guest_init() {
  cat <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
bail() { echo "vm-lane guest: $*" > /dev/ttyS0; echo "LANE_EXIT=125" > /dev/ttyS0; poweroff -f; }
for m in $(cat /lane/modules); do insmod /lib/modules/$m.ko 2>/dev/null || echo "insmod $m failed" > /dev/ttyS0; done
mkdir -p /host /rw /new
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /host || bail "9p mount"
mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /new || bail "overlay"
N=/new
mount -t proc proc $N/proc && mount -t sysfs sysfs $N/sys && mount -t devtmpfs devtmpfs $N/dev || bail "proc/sys/dev"
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $N/dev/pts && ln -sf pts/ptmx $N/dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs $N/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $N/run
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $N/sys/fs/cgroup || bail "cgroup2"
for c in $(cat $N/sys/fs/cgroup/cgroup.controllers); do echo "+$c" > $N/sys/fs/cgroup/cgroup.subtree_control; done
mkdir -p $N/run/lane && cp /bin/busybox /lane/stage2 /lane/cmd $N/run/lane/ || bail "stage2"
hostname vm-lane
umount /proc /sys /dev
exec switch_root $N /run/lane/busybox sh /run/lane/stage2
EOF
}

# Stage 2, pid 1 in the overlay root: the payload's output to ttyS1 (this
# script's stdout), its exit status to ttyS0 (the console log), power off.
guest_stage2() {
  cat <<'EOF'
B=/run/lane/busybox
$B stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "LANE_START $($B cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
/bin/bash /run/lane/cmd < /dev/null > /dev/ttyS1 2>&1
rc=$?
echo "LANE_END $($B cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
echo "LANE_EXIT=$rc" > /dev/ttyS0
$B sync
$B poweroff -f
EOF
}

build_assets() {
  local tmp deb pkg kver off r
  tmp=$(mktemp -d "$CACHE.build.XXXXXX")
  deb=$CACHE/linux-image.deb
  if [ ! -f "$deb" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    if [ -z "$pkg" ]; then
      apt-get update >/dev/null 2>&1 || true
      pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    fi
    [ -n "$pkg" ] || die "cannot resolve the kernel package linux-image-amd64 depends on"
    say "downloading $pkg"
    (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
    mv "$tmp"/linux-image-*.deb "$deb"
  fi
  dpkg -x "$deb" "$tmp/k"
  kver=$(ls "$tmp/k/lib/modules")
  # The bzImage carries an xz-compressed ELF vmlinux: boot that directly (PVH),
  # which saves the guest ~5 s of decompression under TCG.
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$tmp/k/boot/vmlinuz-$kver" | head -1 | cut -d: -f1)
  if [ -n "$off" ] && tail -c +$((off + 1)) "$tmp/k/boot/vmlinuz-$kver" | xz -dc --single-stream >"$tmp/vmlinux" 2>/dev/null \
    && [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    mv "$tmp/vmlinux" "$tmp/kernel"
  else
    cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/kernel"
  fi
  r=$tmp/root
  mkdir -p "$r"/{bin,proc,sys,dev,lane,lib/modules}
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  : >"$r/lane/modules"
  for m in "${MODULES[@]}"; do
    cp "$tmp/k/lib/modules/$kver/kernel/$m.ko" "$r/lib/modules/" || die "module $m.ko is not in $deb"
    basename "$m" >>"$r/lane/modules"
  done
  guest_init >"$r/init"
  chmod 755 "$r/init"
  guest_stage2 >"$r/lane/stage2"
  (cd "$r" && find . | cpio -o -H newc --quiet) >"$tmp/base.cpio"
  mv "$tmp/kernel" "$tmp/base.cpio" "$CACHE/"
  echo "$kver" >"$CACHE/version"
  rm -rf "$tmp"
}

ensure_assets() {
  local stamp
  stamp=$({ guest_init; guest_stage2; echo "${MODULES[*]}"; } | md5sum | cut -c1-16)
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if [ ! -f "$CACHE/kernel" ] || [ "$(cat "$CACHE/stamp" 2>/dev/null)" != "$stamp" ]; then
    say "building guest assets in $CACHE"
    build_assets
    echo "$stamp" >"$CACHE/stamp"
  fi
  flock -u 9
}

cd "$ROOT"
install_packages
[ -x "$ROOT/dist/isolate" ] || (cd "$ROOT" && npm run build >&2) || die "npm run build failed"
ensure_assets

SH=
if [ "${1:-}" = --sh ]; then
  SH=${2:?--sh needs a command}
  shift 2
fi
TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
  TESTS=(test/cgroup/*.test.ts)
  # limits-load is a load test of the host's own cores (hundreds of sandboxes at once, bounds in
  # milliseconds): under software emulation it measures QEMU, not isolate. The host runs it.
  for f in test/facilities/limits/*.test.ts; do
    case $f in */load.test.ts) continue ;; esac
    [ -e "$f" ] && TESTS+=("$f")
  done
  # Named sandboxes where the cgroup version matters (a monitor's cgroups outliving the CLI,
  # stats, --pids through enter, other users' cgroups), as root and as nobody. The rest of
  # test/named (20 at once, --join, the library API, the state's trust rules) does not touch
  # cgroups differently on v2 and would add ~20 minutes of emulation: the host runs it.
  for f in test/named/detach.test.ts test/named/enter.test.ts test/named/users.test.ts; do
    [ -e "$f" ] && TESTS+=("$f")
  done
fi
for i in "${!TESTS[@]}"; do
  case ${TESTS[$i]} in /* | ./*) ;; *) TESTS[$i]=./${TESTS[$i]} ;; esac
done

WORK=$(mktemp -d /tmp/isolate-vmlane.XXXXXX)
QPID=
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/r/lane"
{
  printf 'cd %q || exit 125\n' "$ROOT"
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8'
  echo 'export ISOLATE_TEST_STRICT=1 ISOLATE_VMLANE=1 NO_COLOR=1'
  # The guest's own filesystems (tmpfs, an overlay of 9p) cannot be idmapped on this kernel, and
  # root's sandboxes bind their writable working directory idmapped: the tests' temp dirs live on
  # an ext4 scratch disk (/dev/vdb) instead.
  echo 'mkdir -p /lane-scratch && mount -t ext4 /dev/vdb /lane-scratch && chmod 1777 /lane-scratch && export TMPDIR=/lane-scratch || echo "vm-lane: no ext4 scratch disk"'
  echo 'echo "vm-lane: $(uname -r), $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"'
  if [ -n "$SH" ]; then
    printf '%s\n' "$SH"
  else
    printf 'exec node_modules/.bin/bun test --timeout 120000'
    printf ' %q' "${TESTS[@]}"
    echo
  fi
} >"$WORK/r/lane/cmd"
(cd "$WORK/r" && find . | cpio -o -H newc --quiet) >"$WORK/run.cpio"
# A scratch disk (/dev/vda in the guest) for the block I/O limits, and an ext4 one (/dev/vdb) for
# the tests' temp dirs.
truncate -s 64M "$WORK/disk.img"
truncate -s 256M "$WORK/scratch.img"
mkfs.ext4 -q -F "$WORK/scratch.img" || { say "mkfs.ext4 failed (e2fsprogs)"; exit 125; }
cat "$CACHE/base.cpio" "$WORK/run.cpio" >"$WORK/initrd"

ACCEL=(-accel tcg,thread=multi -cpu max)
CMDLINE="console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off cgroup_no_v1=all init_on_alloc=0 8250.nr_uarts=2"
say "booting $(cat "$CACHE/version") with cgroup_no_v1=all: ${SH:-${TESTS[*]}}"
start=$(date +%s)
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -m "$MEM" -smp 2 \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$CACHE/kernel" -initrd "$WORK/initrd" -append "$CMDLINE" \
  -chardev file,id=con,path="$WORK/console.log" -serial chardev:con \
  -chardev stdio,id=out,signal=off -serial chardev:out \
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -drive file="$WORK/disk.img",if=virtio,format=raw,cache=unsafe \
  -drive file="$WORK/scratch.img",if=virtio,format=raw,cache=unsafe </dev/null &
QPID=$!
wait $QPID
qrc=$?
QPID=
set -e

[ "$VERBOSE" = 1 ] && { echo "----- guest console -----" >&2; tr -d '\r' <"$WORK/console.log" >&2; }
rc=$(tr -d '\r' <"$WORK/console.log" | sed -n 's/^LANE_EXIT=\([0-9]*\)$/\1/p' | tail -1)
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
  say "timed out after ${TIMEOUT}s; console:"
  tail -n 30 "$WORK/console.log" >&2
  exit 124
fi
if [ -z "$rc" ]; then
  say "the VM ended ($qrc) without an exit status; console:"
  tail -n 40 "$WORK/console.log" >&2
  exit 125
fi
say "done in $(($(date +%s) - start)) s, exit $rc"
exit "$rc"
