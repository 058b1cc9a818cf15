/* hypercalls: shows each hypercall as the assignment asks. It ran right when it prints, in order:
 * 1234567890 through HC_print32bit; numExits before and after one HC_printStr, differing by 2;
 * the numExitsByType text; a nonzero host address for 0x400 and "Invalid GVA" then 0 for an address
 * outside guest RAM. It halts with 0 in EAX. */
#include "hypercall.h"

#define VALID_GVA 0x400
#define INVALID_GVA 0xfffff000u /* identity-mapped, far above any guest RAM */

GUEST_ENTRY
{
	uint32_t before, after;

	HC_printStr("HC_print32bit(1234567890):\n");
	HC_print32bit(1234567890);

	before = HC_numExits();
	HC_printStr("HC_printStr between two HC_numExits\n");
	after = HC_numExits();
	HC_printStr("numExits before: ");
	HC_print32bit(before);
	HC_printStr("numExits after: ");
	HC_print32bit(after);
	HC_printStr("difference: ");
	HC_print32bit(after - before);

	HC_printStr("HC_numExitsByType:\n");
	HC_printStr(HC_numExitsByType());

	HC_printStr("HC_gvaToHva(0x400): ");
	HC_print32bit(HC_gvaToHva((const void *)VALID_GVA));
	HC_printStr("HC_gvaToHva(0xfffff000): ");
	HC_print32bit(HC_gvaToHva((const void *)(uintptr_t)INVALID_GVA));
	halt_with(0);
}
