/* aotsym_ops.c: layout work of the structural ops (reshape, indexing, join, alloc), which is
 * the same for every dtype.
 *
 * Pasted into every generated module after aotsym_blas.h.  Messages match the reference
 * evaluator's (the ops' perform methods) so both backends say the same thing.
 */

/* An integer scalar of any integer dtype (itemsize, signedness), as int64.  A uint64 above
 * INT64_MAX reads as INT64_MAX: no index, length or count can be that large, so it fails as
 * out of bounds (NumPy's IndexError for x[np.uint64(2**64 - 1)]) instead of wrapping to -1. */
static int64_t aot_read_int(const aot_array *a, int is_signed)
{
    switch (a->itemsize) {
    case 1: return is_signed ? (int64_t) * (const int8_t *)a->data : (int64_t) * (const uint8_t *)a->data;
    case 2: return is_signed ? (int64_t) * (const int16_t *)a->data : (int64_t) * (const uint16_t *)a->data;
    case 4: return is_signed ? (int64_t) * (const int32_t *)a->data : (int64_t) * (const uint32_t *)a->data;
    default:
        if (!is_signed) {
            uint64_t u = *(const uint64_t *)a->data;
            return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
        }
        return *(const int64_t *)a->data;
    }
}

/* A full reduction (every dimension reduced: one accumulator) split over the threads along
 * its longest dimension: each chunk reduces into its own accumulator, started from the
 * identity, and the step combines the partials in chunk order (generated code:
 * aotsym/emit_c/reductions.py). */
#define AOT_REDUCE_MAX_CHUNKS 64
typedef struct {
    int ndim, split;
    int64_t extent, nchunks;
    const int64_t *full;
    aot_array *const *ins;
    const void *identity;
    void *partial;
} aot_full_reduce_job;

/* Element i of an int64 vector of any stride. */
static inline int64_t aot_int64_at(const aot_array *v, int64_t i)
{
    return *(const int64_t *)(v->data + i * v->strides[0]);
}

/* ------------------------------------------------------------------------ reshape */

/* out <- x reshaped to the int64 vector shp (a view when x is C-contiguous, else a copy). */
static int aot_reshape(aot_ctx *ctx, int node, const char *what, aot_array *out,
                       const aot_array *x, const aot_array *shp, const unsigned char *bcast)
{
    int64_t n = shp->shape[0];
    int64_t want[AOT_MAX_NDIM] = {0};
    char s1[256], s2[256];
    for (int64_t i = 0; i < n && i < AOT_MAX_NDIM; i++) want[i] = aot_int64_at(shp, i);
    if (n != out->ndim) {
        aot_format_shape(s1, sizeof s1, want, (int)(n < AOT_MAX_NDIM ? n : AOT_MAX_NDIM));
        return aot_fail(ctx, node, AOT_ERR_VALUE,
                        "%s: the new shape %s has %lld entries, expected %d", what, s1,
                        (long long)n, out->ndim);
    }
    int unknown = -1, bad = 0;
    int64_t known = 1;
    for (int d = 0; d < out->ndim; d++) {
        if (want[d] == -1) {
            if (unknown >= 0) bad = 1;
            unknown = d;
        } else if (want[d] < 0) {
            bad = 1;
        } else {
            known *= want[d];
        }
    }
    aot_format_shape(s2, sizeof s2, want, out->ndim);
    if (bad)
        return aot_fail(ctx, node, AOT_ERR_VALUE,
                        "%s: invalid new shape %s: lengths must be >= 0, with at most one -1",
                        what, s2);
    int64_t size = aot_size(x);
    aot_format_shape(s1, sizeof s1, x->shape, x->ndim);
    if (unknown >= 0) {
        if (known == 0 || size % known)
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "%s: cannot reshape an array of shape %s (%lld elements) into "
                            "shape %s", what, s1, (long long)size, s2);
        want[unknown] = size / known;
    } else if (known != size) {
        return aot_fail(ctx, node, AOT_ERR_VALUE,
                        "%s: cannot reshape an array of shape %s (%lld elements) into shape %s",
                        what, s1, (long long)size, s2);
    }
    for (int d = 0; d < out->ndim; d++)
        if (bcast[d] && want[d] != 1)
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "%s: dimension %d is declared broadcastable but would have length "
                            "%lld", what, d, (long long)want[d]);
    int64_t tmp_dims[2 * AOT_MAX_NDIM];
    aot_array tmp;
    tmp.shape = tmp_dims;
    tmp.strides = tmp_dims + AOT_MAX_NDIM;
    tmp.block = NULL;
    if (aot_contiguous(ctx, node, &tmp, x)) return -1;
    out->data = tmp.data;
    out->block = tmp.block; /* the reference moves to out */
    for (int d = 0; d < out->ndim; d++) out->shape[d] = want[d];
    aot_set_c_strides(out);
    return 0;
}

