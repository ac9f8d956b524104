/* aotsym_runtime.c: memory pool, thread pool, loop driver, errors (see aotsym_runtime.h).
 *
 * Pasted into every generated module after aotsym_runtime.h, or compiled apart once and
 * linked in (aotsym/emit_c/runtime.py).  Everything is static or hidden: two modules in one
 * process never clash; they share one pool through aot_rt (aot_rt_setup).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>
/* the intrinsics (a costly header to parse) only where the functions using them are compiled:
 * not in a module that declares the runtime compiled apart (aotsym/emit_c/runtime.py) */
#if defined(__x86_64__) && defined(__GNUC__) && \
    (!defined(AOT_RUNTIME_APART) || defined(AOT_RUNTIME_IMPL))
#include <immintrin.h>
#endif

/* ------------------------------------------------------------------------ errors */

static int aot_fail(aot_ctx *ctx, int node, int kind, const char *fmt, ...)
{
    if (ctx->status != AOT_OK) return -1; /* keep the first error */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
    ctx->status = kind;
    ctx->node = node;
    return -1;
}

static int aot_fail_nomem(aot_ctx *ctx, int node, size_t nbytes)
{
    return aot_fail(ctx, node, AOT_ERR_MEMORY, "out of memory allocating %zu bytes", nbytes);
}

/* Python's repr of a shape tuple: "()", "(5,)", "(2, 3)". */
static void aot_format_shape(char *buf, size_t size, const int64_t *shape, int ndim)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, size - used, "(");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %lld" : "%lld",
                                 (long long)shape[d]);
    if (used < size) snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
}

/* ------------------------------------------------------------------------ memory pool */

#define AOT_SMALL_LIMIT ((size_t)1 << 20)    /* blocks up to 1 MiB come from size classes */
#define AOT_HUGE ((size_t)2 << 20)           /* 2 MiB: huge page size, mmap alignment */
#define AOT_NBINS 128
#define AOT_BIN_MAX_BLOCKS 64
#define AOT_LARGE_MAX_BLOCKS 64

typedef struct {
    pthread_mutex_t lock;
    aot_block *bins[AOT_NBINS];
    int bin_count[AOT_NBINS];
    aot_block *large;          /* cached large blocks, most recently freed first */
    int large_count;
    size_t cached_bytes;
    size_t limit_bytes;
    int64_t n_alloc, n_reuse;
} aot_mempool;

static aot_mempool aot_pool = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, NULL, 0, 0, 0, 0, 0};

/* Size class of a small request: 64-byte steps up to 4 KiB, then 8 steps per power of two. */
static int aot_bin_of(size_t n, size_t *capacity)
{
    if (n <= 4096) {
        size_t c = (n + 63) / 64;
        if (c == 0) c = 1;
        *capacity = c * 64;
        return (int)c - 1;                       /* bins 0..63 */
    }
    int e = 63 - __builtin_clzll((unsigned long long)(n - 1)); /* 2^e < n <= 2^(e+1) */
    size_t step = (size_t)1 << (e - 2);          /* eighths of 2^(e+1) */
    size_t c = (n + step - 1) / step;            /* 5..8 */
    *capacity = c * step;
    return 64 + (e - 12) * 4 + (int)(c - 5);     /* e in 12..19 -> bins 64..95 */
}

static size_t aot_limit_from_env(void)
{
    const char *s = getenv("AOTSYM_POOL_LIMIT_MB");
    long long mb = s ? atoll(s) : 1024;
    if (mb < 0) mb = 0;
    return (size_t)mb << 20;
}

static void aot_block_free_now(aot_block *b)
{
    if (b->mapped)
        munmap(b->map_base, b->map_len);
    else
        free(b);
}

