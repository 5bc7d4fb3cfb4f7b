#!/usr/bin/env bash
# Builds (or finds in the cache) the parts of the VM test guest that do not change with
# KeyBench's own code: the kernel and the base initramfs.
#
# - Kernel: the package linux-image-amd64 currently depends on, fetched with `apt-get
#   download` and kept in the cache (old ABI packages leave the archive over time). Its
#   XZ-compressed bzImage is unpacked to the ELF vmlinux, which QEMU boots through PVH.
# - Base initramfs (uncompressed newc cpio: guest decompression is slow under TCG): static
#   busybox, the three HID modules (the package has no modules.dep, so /init insmods them in
#   order), the host's node with the shared libraries it and the native addons need, and the
#   third-party node_modules KeyBench needs at run time (pnpm store entries, pruned).
#
# Usage: build-base.sh REPO_ROOT CACHE_DIR (run-vm-test.sh holds a lock around it). Prints
# KERNEL=, BASE= and KERNEL_PACKAGE= lines on stdout; progress on stderr. Exits 2 when a tool
# or package is missing.
set -euo pipefail

ROOT="$1"
CACHE="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$CACHE"

log() { echo "vm: $*" >&2; }
die() { echo "vm: $*" >&2; exit 2; }

# --- Kernel -------------------------------------------------------------------------------
kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
  awk '/Depends: linux-image-[0-9]/ { print $2; exit }' || true)"
if [ -z "$kpkg" ]; then
  # No apt lists (apt-get update never ran, or offline): use the newest cached kernel.
  kpkg="$(find "$CACHE" -maxdepth 1 -name 'linux-image-*.deb' -printf '%f\n' 2>/dev/null |
    sort -V | tail -n 1 | sed 's/_.*//')"
  [ -n "$kpkg" ] ||
    die "cannot resolve linux-image-amd64 (run: apt-get update) and no kernel cached"
  log "apt-cache does not know linux-image-amd64; using cached $kpkg"
fi
deb="$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*.deb" -printf '%p\n' | sort -V | tail -n 1)"
if [ -z "$deb" ]; then
  log "downloading $kpkg (apt-get download)"
  (cd "$CACHE" && apt-get download -q "$kpkg" >&2 2>/dev/null) ||
    (cd "$CACHE" && apt-get download "$kpkg" >&2) || die "apt-get download $kpkg failed"
  deb="$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*.deb" -printf '%p\n' | sort -V | tail -n 1)"
fi
kver="${kpkg#linux-image-}"
kdir="$CACHE/kernel-$kver"
if [ ! -s "$kdir/vmlinux" ] || [ ! -s "$kdir/modules/hid-generic.ko" ]; then
  log "unpacking $(basename "$deb")"
  rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp/x" "$kdir.tmp/modules"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir.tmp/x" --wildcards \
    '*/vmlinuz-*' '*/drivers/hid/hid.ko' '*/drivers/hid/uhid.ko' '*/drivers/hid/hid-generic.ko'
  for m in hid uhid hid-generic; do
    find "$kdir.tmp/x" -name "$m.ko" -exec cp {} "$kdir.tmp/modules/" \;
    [ -s "$kdir.tmp/modules/$m.ko" ] || die "$m.ko not found in $(basename "$deb")"
  done
  vmlinuz="$(find "$kdir.tmp/x" -name 'vmlinuz-*' | head -n 1)"
  cp "$vmlinuz" "$kdir.tmp/vmlinuz"
  if ! python3 "$HERE/extract-vmlinux.py" "$vmlinuz" "$kdir.tmp/vmlinux"; then
    # Without the ELF, QEMU still boots the bzImage through SeaBIOS, about 4 s slower.
    log "no vmlinux extracted; booting the bzImage instead"
    cp "$vmlinuz" "$kdir.tmp/vmlinux"
  fi
  rm -rf "$kdir.tmp/x" "$kdir" && mv "$kdir.tmp" "$kdir"
fi

# --- Base initramfs -----------------------------------------------------------------------
node_bin="$(readlink -f "$(command -v node)")"
busybox_bin="$(command -v busybox || echo /bin/busybox)"
[ -x "$busybox_bin" ] || die "busybox not found (Debian package busybox-static)"
ldd "$busybox_bin" >/dev/null 2>&1 &&
  die "$busybox_bin is dynamically linked; install busybox-static"
deps="$(node "$HERE/runtime-deps.mjs" "$ROOT")"

