/* Reading a fuzzer's input as a stream of little-endian fields. A read past the end yields zeros,
 * so every input, however short, is a valid one: the targets never reject an input, and a
 * mutation that cuts a field short still reaches the code under test. */
#ifndef TWINVM_FUZZ_INPUT_H
#define TWINVM_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_empty(const struct fz *f)
{
	return f->n == 0;
}

/* Copies len bytes into dst, zero-filled past the end of the input. */
static inline void fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t take = len < f->n ? len : f->n;

	memcpy(dst, f->p, take);
	memset((uint8_t *)dst + take, 0, len - take);
	f->p += take;
	f->n -= take;
}

static inline uint64_t fz_uint(struct fz *f, size_t bytes)
{
	uint8_t b[8];
	uint64_t v = 0;

	fz_bytes(f, b, bytes);
	for (size_t i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static inline uint8_t fz_u8(struct fz *f) { return (uint8_t)fz_uint(f, 1); }
static inline uint16_t fz_u16(struct fz *f) { return (uint16_t)fz_uint(f, 2); }
static inline uint32_t fz_u32(struct fz *f) { return (uint32_t)fz_uint(f, 4); }
static inline uint64_t fz_u64(struct fz *f) { return fz_uint(f, 8); }

#endif
