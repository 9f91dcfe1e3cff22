/* alloc_count.c — interposes malloc, calloc, realloc, aligned_alloc and
 * posix_memalign in the executable that links it and counts the calls made
 * between alloc_count_start and alloc_count_stop (see alloc_count.h).
 * Allocations are passed on to glibc unchanged.
 */
#define _GNU_SOURCE /* dladdr */
#include "alloc_count.h"

#if COUNT_ALLOCS
#include <dlfcn.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdlib.h> /* the prototypes interposed */
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static volatile long n_allocs, n_dnnl_allocs;
static volatile int counting;
static _Thread_local int in_hook;

static void count_alloc(void)
{
    if (!counting || in_hook)
        return;
    in_hook = 1;
    void *frames[12];
    int n = backtrace(frames, 12);
    int in_dnnl = 0;
    for (int i = 1; i < n && !in_dnnl; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) && info.dli_fname && strstr(info.dli_fname, "libdnnl"))
            in_dnnl = 1;
    }
    if (in_dnnl)
        __atomic_add_fetch(&n_dnnl_allocs, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&n_allocs, 1, __ATOMIC_RELAXED);
    in_hook = 0;
}

void *malloc(size_t n)
{
    count_alloc();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    count_alloc();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    count_alloc();
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t al, size_t n)
{
    count_alloc();
    return __libc_memalign(al, n);
}

int posix_memalign(void **out, size_t al, size_t n)
{
    count_alloc();
    *out = __libc_memalign(al, n);
    return *out ? 0 : 12; /* ENOMEM */
}

void alloc_count_start(void)
{
    void *warm[4];
    backtrace(warm, 4); /* the first backtrace() loads libgcc_s, which allocates */
    n_allocs = n_dnnl_allocs = 0;
    counting = 1;
}

void alloc_count_stop(void)
{
    counting = 0;
}

long alloc_count_dnnl(void)
{
    return n_dnnl_allocs;
}

long alloc_count_others(void)
{
    return n_allocs;
}
#else
typedef int alloc_count_unused; /* the sanitizer owns malloc */
#endif
