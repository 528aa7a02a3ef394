/* adam.cl — one Adam step, in place over the parameters and both moments.
 * The bias corrections bc1 = 1 - beta1^t and bc2 = 1 - beta2^t come from the
 * host (computed in double, host/op_adam.c). */

/* m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
 * param -= lr * (m / bc1) / (sqrt(v / bc2) + eps) */
__kernel void adam_step(__global float *param, __global const float *grad, __global float *m,
                        __global float *v, float lr, float beta1, float beta2, float eps,
                        float bc1, float bc2, int n)
{
    int i = item_id();
    if (i >= n) return;
    float g = grad[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
