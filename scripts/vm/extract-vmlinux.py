#!/usr/bin/env python3
"""Writes the uncompressed ELF vmlinux held inside an XZ-compressed bzImage.

QEMU boots that ELF directly through its PVH entry note (CONFIG_PVH=y): no BIOS, no real-mode
setup and no in-guest XZ decompression, which halves the boot time under TCG.
Usage: extract-vmlinux.py BZIMAGE OUT. Exits 1 when no XZ stream decodes to an ELF file.
"""
import lzma
import sys

XZ_MAGIC = b"\xfd7zXZ\x00"
ELF_MAGIC = b"\x7fELF"


def main(src: str, out: str) -> int:
    data = open(src, "rb").read()
    start = data.find(XZ_MAGIC)
    while start != -1:
        try:
            elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
        except lzma.LZMAError:
            elf = b""
        if elf.startswith(ELF_MAGIC):
            with open(out, "wb") as f:
                f.write(elf)
            return 0
        start = data.find(XZ_MAGIC, start + 1)
    print(f"extract-vmlinux: no XZ-compressed ELF found in {src}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: extract-vmlinux.py BZIMAGE OUT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
