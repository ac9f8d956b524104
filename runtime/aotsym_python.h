/* aotsym_python.h: the boundary between Python objects and the runtime's aot_array.
 *
 * Pasted into every generated module after aotsym_runtime.c (the module is a cffi API-mode
 * extension, so Python.h is already included; this file includes NumPy's C API), or
 * compiled apart with the rest of the runtime (aotsym/emit_c/runtime.py).  Each
 * exported function of a module is a METH_FASTCALL C function that
 *
 *   1. checks every argument on the fast path (an aligned, native-byte-order ndarray, not a
 *      subclass, of the declared dtype and ndim, length 1 where the type is broadcastable);
 *      anything else goes to the module's Python slow path (Theano's conversion rules and
 *      error messages), which converts and calls the exact entry.  Each function has
 *      that exact entry, which refuses such arguments with NotImplemented instead: its
 *      caller (aotsym.function, whose inputs have their own options, or the slow path)
 *      converts them with its own rules and calls again;
 *   2. runs the generated C (the GIL released for large inputs);
 *   3. wraps each output's pool block in a NumPy array whose base is a capsule that gives the
 *      block back to the pool when the array dies;
 *   4. on failure raises ValueError / MemoryError / TypeError whose message names the node,
 *      the op and the user's source line.
 */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#ifdef AOT_RUNTIME_APART   /* two translation units (aotsym/emit_c/runtime.py): one table */
#define PY_ARRAY_UNIQUE_SYMBOL aot_numpy_api
#ifndef AOT_RUNTIME_IMPL
#define NO_IMPORT_ARRAY
#endif
#endif
#include <numpy/arrayobject.h>

typedef char aot_npy_intp_is_int64[sizeof(npy_intp) == sizeof(int64_t) ? 1 : -1];

#define AOT_CAPSULE_NAME "aotsym.block"
#define AOT_RT_CAPSULE "aotsym.runtime.api"
#define AOT_RT_MODULE "_aotsym_runtime"

static PyObject *aot_slowpath;          /* the module's Python slow path: (index, args) */
static PyObject *aot_node_names;        /* per function, a tuple: what each node is and where
                                           the user made it (kept out of the C source so the
                                           same graph is the same binary wherever it was made) */
static char aot_register_message[512];

/* ---- the shared runtime (one pool of memory and threads per process) */
static int aot_rt_setup(void)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *holder = PyDict_GetItemString(modules, AOT_RT_MODULE);
    if (holder) {
        PyObject *cap = PyObject_GetAttrString(holder, "api");
        if (cap) {
            const aot_rt_api *api = (const aot_rt_api *)PyCapsule_GetPointer(cap, AOT_RT_CAPSULE);
            Py_DECREF(cap);
            if (api && api->abi == AOT_RT_ABI) {
                aot_rt = api;
                return 0;
            }
        }
        PyErr_Clear();
    }
    aot_rt_init_local();
    if (holder) return 0; /* another ABI is published: keep ours private */
    PyObject *mod = PyModule_New(AOT_RT_MODULE);
    if (!mod) return -1;
    PyObject *cap = PyCapsule_New((void *)&aot_rt_local, AOT_RT_CAPSULE, NULL);
    if (!cap || PyModule_AddObject(mod, "api", cap) < 0) {
        Py_XDECREF(cap);
        Py_DECREF(mod);
        return -1;
    }
    int rc = PyDict_SetItemString(modules, AOT_RT_MODULE, mod);
    Py_DECREF(mod);
    return rc;
}

/* ---- arguments */
static inline int aot_arg_ok(PyObject *o, int typenum, int ndim)
{
    /* ndarray itself: a subclass (a masked array, a matrix) is for the slow path to judge */
    if (!PyArray_CheckExact(o)) return 0;
    PyArrayObject *a = (PyArrayObject *)o;
    if (PyArray_NDIM(a) != ndim) return 0;
    int t = PyArray_TYPE(a);
    if (t != typenum && !PyArray_EquivTypenums(t, typenum)) return 0;
    return PyArray_ISBEHAVED_RO(a);
}

