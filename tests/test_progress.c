/* test_progress.c — progress events on the host alone (progress.h): every
 * phase's terminal line within 79 columns, with ordinary and absurd
 * numbers, and saying what it should; --json's objects parse and carry the
 * fields of their phase, and leave out what the phase does not fill; the
 * sinks all hear an event; the terminal off a tty prints only the style
 * lines of --print-every. */
#include "progress.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hs_progress_event style_event(int step, int steps, int scale, int scales, double loss,
                                     double per, double eta)
{
    hs_progress_event e = hs_progress_event_of(HS_PHASE_STYLE);
    e.step = step;
    e.steps = steps;
    e.scale = scale;
    e.scales = scales;
    e.width = 512;
    e.height = 384;
    e.loss = loss;
    e.content = loss / 4;
    e.style = loss / 2;
    e.tv = loss / 4;
    e.seconds_per_step = per;
    e.elapsed = 10;
    e.eta = eta;
    e.fraction = 0.3;
    return e;
}

static hs_progress_event upscale_event(int done, int total, double mp, double elapsed)
{
    hs_progress_event e = hs_progress_event_of(HS_PHASE_UPSCALE);
    e.step = done;
    e.steps = total;
    e.fraction = (double)done / total;
    e.megapixels = mp;
    e.elapsed = elapsed;
    e.seconds_per_step = elapsed / done;
    e.eta = e.seconds_per_step * (total - done);
    return e;
}

static hs_progress_event batch_event(int i, int n, const char *name, double eta)
{
    hs_progress_event e = hs_progress_event_of(HS_PHASE_BATCH);
    e.step = i;
    e.steps = n;
    e.name = name;
    e.seconds_per_step = 12.34;
    e.elapsed = 100;
    e.eta = eta;
    return e;
}

static hs_progress_event train_event(int step, int steps, double gan)
{
    hs_progress_event e = hs_progress_event_of(HS_PHASE_TRAIN);
    e.step = step;
    e.steps = steps;
    e.loss = 0.0345;
    e.learning_rate = 2e-4;
    e.seconds_per_step = 0.52;
    e.eta = 754;
    if (!isnan(gan)) e.perceptual = e.generator = e.discriminator = gan;
    return e;
}

static hs_progress_event adapt_event(int step, int steps, double loss, double eta)
{
    hs_progress_event e = hs_progress_event_of(HS_PHASE_ADAPT);
    e.step = step;
    e.steps = steps;
    e.loss = loss;
    e.learning_rate = 1e-4;
    e.seconds_per_step = 0.4;
    e.eta = eta;
    e.fraction = (double)step / steps;
    return e;
}

/* The line of e, checked to fit 79 columns and to be printable ASCII. */
static void line_of(const hs_progress_event *e, char *line, size_t size)
{
    int n = hs_progress_line(e, line, size);
    ck_assert_int_eq(n, (int)strlen(line));
    ck_assert_msg(n <= 79, "%d columns: '%s'", n, line);
    for (int i = 0; i < n; i++) ck_assert_msg(line[i] >= ' ' && line[i] < 127, "'%s'", line);
}

START_TEST(lines_say_what_they_should)
{
    char line[256];
    hs_progress_event e = style_event(31, 100, 2, 4, 12345, 0.52, 754);
    line_of(&e, line, sizeof line);
    ck_assert_msg(strstr(line, "[######              ] 2/4  it 31/100  loss 1.23e+04"), "%s", line);
    ck_assert_msg(strstr(line, "0.52 s/it 12:34 left"), "%s", line);

    e = upscale_event(12, 40, 3.2, 4);
    line_of(&e, line, sizeof line);
    ck_assert_msg(strstr(line, "upscaling [######"), "%s", line);
    ck_assert_msg(strstr(line, "tile 12/40  3.20 MP  0.80 MP/s  0:09 left"), "%s", line);

    e = batch_event(3, 10, "out/dog.png", 300);
    line_of(&e, line, sizeof line);
    ck_assert_str_eq(line, "[3/10] wrote dog.png, 12.3 s; 5:00 left"); /* the folder is known */

    e = train_event(120, 3000, NAN);
    line_of(&e, line, sizeof line);
    ck_assert_str_eq(line, "step 120/3000  L1 0.0345  lr 2.0e-04  0.52 s/step  ETA 12:34");

    e = hs_progress_event_of(HS_PHASE_VALIDATE);
    e.step = 500;
    e.psnr = 26.414;
    e.bicubic_psnr = 25.02;
    e.ssim = 0.78123;
    e.bicubic_ssim = 0.742;
    line_of(&e, line, sizeof line);
    ck_assert_str_eq(line, "step 500  val PSNR-Y 26.41 dB (bicubic 25.02)  SSIM-Y 0.7812 (0.7420)");

    e = adapt_event(12, 30, 0.0345, 7.2);
    line_of(&e, line, sizeof line);
    ck_assert_str_eq(line, "adapting the upscaler [####        ] step 12/30  L1 0.0345  0:07 left");
}
END_TEST

