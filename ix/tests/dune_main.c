// The start of a test program built as a Dune program too (ix/Makefrag:
// nictest-dune is nictest.c linked with this file and libdune): the
// link's --wrap=main sends crt0's call of main here, to __wrap_main,
// while __real_main is the program's own main. So the very same program
// runs in VMX non-root ring 0 (vmx/dune/dune.h), where its system calls
// are VMCALLs and its accesses to emulated device registers are EPT
// violations instead of page faults.

#include "libdune/dune.h"

int __real_main(int argc, char **argv);

// Enters Dune mode, then runs the program's main. Exit status 100 (the
// program could not start, as nictest's own) if Dune mode is not there.
int __wrap_main(int argc, char **argv)
{
	int err = dune_init_and_enter();

	if (err < 0) {
		dune_printf("%s: cannot enter Dune mode: error %d\n", argv[0], err);
		return 100;
	}
	return __real_main(argc, argv);
}
