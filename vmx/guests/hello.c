// Prints a line through the virtual serial port, then halts.
#include "guest.h"

void main(uint64_t token)
{
	printf("hello from the guest, token %lx\n", token);
}