/* ------------------------------------------------------------------------ basic indexing */

/* Python's slice.indices(): the first index, the count and the step of a slice of a
 * dimension of length len. */
static void aot_slice(int64_t len, int has_start, int64_t start, int has_stop, int64_t stop,
                      int64_t step, int64_t *first, int64_t *count)
{
    int64_t lo, hi;
    if (step > 0) {
        lo = 0;
        hi = len;
    } else {
        lo = -1;
        hi = len - 1;
    }
    if (!has_start) {
        start = step > 0 ? lo : hi;
    } else if (start < 0) {
        start += len;
        if (start < lo) start = lo;
    } else if (start > hi) {
        start = hi;
    }
    if (!has_stop) {
        stop = step > 0 ? hi : lo;
    } else if (stop < 0) {
        stop += len;
        if (stop < lo) stop = lo;
    } else if (stop > hi) {
        stop = hi;
    }
    int64_t n = 0;
    if (step > 0 && stop > start) n = (stop - start - 1) / step + 1;
    if (step < 0 && start > stop) n = (start - stop - 1) / (-step) + 1;
    *first = start;
    *count = n;
}

/* One dimension of a view, indexed by an integer (the dimension disappears). */
static int aot_index_dim(aot_ctx *ctx, int node, const char *what, int64_t len, int64_t idx,
                         int axis, int64_t stride, char **data)
{
    if (idx < -len || idx >= len)
        return aot_fail(ctx, node, AOT_ERR_INDEX,
                        "%s: index %lld is out of bounds for axis %d with size %lld", what,
                        (long long)idx, axis, (long long)len);
    if (idx < 0) idx += len;
    *data += idx * stride;
    return 0;
}

/* ------------------------------------------------------------------------ writes into a region */

/* NumPy's rule for a value y written into a region, as the reference's: right-aligned, a
 * missing or length-1 dimension repeats (declared broadcastable or not).  Checked before
 * anything is written. */
static int aot_check_fits(aot_ctx *ctx, int node, const char *what, const aot_array *region,
                          const aot_array *y, const unsigned char *ybcast)
{
    int offset = region->ndim - y->ndim;
    for (int d = 0; d < y->ndim; d++) {
        int64_t n = y->shape[d], want = region->shape[offset + d];
        if (ybcast[d] && n != 1)
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "%s: the value's dimension %d is declared broadcastable but has "
                            "length %lld", what, d, (long long)n);
        if (n != want && n != 1) {
            char s1[256], s2[256];
            aot_format_shape(s1, sizeof s1, y->shape, y->ndim);
            aot_format_shape(s2, sizeof s2, region->shape, region->ndim);
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "%s: a value of shape %s does not fit the indexed region of shape "
                            "%s; only dimensions of length 1 (or missing on the left) are "
                            "repeated", what, s1, s2);
        }
    }
    return 0;
}

/* yv <- y seen with region's ndim (missing leading dimensions of length 1, stride 0). */
static void aot_pad_view(aot_array *yv, const aot_array *y, int ndim)
{
    int offset = ndim - y->ndim;
    yv->data = y->data;
    yv->block = NULL;
    yv->ndim = ndim;
    yv->itemsize = y->itemsize;
    for (int d = 0; d < ndim; d++) {
        yv->shape[d] = d < offset ? 1 : y->shape[d - offset];
        yv->strides[d] = d < offset ? 0 : y->strides[d - offset];
    }
}