static aot_block *aot_block_new_impl(size_t nbytes)
{
    aot_block *b = NULL;
    size_t capacity;
    if (nbytes <= AOT_SMALL_LIMIT) {
        int bin = aot_bin_of(nbytes, &capacity);
        pthread_mutex_lock(&aot_pool.lock);
        aot_pool.n_alloc++;
        b = aot_pool.bins[bin];
        if (b) {
            aot_pool.bins[bin] = b->next;
            aot_pool.bin_count[bin]--;
            aot_pool.cached_bytes -= b->capacity;
            aot_pool.n_reuse++;
        }
        pthread_mutex_unlock(&aot_pool.lock);
        if (!b) {
            b = (aot_block *)aligned_alloc(AOT_ALIGN, AOT_HEADER + capacity);
            if (!b) return NULL;
            b->capacity = capacity;
            b->mapped = 0;
        }
    } else {
        capacity = (nbytes + 4095) & ~(size_t)4095;
        pthread_mutex_lock(&aot_pool.lock);
        aot_pool.n_alloc++;
        /* best fit among cached blocks, wasting at most a quarter */
        aot_block **best = NULL;
        for (aot_block **p = &aot_pool.large; *p; p = &(*p)->next) {
            size_t cap = (*p)->capacity;
            if (cap >= capacity && cap - capacity <= capacity / 4 &&
                (!best || cap < (*best)->capacity))
                best = p;
        }
        if (best) {
            b = *best;
            *best = b->next;
            aot_pool.large_count--;
            aot_pool.cached_bytes -= b->capacity;
            aot_pool.n_reuse++;
        }
        pthread_mutex_unlock(&aot_pool.lock);
        if (!b) {
            size_t len = AOT_HEADER + capacity + AOT_HUGE;
            char *base = (char *)mmap(NULL, len, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (base == MAP_FAILED) return NULL;
            /* start on a 2 MiB boundary so the kernel can back the block with huge pages */
            char *start = (char *)(((uintptr_t)base + AOT_HUGE - 1) & ~(uintptr_t)(AOT_HUGE - 1));
#ifdef MADV_HUGEPAGE
            if (capacity >= 2 * AOT_HUGE) madvise(start, len - (size_t)(start - base), MADV_HUGEPAGE);
#endif
            b = (aot_block *)start;
            b->capacity = capacity;
            b->mapped = 1;
            b->map_base = base;
            b->map_len = len;
        }
    }
    b->refcount = 1;
    b->next = NULL;
    return b;
}

static void aot_block_release_impl(aot_block *b)
{
    pthread_mutex_lock(&aot_pool.lock);
    int keep = 0;
    if (aot_pool.cached_bytes + b->capacity <= aot_pool.limit_bytes) {
        if (b->capacity <= AOT_SMALL_LIMIT && !b->mapped) {
            size_t cap;
            int bin = aot_bin_of(b->capacity, &cap);
            if (cap == b->capacity && aot_pool.bin_count[bin] < AOT_BIN_MAX_BLOCKS) {
                b->next = aot_pool.bins[bin];
                aot_pool.bins[bin] = b;
                aot_pool.bin_count[bin]++;
                keep = 1;
            }
        } else if (b->mapped && aot_pool.large_count < AOT_LARGE_MAX_BLOCKS) {
            b->next = aot_pool.large;
            aot_pool.large = b;
            aot_pool.large_count++;
            keep = 1;
        }
        if (keep) aot_pool.cached_bytes += b->capacity;
    }
    pthread_mutex_unlock(&aot_pool.lock);
    if (!keep) aot_block_free_now(b);
}

static void aot_pool_stats_impl(int64_t *out4)
{
    pthread_mutex_lock(&aot_pool.lock);
    out4[0] = aot_pool.n_alloc;
    out4[1] = aot_pool.n_reuse;
    out4[2] = (int64_t)aot_pool.cached_bytes;
    out4[3] = aot_pool.large_count;
    pthread_mutex_unlock(&aot_pool.lock);
}

static int64_t aot_size(const aot_array *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++) n *= a->shape[d];
    return n;
}

static void aot_set_c_strides(aot_array *a)
{
    int64_t s = a->itemsize;
    for (int d = a->ndim - 1; d >= 0; d--) {
        a->strides[d] = s;
        s *= a->shape[d] > 1 ? a->shape[d] : 1;
    }
}

static int aot_is_c_contiguous(const aot_array *a)
{
    int64_t s = a->itemsize;
    for (int d = a->ndim - 1; d >= 0; d--) {
        if (a->shape[d] == 0) return 1;
        if (a->shape[d] != 1 && a->strides[d] != s) return 0;
        s *= a->shape[d];
    }
    return 1;
}

static int aot_alloc(aot_ctx *ctx, int node, aot_array *a)
{
    int64_t n = a->itemsize;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] < 0)
            return aot_fail(ctx, node, AOT_ERR_VALUE, "negative dimension %lld",
                            (long long)a->shape[d]);
        if (a->shape[d] && n > INT64_MAX / a->shape[d])
            return aot_fail(ctx, node, AOT_ERR_MEMORY, "array is too big");
        n *= a->shape[d];
    }
    aot_block *b = aot_rt->block_new((size_t)n);
    if (!b) return aot_fail_nomem(ctx, node, (size_t)n);
    AOT_PROF_ALLOC(ctx, node, n, b->capacity);
    a->block = b;
    a->data = AOT_BLOCK_DATA(b);
    aot_set_c_strides(a);
    return 0;
}

