/* test_planners.c — the memory planners on devices we do not have: the
 * upscale tile planner (host/upscale.c) and the style block planner
 * (host/style.c) on a context whose device limits are faked:
 *   - an NVIDIA H200: 143771 MiB, one allocation at most a quarter of it
 *     (as NVIDIA's driver reports), so tensors of 3 G floats would fit it;
 *   - a 24 GiB card on ROCm, largest allocation 85 % of its memory;
 *   - an Intel iGPU with 4 GiB, largest allocation half of it;
 *   - the H200 again under HIRESTYLE_MEMORY_LIMIT_MB=4096.
 * Each choice must keep every tensor within 2^31-1 floats (the kernels
 * index with int) and the largest allocation, the whole within the budget
 * (half the device, the limit), and be the largest that does; a refusal
 * must be true (not even the smallest tile or block can run). The choices
 * are printed: they are the planners' answers for these devices; 2^31-1
 * floats is 2147 M.
 *
 * Needs the fetched weights (esrgan-thick, the ncnn Real-ESRGAN and
 * Real-CUGAN models, resnet50). Environment: HIRESTYLE_SOURCE_ROOT.
 */
#include "engine.h"
#include "harness.h"
#include "net.h"
#include "style.h"
#include "upscale.h"
#include "weights.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_SIZE 1024
#define GIB (1024.0 * 1024.0 * 1024.0)
#define INT_FLOATS_BYTES (HS_MAX_ELEMENTS * sizeof(float))

typedef struct fake_device {
    const char *name;
    cl_ulong global_mem, max_alloc;
    size_t limit_mb; /* HIRESTYLE_MEMORY_LIMIT_MB, 0: none */
} fake_device;

#define H200_MEMORY ((cl_ulong)143771 << 20)
static const fake_device devices[] = {
    {"H200", H200_MEMORY, H200_MEMORY / 4, 0},
    {"ROCm-24G", (cl_ulong)24 << 30, ((cl_ulong)24 << 30) / 100 * 85, 0},
    {"Intel-4G", (cl_ulong)4 << 30, (cl_ulong)2 << 30, 0},
    {"H200-limit-4096", H200_MEMORY, H200_MEMORY / 4, 4096},
};
#define DEVICE_COUNT (int)(sizeof devices / sizeof *devices)

/* The real device's description, put back after each test. */
static hs_device_info real_device;
static size_t real_limit;

static void save_device(void)
{
    test_setup();
    real_device = test_ctx->dev;
    real_limit = test_ctx->mem_limit;
}

static void restore_device(void)
{
    test_ctx->dev = real_device;
    test_ctx->mem_limit = real_limit;
}

static void fake(const fake_device *d)
{
    test_ctx->dev.global_mem = d->global_mem;
    test_ctx->dev.max_alloc = d->max_alloc;
    test_ctx->mem_limit = d->limit_mb << 20;
}

static hs_net load(const char *relative)
{
    const char *root = getenv("HIRESTYLE_SOURCE_ROOT");
    char path[PATH_SIZE];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", relative);
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, path, &net));
    HS_CHECK(hs_net_for_inference(&net)); /* as an upscale runs it */
    return net;
}

/* The memory a planner may fill beside what is in use: the device's, or the limit's. */
static size_t left_beside_in_use(const fake_device *d)
{
    size_t in_use = hs_memory_in_use(test_ctx);
    size_t cap = d->limit_mb ? d->limit_mb << 20 : (size_t)d->global_mem;
    return cap > in_use ? cap - in_use : 0;
}

/* Which limit a tile (or block) would pass: the one that stops the planner there. */
static const char *passed_limit(const fake_device *d, size_t total, size_t largest, size_t budget)
{
    if (largest > INT_FLOATS_BYTES) return "2^31 floats";
    if (largest > d->max_alloc) return "max alloc";
    if (total > budget) return d->limit_mb ? "memory limit" : "budget";
    return NULL;
}

/* ---- Upscale tiles ----------------------------------------------------------------- */