/* A borrowed view of an ndarray (the caller keeps the array alive). */
static inline void aot_arg_view(PyObject *o, aot_array *a, int64_t *dims, int ndim)
{
    PyArrayObject *arr = (PyArrayObject *)o;
    const npy_intp *shape = PyArray_DIMS(arr), *strides = PyArray_STRIDES(arr);
    a->data = PyArray_BYTES(arr);
    a->block = NULL;
    a->shape = dims;
    a->strides = dims + ndim;
    a->ndim = ndim;
    a->itemsize = (int)PyArray_ITEMSIZE(arr);
    for (int d = 0; d < ndim; d++) {
        a->shape[d] = shape[d];
        a->strides[d] = strides[d];
    }
}

static PyObject *aot_slow(int index, PyObject *const *args, Py_ssize_t nargs)
{
    if (!aot_slowpath) {
        PyErr_SetString(PyExc_TypeError, "aotsym: the module's slow path is not set");
        return NULL;
    }
    PyObject *tuple = PyTuple_New(nargs);
    if (!tuple) return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(tuple, i, args[i]);
    }
    /* the slow path converts, then calls the exact entry (no slow path): no recursion, and
     * a conversion that calls the module again is an ordinary call */
    PyObject *result = PyObject_CallFunction(aot_slowpath, "iO", index, tuple);
    Py_DECREF(tuple);
    return result;
}

/* Arguments the fast checks rejected: to the slow path, or refused with NotImplemented (the
 * exact entries, whose caller converts with its own rules and calls again). */
static PyObject *aot_reject(int slow, int index, PyObject *const *args, Py_ssize_t nargs)
{
    if (!slow) Py_RETURN_NOTIMPLEMENTED;
    return aot_slow(index, args, nargs);
}

/* ---- results */
static void aot_capsule_free(PyObject *capsule)
{
    aot_block *b = (aot_block *)PyCapsule_GetPointer(capsule, AOT_CAPSULE_NAME);
    if (b) aot_block_decref(b);
}

/* An ndarray owning the array's block reference (which it takes over). */
static PyObject *aot_wrap(aot_array *a, int typenum)
{
    PyArray_Descr *descr = PyArray_DescrFromType(typenum);
    if (!descr) return NULL;
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, a->ndim, (npy_intp *)a->shape,
                                         (npy_intp *)a->strides, a->data, NPY_ARRAY_WRITEABLE,
                                         NULL);
    if (!arr) return NULL;
    if (a->block) {
        PyObject *cap = PyCapsule_New(a->block, AOT_CAPSULE_NAME, aot_capsule_free);
        if (!cap) {
            Py_DECREF(arr);
            return NULL;
        }
        a->block = NULL; /* the capsule owns the reference now */
        if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) {
            Py_DECREF(arr);
            return NULL;
        }
    }
    return arr;
}

/* Output k: the argument array itself when a state write wrote it in that argument's buffer
 * (state_args[k] names the argument, -1: none), else a new ndarray owning its block. */
static PyObject *aot_wrap_output(aot_array *out, int k, const int *typenums,
                                 PyObject *const *args, const int *state_args)
{
    if (state_args && state_args[k] >= 0 && out[k].block == NULL) {
        PyObject *arg = args[state_args[k]];
        if (out[k].data == PyArray_BYTES((PyArrayObject *)arg)) {
            Py_INCREF(arg);
            return arg;
        }
    }
    return aot_wrap(&out[k], typenums[k]);
}

/* The outputs as one array (single) or a list (Theano's convention); releases what is not
 * returned on error.  args/state_args: see aot_wrap_output (NULL: no state writes). */
