/* aotsym_loops.c: the row buffers of a structured LOOP step (scan), the same for every dtype;
 * and aot_gather_rows, the strided rows of the large elementwise kernels (at the end).
 *
 * Pasted into every generated module after aotsym_ops.c.  A loop keeps, per carried state and
 * per mapped output, a buffer of rows: either every row the loop makes (its rows are the
 * output, handed over without a copy) or a ring of the last `capacity` rows (only the last
 * rows are read: the memory does not grow with the number of steps).  Row i of a ring lives
 * at i % capacity.  Messages match the reference evaluator's (aotsym/graph/ops/scan.py).
 */

typedef struct {
    aot_array *buf;      /* the rows: buf->shape[0] == capacity */
    int64_t capacity;
    int ring;            /* 1: row i at i % capacity; 0: row i at i */
} aot_rows;

static inline int64_t aot_rows_at(const aot_rows *r, int64_t i)
{
    return r->ring ? i % r->capacity : i;
}

/* dst <- row `i` of src: a view holding no reference (dst has ndim = src->ndim - 1).  A
 * matrix's row (a scan over vectors, each step's views) without the loop over dimensions. */
static inline void aot_row_view(aot_array *dst, const aot_array *src, int64_t i)
{
    dst->data = src->data + i * src->strides[0];
    dst->block = NULL;
    if (src->ndim == 2) {
        dst->shape[0] = src->shape[1];
        dst->strides[0] = src->strides[1];
        return;
    }
    for (int d = 1; d < src->ndim; d++) {
        dst->shape[d - 1] = src->shape[d];
        dst->strides[d - 1] = src->strides[d];
    }
}

/* Allocate `rows` rows shaped like `row_shape` (ndim - 1 lengths) into r->buf. */
static int aot_rows_alloc(aot_ctx *ctx, int node, aot_rows *r, int64_t rows,
                          const int64_t *row_shape, int ring)
{
    aot_release(r->buf);
    r->buf->shape[0] = rows;
    for (int d = 1; d < r->buf->ndim; d++) r->buf->shape[d] = row_shape[d - 1];
    r->capacity = rows;
    r->ring = ring;
    return aot_alloc(ctx, node, r->buf);
}

/* Store `value` as row i (it must have the row's shape: a step keeps its shapes). */
static int aot_rows_store(aot_ctx *ctx, int node, const char *what, aot_rows *r, int64_t i,
                          const aot_array *value, int64_t step)
{
    int64_t dims[2 * AOT_MAX_NDIM];
    aot_array row = *r->buf;
    row.shape = dims;
    row.strides = dims + AOT_MAX_NDIM;
    row.ndim = r->buf->ndim - 1;
    aot_row_view(&row, r->buf, aot_rows_at(r, i));
    for (int d = 0; d < row.ndim; d++) {
        if (row.shape[d] != value->shape[d]) {
            char s1[256], s2[256];
            aot_format_shape(s1, sizeof s1, value->shape, value->ndim);
            aot_format_shape(s2, sizeof s2, row.shape, row.ndim);
            return aot_fail(ctx, node, AOT_ERR_VALUE, "scan: at step %lld, the step function "
                            "returned shape %s for %s, whose shape is %s; a loop keeps its "
                            "shapes across steps", (long long)step, s1, what, s2);
        }
    }
    aot_copy(&row, value);
    return 0;
}

/* Rows 0 .. init->shape[0] - 1 of r <- the rows of init (the values before step 0). */
static void aot_rows_init(aot_rows *r, const aot_array *init)
{
    int64_t dims[4 * AOT_MAX_NDIM];
    aot_array src = *init, dst = *r->buf;
    src.shape = dims;
    src.strides = dims + AOT_MAX_NDIM;
    dst.shape = dims + 2 * AOT_MAX_NDIM;
    dst.strides = dims + 3 * AOT_MAX_NDIM;
    src.ndim = dst.ndim = init->ndim - 1;
    for (int64_t i = 0; i < init->shape[0]; i++) {
        aot_row_view(&src, init, i);
        aot_row_view(&dst, r->buf, aot_rows_at(r, i));
        aot_copy(&dst, &src);
    }
}

/* out <- rows [first, first + count) of r: the buffer itself (its reference moves to out)
 * when r keeps every row, else a fresh copy of the rows in order. */