/* region op= y elementwise with kernel (operands: region, region, y), or region = y with a
 * set kernel (operands: region, y). */
static void aot_write_region(aot_array *region, const aot_array *y, aot_inner_fn kernel,
                             int is_set)
{
    int64_t dims[2 * AOT_MAX_NDIM];
    aot_array yv;
    yv.shape = dims;
    yv.strides = dims + AOT_MAX_NDIM;
    aot_pad_view(&yv, y, region->ndim);
    if (is_set) {
        aot_array *ops[2] = {region, &yv};
        aot_loop_arrays(region->ndim, region->shape, 2, ops, kernel, NULL, 1, -1, 0);
    } else {
        aot_array *ops[3] = {region, region, &yv};
        aot_loop_arrays(region->ndim, region->shape, 3, ops, kernel, NULL, 1, -1, 0);
    }
}

/* out <- g summed (keepdims) over the dimensions where the int64 vector shp is 1 and g is
 * not: the gradient of a value an indexed write broadcast at run time (SumToShape).  A view
 * of g when nothing is summed; else a fresh array, zeroed, to which each slice of g along
 * the summed dimensions is added in turn by kernel (operands: out, out, slice). */
static int aot_sum_to_shape(aot_ctx *ctx, int node, const char *what, aot_array *out,
                            const aot_array *g, const aot_array *shp, aot_inner_fn kernel)
{
    int nd = g->ndim, summed[AOT_MAX_NDIM], ns = 0;
    int64_t want[AOT_MAX_NDIM];
    if (shp->shape[0] != nd)
        return aot_fail(ctx, node, AOT_ERR_VALUE,
                        "%s: a target shape of %lld entries for a gradient of ndim %d", what,
                        (long long)shp->shape[0], nd);
    for (int d = 0; d < nd; d++) {
        want[d] = aot_int64_at(shp, d);
        if (want[d] == g->shape[d]) continue;
        if (want[d] != 1) {
            char s1[256], s2[256];
            aot_format_shape(s1, sizeof s1, g->shape, nd);
            aot_format_shape(s2, sizeof s2, want, nd);
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "%s: a gradient of shape %s cannot be summed to the shape %s of "
                            "the value", what, s1, s2);
        }
        summed[ns++] = d;
    }
    if (!ns) {
        aot_copy_shape(out, g);
        aot_share(out, g);
        return 0;
    }
    for (int d = 0; d < nd; d++) out->shape[d] = want[d];
    if (aot_alloc(ctx, node, out)) return -1;
    if (aot_size(out)) memset(out->data, 0, (size_t)(aot_size(out) * out->itemsize));
    int64_t dims[2 * AOT_MAX_NDIM], at[AOT_MAX_NDIM] = {0};
    aot_array slice;
    slice.shape = dims;
    slice.strides = dims + AOT_MAX_NDIM;
    slice.ndim = nd;
    slice.itemsize = g->itemsize;
    slice.block = NULL;
    for (int d = 0; d < nd; d++) {
        slice.shape[d] = want[d];
        slice.strides[d] = g->strides[d];
        if (g->shape[d] == 0) return 0;      /* nothing to add: the zeros are the sum */
    }
    for (;;) {          /* every position along the summed dimensions, the last fastest */
        slice.data = g->data;
        for (int k = 0; k < ns; k++) slice.data += at[k] * g->strides[summed[k]];
        aot_write_region(out, &slice, kernel, 0);
        int k = ns - 1;
        while (k >= 0 && ++at[k] == g->shape[summed[k]]) at[k--] = 0;
        if (k < 0) return 0;
    }
}

/* ------------------------------------------------------------------------ integer-array indexing */

/* out <- x[idx] along axis 0 (idx: an int64 vector); checks bounds (out is a fresh buffer:
 * a failure part way leaves nothing half-written that anyone sees). */
