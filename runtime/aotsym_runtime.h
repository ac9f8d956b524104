/* aotsym_runtime.h: the C runtime every generated module is compiled with.
 *
 * Part of the pipeline's last stage (emit_c -> build -> module.so + runtime/).  The emitter
 * pastes aotsym_scalar.h, this header and aotsym_runtime.c, in that order, at the top of each
 * generated translation unit, so a module is one self-contained C file.
 *
 * What it provides:
 *
 *   aot_array    the descriptor of a value: data pointer, the refcounted block that owns the
 *                memory (NULL for borrowed memory: arguments, constants), shape and *byte*
 *                strides (NumPy's convention; negative strides are allowed), ndim, itemsize.
 *   aot_block    a 64-byte-aligned buffer from the process-wide pool.  Freed blocks are kept
 *                for reuse (the memory plan: an intermediate is released after its last
 *                reader, and the next allocation of that size gets warm, already faulted-in
 *                pages); large blocks are mmap'ed 2 MiB-aligned with MADV_HUGEPAGE.  Output
 *                blocks are handed to NumPy arrays and come back to the pool when the array
 *                dies.
 *   aot_loop     the N-d strided loop driver: it drops length-1 dimensions, merges dimensions
 *                that are contiguous for every operand, and calls a kernel's 1-d inner loop
 *                (NumPy-ufunc style) per row; large loops are split over a pthread pool, small
 *                ones stay on the calling thread.
 *   aot_ctx      the per-call context: error state (which node, what message) and profiling
 *                counters.  Errors never abort: every step returns -1 and the generated
 *                wrapper raises a Python exception naming the node and the user's line.
 *
 * One pool of memory and one pool of threads serve every aotsym module in a process: the
 * first module loaded publishes its runtime (a table of function pointers, aot_rt_api) and
 * later modules with the same AOT_RT_ABI use it.
 *
 * Profile builds (AOT_PROFILE defined): the counters and their hooks are aotsym_profile.h,
 * pasted before this file; aot_ctx.prof points at the running function's counters (NULL in
 * other builds, whose generated code has no profile hook).
 */
#ifndef AOTSYM_RUNTIME_H
#define AOTSYM_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AOT_RT_ABI 1
#define AOT_ALIGN 64
#define AOT_HEADER 64
#define AOT_MAX_NDIM 64

#if defined(__GNUC__)
#define AOT_UNUSED __attribute__((unused))
#define AOT_LIKELY(x) __builtin_expect(!!(x), 1)
#define AOT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define AOT_UNUSED
#define AOT_LIKELY(x) (x)
#define AOT_UNLIKELY(x) (x)
#endif

typedef struct aot_block {
    size_t capacity;          /* usable bytes after the header */
    int refcount;             /* atomic */
    int mapped;               /* 1: mmap'ed (map_base, map_len), 0: from aligned_alloc */
    struct aot_block *next;   /* free-list link while cached */
    void *map_base;
    size_t map_len;
    char pad_[AOT_HEADER - 2 * sizeof(size_t) - 2 * sizeof(int) - 2 * sizeof(void *)];
} aot_block;

#define AOT_BLOCK_DATA(b) ((char *)(b) + AOT_HEADER)

typedef struct {
    char *data;
    aot_block *block;   /* the owning block (one reference), or NULL: borrowed memory */
    int64_t *shape;
    int64_t *strides;   /* in bytes */
    int ndim;
    int itemsize;
} aot_array;

/* AOT_ERR_LINALG: a LAPACK failure NumPy reports as numpy.linalg.LinAlgError (a ValueError) */
enum { AOT_OK = 0, AOT_ERR_VALUE = 1, AOT_ERR_MEMORY = 2, AOT_ERR_TYPE = 3, AOT_ERR_INDEX = 4,
       AOT_ERR_LINALG = 5 };