/* Huge counts, NaN and infinite measures, long names: still 79 columns. */
START_TEST(lines_fit_80_columns)
{
    char line[256], name[600];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memcpy(name, "dir/", 4);
    memcpy(name + sizeof name - 9, "-end.png", 8);
    const double odd[] = {0, 1e-300, 1e300, NAN, INFINITY, -1};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        hs_progress_event events[] = {
            style_event(1000000, 1000000, 32, 32, odd[i], odd[i], odd[i]),
            upscale_event(2147483647, 2147483647, odd[i], odd[i]),
            batch_event(1000000, 1000000, name, odd[i]),
            train_event(100000000, 100000000, odd[i]),
            adapt_event(100000000, 100000000, odd[i], odd[i]),
        };
        for (size_t k = 0; k < sizeof events / sizeof events[0]; k++)
            line_of(&events[k], line, sizeof line);
    }
    /* a long file name keeps its head and its end */
    hs_progress_event e = batch_event(7, 9, name, 60);
    line_of(&e, line, sizeof line);
    ck_assert_int_eq((int)strlen(line), 79);
    ck_assert_msg(strstr(line, "[7/9] wrote nnn") && strstr(line, "...") &&
                  strstr(line, "-end.png, 12.3 s; 1:00 left"), "%s", line);
    /* a short buffer is cut, never overrun */
    char small[12];
    e = style_event(1, 2, 1, 1, 1, 1, 1);
    hs_progress_line(&e, small, sizeof small);
    ck_assert_int_eq((int)strlen(small), 11);
}
END_TEST

/* A folder run's first line: whole when it fits; else within the columns,
 * the folders' middles cut (more kept of their ends), the shorter one kept
 * whole when it can be. */
START_TEST(folder_lines)
{
    char line[1024];
    const char *in = "/home/someone/pictures/holidays/2024/summer/originals";
    const char *out = "/mnt/storage/someone/pictures/holidays/2024/summer/upscaled";
    int n = hs_progress_folder_line("upscaling", 3, 10, 0, "in", "out", 79, line, sizeof line);
    ck_assert_str_eq(line, "upscaling 3 of the 10 images in in into out");
    ck_assert_int_eq(n, (int)strlen(line));
    hs_progress_folder_line("upscaling", 3, 10, 1, in, out, 0, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, in));
    ck_assert_ptr_nonnull(strstr(line, " (this shard's) into "));
    ck_assert_ptr_nonnull(strstr(line, out));
    n = hs_progress_folder_line("painting", 1000, 25000, 1, in, out, 79, line, sizeof line);
    ck_assert_int_eq(n, 79);
    ck_assert_int_eq((int)strlen(line), 79);
    ck_assert(strncmp(line, "painting 1000 of the 25000 images in /h...", 42) == 0);
    ck_assert_ptr_nonnull(strstr(line, "...inals (this shard's) into /m...scaled"));
    /* a short output folder stays whole, the input's takes the rest */
    n = hs_progress_folder_line("upscaling", 3, 10, 0, in, "big", 60, line, sizeof line);
    ck_assert_str_eq(line, "upscaling 3 of the 10 images in /home...r/originals into big");
    ck_assert_int_eq(n, 60);
    /* no room at all: each folder keeps 9 bytes */
    hs_progress_folder_line("upscaling", 3, 10, 0, in, out, 20, line, sizeof line);
    ck_assert_str_eq(line, "upscaling 3 of the 10 images in /h...nals into /m...aled");
}
END_TEST

