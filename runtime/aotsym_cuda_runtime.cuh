/* aotsym_cuda_runtime.cuh: the host side of a CUDA module built by aotsym.emit_cuda.
 *
 * Part of runtime/ (emit_cuda -> build -> module.so).  Included once by the generated .cu
 * file.  What it holds:
 *   - aot_cu_array: a value of the lowered program (device data, host-side shape and byte
 *     strides, the block it lives in); views are descriptor arithmetic on the host;
 *   - a caching device allocator: freed blocks go to a free list keyed by their rounded
 *     size and are handed to the next allocation of that size (cudaMalloc is slow and
 *     synchronizing); aotcu_trim() returns them to the driver;
 *   - the device check made at the first call (no driver, driver too old, no device,
 *     compute capability too old), so that the module imports on any machine;
 *   - the copies in and out: arguments come as contiguous host arrays and go to the device;
 *     results come back to malloc'd host buffers in C order (a strided result is gathered
 *     on the device first), which the Python side owns and frees with aotcu_host_free;
 *   - the strided launch descriptor of elementwise kernels and reductions.
 */
#ifndef AOTSYM_CUDA_RUNTIME_CUH
#define AOTSYM_CUDA_RUNTIME_CUH

#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mutex>

#include "aotsym_cuda_api.h"

#define AOT_CU_THREADS 256
#define AOT_CU_MAX_BLOCKS 65536

/* ------------------------------------------------------------------ errors */

