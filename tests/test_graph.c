/* test_graph.c — networks as text (net_graph.c, `hirestyle graph`):
 *   - every built-in architecture prints, parses back with its weights file
 *     into a net that prints the same text and computes the same output;
 *   - a hand-written graph (never a C builder) runs, and equals the layers
 *     of the built net it reuses the weights of;
 *   - broken graphs are refused with HS_ERR_WEIGHTS naming file:line.
 */
#include "harness.h"
#include "reference.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The graph text of a net (malloc'ed). */
static char *graph_text(const hs_net *net)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(f);
    HS_CHECK(hs_graph_print(net, f));
    fclose(f);
    return text;
}

/* Forward through layers 1..layer; that layer's output (malloc'ed), its
 * element count in *count. */
static float *output_of(hs_net *net, const float *x, int h, int w, int layer, size_t *count)
{
    hs_tensor input = upload(x, 1, 3, h, w);
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    ck_assert_ptr_nonnull(acts);
    HS_CHECK(hs_net_forward(net, &input, layer, 0, NULL, acts));
    float *out = download(&acts[layer]);
    *count = hs_tensor_count(&acts[layer]);
    hs_net_release(net, acts);
    free(acts);
    hs_tensor_free(&input);
    return out;
}

static hs_status parse_with_weights(const char *name, const char *text, const char *weights_path,
                                    hs_net *net)
{
    hs_weights weights;
    HS_CHECK(hs_weights_load(weights_path, &weights));
    hs_status st = hs_graph_parse(test_ctx, name, text, &weights, net);
    hs_weights_free(&weights);
    return st;
}

/* print -> parse -> print gives the same text, and the two nets the same output. */
static void check_round_trip(const char *file, int h, int w)
{
    test_setup();
    const char *path = weights_file(file);
    hs_net built, parsed;
    HS_CHECK(hs_net_load(test_ctx, path, &built));
    char *text = graph_text(&built);
    HS_CHECK(parse_with_weights(file, text, path, &parsed));
    char *again = graph_text(&parsed);
    ck_assert_msg(strcmp(text, again) == 0, "%s: the parsed graph prints differently", file);

    size_t n = (size_t)3 * h * w, count_a, count_b;
    float *x = host_floats(n);
    fill_random(x, n, 3, 0.0f, 1.0f);
    float *a = output_of(&built, x, h, w, built.count - 1, &count_a);
    float *b = output_of(&parsed, x, h, w, parsed.count - 1, &count_b);
    ck_assert_uint_eq(count_a, count_b);
    ck_assert_msg(memcmp(a, b, count_a * sizeof *a) == 0, "%s: the parsed net computes "
                  "differently", file);
    free(a); free(b); free(x); free(text); free(again);
    hs_net_free(&built);
    hs_net_free(&parsed);
}

START_TEST(test_round_trip_resnet50) { check_round_trip("resnet50.safetensors", 35, 33); }
END_TEST
START_TEST(test_round_trip_rdn) { check_round_trip("esrgan-slim-x3.safetensors", 11, 9); }
END_TEST
START_TEST(test_round_trip_rrdn) { check_round_trip("esrgan-thick-x2.safetensors", 9, 7); }
END_TEST

/* A graph written by hand: part of esrgan-medium's head, with a LeakyReLU
 * and a pixel shuffle of our own, on its weights; the shared layers equal
 * the built net's. */
static const char hand_written[] =
    "hirestyle-graph 1\n"
    "# a net no C builder makes\n"
    "mini 6 input_scale=1 mean=0,0,0 std=1,1,1 order=rgb scale=2 output_range=255\n"
    "Input        image 0 1 image c=3\n"
    "Convolution  first 1 1 image first c=64 k=3 stride=1 pad=1 weights=F_m1\n"
    "Convolution  F_0 1 1 first F_0 c=64 k=3 pad=1\n"
    "LeakyReLU    act 1 1 F_0 act slope=0.25\n"
    "Add          sum 2 1 act first sum alpha=0.5 beta=2\n"
    "PixelShuffle up 1 1 sum up factor=2 order=tf\n";

