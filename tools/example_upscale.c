/* example_upscale.c — a program that uses libhirestyle through its public
 * API only (<hirestyle.h>): enlarge one image on the best OpenCL device.
 *
 *   cc example_upscale.c $(pkg-config --cflags --libs hirestyle) -o example_upscale
 *   ./example_upscale photo.jpg big.png [MODEL]
 *
 * MODEL is a weights file or a name in the weights folders
 * (default: esrgan-thick-x4). The exit code is the hs_status. */
#include <hirestyle.h>

#include <stdio.h>

static int show_tile(void *user, int done, int total, int tile)
{
    (void)user;
    fprintf(stderr, "tile %d of %d (%d px)\n", done, total, tile);
    return 0; /* go on */
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s INPUT OUTPUT [MODEL]\n", argv[0]);
        return HS_ERR_USAGE;
    }
    hs_context_options options = {0}; /* the best-ranked device */
    hs_context *ctx;
    hs_status st = hs_context_create(&options, &ctx);
    if (st != HS_OK) {
        fprintf(stderr, "%s\n", hs_last_error());
        return st;
    }
    hs_upscale_request request = {
        .input = argv[1], .output = argv[2], .model = argc > 3 ? argv[3] : NULL,
        .progress = show_tile,
    };
    st = hs_job_upscale(ctx, &request);
    if (st != HS_OK) fprintf(stderr, "%s\n", hs_last_error());
    else printf("wrote %s on %s\n", argv[2], hs_context_device(ctx)->name);
    hs_context_destroy(ctx);
    return st;
}
