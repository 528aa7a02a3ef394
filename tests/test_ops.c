/* test_ops.c — the op suite: every kernel against its C reference. */
#include "harness.h"

#include <stdlib.h>

int main(void)
{
    Suite *s = suite_create("ops");
    add_conv_tests(s);
    add_winograd_tests(s);
    add_elementwise_tests(s);
    add_pool_tests(s);
    add_shuffle_tests(s);
    add_interp_tests(s);
    add_concat_tests(s);
    add_image_tests(s);
    add_reduce_tests(s);
    add_loss_tests(s);
    add_gram_tests(s);
    add_adam_tests(s);
    add_normalize_tests(s);
    add_gemm_tests(s);
    add_layer_tests(s);
    add_net_grad_tests(s);
    add_net_plan_tests(s);
    add_net_fold_tests(s);
    add_launch_tests(s);
    add_region_tests(s);
    add_tensor_tests(s);

    SRunner *runner = srunner_create(s);
    /* One process: the kernels are built once, not once per test. */
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_ctx) hs_context_destroy(test_ctx);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
