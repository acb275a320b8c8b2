// Executes INVD, which always exits (SDM Vol. 3C 26.1.2) and for which
// the host has no handler.
#include "guest.h"

void main(void)
{
	asm volatile("invd" ::: "memory");
	printf("invd: the guest went on\n");
}