static const char *upscale_nets[] = {
    "weights/esrgan-thick-x4.safetensors",
    "weights/ncnn/models-realesrgan/realesrgan-x4plus.param",
    "weights/ncnn/models-se/up4x-conservative.param",
};
static const int upscale_sizes[][2] = {{4000, 3000}, {1920, 1080}};

static void check_tile(const fake_device *d, const hs_net *net, const char *name, int width,
                       int height)
{
    int tile, whole = width > height ? width : height;
    size_t total, largest, budget = hs_upscale_tile_budget(test_ctx);
    hs_status st = hs_upscale_pick_tile(net, width, height, &tile);
    if (st == HS_ERR_TOO_LARGE) { /* honest only when the smallest tile cannot run */
        HS_CHECK(hs_upscale_tile_memory(net, HS_UPSCALE_MIN_TILE, width, height, &total,
                                        &largest));
        ck_assert_msg(passed_limit(d, total, largest, left_beside_in_use(d)) != NULL,
                      "%s on %s refused, yet its smallest tile fits", name, d->name);
        printf("planner: upscale %-16s %-30s %5dx%-5d refused: %.2f GiB even in tiles of %d px\n",
               d->name, name, width, height, total / GIB, HS_UPSCALE_MIN_TILE);
        return;
    }
    HS_CHECK(st);
    HS_CHECK(hs_upscale_tile_memory(net, tile, width, height, &total, &largest));
    ck_assert_msg(largest <= INT_FLOATS_BYTES, "%s on %s: a tensor of %.2f G floats",
                  name, d->name, largest / 4e9);
    ck_assert_msg(largest <= d->max_alloc, "%s on %s: a buffer of %.2f GiB, max alloc %.2f GiB",
                  name, d->name, largest / GIB, d->max_alloc / GIB);
    ck_assert_msg(total <= d->global_mem / 2, "%s on %s: %.2f GiB, over half the device", name,
                  d->name, total / GIB);
    ck_assert_msg(total <= left_beside_in_use(d), "%s on %s: %.2f GiB, over the limit", name,
                  d->name, total / GIB);
    /* the largest that fits: one pixel more passes a limit */
    const char *binds = "whole image";
    if (tile < whole) {
        size_t more_total, more_largest;
        HS_CHECK(hs_upscale_tile_memory(net, tile + 1, width, height, &more_total, &more_largest));
        binds = passed_limit(d, more_total, more_largest, budget);
        ck_assert_msg(binds != NULL, "%s on %s: tile %d, yet %d fits", name, d->name, tile,
                      tile + 1);
    }
    printf("planner: upscale %-16s %-30s %5dx%-5d tile %5d  %6.2f GiB, largest tensor %4.0f M "
           "floats (%s)\n", d->name, name, width, height, tile, total / GIB, largest / 4e6, binds);
}

START_TEST(upscale_tiles_fit_faked_devices)
{
    int binds_int = 0;
    for (size_t n = 0; n < sizeof upscale_nets / sizeof *upscale_nets; n++) {
        hs_net net = load(upscale_nets[n]);
        const char *name = strrchr(upscale_nets[n], '/') + 1;
        for (int i = 0; i < DEVICE_COUNT; i++) {
            fake(&devices[i]);
            for (size_t k = 0; k < sizeof upscale_sizes / sizeof *upscale_sizes; k++)
                check_tile(&devices[i], &net, name, upscale_sizes[k][0], upscale_sizes[k][1]);
        }
        /* the H200 case the int cap exists for: the whole 4000x3000 image
         * fits its memory and largest allocation, not int indices */
        fake(&devices[0]);
        size_t total, largest;
        HS_CHECK(hs_upscale_tile_memory(&net, 4000, 4000, 3000, &total, &largest));
        if (largest > INT_FLOATS_BYTES && largest <= devices[0].max_alloc) binds_int++;
        restore_device();
        hs_net_free(&net);
    }
    ck_assert_msg(binds_int > 0, "no net needs the 2^31 cap on the H200: the check cannot fail");
}
END_TEST

/* ---- Style blocks ------------------------------------------------------------------- */

