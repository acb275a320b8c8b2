// Where a user program starts: the kernel enters at _start with the stack
// pointer 16-byte aligned. main's return value becomes the exit status.
	.text
	.globl _start
_start:
	xorl %ebp, %ebp                 // the outermost frame
	call main
	movl %eax, %edi
	call exit