/* ------------------------------------------------------------------------ thread pool */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    int nthreads;            /* threads that work on a job, the caller included */
    int started;
    int busy;                /* a job is running (another caller then runs serially) */
    unsigned long generation;
    aot_task_fn fn;
    void *arg;
    int64_t n;
    int nchunks;
    int next_chunk;          /* atomic */
    int pending;             /* chunks not yet finished (atomic) */
} aot_threads;

static aot_threads aot_tp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                             PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, 0, 0, 0, 0};
static __thread int aot_in_worker;

static int aot_env_threads(void)
{
    const char *names[] = {"AOTSYM_NUM_THREADS", "OMP_NUM_THREADS"};
    for (int i = 0; i < 2; i++) {
        const char *s = getenv(names[i]);
        if (s && atoi(s) > 0) return atoi(s);
    }
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void aot_run_chunks(void)
{
    for (;;) {
        int c = __atomic_fetch_add(&aot_tp.next_chunk, 1, __ATOMIC_ACQ_REL);
        if (c >= aot_tp.nchunks) return;
        int64_t begin = aot_tp.n * c / aot_tp.nchunks;
        int64_t end = aot_tp.n * (c + 1) / aot_tp.nchunks;
        aot_tp.fn(aot_tp.arg, begin, end);
        if (__atomic_sub_fetch(&aot_tp.pending, 1, __ATOMIC_ACQ_REL) == 0) {
            pthread_mutex_lock(&aot_tp.lock);
            pthread_cond_signal(&aot_tp.done);
            pthread_mutex_unlock(&aot_tp.lock);
        }
    }
}

/* A thread that finished its part, or waits for the others', first spins for up to
 * AOT_SPIN_NS (a pause loop, the clock read every 64 rounds) before it sleeps on the
 * condition variable: waking a sleeping thread took longer than a 2000 x 2000 gemv's half
 * on the virtual machines measured (the idle vCPU is halted; a forced split of that gemv ran
 * 480 us at best, 1000 us as a median, the one call's time), while a thread still spinning
 * from the last job starts at once.  The spin is bounded, so an idle pool costs nothing and
 * a busy machine loses at most AOT_SPIN_NS of a core per job; OpenMP runtimes do the same. */
#ifndef AOT_SPIN_NS
#define AOT_SPIN_NS 200000
#endif
#if defined(__x86_64__) || defined(__i386__)
#define AOT_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define AOT_PAUSE() __asm__ __volatile__("yield")
#else
#define AOT_PAUSE() ((void)0)
#endif
/* Spin while *word is value (a job's generation) or until *count is 0 (chunks pending), for
 * at most AOT_SPIN_NS. */
/* Every 64 rounds the spinner also yields its core: on a free core sched_yield returns at
 * once, and where the spinner shares a core with the calling thread (the other core busy
 * with another process) the caller runs instead -- a worker spinning beside it halved the
 * caller's speed for the next 200 us: W2's logistic step, threads unset, the second core
 * loaded, 179 us a call against 89 us with one thread.  And a yield that took longer than
 * AOT_YIELD_BUSY_NS means another thread ran on this core meanwhile: the core is wanted, so
 * the spinner stops and sleeps at once (W3's MLP step with both cores busy with other
 * processes: threads unset 1.36-1.60 ms, one thread 1.28-1.59, spinning off 1.25-1.53). */
#ifndef AOT_YIELD_BUSY_NS
#define AOT_YIELD_BUSY_NS 20000
#endif
/* Past the spin's deadline, or a yield that gave the core to another thread for longer
 * than AOT_YIELD_BUSY_NS (the core is busy: sleep instead). */
static int aot_spin_should_stop(int64_t until)
{
    int64_t t = aot_adapt_now();
    if (t > until) return 1;
    sched_yield();
    return aot_adapt_now() - t > AOT_YIELD_BUSY_NS;
}

static void aot_spin_while_equal(const unsigned long *word, unsigned long value)
{
    int64_t until = aot_adapt_now() + AOT_SPIN_NS;
    for (unsigned k = 1; __atomic_load_n(word, __ATOMIC_ACQUIRE) == value; k++) {
        AOT_PAUSE();
        if (k % 64 == 0 && aot_spin_should_stop(until)) return;
    }
}
static void aot_spin_until_zero(const int *count)
{
    int64_t until = aot_adapt_now() + AOT_SPIN_NS;
    for (unsigned k = 1; __atomic_load_n(count, __ATOMIC_ACQUIRE) != 0; k++) {
        AOT_PAUSE();
        if (k % 64 == 0 && aot_spin_should_stop(until)) return;
    }
}

static void *aot_worker(void *unused)
{
    (void)unused;
    aot_in_worker = 1;
    unsigned long seen = 0;
    pthread_mutex_lock(&aot_tp.lock);
    seen = aot_tp.generation;
    for (;;) {
        while (__atomic_load_n(&aot_tp.generation, __ATOMIC_ACQUIRE) == seen)
            pthread_cond_wait(&aot_tp.wake, &aot_tp.lock);
        seen = aot_tp.generation;
        pthread_mutex_unlock(&aot_tp.lock);
        aot_run_chunks();
        aot_spin_while_equal(&aot_tp.generation, seen);
        pthread_mutex_lock(&aot_tp.lock);
    }
    return NULL;
}

static void aot_threads_after_fork(void)
{
    /* the child has only the forking thread: start the pool again on first use */
    pthread_mutex_init(&aot_tp.lock, NULL);
    pthread_cond_init(&aot_tp.wake, NULL);
    pthread_cond_init(&aot_tp.done, NULL);
    aot_tp.started = 0;
    aot_tp.busy = 0;
    pthread_mutex_init(&aot_pool.lock, NULL);
}

static void aot_threads_start(void)
{
    /* called with aot_tp.lock held */
    aot_tp.started = 1;
    int want = aot_env_threads();
    aot_tp.nthreads = 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 1; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, aot_worker, NULL) != 0) break;
        aot_tp.nthreads++;
    }
    pthread_attr_destroy(&attr);
    pthread_atfork(NULL, NULL, aot_threads_after_fork);
}

