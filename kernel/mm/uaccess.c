#include "arch/trapframe.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/aspace.h"
#include "mm/uaccess.h"

bool user_range_ok(pte_t *pml4, uint64_t va, size_t len, bool write)
{
	// BEGIN LAB 3 SOLUTION: user_range_ok
	if (len == 0)
		return true;
	// The range must not wrap around and must end in user space.
	if (va + len < va || va + len > USER_TOP)
		return false;
	uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
	for (uint64_t page = va & ~(uint64_t)(PAGE_SIZE - 1); page < va + len; page += PAGE_SIZE) {
		pte_t *pte = pt_walk(pml4, page, false);
		if (pte == NULL || (*pte & need) != need)
			return false;
	}
	return true;
	// STUB:
	// printk("LAB 3: user_range_ok not written: every user pointer is refused\n");
	// (void)pml4, (void)va, (void)len, (void)write;
	// return false;
	// END LAB 3
}

// The current process's user memory is mapped while it runs, so once a
// range is checked the kernel reaches it at its user address. The check
// and the copy hold the address space's lock: another thread cannot
// unmap the range in between, and every shootdown is complete, so this
// CPU holds no stale translation of it.
int copy_from_user(void *dst, uint64_t src, size_t len)
{
	struct aspace *as = aspace_current();

	aspace_lock(as);
	bool ok = user_range_ok(as->pml4, src, len, false);
	if (ok)
		memcpy(dst, (const void *)src, len);
	aspace_unlock(as);
	return ok ? 0 : -EFAULT;
}

int user_writable(uint64_t dst, size_t len)
{
	struct aspace *as = aspace_current();

	if (len == 0)
		return 0;
	if (dst + len < dst || dst + len > USER_TOP)
		return -EFAULT;
	// aspace_fault breaks copy-on-write (and takes the lock); a page that
	// cannot be written ends the walk, so it is never longer than what is
	// mapped.
	for (uint64_t page = dst & ~(uint64_t)(PAGE_SIZE - 1); page < dst + len; page += PAGE_SIZE)
		if (!aspace_fault(as, page, PF_PRESENT | PF_WRITE | PF_USER))
			return -EFAULT;
	return 0;
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
	struct aspace *as = aspace_current();

	if (user_writable(dst, len) < 0)
		return -EFAULT;
	aspace_lock(as);
	bool ok = user_range_ok(as->pml4, dst, len, true);
	if (ok)
		memcpy((void *)dst, src, len);
	aspace_unlock(as);
	return ok ? 0 : -EFAULT;
}

int64_t copy_string_from_user(char *dst, uint64_t src, size_t max)
{
	struct aspace *as = aspace_current();
	int64_t result = -E2BIG;

	aspace_lock(as);
	// BEGIN LAB 3 SOLUTION: copy_string_from_user
	for (size_t i = 0; i < max; i++) {
		// Check each page once, when the string enters it.
		if ((i == 0 || (src + i) % PAGE_SIZE == 0) && !user_range_ok(as->pml4, src + i, 1, false)) {
			result = -EFAULT;
			break;
		}
		dst[i] = *(const char *)(src + i);
		if (dst[i] == '\0') {
			result = (int64_t)i;
			break;
		}
	}
	// STUB:
	// printk("LAB 3: copy_string_from_user not written\n");
	// (void)dst, (void)src, (void)max;
	// result = -EFAULT;
	// END LAB 3
	aspace_unlock(as);
	return result;
}
