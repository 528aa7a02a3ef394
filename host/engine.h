/* engine.h — what the op files share inside the library: the context's
 * fields, the kernel launcher and the scratch buffer. Not installed. */
#ifndef HS_ENGINE_H
#define HS_ENGINE_H

#include "hirestyle.h"

/* Checks an OpenCL call; on failure returns an hs_status naming `what`. */
#define HS_CL_CHECK(call, what)                   \
    do {                                          \
        cl_int hs_err_ = (call);                  \
        if (hs_err_ != CL_SUCCESS)                \
            return hs_cl_fail(hs_err_, (what));   \
    } while (0)

/* Returns from the calling function when `expr` fails. */
#define HS_TRY(expr)                              \
    do {                                          \
        hs_status hs_st_ = (expr);                \
        if (hs_st_ != HS_OK)                      \
            return hs_st_;                        \
    } while (0)

/* Blocking of our GEMM kernel (cl/gemm.cl): a tile of mr rows x vw*nv
 * columns (nv vectors of vw floats a row), kc steps of K per copy of a panel
 * into local memory. Chosen per device before the program build. */
typedef struct hs_gemm_blocking { int mr, vw, nv, kc; } hs_gemm_blocking;

typedef struct hs_kernel_entry {
    const char *name;
    cl_kernel kernel;
} hs_kernel_entry;

struct hs_context {
    hs_device_info dev;
    cl_context cl;
    cl_command_queue queue;
    cl_program program;
    hs_kernel_entry *kernels;   /* created on first use, by name */
    int kernel_count, kernel_capacity;
    size_t reduce_group;        /* work-group size of the reduction kernels */
    cl_mem scratch;             /* grows on demand; shared by ops (im2col) */
    size_t scratch_bytes;
    size_t scratch_limit;       /* the most one op may take as scratch */
    hs_gemm_blocking gemm_block; /* -D options of cl/gemm.cl */
    cl_mem gemm_pack;           /* our GEMM's panel copies (host/gemm_kernel.c) */
    size_t gemm_pack_bytes;
    size_t gemm_group_max;      /* CL_KERNEL_WORK_GROUP_SIZE of gemm_tiles, 0: not asked yet */
    size_t mem_in_use, mem_peak;
    size_t mem_limit;           /* $HIRESTYLE_MEMORY_LIMIT_MB, else 0: the device's own */
    int gemm_own;               /* GEMMs by our kernel (1) or CLBlast (0), see gemm.c */
    int verbose;
};

/* Kernel arguments for hs_launch, each a tag then a value. */
enum hs_arg_tag { HS_ARG_END, HS_ARG_MEM, HS_ARG_INT, HS_ARG_FLOAT, HS_ARG_LOCAL };
#define ARG_MEM(m) HS_ARG_MEM, (cl_mem)(m)
#define ARG_INT(i) HS_ARG_INT, (int)(i)
#define ARG_FLOAT(f) HS_ARG_FLOAT, (double)(f)
#define ARG_LOCAL(bytes) HS_ARG_LOCAL, (size_t)(bytes)
#define ARG_END HS_ARG_END

/* Enqueue kernel `name` over `global` work-items in `dims` dimensions.
 * local may be NULL (the driver picks); otherwise global is rounded up to a
 * multiple of local and the kernel must bound-check. */
hs_status hs_launch(hs_context *ctx, const char *name, int dims, const size_t *global,
                    const size_t *local, ...);
/* 1-D launch over n items (kernels check `i < n`). */
#define hs_launch_1d(ctx, name, n, ...) \
    hs_launch((ctx), (name), 1, (size_t[]){(size_t)(n)}, NULL, __VA_ARGS__)

/* A device buffer of at least `bytes`, valid until the next call. */
hs_status hs_scratch(hs_context *ctx, size_t bytes, cl_mem *out);
/* Raw buffer allocation counted in the context's memory statistics. */
hs_status hs_buffer_alloc(hs_context *ctx, size_t bytes, cl_mem *out);
void hs_buffer_free(hs_context *ctx, cl_mem buf, size_t bytes);

/* Build (or load from the cache) the program for the context's device. */
hs_status hs_program_build(hs_context *ctx);
/* The kernel sources: embedded, or read from $HIRESTYLE_KERNEL_DIR. */
typedef struct hs_kernel_file { const char *name; const char *source; } hs_kernel_file;
extern const hs_kernel_file hs_kernel_files[];
extern const int hs_kernel_file_count;

/* sum += *g, taking g: when sum is still empty g's buffer simply moves into
 * it. How gradients from several readers of a tensor add up. */
hs_status hs_tensor_accumulate(hs_tensor *sum, hs_tensor *g);

/* Shape checks used by every op; the message names the op. */
hs_status hs_check_shape(const char *op, const hs_tensor *t, int n, int c, int h, int w);
hs_status hs_check_same(const char *op, const hs_tensor *a, const hs_tensor *b);

/* $XDG_CACHE_HOME/hirestyle/<file_name> (or ~/.cache/...); "" if neither is set. */
void hs_cache_path(const char *file_name, char *out, size_t size);
/* mkdir -p for the directories leading to path. */
void hs_make_parent_dirs(const char *path);
/* 64-bit FNV-1a of n bytes, continuing from h (start with HS_HASH_SEED):
 * names cache entries and checks their contents. */
#define HS_HASH_SEED 0xcbf29ce484222325ULL
uint64_t hs_hash(uint64_t h, const void *data, size_t n);

/* CLBlast tuning: load the parameters stored for this device and apply them. */
hs_status hs_gemm_apply_tuning(hs_context *ctx);

/* About the most our GEMM kernel keeps for its copy of A (host/gemm_kernel.c);
 * memory planners count it beside the conv scratch. */
#define HS_GEMM_PACK_BYTES ((size_t)16 << 20)

/* Our GEMM kernel (host/gemm_kernel.c): the tile for a device, whether it
 * takes a product (sizes it can index), and the product itself, as hs_gemm. */
hs_gemm_blocking hs_gemm_blocking_for(const hs_device_info *dev);
int hs_gemm_kernel_handles(size_t m, size_t n, size_t k, hs_matrix a, hs_matrix b, hs_matrix c);
hs_status hs_gemm_kernel(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                         hs_matrix b, float beta, hs_matrix c);

#endif