# libfido2's fido2-token, so the guest also shows a C program (not node-hid) finding the key.
# Optional: without it the guest test reports that step as skipped.
fido_dir="$CACHE/fido2-tools"
if [ ! -x "$fido_dir/x/usr/bin/fido2-token" ]; then
  rm -rf "$fido_dir" && mkdir -p "$fido_dir"
  if (cd "$fido_dir" && apt-get download fido2-tools libfido2-1 libcbor0.8 >/dev/null 2>&1); then
    for d in "$fido_dir"/*.deb; do dpkg-deb -x "$d" "$fido_dir/x"; done
  else
    log "cannot apt-get download fido2-tools; the guest runs without fido2-token"
  fi
fi
key="$(
  {
    echo "$kpkg $(basename "$deb")"
    echo "$node_bin $("$node_bin" --version) $(stat -c '%s %Y' "$node_bin")"
    stat -c '%s %Y' "$busybox_bin"
    sha256sum "$ROOT/pnpm-lock.yaml" "${BASH_SOURCE[0]}" "$HERE/runtime-deps.mjs"
    echo "$deps"
    find "$fido_dir" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort
  } | sha256sum | cut -c1-16
)"
base="$CACHE/base-$key.cpio"
if [ ! -s "$base" ]; then
  log "building base initramfs $(basename "$base")"
  stage="$(mktemp -d "$CACHE/base-stage.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,usr/bin,modules,proc,sys,dev,tmp,run,root,keybench}
  cp "$busybox_bin" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  cp "$kdir"/modules/*.ko "$stage/modules/"
  cp "$node_bin" "$stage/usr/bin/node"

  # Shared libraries of node and of the native addons, at the paths the host's loader uses.
  addons="$(cd "$ROOT" && for d in $deps; do
    find "$d" \( -path '*/prebuilds/HID_hidraw-linux-x64/*.node' -o \
      -path '*/build/Release/better_sqlite3.node' \) 2>/dev/null
  done)"
  for f in "$node_bin" $(cd "$ROOT" && for a in $addons; do echo "$ROOT/$a"; done); do
    ldd "$f" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }'
  done | sort -u | while read -r lib; do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done

  fido_token="$fido_dir/x/usr/bin/fido2-token"
  if [ -x "$fido_token" ]; then
    cp "$fido_token" "$stage/usr/bin/"
    fido_libs="$(find "$fido_dir/x" -name 'lib*.so.*' -printf '%h\n' | sort -u | paste -sd:)"
    LD_LIBRARY_PATH="$fido_libs" ldd "$fido_token" | awk '/=> \// { print $3 }' |
      while read -r lib; do
      # Libraries from the downloaded packages go where the guest's loader looks by default.
      case "$lib" in
        "$fido_dir"/*) dest="/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
        *) dest="$lib" ;;
      esac
      mkdir -p "$stage$(dirname "$dest")"
      cp -L "$lib" "$stage$dest"
    done
  fi

  # Third-party packages, then prune what only a build or another platform needs.
  # shellcheck disable=SC2086 # $deps is a list of plain store paths
  (cd "$ROOT" && find $deps | cpio -pdm --quiet "$stage/keybench")
  # pnpm's hoisted links (node_modules/.pnpm/node_modules) serve undeclared imports.
  cp -a "$ROOT/node_modules/.pnpm/node_modules" "$stage/keybench/node_modules/.pnpm/"
  (
    cd "$stage/keybench/node_modules/.pnpm"
    find . -path '*/node-hid/prebuilds/*' -prune ! -name 'HID_hidraw-linux-x64' \
      ! -name 'HID-linux-x64' -exec rm -rf {} +
    rm -rf ./node-hid@*/node_modules/node-hid/{hidapi,src}
    rm -rf ./better-sqlite3@*/node_modules/better-sqlite3/{deps,src}
    find ./better-sqlite3@*/node_modules/better-sqlite3/build -mindepth 1 \
      ! -path '*/build/Release' ! -path '*/build/Release/better_sqlite3.node' \
      -prune -exec rm -rf {} +
  )

  (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$base.tmp"
  mv "$base.tmp" "$base"
  rm -rf "$stage"
  # Old bases only waste disk (the hour's grace covers a run still reading one).
  find "$CACHE" -maxdepth 1 -name 'base-*.cpio' ! -name "$(basename "$base")" -mmin +60 -delete
fi

echo "KERNEL=$kdir/vmlinux"
echo "BASE=$base"
echo "KERNEL_PACKAGE=$(basename "$deb" .deb)"