static int aot_cu_fail(aot_cu_error *err, int step, int code, const char *fmt, ...)
{
    err->step = step;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int aot_cu_check(aot_cu_error *err, int step, cudaError_t rc, const char *what)
{
    if (rc == cudaSuccess)
        return 0;
    return aot_cu_fail(err, step, AOT_CU_ERR_CUDA, "%s failed: %s (%s)", what,
                       cudaGetErrorName(rc), cudaGetErrorString(rc));
}

/* ------------------------------------------------------------------ device check */

static std::mutex aot_cu_lock;
static int aot_cu_state = 0;           /* 0 unchecked, 1 ready, -1 refused */
static aot_cu_error aot_cu_state_error;

#define AOT_CU_MIN_MAJOR 8

static int aot_cu_device_check(aot_cu_error *err)
{
    int driver = 0, runtime = 0, count = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    if (driver == 0)
        return aot_cu_fail(err, -1, AOT_CU_ERR_DEVICE,
                           "no NVIDIA driver: libcuda.so.1 could not be loaded (this module "
                           "runs its functions on an NVIDIA GPU; install the NVIDIA driver, "
                           "or build with --target c)");
    if (driver / 1000 < runtime / 1000)
        return aot_cu_fail(err, -1, AOT_CU_ERR_DEVICE,
                           "the NVIDIA driver supports CUDA %d.%d, older than the CUDA %d.x "
                           "runtime this module was built with: update the driver",
                           driver / 1000, (driver % 1000) / 10, runtime / 1000);
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess || count == 0)
        return aot_cu_fail(err, -1, AOT_CU_ERR_DEVICE,
                           "no CUDA device: cudaGetDeviceCount %s (%s)",
                           rc == cudaSuccess ? "found 0 devices" : cudaGetErrorName(rc),
                           rc == cudaSuccess ? "none visible" : cudaGetErrorString(rc));
    int dev = 0;
    cudaDeviceProp prop;
    if (aot_cu_check(err, -1, cudaGetDevice(&dev), "cudaGetDevice") ||
        aot_cu_check(err, -1, cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties"))
        return -1;
    if (prop.major < AOT_CU_MIN_MAJOR)
        return aot_cu_fail(err, -1, AOT_CU_ERR_DEVICE,
                           "the CUDA device %s has compute capability %d.%d, older than 8.0: "
                           "this module holds code for sm_80, sm_90 and PTX for compute_90",
                           prop.name, prop.major, prop.minor);
    return 0;
}

extern "C" int aotcu_init(aot_cu_error *err)
{
    std::lock_guard<std::mutex> guard(aot_cu_lock);
    if (aot_cu_state == 0) {
        memset(&aot_cu_state_error, 0, sizeof aot_cu_state_error);
        aot_cu_state = aot_cu_device_check(&aot_cu_state_error) ? -1 : 1;
    }
    if (aot_cu_state < 0) {
        *err = aot_cu_state_error;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ caching allocator */

typedef struct aot_cu_block {
    char *ptr;
    size_t size;                 /* rounded: the free-list key */
    int refs;
    struct aot_cu_block *next;   /* in a free list */
} aot_cu_block;

#define AOT_CU_BUCKETS 1024
static aot_cu_block *aot_cu_free[AOT_CU_BUCKETS];

static size_t aot_cu_round(size_t n)
{
    if (n <= 512)
        return 512;
    if (n <= (1u << 20))
        return (n + 511) & ~(size_t)511;
    return (n + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
}

static aot_cu_block *aot_cu_block_new(aot_cu_error *err, int step, size_t nbytes)
{
    size_t size = aot_cu_round(nbytes);
    size_t bucket = (size / 512) % AOT_CU_BUCKETS;
    {
        std::lock_guard<std::mutex> guard(aot_cu_lock);
        for (aot_cu_block **at = &aot_cu_free[bucket]; *at; at = &(*at)->next) {
            if ((*at)->size == size) {
                aot_cu_block *b = *at;
                *at = b->next;
                b->next = NULL;
                b->refs = 1;
                return b;
            }
        }
    }
    aot_cu_block *b = (aot_cu_block *)calloc(1, sizeof *b);
    if (!b) {
        aot_cu_fail(err, step, AOT_CU_ERR_MEMORY, "out of host memory");
        return NULL;
    }
    cudaError_t rc = cudaMalloc((void **)&b->ptr, size);
    if (rc != cudaSuccess) {
        cudaGetLastError();
        aotcu_trim();            /* give the cache back and try once more */
        rc = cudaMalloc((void **)&b->ptr, size);
    }
    if (rc != cudaSuccess) {
        free(b);
        aot_cu_fail(err, step, AOT_CU_ERR_MEMORY, "cudaMalloc of %zu bytes failed: %s",
                    size, cudaGetErrorString(rc));
        return NULL;
    }
    b->size = size;
    b->refs = 1;
    return b;
}

static void aot_cu_block_decref(aot_cu_block *b)
{
    if (!b || --b->refs > 0)
        return;
    std::lock_guard<std::mutex> guard(aot_cu_lock);
    size_t bucket = (b->size / 512) % AOT_CU_BUCKETS;
    b->next = aot_cu_free[bucket];
    aot_cu_free[bucket] = b;
}

extern "C" int aotcu_trim(void)
{
    /* (called with aot_cu_lock free) */
    int n = 0;
    for (int k = 0; k < AOT_CU_BUCKETS; k++) {
        aot_cu_block *b;
        {
            std::lock_guard<std::mutex> guard(aot_cu_lock);
            b = aot_cu_free[k];
            aot_cu_free[k] = NULL;
        }
        while (b) {
            aot_cu_block *next = b->next;
            cudaFree(b->ptr);
            free(b);
            b = next;
            n++;
        }
    }
    return n;
}

extern "C" void aotcu_host_free(void *p) { free(p); }

/* ------------------------------------------------------------------ values */

typedef struct {
    char *data;                         /* device memory */
    int64_t shape[AOT_CU_MAXDIM];
    int64_t strides[AOT_CU_MAXDIM];     /* bytes */
    int ndim;
    int64_t itemsize;
    aot_cu_block *block;                /* the reference this value holds, or NULL */
    int host_known;                     /* an integer scalar whose value the host knows */
    int64_t host_int;                   /* (a Shape_i: no read back from the device) */
} aot_cu_array;

static int64_t aot_cu_size(const aot_cu_array *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->ndim; d++)
        n *= a->shape[d];
    return n;
}

static void aot_cu_set_contiguous(aot_cu_array *a)
{
    int64_t s = a->itemsize;
    for (int d = a->ndim - 1; d >= 0; d--) {
        a->strides[d] = s;
        s *= a->shape[d] > 1 ? a->shape[d] : 1;
    }
}

static int aot_cu_is_contiguous(const aot_cu_array *a)
{
    int64_t s = a->itemsize;
    for (int d = a->ndim - 1; d >= 0; d--) {
        if (a->shape[d] != 1 && a->strides[d] != s)
            return 0;
        s *= a->shape[d];
    }
    return 1;
}

/* a fresh C-contiguous buffer for a (shape and itemsize set) */
static int aot_cu_alloc(aot_cu_error *err, int step, aot_cu_array *a)
{
    aot_cu_set_contiguous(a);
    a->block = aot_cu_block_new(err, step, (size_t)(aot_cu_size(a) * a->itemsize));
    if (!a->block)
        return -1;
    a->data = a->block->ptr;
    return 0;
}

static void aot_cu_share(aot_cu_array *dst, const aot_cu_array *src)
{
    dst->block = src->block;
    if (dst->block)
        dst->block->refs++;
}

static void aot_cu_release(aot_cu_array *a)
{
    aot_cu_block_decref(a->block);
    a->block = NULL;
    a->data = NULL;
}

/* Structured steps (aotsym/emit_cuda/control.py): a body's input borrows an outer value (its
 * descriptor, no reference); a body's output is handed over to the step's output, moved (its
 * reference taken) or copied into a fresh contiguous buffer. */
static void aot_cu_set_input(aot_cu_array *dst, const aot_cu_array *src)
{
    *dst = *src;
    dst->block = NULL;
}

static void aot_cu_output_move(aot_cu_array *out, aot_cu_array *v)
{
    *out = *v;
    v->block = NULL;
}

/* ------------------------------------------------------------------ strided launches */

/* The operands of one kernel over an ND-dimensional index space: base pointers and byte
 * strides (0 along a broadcast dimension). */
template <int ND, int NOPS>
struct aot_cu_strided {
    char *ptr[NOPS];
    int64_t shape[ND > 0 ? ND : 1];
    int64_t strides[NOPS][ND > 0 ? ND : 1];
};

template <int ND, int NOPS>
static __device__ __forceinline__ void aot_cu_offsets(const aot_cu_strided<ND, NOPS> &L,
                                                      int64_t i, char **p)
{
#pragma unroll
    for (int k = 0; k < NOPS; k++)
        p[k] = L.ptr[k];
#pragma unroll
    for (int d = ND - 1; d >= 0; d--) {
        int64_t n = L.shape[d];
        int64_t q = i / n, r = i - q * n;
        i = q;
#pragma unroll
        for (int k = 0; k < NOPS; k++)
            p[k] += r * L.strides[k][d];
    }
}

static unsigned aot_cu_blocks(int64_t n)
{
    int64_t b = (n + AOT_CU_THREADS - 1) / AOT_CU_THREADS;
    return (unsigned)(b < 1 ? 1 : b > AOT_CU_MAX_BLOCKS ? AOT_CU_MAX_BLOCKS : b);
}

/* Gather a strided array into a contiguous one (the copy out of a view). */
template <int ND>
__global__ void aot_cu_gather(int64_t n, aot_cu_strided<ND, 2> L, int64_t itemsize)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        char *p[2];
        aot_cu_offsets<ND, 2>(L, i, p);
        for (int64_t b = 0; b < itemsize; b++)
            p[0][b] = p[1][b];
    }
}

template <int ND>
static int aot_cu_copy_contiguous(aot_cu_error *err, int step, aot_cu_array *dst,
                                  const aot_cu_array *src)
{
    dst->ndim = src->ndim;
    dst->itemsize = src->itemsize;
    for (int d = 0; d < src->ndim; d++)
        dst->shape[d] = src->shape[d];
    if (aot_cu_alloc(err, step, dst))
        return -1;
    int64_t n = aot_cu_size(src);
    if (n == 0)
        return 0;
    aot_cu_strided<ND, 2> L;
    L.ptr[0] = dst->data;
    L.ptr[1] = src->data;
    for (int d = 0; d < ND; d++) {
        L.shape[d] = src->shape[d];
        L.strides[0][d] = dst->strides[d];
        L.strides[1][d] = src->strides[d];
    }
    aot_cu_gather<ND><<<aot_cu_blocks(n), AOT_CU_THREADS>>>(n, L, src->itemsize);
    return aot_cu_check(err, step, cudaGetLastError(), "the copy kernel");
}

template <int ND>
static int aot_cu_output_copy(aot_cu_error *err, int step, aot_cu_array *out,
                              const aot_cu_array *v)
{
    if (v->ndim > 0 && !aot_cu_is_contiguous(v))
        return aot_cu_copy_contiguous<ND>(err, step, out, v);
    *out = *v;                          /* shape, ndim, itemsize, a known host value */
    out->block = NULL;
    if (aot_cu_alloc(err, step, out))
        return -1;
    size_t n = (size_t)(aot_cu_size(v) * v->itemsize);
    if (n == 0)
        return 0;
    return aot_cu_check(err, step, cudaMemcpy(out->data, v->data, n, cudaMemcpyDeviceToDevice),
                        "copying a branch's result");
}

/* An argument: a contiguous host array, copied to a fresh device buffer. */
static int aot_cu_from_host(aot_cu_error *err, int step, aot_cu_array *a, const aot_cu_in *in,
                            int ndim, int64_t itemsize)
{
    a->ndim = ndim;
    a->itemsize = itemsize;
    for (int d = 0; d < ndim; d++)
        a->shape[d] = in->shape[d];
    if (aot_cu_alloc(err, step, a))
        return -1;
    size_t n = (size_t)(aot_cu_size(a) * itemsize);
    if (n == 0)
        return 0;
    return aot_cu_check(err, step, cudaMemcpy(a->data, in->data, n, cudaMemcpyHostToDevice),
                        "copying an argument to the device");
}

/* A result: a C-contiguous host copy of a (gathered on the device first if strided). */
template <int ND>
static int aot_cu_to_host(aot_cu_error *err, int step, aot_cu_out *out, const aot_cu_array *a)
{
    out->ndim = a->ndim;
    for (int d = 0; d < a->ndim; d++)
        out->shape[d] = a->shape[d];
    size_t n = (size_t)(aot_cu_size(a) * a->itemsize);
    out->data = malloc(n ? n : 1);
    if (!out->data)
        return aot_cu_fail(err, step, AOT_CU_ERR_MEMORY, "out of host memory (%zu bytes)", n);
    if (n == 0)
        return 0;
    aot_cu_array tmp;
    memset(&tmp, 0, sizeof tmp);
    const aot_cu_array *src = a;
    if (!aot_cu_is_contiguous(a)) {
        if (aot_cu_copy_contiguous<ND>(err, step, &tmp, a))
            return -1;
        src = &tmp;
    }
    int rc = aot_cu_check(err, step, cudaMemcpy(out->data, src->data, n,
                                                cudaMemcpyDeviceToHost),
                          "copying a result to the host");
    aot_cu_release(&tmp);
    return rc;
}

/* The bytes of a host constant, on the device. */
static int aot_cu_const(aot_cu_error *err, int step, aot_cu_array *a, const void *data,
                        const int64_t *shape, int ndim, int64_t itemsize)
{
    aot_cu_in in;
    in.data = data;
    for (int d = 0; d < ndim; d++)
        in.shape[d] = shape[d];
    return aot_cu_from_host(err, step, a, &in, ndim, itemsize);
}

/* ------------------------------------------------------------------ host scalars */

/* A 0-d integer value made on the host (a length): on the device too, and kept on the host
 * so that the steps needing it there (Alloc's shape) do not read it back. */
static int aot_cu_host_scalar(aot_cu_error *err, int step, aot_cu_array *a, int64_t value)
{
    a->ndim = 0;
    a->itemsize = 8;
    if (aot_cu_alloc(err, step, a))
        return -1;
    a->host_known = 1;
    a->host_int = value;
    return aot_cu_check(err, step, cudaMemcpy(a->data, &value, 8, cudaMemcpyHostToDevice),
                        "copying a length to the device");
}

/* The value of the 0-d integer a (itemsize bytes, signed or not) on the host: known there,
 * or read back from the device (a synchronizing copy). */
static int aot_cu_host_int(aot_cu_error *err, int step, const aot_cu_array *a, int is_signed,
                           int64_t *value)
{
    if (a->host_known) {
        *value = a->host_int;
        return 0;
    }
    unsigned char raw[8] = {0};
    if (aot_cu_check(err, step, cudaMemcpy(raw, a->data, (size_t)a->itemsize,
                                           cudaMemcpyDeviceToHost), "reading a length"))
        return -1;
    switch (a->itemsize) {
    case 1: *value = is_signed ? (int64_t)*(int8_t *)raw : (int64_t)*(uint8_t *)raw; break;
    case 2: *value = is_signed ? (int64_t)*(int16_t *)raw : (int64_t)*(uint16_t *)raw; break;
    case 4: *value = is_signed ? (int64_t)*(int32_t *)raw : (int64_t)*(uint32_t *)raw; break;
    default: *value = *(int64_t *)raw; break;
    }
    return 0;
}

/* out (shape set, ND dims) = value broadcast to it, value's dimensions aligned to the right
 * (Alloc): a dimension of length 1 repeats, any other must match. */
template <int ND>
static int aot_cu_fill(aot_cu_error *err, int step, const char *what, aot_cu_array *out,
                       const aot_cu_array *value)
{
    int offset = out->ndim - value->ndim;
    for (int d = 0; d < value->ndim; d++) {
        if (value->shape[d] != 1 && value->shape[d] != out->shape[offset + d])
            return aot_cu_fail(err, step, AOT_CU_ERR_VALUE,
                               "%s: the value's dimension %d has length %lld, which does not "
                               "fit the requested length %lld", what, d,
                               (long long)value->shape[d], (long long)out->shape[offset + d]);
    }
    for (int d = 0; d < out->ndim; d++)
        if (out->shape[d] < 0)
            return aot_cu_fail(err, step, AOT_CU_ERR_VALUE, "%s: negative length %lld "
                               "requested for dimension %d", what, (long long)out->shape[d], d);
    out->itemsize = value->itemsize;
    if (aot_cu_alloc(err, step, out))
        return -1;
    int64_t n = aot_cu_size(out);
    if (n == 0)
        return 0;
    aot_cu_strided<ND, 2> L;
    memset(&L, 0, sizeof L);
    L.ptr[0] = out->data;
    L.ptr[1] = value->data;
    for (int d = 0; d < ND; d++)
        L.shape[d] = 1;
    for (int d = 0; d < out->ndim; d++) {
        L.shape[d] = out->shape[d];
        L.strides[0][d] = out->strides[d];
        L.strides[1][d] = d < offset || value->shape[d - offset] == 1 ? 0 :
            value->strides[d - offset];
    }
    aot_cu_gather<ND><<<aot_cu_blocks(n), AOT_CU_THREADS>>>(n, L, out->itemsize);
    return aot_cu_check(err, step, cudaGetLastError(), "the fill kernel");
}

/* ------------------------------------------------------------------ shapes */

/* The shape of an elementwise result: along each dimension the inputs that are not
 * broadcastable there (bc[i * ndim + d] == 0) must agree (Theano's static broadcasting);
 * a dimension every input broadcasts has length 1. */
static int aot_cu_broadcast(aot_cu_error *err, int step, const char *what, int ndim, int nin,
                            aot_cu_array *const *ins, const unsigned char *bc, int64_t *shape)
{
    for (int d = 0; d < ndim; d++) {
        int from = -1;
        shape[d] = 1;
        for (int i = 0; i < nin; i++) {
            if (bc[i * ndim + d])
                continue;
            if (from < 0) {
                from = i;
                shape[d] = ins[i]->shape[d];
            } else if (ins[i]->shape[d] != shape[d]) {
                return aot_cu_fail(err, step, AOT_CU_ERR_VALUE,
                                   "%s: input %d has length %lld in dimension %d, input %d "
                                   "has length %lld (shapes do not match)", what, i,
                                   (long long)ins[i]->shape[d], d, from, (long long)shape[d]);
            }
        }
    }
    return 0;
}

/* Byte strides `strides` walk `shape` in C order with elements of `itemsize`. */
static int aot_cu_strides_contiguous(const int64_t *strides, const int64_t *shape, int ndim,
                                     int64_t itemsize)
{
    int64_t s = itemsize;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] != 1 && strides[d] != s)
            return 0;
        s *= shape[d];
    }
    return 1;
}

