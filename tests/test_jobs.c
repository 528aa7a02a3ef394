/* test_jobs.c — the public API's jobs (include/hirestyle.h), as another
 * program calls them: hs_job_style, hs_job_run and hs_job_upscale write
 * images of the right size; a bad request fails with its status, naming
 * the file, and writes nothing; a stop request interrupts a job. Tiny sizes
 * and few iterations: what is checked is the plumbing, the results are
 * tested elsewhere (test_style, test_upscale). */
#include "harness.h"
#include "image_io.h"
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *example(const char *name)
{
    static char path[2][1100];
    static int turn;
    turn ^= 1;
    snprintf(path[turn], sizeof path[turn], "%s/tools/examples/%s", source_root(), name);
    return path[turn];
}

/* The size of an image file, or fail. */
static void assert_size(const char *path, int width, int height)
{
    hs_image img = {0};
    HS_CHECK(hs_image_load(path, &img));
    ck_assert_msg(img.width == width && img.height == height, "%s is %dx%d, not %dx%d", path,
                  img.width, img.height, width, height);
    hs_image_free(&img);
}

static hs_style_request small_painting(const char *output, const char **styles)
{
    styles[0] = example("scream.jpg");
    return (hs_style_request){.content = example("dog.jpg"), .output = output,
                              .styles = styles, .style_count = 1, .image_size = 32,
                              .iterations = 2, .quiet = 1};
}

START_TEST(style_writes_the_painting)
{
    test_setup();
    const char *styles[1], *out = scratch_path("painted.png");
    hs_style_request r = small_painting(out, styles);
    HS_CHECK(hs_job_style(test_ctx, &r));
    assert_size(out, 32, 24); /* dog.jpg is 768x576 */
}
END_TEST

START_TEST(run_enlarges_the_painting)
{
    test_setup();
    const char *styles[1], *out = scratch_path("print.png");
    hs_style_request r = small_painting(out, styles);
    r.upscale = 2;
    r.upscale_model = "esrgan-slim-x2";
    HS_CHECK(hs_job_run(test_ctx, &r));
    assert_size(out, 64, 48);
}
END_TEST

START_TEST(upscale_writes_and_checks_the_scale)
{
    test_setup();
    const char *out = scratch_path("big.png"), *refused = scratch_path("refused.png");
    hs_upscale_request r = {.input = example("scream.jpg"), .output = out,
                            .model = "esrgan-slim-x2"};
    HS_CHECK(hs_job_upscale(test_ctx, &r));
    assert_size(out, 704, 896); /* scream.jpg is 352x448 */
    r.output = refused;
    r.scale = 4;
    ck_assert_int_eq(hs_job_upscale(test_ctx, &r), HS_ERR_USAGE);
    ck_assert_msg(strstr(hs_last_error(), "not x4"), "%s", hs_last_error());
    ck_assert(access(refused, F_OK) != 0);
}
END_TEST

START_TEST(a_missing_style_is_named)
{
    test_setup();
    const char *styles[1], *out = scratch_path("never.png");
    hs_style_request r = small_painting(out, styles);
    styles[0] = scratch_path("no-such-style.jpg");
    ck_assert_int_eq(hs_job_style(test_ctx, &r), HS_ERR_IO);
    ck_assert_msg(strstr(hs_last_error(), "no-such-style.jpg"), "%s", hs_last_error());
    ck_assert(access(out, F_OK) != 0);
    r.style_count = 0;
    ck_assert_int_eq(hs_job_style(test_ctx, &r), HS_ERR_USAGE);
}
END_TEST

START_TEST(a_stop_request_interrupts)
{
    test_setup();
    const char *styles[1], *out = scratch_path("stopped.png");
    hs_style_request r = small_painting(out, styles);
    hs_request_stop();
    hs_status st = hs_job_style(test_ctx, &r);
    hs_clear_stop();
    ck_assert_msg(st == HS_ERR_INTERRUPTED, "status %d: %s", st, hs_last_error());
    ck_assert(access(out, F_OK) != 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jobs");
    TCase *jobs = tcase_create("jobs");
    tcase_set_timeout(jobs, 600);
    tcase_add_test(jobs, style_writes_the_painting);
    tcase_add_test(jobs, run_enlarges_the_painting);
    tcase_add_test(jobs, upscale_writes_and_checks_the_scale);
    tcase_add_test(jobs, a_missing_style_is_named);
    tcase_add_test(jobs, a_stop_request_interrupts);
    suite_add_tcase(s, jobs);
    SRunner *runner = srunner_create(s);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_ctx) hs_context_destroy(test_ctx);
    char cleanup[600];
    snprintf(cleanup, sizeof cleanup, "rm -rf %s", scratch_dir());
    if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", scratch_dir());
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
