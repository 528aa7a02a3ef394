/* cli_progress.c — what the commands do with progress events (progress.h)
 * besides the terminal line: --json prints each as a line of JSON on
 * stdout, --web serves them to a page (cli_web.c); the upscaling bar, its
 * events and its picture (the input) from the tile loop's callback. */
#include "cli.h"
#include "cli_web.h"
#include "engine.h"
#include "timer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --json was given: stdout carries JSON lines only (cli_report and main add
 * the "error" and "end" events). */
static int json_on;

enum progress_option { P_JSON = 1, P_WEB, P_WEB_HOST };

static const cli_option progress_options[] = {
    {"json", 0, NULL, CLI_FLAG, P_JSON},
    {"web", 0, NULL, CLI_OPTIONAL_COUNT, P_WEB},
    {"web-host", 0, NULL, CLI_VALUE, P_WEB_HOST},
};

static int set_progress_option(void *state, const cli_option *o, const char *spelling,
                               const char *value)
{
    cli_progress *p = state;
    switch (o->id) {
    case P_JSON: p->json = 1; return 0;
    case P_WEB:
        p->web = 1;
        return value ? cli_parse_int(spelling, value, 0, 65535, &p->web_port) : 0;
    case P_WEB_HOST: p->web_host = value; return 0;
    }
    return -1;
}

cli_table cli_progress_table(cli_progress *p, int web)
{
    *p = (cli_progress){.web_port = CLI_WEB_DEFAULT_PORT, .web_host = "127.0.0.1"};
    cli_table table = CLI_TABLE(progress_options, set_progress_option, p);
    if (!web) table.count = 1; /* --json alone */
    return table;
}

void cli_progress_help(int web)
{
    printf("Progress:\n"
           "      --json                  progress as JSON, one object per line on stdout\n"
           "                              (and nothing else there; errors stay on stderr)\n");
    if (web)
        printf("      --web [PORT]            watch it on a web page at http://HOST:PORT/: the\n"
               "                              picture, loss curves, progress and time left\n"
               "                              (default port: %d; 0: any free one)\n"
               "      --web-host HOST         the address to serve on (default: 127.0.0.1, this\n"
               "                              machine only; 0.0.0.0: every network)\n",
               CLI_WEB_DEFAULT_PORT);
}

/* One JSON line on stdout, flushed for the reader; text is freed (NULL:
 * out of memory, nothing printed). */
static void print_line(char *text)
{
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
    }
    free(text);
}

static void print_json(cJSON *o)
{
    print_line(o ? cJSON_PrintUnformatted(o) : NULL);
    cJSON_Delete(o);
}

static void json_event(void *user, const hs_progress_event *e)
{
    (void)user;
    print_line(hs_progress_json(e));
}

hs_status cli_progress_start(cli_progress *p, cli_common *common)
{
    if (p->json) {
        json_on = 1;
        common->quiet = 1; /* the human lines off stdout, the terminal line off stderr */
        HS_TRY(hs_progress_add(&p->sinks, (hs_progress_sink){json_event, NULL, NULL, NULL}));
    }
    if (!p->web) return HS_OK;
    HS_TRY(cli_web_start(p->web_host, p->web_port, &p->server));
    HS_TRY(hs_progress_add(&p->sinks, cli_web_sink(p->server)));
    if (!common->quiet)
        fprintf(stderr, "hirestyle: watch it at %s\n", cli_web_url(p->server));
    if (p->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", "web");
        cJSON_AddStringToObject(o, "url", cli_web_url(p->server));
        print_json(o);
    }
    return HS_OK;
}

void cli_progress_stop(cli_progress *p)
{
    cli_web_stop(p->server);
    p->server = NULL;
}

void cli_progress_error(hs_status status, const char *message)
{
    if (!json_on) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "error");
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "message", message);
    print_json(o);
}

void cli_progress_end(int code)
{
    if (!json_on) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "end");
    cJSON_AddNumberToObject(o, "status", code);
    print_json(o);
}

/* ---- Upscaling's tiles -------------------------------------------------------------- */

void cli_tiles_begin(cli_tiles *t, const cli_progress *p, int quiet, const hs_image *in,
                     int scale)
{
    *t = (cli_tiles){.events = p ? &p->sinks : NULL, .show = !quiet, .start = hs_seconds(),
                     .input = in, .width = in->width, .height = in->height,
                     .megapixels = (double)in->width * in->height * scale * scale / 1e6};
    hs_terminal_init(&t->terminal, 0);
}

/* The input to the listeners, as RGB8. */
static void give_input(const cli_tiles *t)
{
    hs_image rgb = {0}, rgb8 = {0};
    if (hs_image_convert(t->input, 3, &rgb) == HS_OK &&
        hs_image_convert_bits(&rgb, 8, &rgb8) == HS_OK)
        hs_progress_image(t->events, &rgb8);
    hs_image_free(&rgb);
    hs_image_free(&rgb8);
}

int cli_tiles_progress(void *arg, int done, int total, int tile)
{
    cli_tiles *t = arg;
    t->tiles = total;
    t->tile = tile;
    hs_progress_event e = hs_progress_event_of(HS_PHASE_UPSCALE);
    e.step = done;
    e.steps = total;
    e.width = t->width;
    e.height = t->height;
    e.fraction = (double)done / total;
    e.megapixels = t->megapixels * e.fraction;
    e.elapsed = hs_seconds() - t->start;
    e.seconds_per_step = e.elapsed / done;
    e.eta = e.seconds_per_step * (total - done);
    if (t->show) hs_terminal_event(&t->terminal, &e);
    hs_progress_emit(t->events, &e);
    if (!t->pictured && hs_progress_wants_image(t->events)) {
        give_input(t);
        t->pictured = 1;
    }
    if (cli_interrupted()) hs_terminal_break(&t->terminal);
    return cli_interrupted(); /* Ctrl-C: stop between tiles, write nothing */
}
