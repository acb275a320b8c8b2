// A guest starts here with its arguments in %rdi and %rsi (set by the
// host) and its stack set; when main returns, it halts.
	.section .text.start, "ax"
	.globl _start
_start:
	xorl %ebp, %ebp
	call main
1:	hlt
	jmp 1b
