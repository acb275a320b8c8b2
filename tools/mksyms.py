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
    """Return [(address, name)] of the functions in [_text, _etext), sorted,
    one name per address, and the address of _etext (or None). The 32-bit
    entry code before _text never appears in a backtrace."""
    entries = [line.split() for line in lines]
    entries = [(int(e[0], 16), e[1], e[2]) for e in entries if len(e) == 3]
    bounds = {name: addr for addr, _, name in entries if name in ("_text", "_etext")}
    text, etext = bounds.get("_text", 0), bounds.get("_etext")
    symbols = {}
    for addr, kind, name in entries:
        if kind in TEXT_TYPES and text <= addr and (etext is None or addr < etext):
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