static int aot_take_bounds(aot_ctx *ctx, int node, const char *what, int64_t k, int64_t len)
{
    return aot_fail(ctx, node, AOT_ERR_INDEX,
                    "%s: index %lld is out of bounds for dimension 0 of length %lld", what,
                    (long long)k, (long long)len);
}

static int aot_take_rows(aot_ctx *ctx, int node, const char *what, aot_array *out,
                         const aot_array *x, const aot_array *idx)
{
    int64_t n = idx->shape[0], len = x->shape[0];
    const int64_t xs = x->strides[0], os = out->strides[0], is = idx->strides[0];
    const char *ip = idx->data;
    if (x->ndim == 1) {   /* elements: one pass, one load and one store each (aot_copy per
                           * element: 1.04 ms for 500k indices into 1000 doubles, NumPy's
                           * take 0.47 ms) */
#define AOT_TAKE_ELEMENTS(T)                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                      \
            int64_t k = *(const int64_t *)(ip + i * is);                                       \
            if (k < -len || k >= len) return aot_take_bounds(ctx, node, what, k, len);         \
            k += k < 0 ? len : 0;                                                              \
            *(T *)(out->data + i * os) = *(const T *)(x->data + k * xs);                       \
        }
        switch (x->itemsize) {
        case 1: AOT_TAKE_ELEMENTS(uint8_t) break;
        case 2: AOT_TAKE_ELEMENTS(uint16_t) break;
        case 4: AOT_TAKE_ELEMENTS(uint32_t) break;
        case 8: AOT_TAKE_ELEMENTS(uint64_t) break;
        default:
            for (int64_t i = 0; i < n; i++) {
                int64_t k = *(const int64_t *)(ip + i * is);
                if (k < -len || k >= len) return aot_take_bounds(ctx, node, what, k, len);
                k += k < 0 ? len : 0;
                memcpy(out->data + i * os, x->data + k * xs, (size_t)x->itemsize);
            }
        }
#undef AOT_TAKE_ELEMENTS
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = aot_int64_at(idx, i);
        if (k < -len || k >= len) return aot_take_bounds(ctx, node, what, k, len);
    }
    int64_t dims[4 * AOT_MAX_NDIM];
    aot_array src, dst;
    src.shape = dims;
    src.strides = dims + AOT_MAX_NDIM;
    dst.shape = dims + 2 * AOT_MAX_NDIM;
    dst.strides = dims + 3 * AOT_MAX_NDIM;
    src.ndim = dst.ndim = x->ndim - 1;
    src.itemsize = dst.itemsize = x->itemsize;
    src.block = dst.block = NULL;
    for (int d = 1; d < x->ndim; d++) {
        src.shape[d - 1] = dst.shape[d - 1] = x->shape[d];
        src.strides[d - 1] = x->strides[d];
        dst.strides[d - 1] = out->strides[d];
    }
    src.data = dst.data = x->data;
    if (aot_is_c_contiguous(&src) && aot_is_c_contiguous(&dst)) {   /* rows: one memcpy each */
        size_t row = (size_t)x->itemsize;
        for (int d = 0; d < src.ndim; d++) row *= (size_t)src.shape[d];
        for (int64_t i = 0; i < n; i++) {
            int64_t k = aot_int64_at(idx, i);
            k += k < 0 ? len : 0;
            if (row) memcpy(out->data + i * os, x->data + k * xs, row);
        }
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = aot_int64_at(idx, i);
        if (k < 0) k += len;
        src.data = x->data + k * xs;
        dst.data = out->data + i * os;
        aot_copy(&dst, &src);
    }
    return 0;
}

/* target[idx[i]] op= y[i] (or y broadcast) for each i, in order (repeated rows accumulate,
 * the last write wins for set). */
