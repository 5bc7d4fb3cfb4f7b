#!/bin/sh
# /init of the VM test guest (busybox sh, PID 1). Mounts what the kernel does not mount for
# us, loads the HID modules, runs /guest-test.mjs under a timeout and reports its status
# through QEMU's isa-debug-exit device (iobase 0xf4): QEMU then exits with (byte << 1) | 1,
# so 1 means pass and anything else (3 = fail, 0 = panic with -no-reboot) means failure.
# Kernel command-line words name=value arrive here as environment variables:
#   kb_timeout  seconds allowed for the whole guest test (default 120)

/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# CONFIG_DEVTMPFS_MOUNT is not set in Debian's kernel: without this there is no /dev/uhid.
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

report() {
  # One byte to the debug-exit port: 0 = pass; any failure becomes 1 so that an exit status
  # such as 128 cannot wrap around to QEMU's pass value.
  code=0
  [ "$1" -eq 0 ] || code=1
  printf "\\$(printf '%03o' "$code")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  # Reached only if the debug-exit device is missing.
  poweroff -f
}

echo "KEYBENCH-VM init uptime=$(cut -d' ' -f1 /proc/uptime)"

# No modules.dep and no udev: load hid (with hidraw built in), uhid, then hid-generic, which
# binds the uhid device so that a hidraw node appears.
for m in hid uhid hid-generic; do
  if ! insmod "/modules/$m.ko"; then
    echo "KEYBENCH-VM FAIL insmod $m.ko"
    report 1
  fi
done
echo "KEYBENCH-VM modules uptime=$(cut -d' ' -f1 /proc/uptime)"

status=1
timeout -s KILL "${kb_timeout:-120}" node /guest-test.mjs
status=$?
[ "$status" -eq 137 ] && echo "KEYBENCH-VM FAIL guest test killed after ${kb_timeout:-120} s"
dmesg | grep -iE 'hid|uhid' | tail -n 20 | sed 's/^/dmesg| /'
echo "KEYBENCH-VM exit status=$status uptime=$(cut -d' ' -f1 /proc/uptime)"
report "$status"