static int aot_num_threads_impl(void)
{
    pthread_mutex_lock(&aot_tp.lock);
    if (!aot_tp.started) aot_threads_start();
    int n = aot_tp.nthreads;
    pthread_mutex_unlock(&aot_tp.lock);
    return n;
}

/* fn over [0, n) split in chunks taken by the threads as they come free; serial when
 * nested, busy or single-core. */
static void aot_parallel_for_impl(int64_t n, aot_task_fn fn, void *arg)
{
    if (n <= 1 || aot_in_worker) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&aot_tp.lock);
    if (!aot_tp.started) aot_threads_start();
    if (aot_tp.busy || aot_tp.nthreads <= 1) {
        pthread_mutex_unlock(&aot_tp.lock);
        fn(arg, 0, n);
        return;
    }
    aot_tp.busy = 1;
    aot_tp.fn = fn;
    aot_tp.arg = arg;
    aot_tp.n = n;
    /* many chunks per thread: a thread slowed down (another process on its core) leaves
     * its share to the others instead of holding everyone up; the last chunk it holds is
     * what the others wait for, so smaller is safer (16 per thread: W1 with the other core
     * busy, threads unset vs one thread 0.99-1.13x at 4 per thread, 1.03-1.19x at 16) */
    int64_t chunks = (int64_t)aot_tp.nthreads * 16;
    aot_tp.nchunks = (int)(n < chunks ? n : chunks);
    aot_tp.next_chunk = 0;
    aot_tp.pending = aot_tp.nchunks;
    __atomic_add_fetch(&aot_tp.generation, 1, __ATOMIC_RELEASE);   /* (spinning workers) */
    pthread_cond_broadcast(&aot_tp.wake);
    pthread_mutex_unlock(&aot_tp.lock);

    aot_in_worker = 1;
    aot_run_chunks();
    aot_in_worker = 0;

    /* the others' last chunks: spin a while, then sleep until the last one signals */
    aot_spin_until_zero(&aot_tp.pending);
    pthread_mutex_lock(&aot_tp.lock);
    while (__atomic_load_n(&aot_tp.pending, __ATOMIC_ACQUIRE) != 0)
        pthread_cond_wait(&aot_tp.done, &aot_tp.lock);
    aot_tp.busy = 0;
    pthread_mutex_unlock(&aot_tp.lock);
}

static void aot_serial_for(int64_t n, aot_task_fn fn, void *arg) { fn(arg, 0, n); }
static int aot_one_thread(void) { return 1; }

