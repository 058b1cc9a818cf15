/* The six hypercalls. */
#include "hypercalls.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "layout.h"
#include "machine.h"
#include "pagewalk.h"
#include "x86.h"

/* The hypercall device: the ports' handler context. */
struct hc_device {
	FILE *warnings; /* where failures are said, or NULL */
	struct tv_hc_log log;
	char text[TV_HC_STR_MAX + 1]; /* HC_printStr's string, which m->hc.text points to */
};

/* Counts one occurrence of the current hypercall's message template fmt; true while that kind
 * is still to be printed (see struct tv_hc_log). */
static bool hc_log_count(struct tv_machine *m, struct tv_hc_log *log, const char *fmt)
{
	unsigned i;

	for (i = 0; i < log->kinds; i++) {
		if (log->kind[i].fmt == fmt && log->kind[i].name == m->hc.name)
			break;
	}
	if (i == log->kinds) {
		if (log->kinds < TV_HC_LOG_KINDS)
			log->kinds++;
		else
			i = TV_HC_LOG_KINDS - 1; /* not reached with today's templates */
		log->kind[i].name = m->hc.name;
		log->kind[i].fmt = fmt;
	}
	if (++log->kind[i].count > TV_HC_LOG_REPEAT)
		return false;
	snprintf(log->kind[i].last, sizeof(log->kind[i].last), "%s", m->hc.error);
	return true;
}

/* At the machine's end: says what was suppressed. */
static void hc_detach(void *ctx, struct tv_machine *m)
{
	struct hc_device *d = ctx;
	struct tv_hc_log *log = &d->log;

	(void)m;
	for (unsigned i = 0; d->warnings && i < log->kinds; i++) {
		if (log->kind[i].count > TV_HC_LOG_REPEAT)
			fprintf(d->warnings, "twinvm: %s: %s (%" PRIu64 " more like this suppressed)\n",
				log->kind[i].name, log->kind[i].last,
				log->kind[i].count - TV_HC_LOG_REPEAT);
	}
}

/* Marks the hypercall failed and says why on stderr, one line, unless this kind of message has
 * been said often enough already. */
static void hc_fail(struct hc_device *d, struct tv_machine *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void hc_fail(struct hc_device *d, struct tv_machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->hc.error, sizeof(m->hc.error), fmt, ap);
	va_end(ap);
	m->hc.failed = true;
	if (d->warnings && !m->opt.strict && hc_log_count(m, &d->log, fmt)) /* strict: the run ends */
		tv_console_note(m, d->warnings, "twinvm: %s: %s\n", m->hc.name, m->hc.error);
}

/* The guest's value for an OUT hypercall, or false (with the failure recorded) when the guest
 * used the wrong width or direction. */
static bool hc_out_arg(struct hc_device *d, struct tv_machine *m, const struct tv_exit *e,
		       uint32_t *value)
{
	if (e->io.direction != TV_IO_OUT || e->io.size != 4 || e->io.count != 1) {
		hc_fail(d, m, "expects one 32-bit OUT (outl) on port 0x%x, got %s of size %u count %u",
			e->io.port, e->io.direction == TV_IO_OUT ? "OUT" : "IN", e->io.size,
			e->io.count);
		return false;
	}
	memcpy(value, e->io.data, 4);
	m->hc.has_arg = true;
	m->hc.arg = *value;
	return true;
}

/* True when e is one IN, the only form an IN hypercall takes; false with the failure recorded
 * otherwise. Checked before the call does anything, so a refused call has no effect. */
static bool hc_in_form(struct hc_device *d, struct tv_machine *m, const struct tv_exit *e)
{
	if (e->io.direction != TV_IO_IN || e->io.count != 1) {
		hc_fail(d, m, "expects one IN (inl) on port 0x%x", e->io.port);
		return false;
	}
	return true;
}

/* Hands an IN hypercall's result to the guest: the low bytes of value, as many as it asked. */
static bool hc_in_result(struct hc_device *d, struct tv_machine *m, struct tv_exit *e, uint32_t value)
{
	if (!hc_in_form(d, m, e))
		return false;
	memcpy(e->io.data, &value, e->io.size <= 4 ? e->io.size : 4);
	m->hc.has_result = true;
	m->hc.result = value;
	return true;
}

/* The guest's special registers, read inside the exit, to translate its addresses. */
static bool hc_sregs(struct hc_device *d, struct tv_machine *m, struct tv_sregs *s)
{
	if (m->be->get_sregs(m->vcpu, s) != 0) {
		hc_fail(d, m, "cannot read the guest's registers: %s", tv_last_error());
		return false;
	}
	return true;
}

/* gva to a host pointer for len bytes that stay within one guest page; NULL and a recorded
 * failure when the address is not mapped or not in RAM. */
