#!/usr/bin/env bash
# The VM test: proves node-hid reaches the virtual key through a real kernel HID device.
#
# Boots a small QEMU guest (Debian's kernel, static busybox, the host's node, KeyBench's built
# dist and runtime node_modules) with no network device. Inside, /init loads hid, uhid and
# hid-generic, then guest-test.mjs runs `keybench virtual-key --uhid` in the background and,
# through node-hid and hidraw, `keybench devices`, `check --device hid` and
# `conformance --device hid`. The guest reports through QEMU's isa-debug-exit device.
#
# The kernel and the base initramfs are cached under .cache/vm/; each run repacks only
# KeyBench's own files (a small second cpio the kernel unpacks over the first).
#
# Usage: scripts/vm/run-vm-test.sh   (build first: pnpm tsc -b; `pnpm test:vm` does both)
# Environment:
#   KEYBENCH_VM_CACHE          cache directory (default .cache/vm)
#   KEYBENCH_VM_ACCEL          auto (default), tcg or kvm
#   KEYBENCH_VM_CPU            QEMU -cpu model under TCG (default max)
#   KEYBENCH_VM_TIMEOUT        host bound on QEMU, seconds (default 240)
#   KEYBENCH_VM_GUEST_TIMEOUT  guest bound on the guest test, seconds (default 210)
#   KEYBENCH_VM_COMPARE        0 to skip the in-process comparison run on the host
#   KEYBENCH_VM_GUEST_TEST     another guest program to run instead of guest-test.mjs (for
#                              investigating the guest; it must print KEYBENCH-VM PASS)
# Exit status: 0 pass, 1 fail (guest failure, kernel panic or timeout), 2 missing tool/build.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${KEYBENCH_VM_CACHE:-$ROOT/.cache/vm}"
ACCEL="${KEYBENCH_VM_ACCEL:-auto}"
VM_TIMEOUT="${KEYBENCH_VM_TIMEOUT:-240}"
GUEST_TIMEOUT="${KEYBENCH_VM_GUEST_TIMEOUT:-210}"
COMPARE="${KEYBENCH_VM_COMPARE:-1}"
MEMORY_MB=1024

log() { echo "vm: $*" >&2; }
die() { echo "vm: $*" >&2; exit 2; }
ms() { local t="${EPOCHREALTIME/./}"; echo "$((t / 1000))"; }
secs() { printf '%d.%03d s' "$(($1 / 1000))" "$(($1 % 1000))"; }

need() { command -v "$1" >/dev/null || die "$1 not found: apt-get install -y $2"; }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need busybox busybox-static
need python3 python3
need node nodejs
need apt-get apt
[ -f "$ROOT/packages/harness/dist/cli.js" ] || die "KeyBench is not built: run pnpm tsc -b"
mkdir -p "$CACHE"
# Per-run files live in their own directory, so two runs (a developer's and vitest's) never
# share an initrd or a log; only the kernel and base image are shared, under a lock.
find "$CACHE" -maxdepth 1 -name 'run.*' -mmin +120 -exec rm -rf {} + # left by a killed run
RUN="$(mktemp -d "$CACHE/run.XXXXXX")"
trap 'rm -rf "$RUN"' EXIT

# --- Image ---------------------------------------------------------------------------------
t_start="$(ms)"
eval "$(flock "$CACHE/.build.lock" bash "$HERE/build-base.sh" "$ROOT" "$CACHE")"
t_base="$(ms)"