static int aot_rows_hand_over(aot_ctx *ctx, int node, aot_rows *r, int64_t first,
                              int64_t count, aot_array *out)
{
    aot_array *buf = r->buf;
    out->shape[0] = count;
    for (int d = 1; d < buf->ndim; d++) {
        out->shape[d] = buf->shape[d];
        out->strides[d] = buf->strides[d];
    }
    if (!r->ring) {
        out->strides[0] = buf->strides[0];
        out->data = buf->data + first * buf->strides[0];
        out->block = buf->block;
        buf->block = NULL;
        return 0;
    }
    if (aot_alloc(ctx, node, out)) return -1;
    int64_t dims[4 * AOT_MAX_NDIM];
    aot_array src = *buf, dst = *out;
    src.shape = dims;
    src.strides = dims + AOT_MAX_NDIM;
    dst.shape = dims + 2 * AOT_MAX_NDIM;
    dst.strides = dims + 3 * AOT_MAX_NDIM;
    src.ndim = dst.ndim = buf->ndim - 1;
    for (int64_t i = 0; i < count; i++) {
        aot_row_view(&src, buf, aot_rows_at(r, first + i));
        aot_row_view(&dst, out, i);
        aot_copy(&dst, &src);
    }
    return 0;
}

/* A carried state of which only the last rows are read (a kept state, or a hidden one): no
 * buffer of rows and no copy per step, but a ring of `capacity` values (frame slots
 * held[0 .. capacity-1], row i in held[i % capacity]), each owning its buffer: a step's new
 * value takes over the buffer the step computed it in (a rotation, not a copy), and releases
 * the value it replaces.  The initial rows are borrowed views of the initial value.  A new
 * value that owns no buffer (the step returned its input, or a view of it) is copied into a
 * fresh one first. */
static int aot_carry(aot_ctx *ctx, int node, const char *what, aot_array *held,
                     aot_array *value, int64_t step)
{
    for (int d = 0; d < held->ndim; d++) {
        if (held->shape[d] != value->shape[d]) {
            char s1[256], s2[256];
            aot_format_shape(s1, sizeof s1, value->shape, value->ndim);
            aot_format_shape(s2, sizeof s2, held->shape, held->ndim);
            return aot_fail(ctx, node, AOT_ERR_VALUE, "scan: at step %lld, the step function "
                            "returned shape %s for %s, whose shape is %s; a loop keeps its "
                            "shapes across steps", (long long)step, s1, what, s2);
        }
    }
    if (value->block) {
        aot_release(held);
        held->data = value->data;
        held->block = value->block;
        value->block = NULL;
        for (int d = 0; d < held->ndim; d++) held->strides[d] = value->strides[d];
        return 0;
    }
    int64_t dims[2 * AOT_MAX_NDIM];
    aot_array fresh = *held;
    fresh.shape = dims;
    fresh.strides = dims + AOT_MAX_NDIM;
    fresh.block = NULL;
    for (int d = 0; d < held->ndim; d++) fresh.shape[d] = held->shape[d];
    if (aot_alloc(ctx, node, &fresh)) return -1;
    aot_copy(&fresh, value);
    aot_release(held);
    held->data = fresh.data;
    held->block = fresh.block;
    for (int d = 0; d < held->ndim; d++) held->strides[d] = fresh.strides[d];
    return 0;
}

/* out <- rows [first, first + count) of a carried ring (row i in held[i % capacity]), in
 * order, as a fresh array. */
static int aot_carry_hand_over(aot_ctx *ctx, int node, aot_array *held, int64_t capacity,
                               int64_t first, int64_t count, aot_array *out)
{
    out->shape[0] = count;
    for (int d = 0; d < held[0].ndim; d++) out->shape[d + 1] = held[0].shape[d];
    if (aot_alloc(ctx, node, out)) return -1;
    int64_t dims[2 * AOT_MAX_NDIM];
    aot_array row = *out;
    row.shape = dims;
    row.strides = dims + AOT_MAX_NDIM;
    row.ndim = out->ndim - 1;
    for (int64_t i = 0; i < count; i++) {
        aot_row_view(&row, out, i);
        aot_copy(&row, &held[(first + i) % capacity]);
    }
    return 0;
}

