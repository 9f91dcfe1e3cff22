/* philox.h — Philox4x64-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011), the counter-based generator numpy also ships
 * as numpy.random.Philox: a keyed bijection of a 256-bit counter, so the
 * random numbers of element i of a run are a pure function of (key, i) —
 * no sequential state, any number of threads. Header-only, no allocation.
 */
#ifndef ORTC_RANDOM_PHILOX_H
#define ORTC_RANDOM_PHILOX_H

#include <stdint.h>

/* hi and lo 64 bits of a * b, from 32-bit halves (portable C11) */
static inline uint64_t ortc_mulhilo64(uint64_t a, uint64_t b, uint64_t *hi)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return a * b;
}

/* out = Philox4x64-10(ctr, key): 4 words of 64 random bits. */
static inline void ortc_philox4x64(const uint64_t ctr[4], const uint64_t key[2], uint64_t out[4])
{
    const uint64_t m0 = 0xD2E7470EE14C6C93ull, m1 = 0xCA5A826395121157ull;
    const uint64_t w0 = 0x9E3779B97F4A7C15ull, w1 = 0xBB67AE8584CAA73Bull;
    uint64_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t hi0, hi1;
        uint64_t lo0 = ortc_mulhilo64(m0, x0, &hi0), lo1 = ortc_mulhilo64(m1, x2, &hi1);
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 += w0;
        k1 += w1;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

/* 53 random bits as a double in [0, 1). */
static inline double ortc_philox_unit(uint64_t bits)
{
    return (double)(bits >> 11) * 0x1p-53;
}

#endif /* ORTC_RANDOM_PHILOX_H */
