/* Part of exceptions.h: the guests' output, one line at a time through HC_printStr, the numbers
 * and vector names in it, and the report of an exception nothing expected. */
#ifndef TWINVM_GUEST_EXC_PRINT_H
#define TWINVM_GUEST_EXC_PRINT_H

#ifndef TWINVM_GUEST_EXCEPTIONS_H
#error "a part of exceptions.h: include that"
#endif

/* One line of output; put() keeps room for the ")\n" that ends_line() always adds. */
struct line {
	char buf[400];
	unsigned len;
};

static void put_char(struct line *l, char c)
{
	if (l->len + 3 < sizeof(l->buf))
		l->buf[l->len++] = c;
	l->buf[l->len] = '\0';
}

static void put(struct line *l, const char *s)
{
	while (*s)
		put_char(l, *s++);
}

static void put_hex(struct line *l, unsigned long long v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	put(l, "0x");
	while (n > 0)
		put_char(l, digits[--n]);
}

/* Ends the line with end (at most two characters) and prints it. */
static void print_line(struct line *l, const char *end)
{
	while (*end)
		l->buf[l->len++] = *end++;
	l->buf[l->len] = '\0';
	HC_printStr(l->buf);
}

static void put_dec(struct line *l, unsigned v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0)
		put_char(l, digits[--n]);
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL, "#TS", "#NP",
	"#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void put_vector(struct line *l, unsigned long v)
{
	if (v < 32 && vector_names[v]) {
		put(l, vector_names[v]);
	} else {
		put(l, "vector ");
		put_hex(l, v);
	}
}

/* An exception no raise routine expected: the common handler jumps here instead of returning. */
__attribute__((used, noreturn)) void unexpected_event(void)
{
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */

	put(&l, "unexpected ");
	put_vector(&l, ev[EV_VECTOR]);
	put(&l, " at ip ");
	put_hex(&l, ev[EV_IP]);
	put(&l, ", error ");
	put_hex(&l, ev[EV_ERROR]);
	print_line(&l, "\n");
	halt_with(0xff);
}

#endif
