#!/usr/bin/env python3
"""Turn `nm -n` output of a kernel image into the assembly of its symbol
table (kernel/debug/ksyms.h): the addresses of the functions, sorted, an
end-of-text entry, and their names.

usage: nm -n kernel.elf | tools/mksyms.py > ksyms.S
       tools/mksyms.py < /dev/null > ksyms.S     (an empty table)
"""
import sys

TEXT_TYPES = set("tTwW")


def function_symbols(lines):
    """Return [(address, name)] of the text symbols, sorted, one name per
    address, and the address of _etext (or None)."""
    symbols, etext = {}, None
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, kind, name = int(parts[0], 16), parts[1], parts[2]
        if name == "_etext":
            etext = addr
        elif kind in TEXT_TYPES and not name.startswith(".L"):
            # Several names for one address: prefer a function's name to a
            # linker-script marker such as _text.
            if addr not in symbols or symbols[addr].startswith("_"):
                symbols[addr] = name
    return sorted(symbols.items()), etext


def emit(symbols, etext):
    out = ['\t.section .ksyms, "a"', "\t.balign 8"]
    out += ["\t.globl ksym_count", "ksym_count:", "\t.quad %d" % len(symbols)]
    out += ["\t.globl ksym_addrs", "ksym_addrs:"]
    out += ["\t.quad 0x%x" % addr for addr, _ in symbols]
    out += ["\t.quad 0x%x" % (etext if etext is not None else 0)]
    out += ["\t.globl ksym_name_offsets", "ksym_name_offsets:"]
    offset = 0
    for _, name in symbols:
        out.append("\t.long %d" % offset)
        offset += len(name) + 1
    out += ["\t.globl ksym_names", "ksym_names:"]
    out += ['\t.asciz "%s"' % name for _, name in symbols]
    out.append("\t.byte 0")
    return "\n".join(out) + "\n"


def main():
    symbols, etext = function_symbols(sys.stdin)
    if symbols and etext is None:
        sys.exit("mksyms: no _etext symbol in the nm output")
    sys.stdout.write(emit(symbols, etext))


if __name__ == "__main__":
    main()
