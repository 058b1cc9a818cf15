/* A raw guest shared by tests: long mode with page tables of its own. */
#ifndef TWINVM_TEST_OWN_PAGE_TABLES_H
#define TWINVM_TEST_OWN_PAGE_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* Long mode, with page tables of the guest's own above 0x18000 that map virtual 0x40000000 to
 * physical 0x30000 through a 4 KiB page (and the first 2 MiB identity, for code and stack):
 *   PML4 0x20000 -> PDPT 0x21000: [0] -> PD 0x22000 ([0]: 2 MiB page at 0)
 *                                 [1] -> PD 0x23000 ([0] -> PT 0x24000 ([0]: 4 KiB page 0x30000))
 *   0x00  c7 04 25 00 00 03 00 34 12 ed 5e     mov dword [0x30000], 0x5eed1234  ; the marker
 *   0x0b  48 c7 04 25 00 00 02 00 03 10 02 00  mov qword [0x20000], 0x21003     ; PML4[0]
 *   0x17  48 c7 04 25 00 10 02 00 03 20 02 00  mov qword [0x21000], 0x22003     ; PDPT[0]
 *   0x23  48 c7 04 25 08 10 02 00 03 30 02 00  mov qword [0x21008], 0x23003     ; PDPT[1]
 *   0x2f  48 c7 04 25 00 20 02 00 83 00 00 00  mov qword [0x22000], 0x83        ; PD[0], PS
 *   0x3b  48 c7 04 25 00 30 02 00 03 40 02 00  mov qword [0x23000], 0x24003     ; PD'[0]
 *   0x47  48 c7 04 25 00 40 02 00 03 00 03 00  mov qword [0x24000], 0x30003     ; PT[0]
 *   0x53  b8 00 00 02 00                       mov eax, 0x20000
 *   0x58  0f 22 d8                             mov cr3, rax
 *   0x5b  8b 04 25 00 00 00 40                 mov eax, [0x40000000]  ; the marker, through
 *   0x62  e7 ea                                out 0xea, eax          ; the new mapping
 *   0x64  bb 00 00 00 40                       mov ebx, 0x40000000
 *   0x69  e5 ee                                in eax, 0xee           ; HC_gvaToHva: 0x30000
 *   0x6b  e7 ea                                out 0xea, eax
 *   0x6d  c7 04 25 04 00 00 40 ef be ad de     mov dword [0x40000004], 0xdeadbeef
 *   0x78  f4                                   hlt
 * An engine that ignored the new tables would read 0x40000000 identity-mapped, above RAM: an
 * MMIO exit, not the marker. */
extern const uint8_t tv_own_page_tables[];
extern const size_t tv_own_page_tables_len;

#endif