START_TEST(durations)
{
    char t[24];
    hs_progress_duration(0, t, sizeof t);
    ck_assert_str_eq(t, "0:00");
    hs_progress_duration(754.4, t, sizeof t);
    ck_assert_str_eq(t, "12:34");
    hs_progress_duration(3900, t, sizeof t);
    ck_assert_str_eq(t, "1:05:00");
    hs_progress_duration(NAN, t, sizeof t);
    ck_assert_str_eq(t, "--:--");
    hs_progress_duration(-1, t, sizeof t);
    ck_assert_str_eq(t, "--:--");
    hs_progress_duration(1e12, t, sizeof t);
    ck_assert_str_eq(t, "--:--");
}
END_TEST

/* The object of e, parsed, with "event" and "phase" checked. */
static cJSON *json_of(const hs_progress_event *e, const char *phase)
{
    char *text = hs_progress_json(e);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(!strchr(text, '\n'), "one line: %s", text);
    cJSON *o = cJSON_Parse(text);
    ck_assert_msg(o != NULL, "not JSON: %s", text);
    free(text);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "event")->valuestring, "progress");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "phase")->valuestring, phase);
    return o;
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsNumber(item), "no number '%s'", key);
    return item->valuedouble;
}

START_TEST(json_events)
{
    hs_progress_event e = style_event(31, 100, 2, 4, 12345, 0.52, 754);
    cJSON *o = json_of(&e, "style");
    ck_assert_int_eq((int)number(o, "step"), 31);
    ck_assert_int_eq((int)number(o, "steps"), 100);
    ck_assert_int_eq((int)number(o, "scale"), 2);
    ck_assert_int_eq((int)number(o, "scales"), 4);
    ck_assert_int_eq((int)number(o, "width"), 512);
    ck_assert_int_eq((int)number(o, "height"), 384);
    ck_assert_double_eq(number(o, "loss"), 12345);
    ck_assert_double_eq(number(o, "style"), 12345 / 2.0);
    ck_assert_double_eq(number(o, "eta"), 754);
    ck_assert_double_eq(number(o, "fraction"), 0.3);
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "megapixels")); /* not style's */
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "psnr"));
    cJSON_Delete(o);

    e = upscale_event(12, 40, 3.2, 4);
    o = json_of(&e, "upscale");
    ck_assert_double_eq(number(o, "megapixels"), 3.2);
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "scale"));
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "loss"));
    cJSON_Delete(o);

    e = batch_event(3, 10, "a \"quoted\"\\name\n.png", NAN); /* unknown eta: left out */
    o = json_of(&e, "batch");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "name")->valuestring, "a \"quoted\"\\name\n.png");
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "eta"));
    cJSON_Delete(o);

    e = train_event(120, 3000, 0.5);
    e.loss = INFINITY; /* not a number JSON has: left out */
    o = json_of(&e, "train");
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "loss"));
    ck_assert_double_eq(number(o, "generator"), 0.5);
    ck_assert_double_eq(number(o, "learning_rate"), 2e-4);
    cJSON_Delete(o);
    /* a float's value, 0.000199999994947575, comes out as written */
    e.learning_rate = 2e-4f;
    char *text = hs_progress_json(&e);
    ck_assert_msg(strstr(text, "\"learning_rate\":0.0002,"), "%s", text);
    free(text);

    e = adapt_event(12, 30, 0.0345, 7.2);
    o = json_of(&e, "adapt");
    ck_assert_int_eq((int)number(o, "step"), 12);
    ck_assert_int_eq((int)number(o, "steps"), 30);
    ck_assert_double_eq(number(o, "loss"), 0.0345);
    ck_assert_double_eq(number(o, "eta"), 7.2);
    ck_assert_double_eq(number(o, "fraction"), 0.4);
    ck_assert_ptr_null(cJSON_GetObjectItem(o, "psnr"));
    cJSON_Delete(o);
}
END_TEST