typedef struct {
    int status;          /* AOT_OK or an AOT_ERR_* kind */
    int node;            /* index of the failing node (-1: none) */
    char message[1024];
    aot_prof *prof;      /* profile builds: the function's counters (aotsym_profile.h) */
    /* State writes (functions whose updates write a shared variable's own buffer):
     * writable[k] != 0 when argument k's buffer may be written (NULL: none may), and
     * before_commit, when set, runs after every check and before the first such write;
     * failing, it fails the call (nothing written). */
    const unsigned char *writable;
    int (*before_commit)(void *ctx);
    void *hook;
} aot_ctx;

/* The reduced axis of an argmax/argmin: its length and byte stride. */
typedef struct {
    int64_t len, stride;
} aot_axis;

/* The axis of a row operation with an input and an output (softmax): length, strides. */
typedef struct {
    int64_t len, in_stride, out_stride;
} aot_axis2;

/* 1-d inner loop of a kernel: ptrs[k] is operand k's first element, strides[k] its byte
 * stride along the row, n the row length; aux is the kernel's extra data. */
typedef void (*aot_inner_fn)(char **ptrs, const int64_t *strides, int64_t n, void *aux);
typedef void (*aot_task_fn)(void *arg, int64_t begin, int64_t end);

/* The process-wide runtime shared between modules (see the file comment). */
typedef struct {
    int abi;
    aot_block *(*block_new)(size_t nbytes);
    void (*block_release)(aot_block *block);
    void (*parallel_for)(int64_t n, aot_task_fn fn, void *arg);
    int (*num_threads)(void);
    void (*pool_stats)(int64_t *out4);
} aot_rt_api;

static const aot_rt_api *aot_rt;

