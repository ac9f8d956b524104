/* aotsym_profile.h: the counters of a profile build (aotsym build --profile,
 * aotsym.function(..., profile=True)).
 *
 * Part of the runtime pasted into every module (emit_c -> build -> module.so + runtime/),
 * after aotsym_scalar.h and before aotsym_runtime.h.  Everything here that counts is compiled
 * only when AOT_PROFILE is defined; in other builds the hooks the runtime itself calls
 * (AOT_PROF_ALLOC in aot_alloc, AOT_PROF_FREED in aot_block_decref) are empty, and the
 * emitter writes no profile code into the generated functions at all.
 *
 * One aot_prof per exported function, static in the generated module, indexed by the
 * lowered program's step numbers (StepId.number; nested steps of structured steps have
 * their own numbers):
 *
 *   ns, calls      total nanoseconds (CLOCK_MONOTONIC) and calls of each step;
 *   begin, dur     the step's last start (absolute ns) and duration: the last call's timeline;
 *   live           the bytes of pool blocks the call held when the step ended (last call);
 *   bytes, allocs  bytes asked of aot_alloc and allocations, per step; entry n_steps is the
 *                  function's own (outputs copied at handover, node -1);
 *   dims           the shapes and byte strides each frame slot had when last set (the
 *                  frame's own dims[] layout: the snapshot is a copy of its rows);
 *   bodies         per body of a structured step, how often it ran (a LOOP's iterations, a
 *                  BRANCH's taken branch);
 *   per function   time in the C entry (checks, run, output wrapping; the outermost entry
 *                  only, so a call converted by the slow path counts once, conversion
 *                  included), time in the run, runs, failures, the peak of live bytes.
 *
 * Live bytes count pool-block capacity: + at aot_alloc during a run of the function, - when
 * a block's last reference is dropped during that run (a thread-local names the running
 * function; blocks freed outside a run, by NumPy arrays dying, are not counted).
 *
 * The Python side reads a table with _profile(function index) -> dict of lists and numbers
 * (aot_profile_get below) and zeroes every table with _profile_reset().
 */
#ifndef AOTSYM_PROFILE_H
#define AOTSYM_PROFILE_H

#include <stdint.h>
#include <string.h>

typedef struct aot_prof {
    int n_steps, n_dims, n_bodies;
    int64_t *ns, *calls, *begin, *dur, *live;
    int64_t *bytes, *allocs;            /* n_steps + 1 entries */
    int64_t *dims, *bodies;
    int64_t entry_ns, entry_calls, run_ns, runs, failures;
    int64_t peak, last_peak, last_begin, last_dur;
    int64_t cur_live, cur_peak;         /* during a run */
} aot_prof;

#ifdef AOT_PROFILE
#include <time.h>

static __thread aot_prof *aot_prof_current;   /* the function running on this thread */
static __thread int aot_prof_depth;           /* nesting of C entries (the slow path) */

static inline int64_t aot_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void aot_prof_step_end(aot_prof *p, int k, int64_t t0)
{
    int64_t t1 = aot_now_ns();
    p->ns[k] += t1 - t0;
    p->calls[k] += 1;
    p->begin[k] = t0;
    p->dur[k] = t1 - t0;
    p->live[k] = p->cur_live;
}

static inline void aot_prof_alloc(aot_prof *p, int node, int64_t nbytes, int64_t capacity)
{
    if (!p) return;
    int k = node >= 0 && node < p->n_steps ? node : p->n_steps;
    p->bytes[k] += nbytes;
    p->allocs[k] += 1;
    p->cur_live += capacity;
    if (p->cur_live > p->cur_peak) p->cur_peak = p->cur_live;
}

static inline int64_t aot_prof_run_begin(aot_prof *p)
{
    aot_prof_current = p;
    p->cur_live = 0;
    p->cur_peak = 0;
    return aot_now_ns();
}

static inline void aot_prof_run_end(aot_prof *p, int64_t t0, int ok)
{
    int64_t t1 = aot_now_ns();
    aot_prof_current = NULL;
    p->run_ns += t1 - t0;
    if (ok) p->runs += 1;
    else p->failures += 1;
    p->last_begin = t0;
    p->last_dur = t1 - t0;
    p->last_peak = p->cur_peak;
    if (p->cur_peak > p->peak) p->peak = p->cur_peak;
}

typedef struct {
    int64_t t0, runs;
} aot_prof_mark;

static inline aot_prof_mark aot_prof_entry_begin(aot_prof *p)
{
    aot_prof_mark m = {-1, 0};
    if (aot_prof_depth++ == 0) {
        m.runs = p->runs + p->failures;
        m.t0 = aot_now_ns();
    }
    return m;
}

/* Counts the entry only when a run happened inside it (an exact entry refusing its
 * arguments with NotImplemented ran nothing). */
