/* op_adam.c — host side of cl/adam.cl: the Adam optimiser step. */
#include "engine.h"

#include <math.h>

/* param, grad, m, v all (N,C,H,W); m and v start at zero for t = 1 */
hs_status hs_adam_step(hs_tensor *param, const hs_tensor *grad, hs_tensor *m, hs_tensor *v,
                       hs_adam_params p)
{
    HS_TRY(hs_check_same("adam grad", grad, param));
    HS_TRY(hs_check_same("adam m", m, param));
    HS_TRY(hs_check_same("adam v", v, param));
    if (p.step < 1) return hs_fail(HS_ERR_INTERNAL, "adam: step %d, steps count from 1", p.step);
    double bc1 = 1.0 - pow(p.beta1, p.step), bc2 = 1.0 - pow(p.beta2, p.step);
    int n = (int)hs_tensor_count(param);
    return hs_launch_1d(param->ctx, "adam_step", n, ARG_MEM(param->buf), ARG_MEM(grad->buf),
                        ARG_MEM(m->buf), ARG_MEM(v->buf), ARG_FLOAT(p.lr), ARG_FLOAT(p.beta1),
                        ARG_FLOAT(p.beta2), ARG_FLOAT(p.eps), ARG_FLOAT(bc1), ARG_FLOAT(bc2),
                        ARG_INT(n), ARG_END);
}
