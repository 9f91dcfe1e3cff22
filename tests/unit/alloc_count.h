/* alloc_count.h — counting the heap allocations of a stretch of code, for
 * the tests that runs allocate nothing. alloc_count.c interposes malloc &
 * co in the runners CMake links it into (test_bench, test_runtime,
 * test_dynamic); under
 * AddressSanitizer or ThreadSanitizer, which own malloc and refuse a second
 * interposer, it does not, COUNT_ALLOCS is 0 and those tests are left out.
 */
#ifndef ORTC_TEST_ALLOC_COUNT_H
#define ORTC_TEST_ALLOC_COUNT_H

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1

/* Starts counting from zero. Make no Check assertion until alloc_count_stop:
 * they allocate. */
void alloc_count_start(void);
void alloc_count_stop(void);
/* Allocations counted, by call stack: those with a frame in libdnnl (its C
 * API builds a std::unordered_map of arguments inside every
 * dnnl_primitive_execute, which no caller can avoid), and all others. */
long alloc_count_dnnl(void);
long alloc_count_others(void);
#endif

#endif
