// The servers' option -b LIMIT (ixgbe_netif.h), apart from the interface
// so the dataplane, whose lwIP lives in its flow groups' instances,
// links it too.

#include "ix/net/ixgbe_netif.h"
#include "ulib.h"

bool ixgbe_netif_take_batch_limit(int *argc, char ***argv, int *limit)
{
	char **a = *argv;

	if (*argc < 2 || strcmp(a[1], "-b") != 0)
		return true;
	const char *end = "";
	unsigned long n = *argc > 2 ? strtoul(a[2], &end, 10) : 0;
	if (*argc < 3 || *end != '\0' || n < 1 || n > IXGBE_NETIF_RX_BURST) {
		printf("%s: -b %s: the batch limit is a number from 1 to %d\n", a[0],
		       *argc > 2 ? a[2] : "(missing)", IXGBE_NETIF_RX_BURST);
		return false;
	}
	*limit = (int)n;
	a[2] = a[0];
	*argv = a + 2;
	*argc -= 2;
	return true;
}
