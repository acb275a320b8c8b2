// The VMCS: the in-memory structure that holds a virtual CPU's guest
// state, the host state to return to, and the controls of VMX non-root
// operation (SDM Vol. 3C chapter 25). Software reaches it only through
// VMREAD and VMWRITE of the current VMCS (the one VMPTRLD loaded).
//
// Accessors are typed by width: vmcs_write32(GUEST_CS_SELECTOR, ...) is a
// bug (a 16-bit field) and panics with the field's name.

#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdint.h>

enum vmcs_field {
#define VMCS_FIELD(name, encoding) name = encoding,
#include "vmx/vmcs_fields.h"
#undef VMCS_FIELD
};

// Field widths, from encoding bits 14:13 (SDM Vol. 3C 25.11.2).
enum vmcs_width { VMCS_16BIT = 0, VMCS_64BIT = 1, VMCS_32BIT = 2, VMCS_NATURAL = 3 };

const char *vmcs_field_name(enum vmcs_field field);

uint16_t vmcs_read16(enum vmcs_field field);
uint32_t vmcs_read32(enum vmcs_field field);
uint64_t vmcs_read64(enum vmcs_field field);
uint64_t vmcs_readnat(enum vmcs_field field);
void vmcs_write16(enum vmcs_field field, uint16_t value);
void vmcs_write32(enum vmcs_field field, uint32_t value);
void vmcs_write64(enum vmcs_field field, uint64_t value);
void vmcs_writenat(enum vmcs_field field, uint64_t value);

// VMCLEAR and VMPTRLD of the VMCS at physical address pa; panic with the
// VM-instruction error's name on failure.
void vmcs_clear(uint64_t pa);
void vmcs_load(uint64_t pa);

// The SDM's name of a VM-instruction error number (Vol. 3C 31.4).
const char *vm_instruction_error_name(uint32_t error);

// The guest-state fields of the current VMCS (every one vmcs_fields.h
// lists), read into values / written from values, in one fixed order: a
// copy of a guest's state for another VMCS (fork of a Dune process).
#define VMCS_MAX_FIELDS 128
int vmcs_save_guest_state(uint64_t values[VMCS_MAX_FIELDS]);
void vmcs_restore_guest_state(const uint64_t values[VMCS_MAX_FIELDS]);

// Prints every field of the current VMCS, grouped as vmcs_fields.h.
void vmcs_dump(void);

#endif
