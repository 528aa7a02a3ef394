/* cli_web.h — `--web`: a page on which to watch a run (style, run, upscale,
 * train-sr), served by libmicrohttpd from its own thread.
 *
 *   /             the page (cli_web_page.html, embedded in the binary): the
 *                 current picture, the loss curves, scale, speed and time left
 *   /status       JSON: {"event": the latest progress event (progress.h's
 *                 fields), "image": the picture's serial (0: none yet),
 *                 "caption": what it shows and when it was taken ("scale 2
 *                 of 3, iteration 31", "the validation sample at step 500",
 *                 "the input"),
 *                 "series": {"x": [...], "loss": [...], "content": [...], ...}}
 *   /image.png    the latest picture, as PNG
 *
 * The server is a progress sink (progress.h). It never makes the work wait:
 * an event updates the state under a mutex (a few copies); the picture is
 * wanted only while someone watches (a /status request in the last few
 * seconds) and at most every CLI_WEB_PICTURE_SECONDS, or less often when
 * a picture's cost (its download by the work, its encoding by the server)
 * would exceed 5 % of the time between pictures; it is copied under the
 * mutex, and encoded as PNG (at most 1024 px a side) in the server's thread
 * when a page asks for it. */
#ifndef HS_CLI_WEB_H
#define HS_CLI_WEB_H

#include "progress.h"

#define CLI_WEB_DEFAULT_PORT 8080
#define CLI_WEB_PICTURE_SECONDS 2.0

typedef struct cli_web cli_web;

/* Listen on host:port (port 0: any free one) and serve from a thread.
 * HS_ERR_USAGE, saying why, when the address cannot be had (the port is
 * taken, the host is no address of this machine). */
hs_status cli_web_start(const char *host, int port, cli_web **out);
/* "http://127.0.0.1:8080/", with the port actually bound. */
const char *cli_web_url(const cli_web *w);
hs_progress_sink cli_web_sink(cli_web *w);
/* Stop serving and free; w may be NULL. */
void cli_web_stop(cli_web *w);

#endif