typedef struct heard { int events, images, wants; } heard;
static void hear_event(void *user, const hs_progress_event *e)
{
    (void)e;
    ((heard *)user)->events++;
}
static int hear_wants(void *user) { return ((heard *)user)->wants; }
static void hear_image(void *user, const hs_image *rgb)
{
    (void)rgb;
    ((heard *)user)->images++;
}

START_TEST(every_sink_hears)
{
    heard a = {0}, b = {0};
    hs_progress p = {0};
    ck_assert_int_eq(hs_progress_add(&p, (hs_progress_sink){hear_event, NULL, NULL, &a}), HS_OK);
    ck_assert_int_eq(hs_progress_add(&p, (hs_progress_sink){hear_event, hear_wants, hear_image,
                                                             &b}), HS_OK);
    hs_progress_event e = style_event(1, 2, 1, 1, 1, 1, 1);
    hs_progress_emit(&p, &e);
    hs_progress_emit(NULL, &e); /* no one listens: nothing happens */
    ck_assert_int_eq(a.events, 1);
    ck_assert_int_eq(b.events, 1);
    ck_assert_int_eq(hs_progress_wants_image(&p), 0);
    ck_assert_int_eq(hs_progress_wants_image(NULL), 0);
    b.wants = 1;
    ck_assert_int_eq(hs_progress_wants_image(&p), 1);
    hs_image img = {0};
    hs_progress_image(&p, &img);
    ck_assert_int_eq(b.images, 1);
    while (p.count < HS_PROGRESS_MAX_SINKS) hs_progress_add(&p, (hs_progress_sink){0});
    ck_assert_int_eq(hs_progress_add(&p, (hs_progress_sink){0}), HS_ERR_INTERNAL);
}
END_TEST

/* Off a terminal: the style lines every print_every iterations and at the
 * end of a scale, nothing for upscaling, training or batches. */
START_TEST(terminal_off_a_tty)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    hs_terminal t = {out, 0, 50, 0};
    for (int it = 1; it <= 120; it++) {
        hs_progress_event e = style_event(it, 120, 1, 2, 1.5, 0.25, 10);
        hs_terminal_event(&t, &e);
    }
    hs_progress_event u = upscale_event(1, 4, 1, 1), tr = train_event(1, 2, NAN);
    hs_terminal_event(&t, &u);
    hs_terminal_event(&t, &tr);
    hs_terminal_break(&t);
    fclose(out);
    int lines = 0;
    for (char *c = text; *c; c++) lines += *c == '\n';
    ck_assert_int_eq(lines, 3); /* 50, 100 and 120 */
    ck_assert_msg(strstr(text, "scale 1/2 (512x384) iteration 120/120: loss 1.5 (content 0.375, "
                               "style 0.75, tv 0.375), 0.25 s/it, 10 s left\n"), "%s", text);
    ck_assert_ptr_null(strchr(text, '\r'));
    free(text);
}
END_TEST

/* On a terminal: \r redraws, a scale's last line stays open until the last
 * scale, which ends it. */
START_TEST(terminal_on_a_tty)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    hs_terminal t = {out, 1, 50, 0};
    for (int scale = 1; scale <= 2; scale++)
        for (int it = 1; it <= 3; it++) {
            hs_progress_event e = style_event(it, 3, scale, 2, 1.5, 0.25, 10);
            hs_terminal_event(&t, &e);
        }
    ck_assert_int_eq(t.open, 0);
    hs_progress_event u = upscale_event(1, 4, 1, 1);
    hs_terminal_event(&t, &u);
    ck_assert_int_eq(t.open, 1);
    hs_terminal_break(&t);
    fclose(out);
    int returns = 0, newlines = 0;
    for (char *c = text; *c; c++) {
        returns += *c == '\r';
        newlines += *c == '\n';
    }
    ck_assert_int_eq(returns, 7);
    ck_assert_int_eq(newlines, 2);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("progress");
    tcase_add_test(tc, lines_say_what_they_should);
    tcase_add_test(tc, lines_fit_80_columns);
    tcase_add_test(tc, folder_lines);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, json_events);
    tcase_add_test(tc, every_sink_hears);
    tcase_add_test(tc, terminal_off_a_tty);
    tcase_add_test(tc, terminal_on_a_tty);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