static const uint8_t *hc_translate(struct hc_device *d, struct tv_machine *m,
				   const struct tv_sregs *s, uint64_t gva, uint64_t len)
{
	enum tv_walk_result r;
	const uint8_t *p;
	uint64_t gpa;

	r = tv_gva_to_gpa(&m->ram, s, m->maxphyaddr, gva, &gpa);
	if (r != TV_WALK_OK) {
		hc_fail(d, m, "guest address 0x%" PRIx64 " is %s", gva, tv_walk_result_name(r));
		return NULL;
	}
	m->hc.has_gpa = true;
	m->hc.gpa = gpa;
	p = tv_ram_ptr(&m->ram, gpa, len);
	if (!p)
		hc_fail(d, m, "guest address 0x%" PRIx64 " maps to physical 0x%" PRIx64
			", outside guest RAM (0x%" PRIx64 " bytes)", gva, gpa, m->ram.size);
	return p;
}

static void hc_print8bit(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	const uint8_t *bytes = e->io.data;

	if (e->io.direction != TV_IO_OUT) {
		hc_fail(d, m, "port 0xe9 is output only");
		return;
	}
	m->hc.has_arg = true;
	m->hc.arg = bytes[0];
	/* Only the low byte of each element is the character, whatever the access size; string
	 * OUT (rep outsb) and a coalesced run of OUTs print every element. */
	if (e->io.size == 1) {
		tv_console_write(m, bytes, e->io.count);
		return;
	}
	for (uint32_t i = 0; i < e->io.count; i++) {
		if (fputc(bytes[(size_t)i * e->io.size], m->opt.console) == EOF) {
			tv_machine_output_failed(m, m->opt.console, "console", errno);
			return;
		}
	}
}

static void hc_print32bit(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	char text[16];
	uint32_t value;

	if (!hc_out_arg(d, m, e, &value))
		return;
	tv_console_write(m, text, (size_t)snprintf(text, sizeof(text), "%" PRIu32 "\n", value));
}

static void hc_num_exits(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	hc_in_result(d, m, e, (uint32_t)m->stats.total);
}

/* The string is checked whole (mapped, in RAM, NUL within the limit) before a byte is printed,
 * so a bad one prints nothing. It is walked page by page of the linear address (DS.base + offset):
 * consecutive virtual pages need not be consecutive in guest-physical memory, and with a DS.base
 * that is not page aligned the offset's page boundaries are not the pages'. */
static void hc_print_str(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	char *buf = d->text;
	struct tv_sregs s;
	uint32_t gva;
	size_t len = 0;

	if (!hc_out_arg(d, m, e, &gva) || !hc_sregs(d, m, &s))
		return;
	while (len <= TV_HC_STR_MAX) {
		uint64_t addr = (uint64_t)gva + len, la = 0, gpa = 0, n;
		enum tv_walk_result r = tv_gva_to_linear(&s, addr, &la);
		const uint8_t *p, *nul;

		if (r == TV_WALK_OK)
			r = tv_linear_to_gpa(&m->ram, &s, m->maxphyaddr, la, &gpa);
		n = TV_PAGE_SIZE - (la & (TV_PAGE_SIZE - 1));
		if (r != TV_WALK_OK || !tv_ram_ptr(&m->ram, gpa, 1)) {
			if (len == 0 && r != TV_WALK_OK)
				hc_fail(d, m, "the string address 0x%" PRIx32 " is %s", gva,
					tv_walk_result_name(r));
			else if (len == 0)
				hc_fail(d, m, "the string address 0x%" PRIx32 " maps to physical 0x%" PRIx64
					", outside guest RAM (0x%" PRIx64 " bytes)", gva, gpa, m->ram.size);
			else
				hc_fail(d, m, "the string at 0x%" PRIx32 " runs to the end of guest RAM "
					"or of its mapping (0x%" PRIx64 ") with no NUL", gva, addr);
			return;
		}
		if (n > m->ram.size - gpa)
			n = m->ram.size - gpa;
		if (n > sizeof(d->text) - len)
			n = sizeof(d->text) - len;
		p = tv_ram_ptr(&m->ram, gpa, n);
		nul = memchr(p, 0, n);
		memcpy(buf + len, p, nul ? (size_t)(nul - p) : n);
		if (nul) {
			len += (size_t)(nul - p);
			tv_console_write(m, buf, len);
			m->hc.has_result = true;
			m->hc.result = len;
			m->hc.text = buf;
			m->hc.text_len = len;
			return;
		}
		len += n;
	}
	hc_fail(d, m, "the string at 0x%" PRIx32 " is longer than %d bytes", gva, TV_HC_STR_MAX);
}

