/* cli_args.c — parsing option values: numbers and comma-separated lists,
 * each failure printed with the option's name. */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_int(const char *option, const char *text, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "hirestyle: %s takes a whole number from %d to %d, not '%s'\n", option,
                min, max, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_float(const char *option, const char *text, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || isnan(v)) {
        fprintf(stderr, "hirestyle: %s takes a number, not '%s'\n", option, text);
        return -1;
    }
    /* what a float cannot hold would become infinity or 0, not the value asked for */
    if (errno == ERANGE || fabs(v) > FLT_MAX || (v != 0 && (float)v == 0)) {
        fprintf(stderr, "hirestyle: %s %s is out of a float's range (magnitudes from %.2g to "
                "%.2g, or 0)\n", option, text, FLT_TRUE_MIN, FLT_MAX);
        return -1;
    }
    *out = (float)v;
    return 0;
}

/* Split a comma list and parse each item with `one`; the count, or -1. */
typedef int (*parse_item)(const char *option, const char *item, int index, void *context);
static int parse_list(const char *option, const char *text, int capacity, parse_item one,
                      void *context)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", text);
    int n = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (n == capacity) {
            fprintf(stderr, "hirestyle: %s takes at most %d values\n", option, capacity);
            return -1;
        }
        if (one(option, item, n++, context)) return -1;
    }
    if (n == 0) fprintf(stderr, "hirestyle: %s needs at least one value\n", option);
    return n ? n : -1;
}

typedef struct int_list { int min, max, *out; } int_list;

static int parse_int_item(const char *option, const char *item, int index, void *context)
{
    int_list *l = context;
    return cli_parse_int(option, item, l->min, l->max, &l->out[index]);
}

static int parse_float_item(const char *option, const char *item, int index, void *context)
{
    return cli_parse_float(option, item, &((float *)context)[index]);
}

int cli_parse_int_list(const char *option, const char *text, int min, int max, int *out,
                       int capacity)
{
    int_list l = {min, max, out};
    return parse_list(option, text, capacity, parse_int_item, &l);
}

int cli_parse_float_list(const char *option, const char *text, float *out, int capacity)
{
    return parse_list(option, text, capacity, parse_float_item, out);
}
