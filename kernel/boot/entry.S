// Kernel entry: from the Multiboot loader (32-bit protected mode, paging off)
// to 64-bit C in the higher half.
//
// The loader (GRUB's multiboot2 from the ISO, BIOS or UEFI; QEMU's -kernel,
// Multiboot v1) jumps to _start with
//   %eax = MB2_BOOTLOADER_MAGIC or MULTIBOOT_BOOTLOADER_MAGIC, %ebx = the
//   physical address of its boot information, flat 4 GiB code and data
//   segments, interrupts off (bootinfo_parse tells the two apart).
// Until paging is on, this code runs at its physical address: it is linked
// in the .boot sections at KERNEL_LOAD_PHYS, and it names kernel symbols
// (linked at KERNBASE and above) by their physical address, sym - KERNBASE.
//
// Steps (SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode"):
//   1. check that the CPU has long mode, else print why and stop;
//   2. build the boot page tables (see arch/memlayout.h);
//   3. CR4.PAE, CR3, EFER.LME (and NXE), then CR0.PG: long mode is active;
//   4. load a GDT with a 64-bit code segment and far-jump into it;
//   5. jump to the higher half, switch to the boot stack, call kmain.

#define ASM_FILE
#include <multiboot/multiboot.h>
#include "arch/regs.h"
#include "boot/multiboot2.h"
#include "arch/gdt.h"
#include "arch/mmu.h"
#include "arch/ports.h"
#include "arch/memlayout.h"

#define PHYS(sym) ((sym) - KERNBASE)

#define MB_FLAGS (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_AOUT_KLUDGE)

// The Multiboot v1 header (Multiboot spec 3.1). The a.out-kludge address
// fields make both GRUB and QEMU load this ELF64 file as a flat image:
// QEMU's loader refuses 64-bit ELF files otherwise.
	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)
	.long multiboot_header          // header_addr
	.long KERNEL_LOAD_PHYS          // load_addr
	.long PHYS(_edata)              // load_end_addr
	.long PHYS(_end)                // bss_end_addr
	.long _start                    // entry_addr

// The Multiboot2 header (Multiboot2 spec 3.1): the same flat image, by
// the address and entry tags. No tag asks for boot services or a video
// mode: GRUB leaves UEFI's boot services and enters as for Multiboot v1.
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short MB2_HEADER_TAG_ADDRESS, 0
	.long 24
	.long mb2_header                // header_addr
	.long KERNEL_LOAD_PHYS          // load_addr
	.long PHYS(_edata)              // load_end_addr
	.long PHYS(_end)                // bss_end_addr
	.balign 8
	.short MB2_HEADER_TAG_ENTRY, 0
	.long 12
	.long _start                    // entry_addr
	.balign 8
	.short MB2_HEADER_TAG_END, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $PHYS(boot_stack_top), %esp
	movl %eax, %ebp                 // keep the loader's magic and info
	movl %ebx, %esi                 // pointer for kmain(magic, info)

	// CPUID.80000001H:EDX bit 29 is long mode (SDM Vol. 2A, CPUID).
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx          // long mode
	jz no_long_mode
	testl $(1 << 20), %edx          // NX (the page tables use it)
	jz no_long_mode

	call build_boot_page_tables
	enable_long_mode $PHYS(boot_pml4)

	lgdt boot_gdt_desc
	ljmp $GDT_KERNEL_CODE, $long_mode_entry

// Map [0, 1 GiB) at 0 and at KERNBASE, and [0, 4 GiB) at DIRECTMAP_BASE,
// with 2 MiB pages. boot_pd holds four page directories; the first one
// also serves the identity and KERNBASE maps.
build_boot_page_tables:
	movl $PHYS(boot_pd), %edi
	xorl %eax, %eax
	movl $(BOOT_DIRECTMAP_GIB * PT_ENTRIES), %ecx
1:	movl %eax, %edx
	shll $21, %edx                  // low half of the 2 MiB page address
	orl $(PTE_P | PTE_W | PTE_PS), %edx
	movl %edx, (%edi)
	movl %eax, %edx
	shrl $11, %edx                  // high half: bits 32+ of (i << 21)
	movl %edx, 4(%edi)
	addl $8, %edi
	incl %eax
	loop 1b

	// PDPT for DIRECTMAP_BASE: one entry per GiB.
	movl $PHYS(boot_pdpt_direct), %edi
	movl $PHYS(boot_pd), %eax
	orl $(PTE_P | PTE_W), %eax
	movl $BOOT_DIRECTMAP_GIB, %ecx
2:	movl %eax, (%edi)
	addl $8, %edi
	addl $PAGE_SIZE, %eax
	loop 2b

	movl $(PHYS(boot_pd) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pdpt_low)                  // [0, 1 GiB)
	movl %eax, PHYS(boot_pdpt_high) + 510 * 8       // KERNBASE = PML4[511], PDPT[510]

	movl $(PHYS(boot_pdpt_low) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pml4)
	movl $(PHYS(boot_pdpt_direct) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pml4) + 256 * 8            // DIRECTMAP_BASE = PML4[256]
	movl $(PHYS(boot_pdpt_high) + PTE_P + PTE_W), %eax
	movl %eax, PHYS(boot_pml4) + 511 * 8
	ret

// No long mode: say so on COM1 and on the VGA text screen, then stop.
no_long_mode:
	movl $no_long_mode_msg, %esi
	movl $0xB8000, %edi
1:	lodsb
	testb %al, %al
	jz 3f
	movb $0x4F, %ah                 // white on red
	movw %ax, (%edi)
	addl $2, %edi
	movb %al, %bl
	movw $COM1_LSR, %dx             // wait until COM1 takes a character
2:	inb %dx, %al
	testb $COM1_LSR_THR_EMPTY, %al
	jz 2b
	movb %bl, %al
	movw $COM1_PORT, %dx
	outb %al, %dx
	jmp 1b
3:	hlt
	jmp 3b

no_long_mode_msg:
	.asciz "boot: this CPU lacks 64-bit long mode or NX; the kernel needs an x86-64 CPU with both\r\n"

	.code64
long_mode_entry:
	movabs $higher_half_entry, %rax
	jmp *%rax

	// The outermost frame: its CFI says there is no caller, so gdb's
	// backtraces end here.
	.cfi_sections .debug_frame
	.text
higher_half_entry:
	.cfi_startproc
	.cfi_undefined rip
	movw $GDT_KERNEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabs $boot_stack_top, %rsp
	movl %ebp, %edi                 // kmain(magic, info): 32-bit moves
	movl %esi, %esi                 // zero-extend both arguments
	xorl %ebp, %ebp                 // the backtrace stops at a zero frame
	call kmain
1:	hlt
	jmp 1b
	.cfi_endproc

	.section .boot.data, "aw"
	.balign 16
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
	.balign 16
boot_gdt:
	.quad 0
	.quad GDT_DESC_KERNEL_CODE64
	.quad GDT_DESC_KERNEL_DATA
boot_gdt_end:

	.bss
	.balign PAGE_SIZE
	.globl boot_pml4
boot_pml4:        .space PAGE_SIZE
boot_pdpt_low:    .space PAGE_SIZE
boot_pdpt_high:   .space PAGE_SIZE
boot_pdpt_direct: .space PAGE_SIZE
boot_pd:          .space BOOT_DIRECTMAP_GIB * PAGE_SIZE
	.globl boot_stack, boot_stack_top
boot_stack:       .space KSTACK_SIZE
boot_stack_top:
