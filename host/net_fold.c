/* net_fold.c — an inference rewrite (net.h): a conv on a nearest-upsampled
 * map, Conv(Upsample_r(x)), as one conv on x with r² times the output
 * channels followed by a pixel shuffle ×r. The same sums (only their order
 * changes), without the upsampled map, with r² times fewer im2col columns,
 * and a 3×3 conv on x is eligible for Winograd.
 *
 * Along one axis, for a conv of odd side k and same padding p = (k - 1) / 2:
 * output row Y = r·y + i (phase i = 0..r-1) takes tap t = 0..k-1 from
 * upsampled row Y + t - p, which is row y + d of x with
 * d = floor((i + t - p) / r); the zero padding outside the upsampled map is
 * the zero padding outside x. d lies in -P..P with P = ceil(p / r), so phase
 * i is a conv on x of side 2P + 1 and padding P whose tap P + d is the sum of
 * the taps t that land on d (a zero tap where none does): k = 3 stays 3×3
 * for every r. Output channel c of phase (i, j) becomes channel
 * c·r² + i·r + j, the order of torch's pixel shuffle.
 */
#include "net.h"
#include "engine.h"

#include <stdlib.h>

/* The tap of the folded conv (side 2P + 1) that HR tap t of phase i lands on:
 * P + floor((i + t - p) / r), with a numerator kept non-negative (r·P >= p). */
static int folded_tap(int i, int t, int p, int r, int P)
{
    return (i + t - p + r * P) / r;
}

static int folded_pad(int pad, int r) { return (pad + r - 1) / r; }

/* Whether conv reads a nearest ×r upsample through a kernel the fold takes:
 * stride 1, odd sides, same padding. */
static int foldable_conv(const hs_layer *conv)
{
    return conv->kind == HS_LAYER_CONV && conv->conv.stride == 1 && conv->kernel_h % 2 == 1 &&
           conv->kernel_w % 2 == 1 && conv->conv.pad_h == conv->kernel_h / 2 &&
           conv->conv.pad_w == conv->kernel_w / 2;
}

/* folded (OC·r², IC, KH, KW) and its bias from conv's (OC, IC, kh, kw):
 * read from the device, summed on the host, uploaded. */
static hs_status fold_weights(hs_context *ctx, const hs_layer *conv, int r, int KH, int KW,
                              hs_tensor *weight, hs_tensor *bias)
{
    const hs_tensor *w = &conv->weight;
    int OC = w->n, IC = w->c, kh = w->h, kw = w->w, PH = KH / 2, PW = KW / 2;
    size_t folded_count = (size_t)OC * r * r * IC * KH * KW;
    float *taps = malloc(hs_tensor_count(w) * sizeof *taps);
    float *folded = calloc(folded_count, sizeof *folded);
    float *b = malloc((size_t)OC * sizeof *b), *b_folded = malloc((size_t)OC * r * r * sizeof *b);
    hs_status st = taps && folded && b && b_folded
                       ? HS_OK
                       : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_tensor_read(w, taps);
    for (int oc = 0; st == HS_OK && oc < OC; oc++)
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
                for (int ic = 0; ic < IC; ic++) {
                    float *out = folded + (((size_t)oc * r * r + i * r + j) * IC + ic) * KH * KW;
                    const float *in = taps + ((size_t)oc * IC + ic) * kh * kw;
                    for (int ty = 0; ty < kh; ty++)
                        for (int tx = 0; tx < kw; tx++)
                            out[folded_tap(i, ty, kh / 2, r, PH) * KW +
                                folded_tap(j, tx, kw / 2, r, PW)] += in[ty * kw + tx];
                }
    if (st == HS_OK) st = hs_tensor_alloc(ctx, weight, OC * r * r, IC, KH, KW);
    if (st == HS_OK) st = hs_tensor_write(weight, folded);
    if (st == HS_OK && conv->bias.buf) { /* every phase adds its channel's bias */
        st = hs_tensor_read(&conv->bias, b);
        for (int k = 0; st == HS_OK && k < OC * r * r; k++) b_folded[k] = b[k / (r * r)];
        if (st == HS_OK) st = hs_tensor_alloc(ctx, bias, 1, OC * r * r, 1, 1);
        if (st == HS_OK) st = hs_tensor_write(bias, b_folded);
    }
    if (st != HS_OK) {
        hs_tensor_free(weight);
        hs_tensor_free(bias);
    }
    free(taps);
    free(folded);
    free(b);
    free(b_folded);
    return st;
}

/* Upsample u (read by conv c alone, which is read by activation a alone,
 * or a = -1) becomes the folded conv, c the activation (elementwise, so it
 * may come before the shuffle, where its conv computes it as it stores:
 * net_plan.h) and a the shuffle; without an activation, c is the shuffle. The last of them
 * gives what a (or c) gave, and keeps its readers. */
static hs_status fold(hs_net *net, int u, int c, int a)
{
    const hs_layer *up = &net->layers[u], *conv = &net->layers[c];
    int r = up->factor;
    hs_layer folded = *conv; /* its name, tensor, parameters */
    folded.inputs[0] = up->inputs[0];
    folded.channels = conv->channels * r * r;
    folded.conv.pad_h = folded_pad(conv->conv.pad_h, r);
    folded.conv.pad_w = folded_pad(conv->conv.pad_w, r);
    folded.kernel_h = 2 * folded.conv.pad_h + 1;
    folded.kernel_w = 2 * folded.conv.pad_w + 1;
    folded.weight = folded.bias = (hs_tensor){0};
    HS_TRY(fold_weights(net->ctx, conv, r, folded.kernel_h, folded.kernel_w, &folded.weight,
                        &folded.bias));
    hs_layer shuffle = {.kind = HS_LAYER_PIXEL_SHUFFLE, .input_count = 1,
                        .inputs = {a >= 0 ? c : u}, .channels = conv->channels, .factor = r,
                        .order = HS_SHUFFLE_TORCH, .alpha = 1.0f, .beta = 1.0f};
    snprintf(shuffle.name, sizeof shuffle.name, "%s", up->name);
    snprintf(shuffle.tensor, sizeof shuffle.tensor, "%s", up->name);
    hs_tensor_free(&net->layers[c].weight);
    hs_tensor_free(&net->layers[c].bias);
    net->layers[u] = folded;
    if (a < 0) {
        net->layers[c] = shuffle;
        return HS_OK;
    }
    net->layers[c] = net->layers[a];
    net->layers[c].inputs[0] = u;
    net->layers[c].channels = folded.channels;
    net->layers[a] = shuffle;
    return HS_OK;
}

hs_status hs_net_fold_upsampling(hs_net *net)
{
    int *readers = calloc((size_t)net->count, sizeof *readers);
    int *reader = malloc((size_t)net->count * sizeof *reader); /* the last one */
    hs_status st = readers && reader ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (int i = 1; st == HS_OK && i < net->count; i++)
        for (int k = 0; k < net->layers[i].input_count; k++) {
            readers[net->layers[i].inputs[k]]++;
            reader[net->layers[i].inputs[k]] = i;
        }
    /* a fold keeps every layer's count of readers, so they hold for the next */
    for (int u = 1; st == HS_OK && u < net->count; u++) {
        const hs_layer *up = &net->layers[u];
        if (up->kind != HS_LAYER_UPSAMPLE || up->factor < 2 || readers[u] != 1) continue;
        int c = reader[u];
        if (!foldable_conv(&net->layers[c])) continue;
        int a = readers[c] == 1 ? reader[c] : -1;
        const hs_layer_type *after = a >= 0 ? hs_layer_type_of(&net->layers[a]) : NULL;
        st = fold(net, u, c, after && after->activation ? a : -1);
        if (st != HS_OK) st = hs_fail_context(st, "%s: folding '%s' into '%s'", net->arch,
                                              up->name, net->layers[c].name);
    }
    free(readers);
    free(reader);
    return st;
}
