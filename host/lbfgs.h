/* lbfgs.h — limited-memory BFGS on device vectors (Nocedal & Wright, alg. 7.4
 * and 7.5), with a backtracking line search that only accepts steps which
 * lower the objective (Armijo), so the loss decreases monotonically. */
#ifndef HS_LBFGS_H
#define HS_LBFGS_H

#include "hirestyle.h"

/* f(x) and, when grad is not NULL, its gradient. */
typedef hs_status (*hs_objective)(void *user, const hs_tensor *x, float *f, hs_tensor *grad);
/* Called after each iteration with f at the new x; nonzero stops. */
typedef int (*hs_lbfgs_progress)(void *user, int iteration, float f, const hs_tensor *x);

hs_status hs_lbfgs(hs_tensor *x, int iterations, int history, hs_objective objective,
                   hs_lbfgs_progress progress, void *user);

#endif
