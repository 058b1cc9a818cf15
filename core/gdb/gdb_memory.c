/* Guest memory as gdb addresses it: linear addresses, through the vCPU's page walk and the
 * checked RAM accessors (gdb_session.h). */
#include <errno.h>

#include "gdb_session.h"
#include "guestmem.h"
#include "layout.h"
#include "pagewalk.h"

int gdb_guest_memory(struct tv_gdb *g, uint64_t la, size_t len, uint8_t *out,
		     const uint8_t *in)
{
	struct tv_sregs s;

	if (g->m->be->get_sregs(g->m->vcpu, &s) != 0)
		return -EIO;
	for (size_t done = 0; done < len;) {
		uint64_t gpa, n = TV_PAGE_SIZE - ((la + done) & (TV_PAGE_SIZE - 1));

		if (n > len - done)
			n = len - done;
		if (tv_linear_to_gpa(&g->m->ram, &s, g->m->maxphyaddr, la + done, &gpa) !=
			    TV_WALK_OK ||
		    (out ? tv_ram_read(&g->m->ram, gpa, out + done, n)
			 : tv_ram_write(&g->m->ram, gpa, in + done, n)) != 0)
			return -EFAULT;
		done += n;
	}
	/* The emulator translated the old code: it must forget it. */
	if (in && g->m->be->code_written)
		g->m->be->code_written(g->m->vcpu, la, len);
	return 0;
}