static int aot_inc_rows(aot_ctx *ctx, int node, const char *what, aot_array *target,
                        const aot_array *y, const unsigned char *ybcast, const aot_array *idx,
                        aot_inner_fn kernel, int is_set)
{
    int64_t n = idx->shape[0], len = target->shape[0];
    int64_t dims[6 * AOT_MAX_NDIM];
    aot_array region, yrow, full;
    region.shape = dims;
    region.strides = dims + AOT_MAX_NDIM;
    yrow.shape = dims + 2 * AOT_MAX_NDIM;
    yrow.strides = dims + 3 * AOT_MAX_NDIM;
    full.shape = dims + 4 * AOT_MAX_NDIM;
    full.strides = dims + 5 * AOT_MAX_NDIM;
    /* the value must fit the whole indexed region (n, rest...) */
    full.ndim = target->ndim;
    full.itemsize = target->itemsize;
    full.shape[0] = n;
    for (int d = 1; d < target->ndim; d++) full.shape[d] = target->shape[d];
    if (aot_check_fits(ctx, node, what, &full, y, ybcast)) return -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = aot_int64_at(idx, i);
        if (k < -len || k >= len)
            return aot_fail(ctx, node, AOT_ERR_INDEX,
                            "%s: index %lld is out of bounds for dimension 0 of length %lld",
                            what, (long long)k, (long long)len);
    }
    region.ndim = target->ndim - 1;
    region.itemsize = target->itemsize;
    region.block = NULL;
    for (int d = 1; d < target->ndim; d++) {
        region.shape[d - 1] = target->shape[d];
        region.strides[d - 1] = target->strides[d];
    }
    /* y's row i: drop y's first dimension when it spans the index */
    int y_has_rows = y->ndim == target->ndim;
    yrow.block = NULL;
    yrow.itemsize = y->itemsize;
    yrow.ndim = y_has_rows ? y->ndim - 1 : y->ndim;
    for (int d = 0; d < yrow.ndim; d++) {
        yrow.shape[d] = y->shape[d + y_has_rows];
        yrow.strides[d] = y->strides[d + y_has_rows];
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = aot_int64_at(idx, i);
        if (k < 0) k += len;
        region.data = target->data + k * target->strides[0];
        yrow.data = y->data + (y_has_rows && y->shape[0] != 1 ? i * y->strides[0] : 0);
        aot_write_region(&region, &yrow, kernel, is_set);
    }
    return 0;
}

/* General integer-array indexing.  x has already been sliced (the slice entries applied; the
 * advanced dimensions kept whole).  adv[] lists, per advanced dimension of x, its index array
 * (int64, any strides; 0-d for an integer index).  The arrays broadcast together (NumPy's
 * rule) to B; the region's dimensions are: (adjacent) x's dimensions before the first
 * advanced one, B, the rest; (not adjacent) B, then every non-advanced dimension.
 *
 * mode 0: out (allocated, region shape) <- x[...]; mode 1: x[...] op= y via kernel (is_set). */
typedef struct {
    int nadv;
    const int *axes;            /* the advanced dimensions of x, increasing */
    aot_array *const *index;    /* their index arrays */
    int adjacent;
} aot_advanced;

static int aot_advanced_shape(aot_ctx *ctx, int node, const char *what, const aot_array *x,
                              const aot_advanced *adv, int64_t *bshape, int *bndim,
                              int64_t *region)
{
    int nb = 0;
    for (int k = 0; k < adv->nadv; k++)
        if (adv->index[k]->ndim > nb) nb = adv->index[k]->ndim;
    for (int j = 0; j < nb; j++) bshape[j] = 1;
    for (int k = 0; k < adv->nadv; k++) {
        const aot_array *a = adv->index[k];
        for (int j = 0; j < a->ndim; j++) {
            int64_t n = a->shape[j];
            int64_t *b = &bshape[nb - a->ndim + j];
            if (n == *b || n == 1) continue;
            if (*b == 1) {
                *b = n;
                continue;
            }
            return aot_fail(ctx, node, AOT_ERR_INDEX,
                            "%s: shape mismatch: indexing arrays could not be broadcast "
                            "together", what);
        }
    }
    *bndim = nb;
    int r = 0, first = adv->axes[0];
    if (adv->adjacent) {
        for (int d = 0; d < first; d++) region[r++] = x->shape[d];
        for (int j = 0; j < nb; j++) region[r++] = bshape[j];
        for (int d = first + adv->nadv; d < x->ndim; d++) region[r++] = x->shape[d];
    } else {
        for (int j = 0; j < nb; j++) region[r++] = bshape[j];
        for (int d = 0; d < x->ndim; d++) {
            int is_adv = 0;
            for (int k = 0; k < adv->nadv; k++) is_adv |= adv->axes[k] == d;
            if (!is_adv) region[r++] = x->shape[d];
        }
    }
    return 0;
}