static PyObject *aot_wrap_outputs(aot_array *out, int nout, const int *typenums, int single,
                                  PyObject *const *args, const int *state_args)
{
    PyObject *result = NULL;
    if (single) {
        result = aot_wrap_output(out, 0, typenums, args, state_args);
    } else {
        result = PyList_New(nout);
        for (int k = 0; result && k < nout; k++) {
            PyObject *arr = aot_wrap_output(out, k, typenums, args, state_args);
            if (!arr) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, k, arr);
        }
    }
    for (int k = 0; k < nout; k++) aot_release(&out[k]);
    return result;
}

/* A function with state writes wraps its outputs before the first write (ctx->before_commit):
 * the one failure left after the run — a Python object that cannot be made — then comes
 * while nothing is written.  ts: the thread state when the run released the GIL. */
typedef struct {
    PyThreadState *ts;
    aot_array *out;
    int nout, single;
    const int *typenums, *state_args;
    PyObject *const *args;
    PyObject *result;      /* the wrapped outputs; NULL with a Python error set on failure */
    int called;
} aot_commit_hook;

static int aot_wrap_before_commit(void *ctx_)
{
    aot_commit_hook *h = (aot_commit_hook *)((aot_ctx *)ctx_)->hook;
    if (h->ts) PyEval_RestoreThread(h->ts);
    h->called = 1;
    h->result = aot_wrap_outputs(h->out, h->nout, h->typenums, h->single, h->args,
                                 h->state_args);
    if (h->ts) h->ts = PyEval_SaveThread();
    return h->result ? 0 : -1;
}

/* The Python exception for a failed call: the runtime's message, then the node.  The node's
 * description comes from the table set by _set_node_names; without one (a module shared by
 * several in-process functions) the exception carries aotsym_message and aotsym_node for the
 * caller to describe the node itself. */
/* numpy.linalg.LinAlgError (looked up at the first failure that needs it; ValueError, its
 * base, if it cannot be) */
static PyObject *aot_linalg_error(void)
{
    static PyObject *cls = NULL;
    if (!cls) {
        PyObject *mod = PyImport_ImportModule("numpy.linalg");
        cls = mod ? PyObject_GetAttrString(mod, "LinAlgError") : NULL;
        Py_XDECREF(mod);
        if (!cls) {
            PyErr_Clear();
            return PyExc_ValueError;
        }
    }
    return cls;
}

static PyObject *aot_raise(const aot_ctx *ctx, int function, const char *fname)
{
    PyObject *type = ctx->status == AOT_ERR_MEMORY ? PyExc_MemoryError
                   : ctx->status == AOT_ERR_TYPE ? PyExc_TypeError
                   : ctx->status == AOT_ERR_INDEX ? PyExc_IndexError
                   : ctx->status == AOT_ERR_LINALG ? aot_linalg_error() : PyExc_ValueError;
    PyObject *names = aot_node_names && function < PyList_GET_SIZE(aot_node_names)
                          ? PyList_GET_ITEM(aot_node_names, function) : NULL;
    if (ctx->node >= 0 && names && PyTuple_Check(names) && ctx->node < PyTuple_GET_SIZE(names)) {
        PyErr_Format(type, "%s\n  while computing %S\n  in %s()", ctx->message,
                     PyTuple_GET_ITEM(names, ctx->node), fname);
        return NULL;
    }
    PyObject *exc = ctx->node >= 0
        ? PyObject_CallFunction(type, "s", ctx->message)
        : PyUnicode_FromFormat("%s\n  in %s()", ctx->message, fname);
    if (!exc) return NULL;
    if (ctx->node < 0) {
        PyErr_SetObject(type, exc);
        Py_DECREF(exc);
        return NULL;
    }
    PyObject *node = PyLong_FromLong(ctx->node);
    PyObject *message = PyUnicode_FromString(ctx->message);
    if (node && message) {
        PyObject_SetAttrString(exc, "aotsym_node", node);
        PyObject_SetAttrString(exc, "aotsym_message", message);
    }
    Py_XDECREF(node);
    Py_XDECREF(message);
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

/* ---- module-level helpers exposed to the Python side */
static PyObject *aot_py_set_slowpath(PyObject *self, PyObject *fn)
{
    (void)self;
    Py_XINCREF(fn);
    Py_XSETREF(aot_slowpath, fn);
    Py_RETURN_NONE;
}

/* _exact_entries() -> tuple of the exact entries (see aot_reject), in function order. */
static PyObject *aot_exact_entries(PyObject *module, PyMethodDef *defs, int n)
{
    PyObject *tuple = PyTuple_New(n);
    for (int k = 0; tuple && k < n; k++) {
        PyObject *fn = PyCFunction_NewEx(&defs[k], module, NULL);
        if (!fn) {
            Py_CLEAR(tuple);
            break;
        }
        PyTuple_SET_ITEM(tuple, k, fn);
    }
    return tuple;
}

/* _set_node_names([tuple of str per function]) */
static PyObject *aot_py_set_node_names(PyObject *self, PyObject *names)
{
    (void)self;
    if (!PyList_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "_set_node_names expects a list of tuples");
        return NULL;
    }
    Py_INCREF(names);
    Py_XSETREF(aot_node_names, names);
    Py_RETURN_NONE;
}