/* ------------------------------------------------------------ a state computed in its row */

/* y <- alpha * A @ x + beta * z (a Gemv) for a vector y of z's shape sharing no memory with
 * z, A or x: a loop's fresh state row (aotsym/emit_c/loop_gemv.py).  z is copied in first
 * when beta != 0 (beta == 0 never reads it, as BLAS), then the product accumulates in place:
 * the same copy and the same aot_gemv_* call as the Gemv step, into another buffer.  Not
 * inlined: the small-gemv kernel keeps its registers (inlined into a large generated
 * function, its eight accumulators were spilled to the stack on every iteration).  A
 * unit-stride z (an RNN's x_t) is one memcpy, without aot_copy's walk over the dimensions
 * (W4's RNN: 77 instructions a step fewer). */
static __attribute__((noinline)) int aot_gemv_into(aot_ctx *ctx, int node, aot_array *y,
                                                   const aot_array *z, const aot_array *A,
                                                   const aot_array *x, double alpha,
                                                   double beta)
{
    if (beta != 0) {
        const int64_t n = y->shape[0], size = y->itemsize;
        if (z->shape[0] == n && (n == 1 || (y->strides[0] == size && z->strides[0] == size)))
            memcpy(y->data, z->data, (size_t)(n * size));
        else
            aot_copy(y, z);
    }
    if (y->itemsize == 8) return aot_gemv_d(ctx, node, y, A, x, alpha, beta);
    return aot_gemv_s(ctx, node, y, A, x, (float)alpha, (float)beta);
}

/* ------------------------------------------------- elementwise rows by gathered blocks */

/* Elementwise rows by gathered blocks (shared by every elementwise kernel whose unit-stride
 * loop also computes strided rows; a unit-stride row's last elements are padded the same way
 * by the kernel itself, aotsym/emit_c/elemwise_kernel.c.j2; compiled once with the runtime,
 * where it used to be compiled in each module): elements b .. n-1 of the operands p
 * (strides s; the first nout are outputs) go through L1 in blocks of up to `block` elements.  Operand k with an item size sz[k] (1, 2, 4, 8 or 16; 0: a
 * scalar operand, passed as it is) has a buffer at off[k] in `mem` (`bytes` in all).  An
 * input's elements are copied into it and padded to a multiple of `group` with copies of its
 * last element, so the padding computes nothing an element does not; fn(mg, q), the
 * kernel's unit-stride loop, computes the block into the outputs' buffers, which are copied
 * back.  The copies are the runtime's (aot_copy_N: bits, NaN payloads kept); the loops over
 * operands hold calls, so they cost the compiler little. */
static __attribute__((noinline)) void aot_gather_rows(void (*fn)(int64_t, char *const *),
        int nout, int nops, const unsigned char *sz, const int64_t *off, int64_t bytes, char **p,
        const int64_t *s, int64_t b, int64_t n, int64_t block, int64_t group)
{
    static const aot_inner_fn copy[17] = {
        [1] = aot_copy_1, [2] = aot_copy_2, [4] = aot_copy_4, [8] = aot_copy_8, [16] = aot_copy_16};
    char mem[bytes + 64];
    char *const at = (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    char *q[nops];
    for (; b < n; b += block) {
        const int64_t m = n - b < block ? n - b : block;
        const int64_t mg = (m + group - 1) & ~(group - 1);
        for (int k = 0; k < nops; k++) {
            const int64_t size = sz[k];
            if (!size) {
                q[k] = p[k];
                continue;
            }
            q[k] = at + off[k];
            if (k < nout)
                continue;
            char *from[2] = {q[k], p[k] + b * s[k]};
            const int64_t step[2] = {size, s[k]};
            copy[size](from, step, m, NULL);
            char *pad[2] = {q[k] + m * size, q[k] + (m - 1) * size};
            const int64_t pad_step[2] = {size, 0};
            copy[size](pad, pad_step, mg - m, NULL);
        }
        fn(mg, q);
        for (int k = 0; k < nout; k++) {
            char *to[2] = {p[k] + b * s[k], q[k]};
            const int64_t step[2] = {s[k], sz[k]};
            copy[sz[k]](to, step, m, NULL);
        }
    }
}