# KeyBench's own files, at the same relative layout so pnpm's relative symlinks still resolve.
app_stage="$RUN/app-stage"
rm -rf "$app_stage" && mkdir -p "$app_stage/keybench/packages"
cp "$ROOT/package.json" "$app_stage/keybench/"
for dir in "$ROOT"/packages/*/; do
  name="$(basename "$dir")"
  [ -f "$dir/package.json" ] && [ -d "$dir/dist" ] || continue
  mkdir -p "$app_stage/keybench/packages/$name"
  cp "$dir/package.json" "$app_stage/keybench/packages/$name/"
  cp -a "$dir/dist" "$app_stage/keybench/packages/$name/"
  [ -d "$dir/node_modules" ] && cp -a "$dir/node_modules" "$app_stage/keybench/packages/$name/"
done
find "$app_stage/keybench" -name '*.map' -delete
cp "$HERE/guest-init.sh" "$app_stage/init" && chmod 755 "$app_stage/init"
cp "${KEYBENCH_VM_GUEST_TEST:-$HERE/guest-test.mjs}" "$app_stage/guest-test.mjs"
cp "$HERE/guest-key.mjs" "$app_stage/guest-key.mjs"
(cd "$app_stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$RUN/app.cpio"
rm -rf "$app_stage"
# The kernel unpacks concatenated newc archives in order; the second adds KeyBench and /init.
cat "$BASE" "$RUN/app.cpio" >"$RUN/initrd.cpio"
t_image="$(ms)"
log "kernel $KERNEL_PACKAGE; initrd $(($(stat -c %s "$RUN/initrd.cpio") / 1048576)) MiB" \
  "(KeyBench part $(($(stat -c %s "$RUN/app.cpio") / 1024)) KiB)"

# --- Accelerator ---------------------------------------------------------------------------
# KVM only where it truly works: a /dev/kvm we can open *and* hardware virtualisation behind it
# (a PVM /dev/kvm has no vmx/svm flag and cannot run a stock kernel). A KVM boot that never
# reaches /init falls back to TCG below.
kvm_usable() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo &&
    { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }
}
case "$ACCEL" in
  kvm) accels=(kvm) ;;
  tcg) accels=(tcg) ;;
  auto) if kvm_usable; then accels=(kvm tcg); else accels=(tcg); fi ;;
  *) die "KEYBENCH_VM_ACCEL must be auto, tcg or kvm, not $ACCEL" ;;
esac

# --- Boot ----------------------------------------------------------------------------------
serial_log="$RUN/serial.log"
boot() {
  local accel="$1" cpu="${KEYBENCH_VM_CPU:-max}"
  [ "$accel" = kvm ] && cpu=host
  log "booting under $accel (timeout ${VM_TIMEOUT} s)"
  t_qemu="$(ms)"
  set +e
  timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 \
    -accel "$accel" -cpu "$cpu" -m "$MEMORY_MB" -smp 2 \
    -kernel "$KERNEL" -initrd "$RUN/initrd.cpio" \
    -append "console=ttyS0 quiet rdinit=/init panic=-1 kb_timeout=$GUEST_TIMEOUT" \
    -display none -serial stdio -monitor none -nic none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null 2>&1 |
    while IFS= read -r line; do
      line="${line%$'\r'}"
      t="$(($(ms) - t_qemu))"
      case "$line" in
        'KEYBENCH-VM init'*) echo "$t" >"$RUN/init-ms" ;;
      esac
      printf '[%4d.%03d] %s\n' "$((t / 1000))" "$((t % 1000))" "$line"
    done | tee "$serial_log"
  qemu_status="${PIPESTATUS[0]}"
  set -e
  t_done="$(ms)"
}

rm -f "$RUN/init-ms"
for accel in "${accels[@]}"; do
  boot "$accel"
  if [ -s "$RUN/init-ms" ] || [ "$accel" = tcg ]; then break; fi
  log "the $accel guest never reached /init (QEMU status $qemu_status); retrying under TCG"
done

# --- Verdict and timings -------------------------------------------------------------------
echo
echo "vm: timings"
echo "vm:   image build         $(secs $((t_image - t_start)))" \
  "(kernel + base $(secs $((t_base - t_start))), KeyBench repack $(secs $((t_image - t_base))))"
if [ -s "$RUN/init-ms" ]; then
  echo "vm:   boot to /init       $(secs "$(cat "$RUN/init-ms")") ($accel)"
fi
echo "vm:   QEMU total          $(secs $((t_done - t_qemu)))"
grep -o 'KEYBENCH-VM time .*' "$serial_log" | sed 's/^KEYBENCH-VM time /vm:   guest /' || true

if [ "$COMPARE" != 0 ]; then
  cli=(node "$ROOT/packages/harness/dist/cli.js")
  t0="$(ms)"
  if timeout 30 "${cli[@]}" check --device virtual >/dev/null 2>&1; then
    echo "vm:   host check --device virtual (in-process)        $(secs $(($(ms) - t0)))"
  else
    echo "vm:   host check --device virtual failed (comparison only)"
  fi
  if timeout 20 "${cli[@]}" --help 2>/dev/null | grep -q 'keybench conformance'; then
    t0="$(ms)"
    if timeout 60 "${cli[@]}" conformance --device virtual >/dev/null 2>&1; then
      echo "vm:   host conformance --device virtual (in-process)  $(secs $(($(ms) - t0)))"
    else
      echo "vm:   host conformance --device virtual failed (comparison only)"
    fi
  fi
fi

# A panic under -no-reboot exits 0 and a timeout 124/137: only 1 plus the guest's PASS line
# counts as a pass.
if [ "$qemu_status" -eq 1 ] && grep -q 'KEYBENCH-VM PASS' "$serial_log"; then
  cp "$serial_log" "$CACHE/serial.log"
  echo "vm: PASS (QEMU status 1 from isa-debug-exit)"
  exit 0
fi
reason="QEMU status $qemu_status"
[ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ] && reason="timeout after ${VM_TIMEOUT} s"
grep -q 'Kernel panic' "$serial_log" && reason="kernel panic"
cp "$serial_log" "$CACHE/serial.log"
echo "vm: FAIL ($reason); serial log: $CACHE/serial.log"
exit 1
