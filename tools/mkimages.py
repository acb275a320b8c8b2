#!/usr/bin/env python3
"""Write the assembly that links files into the kernel image as a table of
named images (kernel/lib/image.h): the user programs (kernel/user/Makefrag)
and the test guests (vmx/Makefrag) both come in this way.

usage: tools/mkimages.py TABLE NAME=FILE... > TABLE.S

The output puts each file in .rodata (16-byte aligned) with .incbin, then
the table TABLE of struct image { name, start, end } and TABLE_count, the
number of images, both global.
"""
import re
import sys


def assembly(table, images):
    """The assembly text for table, from [(name, file)]."""
    if not re.fullmatch(r"[A-Za-z_]\w*", table):
        raise ValueError("table name %r is not a C identifier" % table)
    out = ["\t.section .rodata"]
    for i, (name, path) in enumerate(images):
        if '"' in name or '"' in path:
            raise ValueError("a quote in %r or %r" % (name, path))
        out += ["\t.balign 16",
                "%s_%d: .incbin \"%s\"" % (table, i, path),
                "%s_%d_end:" % (table, i),
                "%s_%d_name: .asciz \"%s\"" % (table, i, name)]
    out += ["\t.balign 8", "\t.globl %s, %s_count" % (table, table), "%s:" % table]
    for i in range(len(images)):
        out.append("\t.quad %s_%d_name, %s_%d, %s_%d_end" % ((table, i) * 3))
    out += ["%s_count:" % table, "\t.quad %d" % len(images)]
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[2:]):
        sys.exit(__doc__.strip().splitlines()[2])
    images = [tuple(a.split("=", 1)) for a in argv[2:]]
    sys.stdout.write(assembly(argv[1], images))


if __name__ == "__main__":
    main(sys.argv)
