/* Page tables built by hand in guarded RAM for the software walk's tests (test_pagewalk.c,
 * test_pagewalk_reserved.c, test_pagewalk_kvm.c): RAM with an inaccessible page on each side
 * (guarded_ram.h), so a walk that touched host memory outside it would crash the test instead of
 * passing; the segment and control registers of each paging form; and one set of PAE and one of
 * long-mode tables with their test addresses. */
#ifndef TWINVM_TEST_WALK_TABLES_H
#define TWINVM_TEST_WALK_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "guestmem.h"
#include "layout.h"
#include "pagewalk.h"

#define RAM_SIZE (1ull << 20)
#define PTE (TV_PTE_P | TV_PTE_RW)

/* Where the hand-built tables go: any page-aligned RAM will do. */
#define T0 0x10000ull
#define T1 0x11000ull
#define T2 0x12000ull
#define T3 0x13000ull

extern struct tv_ram ram;
/* The MAXPHYADDR the pure tests walk with; a test that needs another sets it. */
extern unsigned maxphy;

/* A checked fixture: ram allocated (guarded) and maxphy at its default; and freed. */
void guarded_ram_setup(void);
void guarded_ram_teardown(void);

/* A value written to, or read from, ram at gpa (asserting it is in RAM). */
void put32(uint64_t gpa, uint32_t value);
void put64(uint64_t gpa, uint64_t value);
uint64_t get64(uint64_t gpa);

/* 32-bit protected mode, no paging, data segment at ds_base. */
struct tv_sregs flat_sregs(uint64_t ds_base);

/* 32-bit paging with CR3 cr3, and CR4.PSE when pse; PAE with EFER.NXE. */
struct tv_sregs paged32_sregs(uint64_t cr3, bool pse);
struct tv_sregs pae_sregs(uint64_t cr3);

/* 64-bit code (CS.L) with DS.base set, which 64-bit code ignores. */
struct tv_sregs long_sregs(uint64_t cr3);

/* PDPT at T0 + 0x20 (CR3 is 32-byte aligned in PAE), PDPTE 1 -> PD T2, PDE 3 -> PT T3,
 * PTE 4 -> 0x40000; PDE 5 is a 2 MiB page at 0x600000. */
struct tv_sregs pae_tables(void);
#define PAE_GVA_4K ((1ull << 30) | (3ull << 21) | (4ull << 12) | 0x567)
#define PAE_GVA_2M ((1ull << 30) | (5ull << 21) | 0x12345)

/* PML4 T0: entry 1 -> PDPT T1; PDPT entry 2 -> PD T2, entry 5 a 1 GiB page at 1 GiB;
 * PD entry 3 -> PT T3, entry 6 a 2 MiB page at 4 MiB; PT entry 4 -> 0x50000.
 * PML4 entry 256 (the first of the upper half) -> the same PDPT. */
struct tv_sregs long_tables(void);
#define LONG_GVA_4K ((1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0xabc)
#define LONG_GVA_2M ((1ull << 39) | (2ull << 30) | (6ull << 21) | 0x1abcd)
#define LONG_GVA_1G ((1ull << 39) | (5ull << 30) | 0x12345678)

#endif
