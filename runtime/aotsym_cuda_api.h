/* aotsym_cuda_api.h: what a CUDA module built by aotsym exports to its cffi glue (C).
 *
 * Part of runtime/.  Plain C, read by both nvcc (the .cu file, extern "C") and the C
 * compiler of the cffi glue; aotsym.emit_cuda.renderer's CDEF declares the same names.
 * Arguments are C-contiguous host arrays; results come back in malloc'd host buffers (C
 * order) that the caller frees with aotcu_host_free.
 */
#ifndef AOTSYM_CUDA_API_H
#define AOTSYM_CUDA_API_H

#include <stdint.h>

#define AOT_CU_MAXDIM 32

#define AOT_CU_ERR_CUDA 1      /* a CUDA call failed: RuntimeError */
#define AOT_CU_ERR_VALUE 2     /* shapes do not fit: ValueError */
#define AOT_CU_ERR_MEMORY 3    /* MemoryError */
#define AOT_CU_ERR_DEVICE 4    /* no usable GPU: RuntimeError */
#define AOT_CU_ERR_INDEX 5     /* an index out of bounds: IndexError */

typedef struct {
    const void *data;
    int64_t shape[AOT_CU_MAXDIM];
} aot_cu_in;

typedef struct {
    void *data;
    int64_t shape[AOT_CU_MAXDIM];
    int ndim;
} aot_cu_out;

typedef struct {
    int step;          /* the step number (program.step_nodes), -1 for none */
    int code;          /* AOT_CU_ERR_* */
    char message[1024];
} aot_cu_error;

#ifdef __cplusplus
extern "C" {
#endif
int aotcu_init(aot_cu_error *err);
int aotcu_trim(void);
void aotcu_host_free(void *p);
#ifdef __cplusplus
}
#endif

#endif