/* The runtime this module would publish if it is the first aotsym module loaded. */
static aot_rt_api aot_rt_local = {
    AOT_RT_ABI, aot_block_new_impl, aot_block_release_impl,
#ifdef AOT_NO_THREADS
    aot_serial_for, aot_one_thread,
#else
    aot_parallel_for_impl, aot_num_threads_impl,
#endif
    aot_pool_stats_impl,
};

static aot_adapt aot_adapt_table[AOT_ADAPT_KINDS][64];

/* AOTSYM_SPLIT=never / always: one arm for every call (read once; unset: measured).  For
 * comparing the arms, and for users who want no clock in the decision. */
static int aot_split_forced(void)
{
    static int forced = -2;   /* -2 unread, -1 measured, 0 never, 1 always */
    if (forced == -2) {
        const char *s = getenv("AOTSYM_SPLIT");
        forced = s && !strcmp(s, "never") ? 0 : s && !strcmp(s, "always") ? 1 : -1;
    }
    return forced;
}

static void aot_parallel_for_adaptive(int kind, int64_t size, int64_t n, aot_task_fn fn,
                                      void *arg)
{
    int forced = aot_split_forced();
    if (n <= 1 || forced == 0 || aot_rt->num_threads() <= 1) {
        fn(arg, 0, n);
        return;
    }
    if (forced == 1) {
        aot_rt->parallel_for(n, fn, arg);
        return;
    }
    aot_adapt *a = &aot_adapt_table[kind][aot_log2_size(size)];
    int split = aot_adapt_pick(a);
    int64_t t0 = aot_adapt_now();
    if (split)
        aot_rt->parallel_for(n, fn, arg);
    else
        fn(arg, 0, n);
    aot_adapt_record(a, split, aot_adapt_now() - t0);
}

/* ------------------------------------------------------------------------ loops */

/* Elements below which a loop stays on the calling thread (scaled by the kernel's cost);
 * from there it is split over the threads where that measures faster
 * (aot_parallel_for_adaptive). */
#ifndef AOT_PARALLEL_MIN
#define AOT_PARALLEL_MIN 200000
#endif

typedef struct {
    int ndim, nops, split;
    const int64_t *shape;
    char *const *base;
    const int64_t *strides;
    aot_inner_fn fn;
    void *aux;
} aot_loop_job;