/* Python's slice.indices: the first index and the length of start:stop:step over len. */
static void aot_cu_slice(int64_t len, int has_start, int64_t start, int has_stop, int64_t stop,
                         int64_t step, int64_t *first, int64_t *count)
{
    int64_t lo = step < 0 ? -1 : 0, hi = step < 0 ? len - 1 : len;
    if (!has_start)
        start = step < 0 ? hi : lo;
    else if (start < 0)
        start = start + len < lo ? lo : start + len;
    else if (start > hi)
        start = hi;
    if (!has_stop)
        stop = step < 0 ? lo : hi;
    else if (stop < 0)
        stop = stop + len < lo ? lo : stop + len;
    else if (stop > hi)
        stop = hi;
    int64_t n = 0;
    if (step > 0 && stop > start)
        n = (stop - start + step - 1) / step;
    else if (step < 0 && start > stop)
        n = (start - stop - step - 1) / (-step);
    *first = start;
    *count = n;
}

/* ------------------------------------------------------------------ reductions */

template <typename T>
static __device__ __forceinline__ T aot_cu_shfl_down(T v, int delta)
{
    return __shfl_down_sync(0xffffffffu, v, delta);
}
#define AOT_CU_SHFL_VIA_INT(T)                                                          \
    template <>                                                                          \
    __device__ __forceinline__ T aot_cu_shfl_down<T>(T v, int delta)                     \
    {                                                                                    \
        return (T)__shfl_down_sync(0xffffffffu, (int)v, delta);                          \
    }
AOT_CU_SHFL_VIA_INT(int8_t)
AOT_CU_SHFL_VIA_INT(uint8_t)
AOT_CU_SHFL_VIA_INT(int16_t)
AOT_CU_SHFL_VIA_INT(uint16_t)
AOT_CU_SHFL_VIA_INT(bool)

#endif