static inline void aot_prof_entry_end(aot_prof *p, aot_prof_mark m)
{
    aot_prof_depth--;
    if (m.t0 >= 0 && p->runs + p->failures > m.runs) {
        p->entry_ns += aot_now_ns() - m.t0;
        p->entry_calls += 1;
    }
}

/* The hooks the generated code writes (profile builds only). */
#define AOT_PROF_BEGIN(ctx, k) int64_t aot_prof_t0_##k = aot_now_ns()
#define AOT_PROF_END(ctx, k) aot_prof_step_end((ctx)->prof, k, aot_prof_t0_##k)
#define AOT_PROF_DIMS(ctx, dims, offset, n)                                                   \
    memcpy((ctx)->prof->dims + (offset), (dims) + (offset), (size_t)(n) * sizeof(int64_t))
#define AOT_PROF_BODY(ctx, b) ((ctx)->prof->bodies[b] += 1)
#define AOT_PROF_RUN_BEGIN(ctx) int64_t aot_prof_run_t0 = aot_prof_run_begin((ctx)->prof)
#define AOT_PROF_RUN_END(ctx, ok) aot_prof_run_end((ctx)->prof, aot_prof_run_t0, ok)
#define AOT_PROF_ENTRY_BEGIN(p) aot_prof_mark aot_prof_mark_ = aot_prof_entry_begin(p)
#define AOT_PROF_ENTRY_END(p) aot_prof_entry_end(p, aot_prof_mark_)
/* The runtime's own hooks. */
#define AOT_PROF_ALLOC(ctx, node, nbytes, capacity)                                           \
    aot_prof_alloc((ctx) ? (ctx)->prof : NULL, node, (int64_t)(nbytes), (int64_t)(capacity))
#define AOT_PROF_FREED(capacity)                                                              \
    do {                                                                                      \
        if (aot_prof_current) aot_prof_current->cur_live -= (int64_t)(capacity);              \
    } while (0)
#else
#define AOT_PROF_ALLOC(ctx, node, nbytes, capacity) ((void)0)
#define AOT_PROF_FREED(capacity) ((void)0)
#endif

/* ---- the Python side's view (the module's _profile / _profile_reset) */
#ifdef Py_PYTHON_H
static PyObject *aot_prof_list(const int64_t *values, int n)
{
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        PyObject *item = PyLong_FromLongLong((long long)values[i]);
        if (!item) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

/* _profile(function index) -> the raw counters of that function as a dict, or None when the
 * module is not a profile build (tables NULL). */
static PyObject *aot_profile_get(aot_prof *const *tables, int ntables, PyObject *index)
{
    long k = PyLong_AsLong(index);
    if (k == -1 && PyErr_Occurred()) return NULL;
    if (!tables) Py_RETURN_NONE;
    if (k < 0 || k >= ntables) {
        PyErr_SetString(PyExc_IndexError, "no such function");
        return NULL;
    }
    const aot_prof *p = tables[k];
    int n = p->n_steps;
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L}",
        "ns", aot_prof_list(p->ns, n), "calls", aot_prof_list(p->calls, n),
        "begin", aot_prof_list(p->begin, n), "dur", aot_prof_list(p->dur, n),
        "live", aot_prof_list(p->live, n), "bytes", aot_prof_list(p->bytes, n + 1),
        "allocs", aot_prof_list(p->allocs, n + 1), "dims", aot_prof_list(p->dims, p->n_dims),
        "bodies", aot_prof_list(p->bodies, p->n_bodies),
        "entry_ns", (long long)p->entry_ns, "entry_calls", (long long)p->entry_calls,
        "run_ns", (long long)p->run_ns, "runs", (long long)p->runs,
        "failures", (long long)p->failures, "peak", (long long)p->peak,
        "last_peak", (long long)p->last_peak, "last_begin", (long long)p->last_begin,
        "last_dur", (long long)p->last_dur);
}

static void aot_profile_reset(aot_prof *const *tables, int ntables)
{
    for (int k = 0; tables && k < ntables; k++) {
        aot_prof *p = tables[k];
        size_t n = (size_t)p->n_steps;
        memset(p->ns, 0, n * sizeof(int64_t));
        memset(p->calls, 0, n * sizeof(int64_t));
        memset(p->begin, 0, n * sizeof(int64_t));
        memset(p->dur, 0, n * sizeof(int64_t));
        memset(p->live, 0, n * sizeof(int64_t));
        memset(p->bytes, 0, (n + 1) * sizeof(int64_t));
        memset(p->allocs, 0, (n + 1) * sizeof(int64_t));
        memset(p->bodies, 0, (size_t)p->n_bodies * sizeof(int64_t));
        p->entry_ns = p->entry_calls = p->run_ns = p->runs = p->failures = 0;
        p->peak = p->last_peak = p->last_begin = p->last_dur = 0;
    }
}
#endif /* Py_PYTHON_H */

#endif /* AOTSYM_PROFILE_H */