/* Serial N-d iteration: fn once per row of the last dimension. */
static void aot_iterate(int ndim, const int64_t *shape, int nops, char *const *base,
                        const int64_t *strides, aot_inner_fn fn, void *aux)
{
    char *p[nops > 0 ? nops : 1];
    int64_t inner_strides[nops > 0 ? nops : 1];
    for (int k = 0; k < nops; k++) p[k] = base[k];
    if (ndim == 0) {
        for (int k = 0; k < nops; k++) inner_strides[k] = 0;
        fn(p, inner_strides, 1, aux);
        return;
    }
    int last = ndim - 1;
    for (int k = 0; k < nops; k++) inner_strides[k] = strides[k * ndim + last];
    int64_t inner = shape[last];
    if (ndim == 1) {
        fn(p, inner_strides, inner, aux);
        return;
    }
    int64_t idx[AOT_MAX_NDIM];
    for (int d = 0; d < last; d++) idx[d] = 0;
    for (;;) {
        fn(p, inner_strides, inner, aux);
        int d = last - 1;
        for (; d >= 0; d--) {
            idx[d]++;
            for (int k = 0; k < nops; k++) p[k] += strides[k * ndim + d];
            if (idx[d] < shape[d]) break;
            for (int k = 0; k < nops; k++) p[k] -= strides[k * ndim + d] * shape[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

static void aot_loop_task(void *arg, int64_t begin, int64_t end)
{
    const aot_loop_job *job = (const aot_loop_job *)arg;
    int ndim = job->ndim, nops = job->nops, s = job->split;
    int64_t shape[AOT_MAX_NDIM];
    char *base[nops > 0 ? nops : 1];
    for (int d = 0; d < ndim; d++) shape[d] = job->shape[d];
    shape[s] = end - begin;
    for (int k = 0; k < nops; k++) base[k] = job->base[k] + begin * job->strides[k * ndim + s];
    aot_iterate(ndim, shape, nops, base, job->strides, job->fn, job->aux);
}

static __attribute__((noinline)) void aot_loop(int ndim, const int64_t *shape_in, int nops,
                                               char *const *base, const int64_t *strides_in,
                                               aot_inner_fn fn, void *aux, int work,
                                               int order_op, int reduce_op0)
{
    int64_t shape[AOT_MAX_NDIM];
    int64_t strides[(nops > 0 ? nops : 1) * AOT_MAX_NDIM];
    int perm[AOT_MAX_NDIM];
    int n = 0;
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape_in[d] == 0) return;
        total *= shape_in[d];
        if (shape_in[d] != 1) perm[n++] = d;
    }
    /* follow the memory order of one operand: sort by decreasing |stride| (stable) */
    if (order_op >= 0) {
        for (int i = 1; i < n; i++) {
            int d = perm[i], j = i;
            int64_t key = llabs(strides_in[order_op * ndim + d]);
            while (j > 0 && llabs(strides_in[order_op * ndim + perm[j - 1]]) < key) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = d;
        }
    }
    for (int i = 0; i < n; i++) {
        shape[i] = shape_in[perm[i]];
        for (int k = 0; k < nops; k++) strides[k * n + i] = strides_in[k * ndim + perm[i]];
    }
    /* merge dimension i into i+1 when every operand steps through both as one */
    int m = 0;
    int64_t mshape[AOT_MAX_NDIM];
    int64_t mstrides[(nops > 0 ? nops : 1) * AOT_MAX_NDIM];
    mshape[0] = 0; /* (read by nothing when m == 0) */
    for (int i = 0; i < n; i++) {
        if (m > 0) {
            int ok = 1;
            for (int k = 0; k < nops && ok; k++)
                ok = mstrides[k * AOT_MAX_NDIM + m - 1] == strides[k * n + i] * shape[i];
            if (ok) {
                mshape[m - 1] *= shape[i];
                for (int k = 0; k < nops; k++) mstrides[k * AOT_MAX_NDIM + m - 1] = strides[k * n + i];
                continue;
            }
        }
        mshape[m] = shape[i];
        for (int k = 0; k < nops; k++) mstrides[k * AOT_MAX_NDIM + m] = strides[k * n + i];
        m++;
    }
    int64_t fstrides[(nops > 0 ? nops : 1) * AOT_MAX_NDIM];
    fstrides[0] = 0; /* (read by nothing when m == 0) */
    for (int k = 0; k < nops; k++)
        for (int i = 0; i < m; i++) fstrides[k * m + i] = mstrides[k * AOT_MAX_NDIM + i];

    aot_loop_job job = {m, nops, 0, mshape, base, fstrides, fn, aux};
    if (m == 0 || total * (work > 0 ? work : 1) < AOT_PARALLEL_MIN) {
        aot_iterate(m, mshape, nops, base, fstrides, fn, aux);
        return;
    }
    /* split the outermost dimension that is long enough and, for a reduction, is not
     * reduced (threads must never add into the same accumulator element) */
    int split = -1;
    for (int i = 0; i < m; i++) {
        if (reduce_op0 && fstrides[i] == 0) continue;
        if (mshape[i] >= 2) {
            split = i;
            break;
        }
    }
    if (split < 0) {
        aot_iterate(m, mshape, nops, base, fstrides, fn, aux);
        return;
    }
    job.split = split;
    aot_parallel_for_adaptive(AOT_ADAPT_LOOP, total * (work > 0 ? work : 1), mshape[split],
                              aot_loop_task, &job);
}

static void aot_loop_arrays(int ndim, const int64_t *shape, int nops, aot_array *const *ops,
                            aot_inner_fn fn, void *aux, int work, int order_op, int reduce_op0)
{
    char *base[nops > 0 ? nops : 1];
    int64_t strides[(nops > 0 ? nops : 1) * (ndim > 0 ? ndim : 1)];
    strides[0] = 0;
    for (int k = 0; k < nops; k++) {
        base[k] = ops[k]->data;
        for (int d = 0; d < ndim; d++)
            strides[k * ndim + d] = ops[k]->shape[d] == 1 ? 0 : ops[k]->strides[d];
    }
    aot_loop(ndim, shape, nops, base, strides, fn, aux, work, order_op, reduce_op0);
}

#define AOT_DEFINE_COPY(NAME, T)                                                   \
    static void aot_copy_##NAME(char **p, const int64_t *s, int64_t n, void *aux)  \
    {                                                                              \
        (void)aux;                                                                 \
        if (s[0] == (int64_t)sizeof(T) && s[1] == (int64_t)sizeof(T)) {            \
            memcpy(p[0], p[1], (size_t)n * sizeof(T));                             \
            return;                                                                \
        }                                                                          \
        for (int64_t i = 0; i < n; i++)                                            \
            memcpy(p[0] + i * s[0], p[1] + i * s[1], sizeof(T));                   \
    }
typedef struct { uint64_t a, b; } aot_u128;
AOT_DEFINE_COPY(1, uint8_t)
AOT_DEFINE_COPY(2, uint16_t)
AOT_DEFINE_COPY(4, uint32_t)
AOT_DEFINE_COPY(8, uint64_t)
AOT_DEFINE_COPY(16, aot_u128)

/* Below this many bytes a copy between two C-contiguous arrays of one shape is one memcpy,
 * without the loop machinery (~500 instructions per call: a scan's per-step row copies);
 * larger copies go through aot_loop, which may split them over the threads. */
#define AOT_COPY_FLAT_MAX 32768

static void aot_copy(aot_array *dst, const aot_array *src)
{
    int flat = dst->ndim == src->ndim;
    int64_t n = dst->itemsize;
    for (int d = 0; flat && d < dst->ndim; d++) {
        flat = dst->shape[d] == src->shape[d] && dst->shape[d] <= AOT_COPY_FLAT_MAX;
        n *= dst->shape[d];
        flat = flat && n <= AOT_COPY_FLAT_MAX;
    }
    if (flat && aot_is_c_contiguous(dst) && aot_is_c_contiguous(src)) {
        if (n > 0) memcpy(dst->data, src->data, (size_t)n);
        return;
    }
    aot_inner_fn fn = aot_copy_8;
    switch (dst->itemsize) {
    case 1: fn = aot_copy_1; break;
    case 2: fn = aot_copy_2; break;
    case 4: fn = aot_copy_4; break;
    case 16: fn = aot_copy_16; break;
    default: break;
    }
    aot_array *ops[2] = {dst, (aot_array *)src};
    aot_loop_arrays(dst->ndim, dst->shape, 2, ops, fn, NULL, 1, 0, 0);
}

static int aot_contiguous(aot_ctx *ctx, int node, aot_array *dst, const aot_array *src)
{
    dst->ndim = src->ndim;
    dst->itemsize = src->itemsize;
    for (int d = 0; d < src->ndim; d++) dst->shape[d] = src->shape[d];
    if (aot_is_c_contiguous(src)) {
        for (int d = 0; d < src->ndim; d++) dst->strides[d] = src->strides[d];
        aot_share(dst, src);
        return 0;
    }
    if (aot_alloc(ctx, node, dst)) return -1;
    aot_copy(dst, src);
    return 0;
}

/* ------------------------------------------------------------------------ shapes */

static int aot_broadcast_shape(aot_ctx *ctx, int node, const char *what, int nin,
                               aot_array *const *ins, const unsigned char *bcast, int ndim,
                               int64_t *out_shape)
{
    for (int d = 0; d < ndim; d++) {
        int64_t length = -1;
        for (int i = 0; i < nin; i++) {
            int64_t len = ins[i]->shape[d];
            if (bcast[i * ndim + d]) {
                if (len != 1)
                    return aot_fail(ctx, node, AOT_ERR_VALUE,
                                    "%s: input %d has length %lld in dimension %d, which its "
                                    "type declares broadcastable (length 1)",
                                    what, i, (long long)len, d);
                continue;
            }
            if (length < 0) {
                length = len;
            } else if (len != length) {
                char shapes[512], lens[256];
                size_t used = 0, lused = 0;
                shapes[0] = lens[0] = '\0';
                for (int j = 0; j < nin && used < sizeof shapes; j++) {
                    char one[160];
                    aot_format_shape(one, sizeof one, ins[j]->shape, ndim);
                    used += (size_t)snprintf(shapes + used, sizeof shapes - used, "%s%s",
                                             j ? ", " : "", one);
                }
                for (int j = 0; j < nin && lused < sizeof lens; j++)
                    lused += (size_t)snprintf(lens + lused, sizeof lens - lused, "%s%lld",
                                              j ? ", " : "", (long long)ins[j]->shape[d]);
                return aot_fail(ctx, node, AOT_ERR_VALUE,
                                "%s: input shapes [%s] do not match in dimension %d "
                                "(lengths [%s]); only dimensions declared broadcastable "
                                "broadcast", what, shapes, d, lens);
            }
        }
        out_shape[d] = length < 0 ? 1 : length;
    }
    return 0;
}

/* Make this module's runtime the active one (when no other module's runtime is shared). */
static void aot_rt_init_local(void)
{
    aot_pool.limit_bytes = aot_limit_from_env();
    aot_rt = &aot_rt_local;
}

/* ------------------------------------------------------------------------ function frames */

/* The generated functions' variable setup and output hand-over. */
static void aot_set_input(aot_array *v, const aot_array *in)
{
    v->data = in->data;
    v->block = NULL;
    for (int d = 0; d < v->ndim; d++) {
        v->shape[d] = in->shape[d];
        v->strides[d] = in->strides[d];
    }
}

static void aot_set_const(aot_array *v, char *data, const int64_t *shape)
{
    v->data = data;
    v->block = NULL;
    for (int d = 0; d < v->ndim; d++) v->shape[d] = shape[d];
    aot_set_c_strides(v);
}

static void aot_copy_shape(aot_array *dst, const aot_array *src)
{
    for (int d = 0; d < src->ndim; d++) {
        dst->shape[d] = src->shape[d];
        dst->strides[d] = src->strides[d];
    }
}

/* The bytes [lo, hi) an array's elements can touch (empty: lo == hi). */
static void aot_extent(const aot_array *a, uintptr_t *lo, uintptr_t *hi)
{
    intptr_t low = 0, high = a->itemsize;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] == 0) {
            *lo = *hi = (uintptr_t)a->data;
            return;
        }
        intptr_t span = (intptr_t)((a->shape[d] - 1) * a->strides[d]);
        if (span < 0) low += span; else high += span;
    }
    *lo = (uintptr_t)a->data + low;
    *hi = (uintptr_t)a->data + high;
}