static void hc_num_exits_by_type(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	char text[96];
	int n;

	if (!hc_in_form(d, m, e))
		return;
	n = snprintf(text, sizeof(text), "IO in: %" PRIu64 "\nIO out: %" PRIu64 "\n",
		     m->stats.io_in, m->stats.io_out);
	/* The scratch page is identity-mapped in every mode twinvm sets up, so its physical address
	 * is also the address the guest uses. */
	if (tv_ram_write(&m->ram, TV_SCRATCH, text, (uint64_t)n + 1) != 0) {
		hc_fail(d, m, "the scratch page at 0x%llx is outside guest RAM", TV_SCRATCH);
		hc_in_result(d, m, e, 0);
		return;
	}
	hc_in_result(d, m, e, (uint32_t)TV_SCRATCH);
}

static void hc_gva_to_hva(struct hc_device *d, struct tv_machine *m, struct tv_exit *e)
{
	struct tv_regs r;
	struct tv_sregs s;
	const uint8_t *p = NULL;
	uint64_t gva;

	if (!hc_in_form(d, m, e))
		return;
	if (m->be->get_regs(m->vcpu, &r) != 0) {
		hc_fail(d, m, "cannot read the guest's registers: %s", tv_last_error());
		hc_in_result(d, m, e, 0);
		return;
	}
	if (!hc_sregs(d, m, &s)) {
		hc_in_result(d, m, e, 0);
		return;
	}
	gva = (s.efer & TV_EFER_LMA) && s.cs.l ? r.rbx : (r.rbx & 0xffffffffu);
	m->hc.has_arg = true;
	m->hc.arg = gva;
	p = hc_translate(d, m, &s, gva, 1);
	if (!p) {
		tv_console_write(m, "Invalid GVA\n", 12);
	} else {
		/* EAX holds the low 32 bits, as the ABI says; the trace and --verbose the rest. */
		m->hc.has_hva = true;
		m->hc.hva = (uint64_t)(uintptr_t)p;
		if (m->opt.verbose && d->warnings)
			tv_console_note(m, d->warnings,
					"twinvm: HC_gvaToHva(0x%" PRIx64 "): guest-physical 0x%" PRIx64
					", host address 0x%" PRIx64 "\n",
					gva, m->hc.gpa, m->hc.hva);
	}
	hc_in_result(d, m, e, p ? (uint32_t)(uintptr_t)p : 0);
}

/* Starts the exit's record for the trace: field by field, because a memset of its error text,
 * written only on a failure, would be most of an exit's cost. */
static void hc_begin(struct tv_machine *m, const char *name)
{
	m->hc.name = name;
	m->hc.has_arg = m->hc.has_result = m->hc.failed = m->hc.has_gpa = m->hc.has_hva = false;
	m->hc.text = NULL;
	m->hc.arg = m->hc.result = 0;
	m->hc.error[0] = '\0';
}

/* One device handler per port, registered on it: an exit is one indexed call. */
#define HC_PORT_HANDLER(handler, name, fn)                                     \
	static int handler(void *ctx, struct tv_machine *m, struct tv_exit *e) \
	{                                                                      \
		hc_begin(m, name);                                             \
		fn(ctx, m, e);                                                 \
		return m->hc.failed && m->opt.strict ? -EPROTO : TV_IO_CONTINUE; \
	}
HC_PORT_HANDLER(on_print8bit, "HC_print8bit", hc_print8bit)
HC_PORT_HANDLER(on_print32bit, "HC_print32bit", hc_print32bit)
HC_PORT_HANDLER(on_num_exits, "HC_numExits", hc_num_exits)
HC_PORT_HANDLER(on_print_str, "HC_printStr", hc_print_str)
HC_PORT_HANDLER(on_num_exits_by_type, "HC_numExitsByType", hc_num_exits_by_type)
HC_PORT_HANDLER(on_gva_to_hva, "HC_gvaToHva", hc_gva_to_hva)

int tv_hypercalls_attach(struct tv_machine *m, FILE *warnings)
{
	static const struct {
		uint16_t port;
		tv_device_fn fn;
	} ports[TV_HC_COUNT] = {
		{ TV_HC_PRINT8BIT, on_print8bit },	{ TV_HC_PRINT32BIT, on_print32bit },
		{ TV_HC_NUMEXITS, on_num_exits },	{ TV_HC_PRINTSTR, on_print_str },
		{ TV_HC_NUMEXITSBYTYPE, on_num_exits_by_type }, { TV_HC_GVATOHVA, on_gva_to_hva },
	};
	struct hc_device *d = tv_machine_device_alloc(m, sizeof(*d), hc_detach);
	int rc = 0;

	if (!d)
		return -ENOMEM;
	d->warnings = warnings;
	for (unsigned i = 0; i < TV_HC_COUNT && !rc; i++)
		rc = tv_machine_add_pio(m, ports[i].port, 1, ports[i].fn, d);
	/* HC_print8bit takes a run of bytes as well as one: where the engine can, a guest's
	 * printing costs one call per run of bytes, not one per byte. */
	return rc ? rc : tv_machine_coalesce_pio(m, TV_HC_PRINT8BIT);
}