/* ---- errors */
static int aot_fail(aot_ctx *ctx, int node, int kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int aot_fail_nomem(aot_ctx *ctx, int node, size_t nbytes);
static void aot_format_shape(char *buf, size_t size, const int64_t *shape, int ndim);

/* ---- memory */
static inline void aot_block_incref(aot_block *b)
{
    if (b) __atomic_fetch_add(&b->refcount, 1, __ATOMIC_RELAXED);
}
static inline void aot_block_decref(aot_block *b)
{
    if (b && __atomic_sub_fetch(&b->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        AOT_PROF_FREED(b->capacity);
        aot_rt->block_release(b);
    }
}
/* Release the array's reference to its block (the memory plan's "last use"). */
static inline void aot_release(aot_array *a)
{
    aot_block_decref(a->block);
    a->block = NULL;
}
static int64_t aot_size(const aot_array *a);
static int aot_is_c_contiguous(const aot_array *a);
static void aot_set_c_strides(aot_array *a);
/* Allocate a C-contiguous buffer for a->shape (ndim and itemsize already set). */
static int aot_alloc(aot_ctx *ctx, int node, aot_array *a);
/* dst becomes a view of src's memory (shares and references its block). */
static inline void aot_share(aot_array *dst, const aot_array *src)
{
    dst->data = src->data;
    dst->block = src->block;
    aot_block_incref(src->block);
}

/* ---- loops */
/* Run fn over the broadcast iteration space `shape` (ndim dims) for nops operands; strides
 * is nops x ndim, row-major by operand.  work: an estimate of the cost per element relative
 * to a copy, for the decision to use threads.  order_op: the operand whose memory order the
 * loop follows (-1: keep C order).  reduce_op0: operand 0 is an accumulator with zero
 * strides along the reduced dimensions, so threads never split those. */
static void aot_loop(int ndim, const int64_t *shape, int nops, char *const *base,
                     const int64_t *strides, aot_inner_fn fn, void *aux, int work,
                     int order_op, int reduce_op0);
/* Loop over operands given as arrays broadcast to `shape` (a length-1 dimension of an
 * operand is broadcast with stride 0). */
static void aot_loop_arrays(int ndim, const int64_t *shape, int nops, aot_array *const *ops,
                            aot_inner_fn fn, void *aux, int work, int order_op, int reduce_op0);
/* dst (already allocated, same shape) <- src, any strides. */
static void aot_copy(aot_array *dst, const aot_array *src);
/* A C-contiguous copy of src when it is not C-contiguous (else a shared view). */
static int aot_contiguous(aot_ctx *ctx, int node, aot_array *dst, const aot_array *src);

/* ---- threads: split or not, decided by measuring
 * Whether a piece of work is split over the thread pool is decided on the machine at hand,
 * while it runs: a split that pays with a free second core costs with a busy one (the pool
 * waits for the thread another process slows down), so no threshold tuned on one machine
 * decides it.  Per kind of work and size class (log2 of its size), the first calls alternate
 * the two arms -- the whole range as one call fn(arg, 0, n) on the calling thread, and the
 * pool's split -- timed (two clock reads, ~40 ns, against >= 20 us of work); the very first
 * call of a class only warms up (page faults, a cold cache) and is not counted.  After
 * AOT_ADAPT_TRIALS samples of each arm (2 for calls over AOT_ADAPT_LONG_NS: a 400 ms gemm
 * needs no eight; a run of each arm when one is AOT_ADAPT_CLEAR times the other's: a short
 * program, 100 calls, should not spend 16 of them trying a split that loses 40%) the arm
 * with the lower median of its last AOT_ADAPT_TRIALS samples is taken (a median, not a mean:
 * one slow call -- a page fault, a thread preempted once -- must not hide the faster arm
 * for the hundreds of calls between probes), and after AOT_ADAPT_PERIOD calls the other arm is
 * timed again, so a change of load (another process taking the second core) is followed.
 * A probe that confirms the choice doubles the wait before the next (up to
 * AOT_ADAPT_PERIOD_MAX calls): probing the losing arm every 64 calls cost 2-3% of W3's MLP
 * step on a loaded machine, where the split loses 40%; a choice that flips probes every
 * AOT_ADAPT_PERIOD calls again.  At call AOT_ADAPT_RETRIAL of a class the trials start over:
 * a split's first few hundred calls in a process ran slower than its later ones (W2's
 * logistic step forced to split: 140-200 us a call over the first 200, 52-66 us after 2000;
 * one call: 110-130 then 85 us), so the first trials chose one call and probes of 4 calls
 * never saw the split warmed up.  (Most of that was OpenBLAS's own server thread spinning for
 * its first 0.1 s on the pool worker's core; it is no longer started:
 * aotsym/build/pyruntime.py, openblas_unthreaded.  The second opinion stays, for warm-ups
 * not found.)  Both arms compute the same thing in the same order per
 * element (callers' tasks are written so: fixed parts, partial results combined in part
 * order), so the choice never changes a result's bits.  The statistics are shared by the
 * module's calls and tolerate a racing update (a lost or misplaced sample). */
#include <time.h>
#define AOT_ADAPT_TRIALS 8
#define AOT_ADAPT_PERIOD 64
#define AOT_ADAPT_PERIOD_MAX 2048
#define AOT_ADAPT_LONG_NS 2000000
typedef struct {
    double recent[2][AOT_ADAPT_TRIALS];   /* the last samples per arm, a ring (ns) */
    double typical[2];   /* their median, per arm (0: one call) */
    int64_t samples[2];  /* samples taken per arm (the ring holds the last TRIALS) */
    int64_t calls;
    int64_t period;      /* calls between probes of the other arm (0: not decided yet) */
    int64_t next_probe;  /* the call that starts the next run of probes */
    int best;            /* the arm taken between probes */
} aot_adapt;

static inline int aot_log2_size(int64_t n)
{
    int k = 0;
    while (n > 1 && k < 63) {
        n >>= 1;
        k++;
    }
    return k;
}

static inline int64_t aot_adapt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The arm of this call: 0 one call, 1 the split (call 0 warms up: arm 0, not recorded).
 * Arms are tried, and the other arm probed, in runs of AOT_ADAPT_RUN calls: a split's
 * first call after one-call calls finds the pool's threads asleep (their wake-up is what a
 * lone probe would measure), its next ones find them spinning. */
#define AOT_ADAPT_RUN 4
#define AOT_ADAPT_CLEAR 1.25
#define AOT_ADAPT_RETRIAL 512
static inline int aot_adapt_pick(aot_adapt *a)
{
    int64_t c = a->calls++;
    if (c == AOT_ADAPT_RETRIAL) {   /* a second opinion, warmed up (see above) */
        a->samples[0] = a->samples[1] = 0;
        a->period = 0;
    }
    int64_t need = a->samples[0] && a->typical[0] > AOT_ADAPT_LONG_NS ? 2 : AOT_ADAPT_TRIALS;
    if (need > AOT_ADAPT_RUN && a->samples[0] >= AOT_ADAPT_RUN
        && a->samples[1] >= AOT_ADAPT_RUN
        && (a->typical[0] > AOT_ADAPT_CLEAR * a->typical[1]
            || a->typical[1] > AOT_ADAPT_CLEAR * a->typical[0]))
        need = AOT_ADAPT_RUN;   /* a clear difference: no more trials of the slower arm */
    if (a->samples[0] < need || a->samples[1] < need) return (int)((c / AOT_ADAPT_RUN) & 1);
    int best = a->typical[1] < a->typical[0];
    if (a->period == 0 || best != a->best) {   /* decided now, or the choice flipped */
        a->best = best;
        a->period = AOT_ADAPT_PERIOD;
        a->next_probe = c + AOT_ADAPT_PERIOD;
    }
    if (c < a->next_probe) return best;
    if (c < a->next_probe + AOT_ADAPT_RUN) return !best;   /* a run of probes */
    /* the probes left the choice as it was: wait longer before the next ones */
    a->period = a->period < AOT_ADAPT_PERIOD_MAX ? 2 * a->period : AOT_ADAPT_PERIOD_MAX;
    a->next_probe = c + a->period;
    return best;
}

static inline void aot_adapt_record(aot_adapt *a, int arm, int64_t ns)
{
    if (a->calls <= 1) return;   /* the warm-up call */
    int64_t k = a->samples[arm]++;
    a->recent[arm][k % AOT_ADAPT_TRIALS] = (double)ns;
    int n = k + 1 < AOT_ADAPT_TRIALS ? (int)(k + 1) : AOT_ADAPT_TRIALS;
    double v[AOT_ADAPT_TRIALS];   /* the median of the ring: insertion sort of <= 8 */
    for (int i = 0; i < n; i++) {
        double x = a->recent[arm][i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
    a->typical[arm] = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Kinds of work with their own statistics. */
enum {
    AOT_ADAPT_LOOP, AOT_ADAPT_REDUCE, AOT_ADAPT_GEMV_D, AOT_ADAPT_GEMV_S, AOT_ADAPT_GEMM_D,
    AOT_ADAPT_GEMM_S, AOT_ADAPT_GER_D, AOT_ADAPT_GER_S, AOT_ADAPT_GEMV_PAIR, AOT_ADAPT_KINDS
};
/* fn over [0, n): split over the pool (aot_rt->parallel_for) or as the one call
 * fn(arg, 0, n), whichever measures faster for `kind` at this `size` (see above). */
static void aot_parallel_for_adaptive(int kind, int64_t size, int64_t n, aot_task_fn fn,
                                      void *arg);

/* ---- streaming stores (kernels producing large contiguous outputs)
 * Off by default (-DAOT_STREAM_MIN_BYTES=N turns them on for rows of N bytes and more): on
 * the machines measured so far, writing recycled (warm) pool blocks with ordinary stores was
 * as fast or faster than non-temporal stores, which pay off only for cold memory. */
#ifndef AOT_STREAM_MIN_BYTES
#define AOT_STREAM_MIN_BYTES INT64_MAX
#endif
#define AOT_STREAM_BLOCK 512                    /* elements computed per block into L1 */
static void aot_stream_copy(char *dst, const char *src, size_t n);

/* ---- shapes */
/* The broadcast output shape of an elementwise node, with check_broadcast_shapes's errors.
 * bcast is nin x ndim: 1 where the input's type declares the dimension broadcastable. */
static int aot_broadcast_shape(aot_ctx *ctx, int node, const char *what, int nin,
                               aot_array *const *ins, const unsigned char *bcast, int ndim,
                               int64_t *out_shape);

#endif /* AOTSYM_RUNTIME_H */