static int aot_advanced_apply(aot_ctx *ctx, int node, const char *what, aot_array *x,
                              const aot_advanced *adv, aot_array *out, const aot_array *y,
                              const unsigned char *ybcast, aot_inner_fn kernel, int is_set,
                              int mode)
{
    int64_t bshape[AOT_MAX_NDIM], region[AOT_MAX_NDIM];
    int nb;
    if (aot_advanced_shape(ctx, node, what, x, adv, bshape, &nb, region)) return -1;
    int rndim = x->ndim - adv->nadv + nb;
    int64_t total = 1;
    for (int d = 0; d < rndim; d++) total *= region[d];
    int64_t fit_dims[2 * AOT_MAX_NDIM];
    aot_array fit, yv;
    int64_t ydims[2 * AOT_MAX_NDIM];
    yv.data = NULL;
    if (mode == 1) {
        fit.shape = fit_dims;
        fit.strides = fit_dims + AOT_MAX_NDIM;
        fit.ndim = rndim;
        for (int d = 0; d < rndim; d++) fit.shape[d] = region[d];
        if (aot_check_fits(ctx, node, what, &fit, y, ybcast)) return -1;
        yv.shape = ydims;
        yv.strides = ydims + AOT_MAX_NDIM;
        aot_pad_view(&yv, y, rndim);
    }
    if (total == 0) return 0;
    /* positions of the region's dimensions: where B sits, and which x dims the rest are */
    int bstart = adv->adjacent ? adv->axes[0] : 0;
    int rest_dims[AOT_MAX_NDIM], nrest = 0;
    for (int d = 0; d < x->ndim; d++) {
        int is_adv = 0;
        for (int k = 0; k < adv->nadv; k++) is_adv |= adv->axes[k] == d;
        if (!is_adv) rest_dims[nrest++] = d;
    }
    int64_t idx[AOT_MAX_NDIM];
    for (int d = 0; d < rndim; d++) idx[d] = 0;
    for (int64_t e = 0; e < total; e++) {
        /* x's element for the region index idx */
        char *src = x->data;
        int r = 0;
        for (int i = 0; i < nrest; i++) {
            if (r == bstart) r += nb;
            src += idx[r++] * x->strides[rest_dims[i]];
        }
        for (int k = 0; k < adv->nadv; k++) {
            const aot_array *a = adv->index[k];
            const char *p = a->data;
            for (int j = 0; j < a->ndim; j++) {
                int64_t bj = idx[bstart + nb - a->ndim + j];
                p += (a->shape[j] == 1 ? 0 : bj) * a->strides[j];
            }
            int64_t v = *(const int64_t *)p, len = x->shape[adv->axes[k]];
            if (v < -len || v >= len)
                return aot_fail(ctx, node, AOT_ERR_INDEX,
                                "%s: index %lld is out of bounds for axis %d with size %lld",
                                what, (long long)v, adv->axes[k], (long long)len);
            if (v < 0) v += len;
            src += v * x->strides[adv->axes[k]];
        }
        if (mode == 0) {
            char *dst = out->data;
            for (int d = 0; d < rndim; d++) dst += idx[d] * out->strides[d];
            memcpy(dst, src, (size_t)x->itemsize);
        } else {
            char *yp = yv.data;
            for (int d = 0; d < rndim; d++) yp += (yv.shape[d] == 1 ? 0 : idx[d]) * yv.strides[d];
            int64_t zero[3] = {0, 0, 0};
            char *ptrs[3] = {src, src, yp};
            char *set_ptrs[2] = {src, yp};
            kernel(is_set ? set_ptrs : ptrs, zero, 1, NULL);
        }
        for (int d = rndim - 1; d >= 0; d--) {
            if (++idx[d] < region[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ join, alloc */

static int aot_join_shape(aot_ctx *ctx, int node, const char *what, int axis, int n,
                          aot_array *const *ins, int64_t *out_shape)
{
    int ndim = ins[0]->ndim;
    for (int d = 0; d < ndim; d++) out_shape[d] = ins[0]->shape[d];
    out_shape[axis] = 0;
    for (int k = 0; k < n; k++) {
        for (int d = 0; d < ndim; d++) {
            if (d != axis && ins[k]->shape[d] != ins[0]->shape[d]) {
                char s1[256], s2[256];
                aot_format_shape(s1, sizeof s1, ins[0]->shape, ndim);
                aot_format_shape(s2, sizeof s2, ins[k]->shape, ndim);
                return aot_fail(ctx, node, AOT_ERR_VALUE,
                                "%s: input 0 has shape %s but input %d has shape %s; they must "
                                "have equal lengths in every dimension but %d",
                                what, s1, k, s2, axis);
            }
        }
        out_shape[axis] += ins[k]->shape[axis];
    }
    return 0;
}

/* The part of out along axis that input k of a join fills. */
static void aot_join_part(aot_array *part, const aot_array *out, int axis, int64_t start,
                          int64_t length)
{
    part->data = out->data + start * out->strides[axis];
    part->block = NULL;
    part->ndim = out->ndim;
    part->itemsize = out->itemsize;
    for (int d = 0; d < out->ndim; d++) {
        part->shape[d] = out->shape[d];
        part->strides[d] = out->strides[d];
    }
    part->shape[axis] = length;
}

/* Alloc's checks: lengths >= 0, and the value fits the shape by the static rule. */
static int aot_alloc_check(aot_ctx *ctx, int node, const aot_array *out, const aot_array *value,
                           const unsigned char *vbcast)
{
    for (int d = 0; d < out->ndim; d++)
        if (out->shape[d] < 0)
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "Alloc: negative length %lld requested for dimension %d",
                            (long long)out->shape[d], d);
    int offset = out->ndim - value->ndim;
    for (int d = 0; d < value->ndim; d++) {
        int64_t n = value->shape[d], want = out->shape[offset + d];
        if (vbcast[d]) {
            if (n != 1)
                return aot_fail(ctx, node, AOT_ERR_VALUE,
                                "Alloc: the value's dimension %d is declared broadcastable but "
                                "has length %lld", d, (long long)n);
        } else if (n != want) {
            char s1[256], s2[256];
            aot_format_shape(s1, sizeof s1, value->shape, value->ndim);
            aot_format_shape(s2, sizeof s2, out->shape, out->ndim);
            return aot_fail(ctx, node, AOT_ERR_VALUE,
                            "Alloc: the value has shape %s, which does not fit the requested "
                            "shape %s (dimension %d has length %lld, not %lld); only dimensions "
                            "declared broadcastable are repeated",
                            s1, s2, d, (long long)n, (long long)want);
        }
    }
    return 0;
}

/* Whether no two elements of a share memory, so that a loop may write over a element for
 * element (an elementwise state write): the dimensions longer than 1, by increasing |stride|,
 * each step at least past the bytes the shorter strides span.  Conservative: a layout that
 * interleaves without overlapping reads as not distinct (the write then goes to a fresh
 * buffer, the same result). */
static int aot_elements_distinct(const aot_array *a)
{
    int64_t st[AOT_MAX_NDIM], len[AOT_MAX_NDIM];
    int n = 0;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] == 0) return 1;
        if (a->shape[d] == 1) continue;
        int64_t s = llabs(a->strides[d]);
        int j = n++;
        for (; j > 0 && st[j - 1] > s; j--) {
            st[j] = st[j - 1];
            len[j] = len[j - 1];
        }
        st[j] = s;
        len[j] = a->shape[d];
    }
    int64_t span = a->itemsize;
    for (int j = 0; j < n; j++) {
        if (st[j] < span) return 0;
        span += st[j] * (len[j] - 1);
    }
    return 1;
}
