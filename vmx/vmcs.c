#include <stdbool.h>
#include <stddef.h>

#include "console/console.h"
#include "debug/panic.h"
#include "vmx/vmcs.h"

static const struct {
	enum vmcs_field field;
	const char *name;
} fields[] = {
#define VMCS_FIELD(name, encoding) { name, #name },
#include "vmx/vmcs_fields.h"
#undef VMCS_FIELD
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

const char *vmcs_field_name(enum vmcs_field field)
{
	for (unsigned i = 0; i < NFIELDS; i++)
		if (fields[i].field == field)
			return fields[i].name;
	return "unknown field";
}

static enum vmcs_width width_of(enum vmcs_field field)
{
	return (enum vmcs_width)((field >> 13) & 3);
}

static void check_width(enum vmcs_field field, enum vmcs_width width, const char *who)
{
	static const char *const names[] = { "16-bit", "64-bit", "32-bit", "natural-width" };

	if (width_of(field) != width)
		panic("%s: %s (0x%x) is a %s field", who, vmcs_field_name(field), field,
		      names[width_of(field)]);
}

const char *vm_instruction_error_name(uint32_t error)
{
	static const char *const names[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[19] = "VMCALL with non-clear VMCS",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with incorrect MSEG revision identifier",
		[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "Invalid operand to INVEPT/INVVPID",
	};
	if (error < sizeof(names) / sizeof(names[0]) && names[error] != NULL)
		return names[error];
	return "unknown VM-instruction error";
}

// After a VMX instruction: CF=1 is VMfailInvalid (no current VMCS), ZF=1
// is VMfailValid with the number in the VM-instruction error field (SDM
// Vol. 3C 31.2). The operand's name is looked up only on failure: this
// runs at every VMREAD and VMWRITE.
static void fail_vmx(bool fail_invalid, bool fail_valid, const char *what,
		     const char *operand)
{
	if (fail_invalid)
		panic("%s %s: VMfailInvalid (no current VMCS)", what, operand);
	if (fail_valid) {
		uint64_t error;
		asm volatile("vmread %1, %0" : "=r"(error) : "r"((uint64_t)VM_INSTRUCTION_ERROR) : "cc");
		panic("%s %s: VMfailValid, error %lu: %s", what, operand,
		      error, vm_instruction_error_name((uint32_t)error));
	}
}

static uint64_t vmread(enum vmcs_field field)
{
	uint64_t value;
	bool invalid, valid;

	asm volatile("vmread %3, %0" : "=r"(value), "=@ccc"(invalid), "=@ccz"(valid)
		     : "r"((uint64_t)field));
	if (invalid || valid)
		fail_vmx(invalid, valid, "vmread", vmcs_field_name(field));
	return value;
}

static void vmwrite(enum vmcs_field field, uint64_t value)
{
	bool invalid, valid;

	asm volatile("vmwrite %3, %2" : "=@ccc"(invalid), "=@ccz"(valid)
		     : "r"((uint64_t)field), "r"(value) : "memory");
	if (invalid || valid)
		fail_vmx(invalid, valid, "vmwrite", vmcs_field_name(field));
}

uint16_t vmcs_read16(enum vmcs_field f) { check_width(f, VMCS_16BIT, "vmcs_read16"); return (uint16_t)vmread(f); }
uint32_t vmcs_read32(enum vmcs_field f) { check_width(f, VMCS_32BIT, "vmcs_read32"); return (uint32_t)vmread(f); }
uint64_t vmcs_read64(enum vmcs_field f) { check_width(f, VMCS_64BIT, "vmcs_read64"); return vmread(f); }
uint64_t vmcs_readnat(enum vmcs_field f) { check_width(f, VMCS_NATURAL, "vmcs_readnat"); return vmread(f); }
void vmcs_write16(enum vmcs_field f, uint16_t v) { check_width(f, VMCS_16BIT, "vmcs_write16"); vmwrite(f, v); }
void vmcs_write32(enum vmcs_field f, uint32_t v) { check_width(f, VMCS_32BIT, "vmcs_write32"); vmwrite(f, v); }
void vmcs_write64(enum vmcs_field f, uint64_t v) { check_width(f, VMCS_64BIT, "vmcs_write64"); vmwrite(f, v); }
void vmcs_writenat(enum vmcs_field f, uint64_t v) { check_width(f, VMCS_NATURAL, "vmcs_writenat"); vmwrite(f, v); }

void vmcs_clear(uint64_t pa)
{
	bool invalid, valid;

	asm volatile("vmclear %2" : "=@ccc"(invalid), "=@ccz"(valid) : "m"(pa) : "memory");
	fail_vmx(invalid, valid, "vmclear", "");
}

void vmcs_load(uint64_t pa)
{
	bool invalid, valid;

	asm volatile("vmptrld %2" : "=@ccc"(invalid), "=@ccz"(valid) : "m"(pa) : "memory");
	fail_vmx(invalid, valid, "vmptrld", "");
}

// Guest-state fields: type 2 in encoding bits 11:10 (SDM Vol. 3C 25.11.2).
static bool is_guest_state(enum vmcs_field field)
{
	return ((field >> 10) & 3) == 2;
}

int vmcs_save_guest_state(uint64_t values[VMCS_MAX_FIELDS])
{
	int n = 0;

	for (unsigned i = 0; i < NFIELDS; i++)
		if (is_guest_state(fields[i].field))
			values[n++] = vmread(fields[i].field);
	return n;
}

void vmcs_restore_guest_state(const uint64_t values[VMCS_MAX_FIELDS])
{
	int n = 0;

	for (unsigned i = 0; i < NFIELDS; i++)
		if (is_guest_state(fields[i].field))
			vmwrite(fields[i].field, values[n++]);
}

void vmcs_dump(void)
{
	printk("VMCS:\n");
	for (unsigned i = 0; i < NFIELDS; i++)
		printk("  %-30s 0x%lx\n", fields[i].name, vmread(fields[i].field));
}