/* Whether in[k]'s memory may overlap any other of the n arguments (a state write over in[k]
 * then goes to a fresh buffer: another argument could still be read through it). */
static int aot_overlaps_others(const aot_array *in, int n, int k)
{
    uintptr_t lo, hi, l2, h2;
    aot_extent(&in[k], &lo, &hi);
    if (lo == hi) return 0;
    for (int j = 0; j < n; j++) {
        if (j == k) continue;
        aot_extent(&in[j], &l2, &h2);
        if (l2 < hi && lo < h2) return 1;
    }
    return 0;
}

/* out takes over v's buffer (v keeps pointing at the data, without a reference). */
static int aot_output_move(aot_ctx *ctx, aot_array *out, aot_array *v)
{
    (void)ctx;
    aot_copy_shape(out, v);
    out->data = v->data;
    out->block = v->block;
    v->block = NULL;
    return 0;
}

/* out gets a fresh C-contiguous copy of v. */
static int aot_output_copy(aot_ctx *ctx, aot_array *out, const aot_array *v)
{
    aot_copy_shape(out, v);
    if (aot_alloc(ctx, -1, out)) return -1;
    aot_copy(out, v);
    return 0;
}

/* Turn a flag raised by a scalar helper (aotsym_scalar.h) into the node's error. */
static int aot_check_scalar_flags(aot_ctx *ctx, int node)
{
    int flags = __atomic_exchange_n(&aot_scalar_flags, 0, __ATOMIC_RELAXED);
    if (flags & AOT_FLAG_NEGATIVE_POWER)
        return aot_fail(ctx, node, AOT_ERR_VALUE,
                        "integers to negative integer powers are not allowed");
    return 0;
}

/* ------------------------------------------------------------------------ streaming stores */

/* dst <- src, n bytes, the aligned middle written with non-temporal stores: a large output
 * that does not fit in cache is written without first being read (no read-for-ownership),
 * which is most of the cost of producing a fresh array.  Other CPUs: memcpy. */
static void aot_stream_copy(char *dst, const char *src, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    size_t head = (size_t)(-(uintptr_t)dst) & 31;
    if (head > n) head = n;
    memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    size_t body = n & ~(size_t)31;
    for (size_t i = 0; i < body; i += 32) {
#ifdef __AVX__
        _mm256_stream_si256((__m256i *)(dst + i), _mm256_loadu_si256((const __m256i *)(src + i)));
#else
        _mm_stream_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
        _mm_stream_si128((__m128i *)(dst + i + 16), _mm_loadu_si128((const __m128i *)(src + i + 16)));
#endif
    }
    memcpy(dst + body, src + body, n - body);
    _mm_sfence();
#else
    memcpy(dst, src, n);
#endif
}