static const int style_sizes[][2] = {{4096, 3072}, {8192, 6144}};

static void check_blocks(const fake_device *d, const hs_net *net, const hs_style_params *p,
                         int w, int h)
{
    /* the budget the style job gives its planner (style_job.c) */
    size_t budget = (hs_memory_available(test_ctx) - hs_memory_in_use(test_ctx)) / 10 * 9;
    int block = -1, halo, stride;
    HS_CHECK(hs_style_halo(net, p, &halo, &stride));
    hs_status st = hs_style_pick_block(net, p, h, w, budget, &block);
    if (st == HS_ERR_TOO_LARGE) { /* honest only when the smallest block does not fit */
        size_t largest, need = hs_style_memory(net, p, h, w, stride, &largest);
        ck_assert_msg(passed_limit(d, need, largest, budget) != NULL,
                      "%dx%d on %s refused, yet blocks of %d px fit", w, h, d->name, stride);
        printf("planner: style   %-16s %-30s %5dx%-5d refused: %.2f GiB even in blocks of %d "
               "px, %.2f GiB usable\n", d->name, net->arch, w, h, need / GIB, stride,
               budget / GIB);
        return;
    }
    HS_CHECK(st);
    size_t largest, need = hs_style_memory(net, p, h, w, block, &largest);
    ck_assert_msg(largest <= INT_FLOATS_BYTES && largest <= d->max_alloc,
                  "%dx%d on %s: blocks of %d px hold a buffer of %.2f GiB", w, h, d->name, block,
                  largest / GIB);
    ck_assert_msg(need <= budget && need <= left_beside_in_use(d),
                  "%dx%d on %s: blocks of %d px need %.2f GiB, %.2f usable", w, h, d->name, block,
                  need / GIB, budget / GIB);
    const char *binds = "whole image";
    if (block > 0) { /* the largest block that fits: one stride more passes a limit */
        size_t more_largest, more = hs_style_memory(net, p, h, w, block + stride, &more_largest);
        binds = passed_limit(d, more, more_largest, budget);
        ck_assert_msg(binds != NULL, "%dx%d on %s: blocks of %d px, yet %d fit", w, h, d->name,
                      block, block + stride);
    }
    printf("planner: style   %-16s %-30s %5dx%-5d %s%-5d %6.2f GiB, largest tensor %4.0f M "
           "floats (%s)\n", d->name, net->arch, w, h, block ? "blocks " : "whole  ", block,
           need / GIB, largest / 4e6, binds);
}

START_TEST(style_blocks_fit_faked_devices)
{
    char path[PATH_SIZE];
    HS_CHECK(hs_find_weights("resnet50.safetensors", path, sizeof path));
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, path, &net));
    /* frozen, as a style job runs it: the plan counts the weights it may
     * keep transformed, at most the cache's limit */
    size_t unfrozen = hs_net_memory(&net, 256, 256, net.count - 1, 1);
    HS_CHECK(hs_net_freeze(&net));
    size_t frozen = hs_net_memory(&net, 256, 256, net.count - 1, 1);
    ck_assert_uint_gt(frozen, unfrozen);
    ck_assert_uint_le(frozen - unfrozen, test_ctx->weight_cache_limit);
    hs_style_params p;
    HS_CHECK(hs_style_defaults(net.arch, &p));
    for (int i = 0; i < DEVICE_COUNT; i++) {
        fake(&devices[i]);
        for (size_t k = 0; k < sizeof style_sizes / sizeof *style_sizes; k++)
            check_blocks(&devices[i], &net, &p, style_sizes[k][0], style_sizes[k][1]);
    }
    restore_device();
    hs_net_free(&net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("planners");
    TCase *tc = tcase_create("planners");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, save_device, restore_device);
    tcase_add_test(tc, upscale_tiles_fit_faked_devices);
    tcase_add_test(tc, style_blocks_fit_faked_devices);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_set_fork_status(r, CK_NOFORK); /* the choices print in order */
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    test_teardown();
    return failed ? 1 : 0;
}
