/* gemm_tuning.h — CLBlast's Xgemm kernel parameters, as stored by
 * `hirestyle tune` and applied by every context (host/gemm.c). */
#ifndef HS_GEMM_TUNING_H
#define HS_GEMM_TUNING_H

#include "engine.h"

/* Xgemm parameters in hs_gemm_param_names order. */
#define HS_GEMM_PARAM_COUNT 16
enum { GP_GEMMK, GP_KREG, GP_KWG, GP_KWI, GP_MDIMA, GP_MDIMC, GP_MWG, GP_NDIMB,
       GP_NDIMC, GP_NWG, GP_SA, GP_SB, GP_STRM, GP_STRN, GP_VWM, GP_VWN };
typedef struct hs_gemm_params {
    int value[HS_GEMM_PARAM_COUNT];
    /* m·n·k from which CLBlast pads and uses Xgemm rather than XgemmDirect;
     * -1 keeps CLBlast's choice. On CPUs the padded kernel wins at any size. */
    long min_indirect;
    /* Which implementation `hirestyle tune` found faster: 1 our kernel
     * (cl/gemm.cl), 0 CLBlast, -1 not measured (the device decides, host/gemm.c). */
    int own_kernel;
} hs_gemm_params;
extern const char *const hs_gemm_param_names[HS_GEMM_PARAM_COUNT];
/* A starting point for CPU devices under PoCL, measured with CLBlast's own
 * tuner (clblast_tuner_xgemm) on an AVX-512 CPU; applied to CPU devices that
 * have not been tuned yet. */
extern const hs_gemm_params hs_gemm_cpu_defaults;

/* CLBlast's SGEMM whatever hs_gemm would pick: what the tuner measures. */
hs_status hs_gemm_clblast(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                          hs_matrix b, float beta, hs_matrix c);
void hs_gemm_tuning_path(const hs_device_info *dev, char *out, size_t size);
hs_status hs_gemm_override(const hs_context *ctx, const hs_gemm_params *p);
int hs_gemm_params_parse(const char *line, hs_gemm_params *out);
void hs_gemm_params_format(const hs_gemm_params *p, char *out, size_t size);

#endif
