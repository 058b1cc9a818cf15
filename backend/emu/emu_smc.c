/* A workaround for Unicorn's stale translations after the guest rewrites its own code.
 *
 * The bug (Unicorn 2.0.2 to at least 2.1.4, commit d0103576 "notdirty_write: fix store-related
 * performance problems"; reported as unicorn-engine/unicorn#2367): QEMU keeps every store to a
 * page that holds translated code on a slow path (TLB_NOTDIRTY) that drops the blocks the store
 * overlaps, for as long as the page holds code. Unicorn's notdirty_write takes the page off that
 * path after the first such store, and only the next translation of a block on the page, or a
 * TLB refill, puts it back. So once one store has hit a page, later stores to it go unseen: a
 * block on the page that the first store did not overlap survives being rewritten, and runs its
 * old code (kvm-unit-tests' realmode test: each test's bytes are copied over the last test's, and
 * a block the last test started inside the buffer runs instead). The smallest guest that shows
 * it is tests/test_self_modifying.c's: a copy over two blocks, whose first store hits the first.
 *
 * Unicorn's API has no cheap way to see the stores: a UC_HOOK_MEM_WRITE anywhere would keep
 * every page on the slow path (and every load and store off the inline fast path: 25 times
 * slower on a load/store loop, measured). What the API does show cheaply is translation
 * (UC_HOOK_EDGE_GENERATED, called only when a block is translated, not when it runs). A block
 * translated again at an address already translated was dropped meanwhile, most often by a
 * store to its page (else a flush, or the same address in another CPU mode). Then the other
 * blocks on that page may be stale too: before the new block runs, the engine stops and every
 * block is dropped (a flush: emu.h's emu_drop_blocks says why not the page's alone), to be
 * translated afresh from what RAM holds now.
 *
 * What it catches: a rewrite whose first store hits a block that runs again, as a copy over code
 * that ran before does. What it does not: a page whose first store hit no block (data beside
 * code) and whose rewritten block runs before any other block of the page is translated again.
 *
 * The record of translated addresses is a small direct-mapped table: a collision forgets an
 * address (a retranslation then goes unnoticed, the bug's old behaviour); a match is exact. When
 * blocks are dropped, their addresses are forgotten, so that their next translation does not
 * count as a second one.
 *
 * The second check closes that gap where guests are known to rewrite code in place, on a machine
 * with a platform (kvm-unit-tests' realmode test copies each test over the last one's; the gap
 * left its LOOPNE test running the LOOPE before it, and a timing loop spinning 2^32 times): a
 * block hook hashes each block's bytes as it runs and compares them with what they were the last
 * time a block at that address ran. Different bytes: the page's blocks are dropped and the
 * block begins again, translated from what RAM holds now. It reads
 * RAM directly, so it checks guests without paging only (where the address is physical). */
#include "emu.h"
#include "x86.h"

#include <inttypes.h>
#include <string.h>

#define EMU_PAGE 4096u

static unsigned emu_smc_slot(uint64_t pc)
{
	return (unsigned)((pc ^ (pc >> 12) ^ (pc >> 24)) & (EMU_SMC_SEEN - 1));
}

/* Forgets every recorded address on the page of page_base but keep. */
static void emu_smc_forget_page(struct tv_vcpu *v, uint64_t page_base, uint64_t keep)
{
	for (unsigned i = 0; i < EMU_SMC_SEEN; i++) {
		uint64_t pc = v->smc_seen[i] - 1;

		if (v->smc_seen[i] && (pc & ~(uint64_t)(EMU_PAGE - 1)) == page_base && pc != keep)
			v->smc_seen[i] = 0;
	}
}

void emu_smc_on_translate(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *opaque)
{
	struct tv_vcpu *v = opaque;
	uint64_t pc = cur->pc, page = pc & ~(uint64_t)(EMU_PAGE - 1);
	unsigned slot = emu_smc_slot(pc);

	(void)uc;
	(void)prev;
	v->in_translate = true; /* drops wait until the engine has stopped (emu_drop_blocks) */
	emu_sites_on_translate(v, pc, cur->size); /* emu_sites.c */
	if (v->smc_seen[slot] != pc + 1) {
		v->smc_seen[slot] = pc + 1; /* +1: 0 is an empty slot */
	} else {
		EMU_LOG(v->log, "  hook EDGE_GENERATED 0x%" PRIx64 ": translated again, its page's "
				"other blocks may be stale", pc);
		emu_drop_blocks(v, page, page + EMU_PAGE); /* every block, once stopped */
		emu_sites_forget_pages(v); /* the rewritten code may hold new sites (emu_sites.c) */
	}
	v->in_translate = false;
}

void emu_smc_forget(struct tv_vcpu *v)
{
	memset(v->smc_seen, 0, sizeof(v->smc_seen));
}


/* FNV-1a: cheap, and any changed byte changes it (up to a collision, which is the bug's old
 * behaviour again). */
static uint64_t emu_smc_hash(const uint8_t *p, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

void emu_smc_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	unsigned slot = emu_smc_slot(addr);
	uint64_t cr0 = 0, page = addr & ~(uint64_t)(EMU_PAGE - 1), hash;

	if (addr >= v->vm->ram_size || size > v->vm->ram_size - addr ||
	    uc_reg_read(uc, UC_X86_REG_CR0, &cr0) != UC_ERR_OK || (cr0 & TV_CR0_PG))
		return;
	hash = emu_smc_hash((const uint8_t *)v->vm->ram + addr, size);
	if (v->smc_block[slot].pc != addr + 1) {
		v->smc_block[slot].pc = addr + 1; /* + 1: 0 is an empty slot */
		v->smc_block[slot].hash = hash;
		return;
	}
	if (v->smc_block[slot].hash == hash)
		return;
	v->smc_block[slot].hash = hash;
	EMU_LOG(v->log, "  hook BLOCK 0x%" PRIx64 ": its bytes changed since it last ran", addr);
	emu_drop_blocks(v, page, page + EMU_PAGE);
	emu_smc_forget_page(v, page, UINT64_MAX);
	emu_sites_forget_pages(v); /* the rewritten code may hold new sites (emu_sites.c) */
	emu_restart_block(v, addr);
}