START_TEST(test_hand_written_graph)
{
    test_setup();
    const char *path = weights_file("esrgan-medium-x2.safetensors");
    hs_net mini, medium;
    HS_CHECK(parse_with_weights("mini.graph", hand_written, path, &mini));
    HS_CHECK(hs_net_load(test_ctx, path, &medium));
    ck_assert_int_eq(mini.count, 6);
    ck_assert_int_eq(mini.layers[5].channels, 16);
    int h = 7, w = 10;
    size_t n = (size_t)3 * h * w, count_a, count_b;
    float *x = host_floats(n);
    fill_random(x, n, 4, 0.0f, 255.0f);
    float *a = output_of(&mini, x, h, w, 2, &count_a);
    float *b = output_of(&medium, x, h, w, hs_net_find(&medium, "F_0"), &count_b);
    ck_assert_uint_eq(count_a, count_b);
    ck_assert_msg(memcmp(a, b, count_a * sizeof *a) == 0, "F_0 differs");
    float *out = output_of(&mini, x, h, w, 5, &count_b);
    ck_assert_uint_eq(count_b, (size_t)16 * 2 * h * 2 * w);
    free(a); free(b); free(out); free(x);
    hs_net_free(&mini);
    hs_net_free(&medium);
}
END_TEST

/* Each broken graph: the line it breaks, a word of the message. */
typedef struct broken_graph { const char *text, *where, *words; } broken_graph;
#define HEAD "hirestyle-graph 1\nmini 2 mean=0,0,0 std=1,1,1 order=rgb\nInput image 0 1 image c=3\n"
static const broken_graph broken[] = {
    {"hirestyle-graph 2\n", "bad.graph", "not a hirestyle graph"},
    {"7767517\n2 2\n", "bad.graph", "not a hirestyle graph"},
    {"hirestyle-graph 1\n", "bad.graph", "ends before its net line"},
    {"hirestyle-graph 1\nmini 2 mean=0,0 std=1,1,1 order=rgb\n", "bad.graph:2", "mean=A,B,C"},
    {HEAD "Softmax d 1 1 image d\n", "bad.graph:4", "unknown layer kind 'Softmax'"},
    {HEAD "ReLU r 1 1 nothing r\n", "bad.graph:4", "reads 'nothing'"},
    {HEAD "ReLU r 2 1 image r\n", "bad.graph:4", "expected 'KIND NAME"},
    {HEAD "LeakyReLU r 1 1 image r slope=steep\n", "bad.graph:4", "slope=steep"},
    {HEAD "ReLU r 1 1 image r oops\n", "bad.graph:4", "not key=value"},
    {HEAD "Convolution F_0 1 1 image F_0 c=64 k=3 pad=1\n", "bad.graph:4", "has shape"},
    {HEAD "Convolution nowhere 1 1 image nowhere c=8 k=3 pad=1\n", "bad.graph:4", "missing"},
    {HEAD "Add a 2 1 image a\n", "bad.graph:4", "expected 'KIND NAME"},
    {HEAD "Input again 0 1 again c=3\n", "bad.graph:4", "only it, must be the Input"},
    {HEAD "ReLU r 1 1 image r\nReLU s 1 1 r s\n", "bad.graph:5", "more layers than the 2"},
    {HEAD, "bad.graph", "1 layers, the net line gives 2"},
    {HEAD "PixelShuffle p 1 1 image p factor=2\n", "bad.graph:4", "not a multiple of 4"},
};

START_TEST(test_broken_graphs_refused)
{
    test_setup();
    const broken_graph *b = &broken[_i];
    const char *path = weights_file("esrgan-medium-x2.safetensors");
    hs_net net;
    hs_status st = parse_with_weights("bad.graph", b->text, path, &net);
    ck_assert_msg(st == HS_ERR_WEIGHTS, "case %d: status %d, message '%s'", _i, (int)st,
                  hs_last_error());
    ck_assert_msg(strstr(hs_last_error(), b->where) && strstr(hs_last_error(), b->words),
                  "case %d: '%s' lacks '%s' or '%s'", _i, hs_last_error(), b->where, b->words);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_round_trip_resnet50);
    tcase_add_test(tc, test_round_trip_rdn);
    tcase_add_test(tc, test_round_trip_rrdn);
    tcase_add_test(tc, test_hand_written_graph);
    tcase_add_loop_test(tc, test_broken_graphs_refused, 0,
                        (int)(sizeof broken / sizeof broken[0]));
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_ctx) hs_context_destroy(test_ctx);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
