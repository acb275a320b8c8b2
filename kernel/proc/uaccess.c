#include "lib/errno.h"
#include "mm/cow.h"
#include "lib/string.h"
#include "proc/proc.h"
#include "proc/uaccess.h"

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
	// (void)pml4, (void)va, (void)len, (void)write;
	// return false;
	// END LAB 3
}

// The current process's user memory is mapped while it runs, so once a
// range is checked the kernel reaches it at its user address.
int copy_from_user(void *dst, uint64_t src, size_t len)
{
	if (!user_range_ok(proc_current()->pml4, src, len, false))
		return -EFAULT;
	memcpy(dst, (const void *)src, len);
	return 0;
}

int copy_to_user(uint64_t dst, const void *src, size_t len)
{
	pte_t *pml4 = proc_current()->pml4;

	for (uint64_t page = dst & ~(uint64_t)(PAGE_SIZE - 1); page < dst + len && page < USER_TOP;
	     page += PAGE_SIZE)
		cow_fault(pml4, page, PF_PRESENT | PF_WRITE);
	if (!user_range_ok(pml4, dst, len, true))
		return -EFAULT;
	memcpy((void *)dst, src, len);
	return 0;
}

int64_t copy_string_from_user(char *dst, uint64_t src, size_t max)
{
	pte_t *pml4 = proc_current()->pml4;

	for (size_t i = 0; i < max; i++) {
		// Check each page once, when the string enters it.
		if ((i == 0 || (src + i) % PAGE_SIZE == 0) && !user_range_ok(pml4, src + i, 1, false))
			return -EFAULT;
		dst[i] = *(const char *)(src + i);
		if (dst[i] == '\0')
			return (int64_t)i;
	}
	return -E2BIG;
}