/* (the profile tables' _profile / _profile_reset: runtime/aotsym_profile.h) */

static PyObject *aot_py_pool_stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    int64_t s[4];
    aot_rt->pool_stats(s);
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:i}", "allocations", (long long)s[0], "reused",
                         (long long)s[1], "cached_bytes", (long long)s[2], "cached_large",
                         (long long)s[3], "threads", aot_rt->num_threads());
}

/* The CPU must have the instruction sets the module was compiled for (-march=native on the
 * build machine): say so instead of dying of SIGILL.  Compiled for the baseline ISA. */
#if defined(__x86_64__) && defined(__GNUC__)
static __attribute__((target("arch=x86-64"))) const char *aot_missing_isa(void)
{
    __builtin_cpu_init();
#ifdef __AVX512F__
    if (!__builtin_cpu_supports("avx512f")) return "AVX-512";
#endif
#ifdef __AVX2__
    if (!__builtin_cpu_supports("avx2")) return "AVX2";
#endif
#ifdef __FMA__
    if (!__builtin_cpu_supports("fma")) return "FMA";
#endif
#ifdef __AVX__
    if (!__builtin_cpu_supports("avx")) return "AVX";
#endif
    return NULL;
}
#else
static const char *aot_missing_isa(void) { return NULL; }
#endif

/* Fill a module object with the functions and register it as sys.modules[key]. */
static int aot_register_module(const char *key, PyMethodDef *methods)
{
    const char *isa = aot_missing_isa();
    if (isa) {
        snprintf(aot_register_message, sizeof aot_register_message,
                 "this aotsym module was compiled for a CPU with %s, which this machine "
                 "lacks; rebuild it here, or with portable flags (aotsym build --cflags=-O3)",
                 isa);
        return -1;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    int rc = -1;
    PyObject *mod = NULL;
    if (PyArray_API == NULL && _import_array() < 0) goto done;
    if (aot_rt_setup() < 0) goto done;
    mod = PyModule_New(key);
    if (!mod || PyModule_AddFunctions(mod, methods) < 0) goto done;
    if (PyDict_SetItemString(PyImport_GetModuleDict(), key, mod) < 0) goto done;
    rc = 0;
done:
    if (rc) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *text = value ? PyObject_Str(value) : NULL;
        const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
        snprintf(aot_register_message, sizeof aot_register_message, "%s",
                 msg ? msg : "unknown error while loading the module");
        Py_XDECREF(text);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Clear();
    }
    Py_XDECREF(mod);
    PyGILState_Release(gil);
    return rc;
}
