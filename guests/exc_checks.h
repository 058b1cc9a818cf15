/* Part of exceptions.h: a case (struct event_case) and the checks of its recorded event against
 * the SDM that run_case() makes (exceptions.h's header comment lists them); run_cases() runs a
 * guest's list and halts with the number that failed. */
#ifndef TWINVM_GUEST_EXC_CHECKS_H
#define TWINVM_GUEST_EXC_CHECKS_H

#ifndef TWINVM_GUEST_EXCEPTIONS_H
#error "a part of exceptions.h: include that"
#endif

enum kind { FAULT, TRAP, ABORT };

struct event_case {
	const char *name;
	const char *what;
	void (*raise)(void);
	const char *insn, *next;
	unsigned char vector;
	unsigned char kind;
	unsigned char has_error;  /* outside real mode */
	unsigned char paged_only; /* the 32-bit build runs these only with CR0.PG */
	unsigned long armed;      /* flags the raise routine sets after recording them (TF, NT) */
	unsigned long error;
	unsigned long long cr2;   /* #PF */
	int (*prepare)(void);     /* 0: the case cannot be set up here */
	void (*restore)(void);
};

#define RAISES(n) .raise = raise_##n, .insn = n##_insn, .next = n##_next

/* One mismatch, "<field> <found>, expected <want>", after ": " or "; ". */
static int differ(struct line *l, int failed, const char *field, unsigned long long found,
		  unsigned long long want)
{
	if (found == want)
		return failed;
	put(l, failed ? "; " : ": ");
	put(l, field);
	put(l, " ");
	put_hex(l, found);
	put(l, ", expected ");
	put_hex(l, want);
	return failed + 1;
}

/* Where the CPU leaves the saved IP for c's event, given the stack pointer before it. */
static unsigned long frame_want(const struct event_case *c)
{
#if GUEST_BITS == 16
	(void)c;
	return sp_before - 6;
#elif GUEST_BITS == 32
	(void)c;
	return sp_before - 12;
#else
	return (uses_ist1(c->vector) ? IST1_TOP : sp_before & ~15ul) - 40;
#endif
}

/* The fields of the recorded frame that differ from c's expectations, appended to l; how many. */
static int check_frame(struct line *l, const struct event_case *c)
{
	unsigned long flags_want, hflags_want;
	int failed = 0;

	failed = differ(l, failed, "vector", ev[EV_VECTOR], c->vector);
	failed = differ(l, failed, "handler runs", ev[EV_COUNT], 1);
	if (c->has_error && GUEST_BITS != 16)
		failed = differ(l, failed, "error", ev[EV_ERROR], c->error);
	if (c->kind != ABORT) {
		failed = differ(l, failed, "ip", ev[EV_IP],
				(unsigned long)(c->kind == FAULT ? c->insn : c->next));
		failed = differ(l, failed, "cs", ev[EV_CS], read_cs());
	}
	flags_want = flags_before | c->armed;
	if (GUEST_BITS == 16)
		flags_want &= 0xffff;
	else if (c->kind != TRAP)
		flags_want |= FL_RF;
	failed = differ(l, failed, "flags", ev[EV_FLAGS], flags_want);
	hflags_want = ev[EV_HFLAGS] & ~(FL_IF | FL_TF | FL_NT | FL_RF);
	if (GUEST_BITS != 16 && is_trap_gate(c->vector))
		hflags_want |= FL_IF;
	failed = differ(l, failed, "flags in the handler", ev[EV_HFLAGS], hflags_want);
#if GUEST_BITS == 64
	if (c->kind != ABORT)
		failed = differ(l, failed, "saved rsp", ev[EV_SP], sp_before);
	failed = differ(l, failed, "saved ss", ev[EV_SS], read_ss());
#endif
	failed = differ(l, failed, "frame at", ev[EV_FRAME], frame_want(c));
	if (c->vector == 14)
		failed = differ(l, failed, "cr2", ev[EV_CR2], c->cr2);
	if (c->vector == 1)
		failed = differ(l, failed, "dr6.bs", ev[EV_DR6] & DR6_BS, DR6_BS);
	return failed;
}

/* Raises c's event, checks what the handler recorded and prints one line; 1 if it failed. */
static int run_case(const struct event_case *c)
{
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */
	int failed;

	put(&l, c->name);
	put(&l, ": FAILED (");
	put(&l, c->what);
	if (c->prepare && !c->prepare()) {
		put(&l, ": cannot be set up: the page tables are not twinvm's");
		print_line(&l, ")\n");
		return 1;
	}
	for (int i = 0; i < EV_WORDS; i++)
		ev[i] = 0;
	c->raise();
	if (c->restore)
		c->restore();
	failed = check_frame(&l, c);
	if (!failed) {
		l.len = 0;
		put(&l, c->name);
		put(&l, ": ok (");
		put(&l, c->what);
		if (c->vector == 14) {
			put(&l, ": cr2 ");
			put_hex(&l, ev[EV_CR2]);
		}
		if (c->has_error && GUEST_BITS != 16) {
			put(&l, c->vector == 14 ? ", error " : ": error ");
			put_hex(&l, ev[EV_ERROR]);
		}
	}
	print_line(&l, ")\n");
	return failed != 0;
}

/* Installs the handlers, runs every case this mode has, prints the summary and halts with the
 * number of cases that failed in EAX. */
static __attribute__((noreturn)) void run_cases(const char *guest, const struct event_case *cases,
						unsigned n)
{
	unsigned ran = 0, failed = 0;
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */
	int paged = 0;

#if GUEST_BITS == 32
	paged = (read_cr0() & CR0_PG) != 0;
#endif
	install_handlers();
	for (unsigned i = 0; i < n; i++) {
		if (GUEST_BITS == 32 && cases[i].paged_only && !paged)
			continue;
		failed += run_case(&cases[i]);
		ran++;
	}
	put(&l, guest);
	put(&l, ": ");
	if (failed) {
		put_dec(&l, failed);
		put(&l, " of ");
		put_dec(&l, ran);
		put(&l, " FAILED");
	} else {
		put(&l, "all ");
		put_dec(&l, ran);
		put(&l, " ok");
	}
	print_line(&l, "\n");
	halt_with(failed);
}

#endif
