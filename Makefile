# Top-level Makefile. `make` builds the kernel and its GRUB ISO under
# build/; `make run`, `make grade LAB=n` and `make test` are described in
# README.md. Every target installs missing tools first (tools/setup).

BUILD := build
CC := gcc
LD := ld
NM := nm
PYTHON := python3

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter

# tools/setup installs the Debian packages the build and the runners need;
# the stamp makes it run once per build tree (again if tools/setup changes).
SETUP_STAMP := $(BUILD)/.setup-done

all: kernel iso

$(SETUP_STAMP): tools/setup
	@mkdir -p $(@D)
	tools/setup
	@touch $@

setup:
	tools/setup

include vmx/Makefrag
include kernel/Makefrag
include kernel/user/Makefrag
include tools/Makefrag

kernel: $(KERNEL_ELF)

clean:
	rm -rf $(BUILD)

.PHONY: all kernel setup clean
.DELETE_ON_ERROR:
# Keep intermediate files (objects of the user programs): rebuilding them
# every time would only cost time.
.SECONDARY:
