/* ncnn_param.c — the .param text of an ncnn model into an hs_ncnn_graph
 * (format in ncnn.h; ncnn's own reader is src/net.cpp + src/paramdict.cpp).
 *
 * The text is read line by line: the magic, the counts, then one layer per
 * line, split at spaces and tabs. Blob names go into a hash table so wiring
 * a graph stays linear in its size whatever the file holds. Every count is
 * bounded before anything is allocated from it.
 */
#include "ncnn.h"
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Blob names: an open-addressing hash table ------------------------------- */

typedef struct blob_table {
    int *slots;     /* blob index + 1; 0 = empty */
    size_t mask;
} blob_table;

static size_t name_hash(const char *name) { return (size_t)hs_hash(HS_HASH_SEED, name, strlen(name)); }

/* The slot holding `name`, or the empty slot where it would go. */
static size_t blob_slot(const blob_table *t, char *const *names, const char *name)
{
    size_t s = name_hash(name) & t->mask;
    while (t->slots[s] && strcmp(names[t->slots[s] - 1], name) != 0) s = (s + 1) & t->mask;
    return s;
}

/* ---- Parser state -------------------------------------------------------------- */

typedef struct parser {
    const char *path;
    const char *next, *end;   /* the rest of the text */
    int line;                 /* of the current line */
    char *tokens[2 * HS_NCNN_MAX_LAYER_BLOBS + HS_NCNN_MAX_PARAMS + 8];
    int token_count;
    char buffer[1 << 16];     /* the current line, NUL-separated tokens */
    hs_ncnn_graph *g;
    blob_table blobs;
    int blob_capacity;        /* the header's blob count */
} parser;

/* HS_ERR_WEIGHTS with "FILE:LINE: " before the message. */
static hs_status bad(const parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static hs_status bad(const parser *p, const char *fmt, ...)
{
    char what[768];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return hs_fail(HS_ERR_WEIGHTS, "%s:%d: %s", p->path, p->line, what);
}

/* Split the next non-empty line into tokens; 0 at the end of the text. */
static hs_status next_line(parser *p, int *got)
{
    *got = 0;
    while (p->next < p->end) {
        const char *start = p->next, *stop = memchr(start, '\n', (size_t)(p->end - start));
        if (!stop) stop = p->end;
        p->next = stop < p->end ? stop + 1 : p->end;
        p->line++;
        size_t length = (size_t)(stop - start);
        if (length >= sizeof p->buffer)
            return bad(p, "line longer than %zu bytes", sizeof p->buffer - 1);
        memcpy(p->buffer, start, length);
        p->buffer[length] = '\0';
        p->token_count = 0;
        for (char *s = p->buffer; *s;) {
            while (*s == ' ' || *s == '\t' || *s == '\r') *s++ = '\0';
            if (!*s) break;
            if (p->token_count == (int)(sizeof p->tokens / sizeof *p->tokens))
                return bad(p, "too many fields on one line");
            p->tokens[p->token_count++] = s;
            while (*s && *s != ' ' && *s != '\t' && *s != '\r') s++;
        }
        if (p->token_count) {
            *got = 1;
            return HS_OK;
        }
    }
    return HS_OK;
}

/* A whole token as an int within lo..hi. */
static hs_status parse_int(const parser *p, const char *text, const char *what, long lo, long hi,
                           int *out)
{
    char *stop;
    errno = 0;
    long v = strtol(text, &stop, 10);
    if (stop == text || *stop || errno || v < lo || v > hi) {
        return bad(p, "%s '%s' is not a whole number in %ld..%ld", what, text, lo, hi);
    }
    *out = (int)v;
    return HS_OK;
}

/* ---- Values -------------------------------------------------------------------------- */

static int looks_float(const char *text)
{
    return strpbrk(text, ".eE") != NULL;
}

/* One scalar ("3", "0.5", "1e-3") into both forms; the whole text must be the number. */
static hs_status parse_scalar(const parser *p, const char *text, int *i, float *f)
{
    char *stop;
    errno = 0;
    if (looks_float(text)) {
        float v = strtof(text, &stop);
        if (stop == text || *stop || !isfinite(v))
            return bad(p, "value '%s' is not a finite number", text);
        *f = v;
        *i = v >= (float)INT_MIN && v < (float)INT_MAX ? (int)v : 0;
    } else {
        long v = strtol(text, &stop, 10);
        if (stop == text || *stop || errno || v < INT_MIN || v > INT_MAX)
            return bad(p, "value '%s' is not an int or a float", text);
        *i = (int)v;
        *f = (float)v;
    }
    return HS_OK;
}

/* "N,V1,...,VN" */
static hs_status parse_array(const parser *p, char *text, hs_ncnn_value *v)
{
    char *comma = strchr(text, ',');
    if (comma) *comma = '\0';
    int count;
    HS_TRY(parse_int(p, text, "array length", 0, HS_NCNN_MAX_ARRAY, &count));
    v->kind = HS_NCNN_ARRAY;
    v->count = count;
    v->ints = calloc((size_t)count + 1, sizeof *v->ints);
    v->floats = calloc((size_t)count + 1, sizeof *v->floats);
    if (!v->ints || !v->floats) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    char *rest = comma ? comma + 1 : NULL;
    for (int k = 0; k < count; k++) {
        if (!rest || !*rest) return bad(p, "an array has fewer elements than its length %d", count);
        char *element = rest;
        comma = strchr(rest, ',');
        if (comma) *comma = '\0';
        rest = comma ? comma + 1 : NULL;
        HS_TRY(parse_scalar(p, element, &v->ints[k], &v->floats[k]));
    }
    if (rest) return bad(p, "an array has more elements than its length %d", count);
    return HS_OK;
}

/* "ID=VALUE" or "-233ID=N,..." into the layer's params. */
static hs_status parse_param(const parser *p, char *token, hs_ncnn_layer *l)
{
    char *eq = strchr(token, '=');
    if (!eq) return bad(p, "'%s' is not ID=VALUE", token);
    *eq = '\0';
    int id = 0;
    HS_TRY(parse_int(p, token, "parameter id", -23300 - (HS_NCNN_MAX_PARAMS - 1),
                     HS_NCNN_MAX_PARAMS - 1, &id));
    int is_array = id <= -23300;
    if (is_array) id = -id - 23300;
    if (id < 0) return bad(p, "parameter id '%s' is out of range 0..31", token);
    hs_ncnn_value *v = &l->params[id];
    if (v->kind != HS_NCNN_ABSENT) return bad(p, "parameter %s is given twice", token);
    if (is_array) return parse_array(p, eq + 1, v);
    if (strchr(eq + 1, ','))
        return bad(p, "parameter %s has a list but is not written as an array (-23300-ID)",
                   token);
    v->kind = looks_float(eq + 1) ? HS_NCNN_FLOAT : HS_NCNN_INT;
    return parse_scalar(p, eq + 1, &v->i, &v->f);
}

/* ---- Blobs ---------------------------------------------------------------------------- */

static hs_status check_name(const parser *p, const char *name, const char *what)
{
    if (strlen(name) > HS_NCNN_MAX_NAME)
        return bad(p, "%s name '%.40s...' is longer than 255 characters", what, name);
    return HS_OK;
}

static hs_status find_blob(const parser *p, const hs_ncnn_layer *l, const char *name, int *index)
{
    size_t s = blob_slot(&p->blobs, p->g->blob_names, name);
    if (!p->blobs.slots[s])
        return bad(p, "layer %s reads blob '%s', which no earlier layer produces", l->name, name);
    *index = p->blobs.slots[s] - 1;
    return HS_OK;
}

static hs_status add_blob(parser *p, const hs_ncnn_layer *l, const char *name, int *index)
{
    hs_ncnn_graph *g = p->g;
    HS_TRY(check_name(p, name, "blob"));
    size_t s = blob_slot(&p->blobs, g->blob_names, name);
    if (p->blobs.slots[s])
        return bad(p, "blob '%s' is produced twice (again by layer %s)", name, l->name);
    if (g->blob_count == p->blob_capacity) {
        return bad(p, "more blobs than the %d the header gives (at '%s')", p->blob_capacity,
                   name);
    }
    if (!(g->blob_names[g->blob_count] = strdup(name)))
        return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    p->blobs.slots[s] = ++g->blob_count;
    *index = g->blob_count - 1;
    return HS_OK;
}

/* ---- Layers ------------------------------------------------------------------------- */

static hs_status parse_layer(parser *p, hs_ncnn_layer *l)
{
    if (p->token_count < 4) return bad(p, "a layer needs TYPE NAME BOTTOMS TOPS");
    HS_TRY(check_name(p, p->tokens[0], "type"));
    HS_TRY(check_name(p, p->tokens[1], "layer"));
    l->line = p->line;
    if (!(l->type = strdup(p->tokens[0])) || !(l->name = strdup(p->tokens[1])))
        return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    HS_TRY(parse_int(p, p->tokens[2], "bottom count", 0, HS_NCNN_MAX_LAYER_BLOBS, &l->bottom_count));
    HS_TRY(parse_int(p, p->tokens[3], "top count", 1, HS_NCNN_MAX_LAYER_BLOBS, &l->top_count));
    int blobs = l->bottom_count + l->top_count;
    if (p->token_count < 4 + blobs)
        return bad(p, "layer %s names fewer blobs than its counts say", l->name);
    l->bottoms = malloc((size_t)l->bottom_count * sizeof *l->bottoms + 1);
    l->tops = malloc((size_t)l->top_count * sizeof *l->tops);
    if (!l->bottoms || !l->tops) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    for (int k = 0; k < l->bottom_count; k++)
        HS_TRY(find_blob(p, l, p->tokens[4 + k], &l->bottoms[k]));
    for (int k = 0; k < l->top_count; k++)
        HS_TRY(add_blob(p, l, p->tokens[4 + l->bottom_count + k], &l->tops[k]));
    for (int k = 4 + blobs; k < p->token_count; k++) HS_TRY(parse_param(p, p->tokens[k], l));
    return HS_OK;
}

static hs_status parse_header(parser *p, int *layer_count)
{
    int got, magic = 0;
    HS_TRY(next_line(p, &got));
    if (!got || p->token_count != 1 || parse_int(p, p->tokens[0], "magic", 0, INT_MAX, &magic) ||
        magic != HS_NCNN_MAGIC)
        return hs_fail(HS_ERR_WEIGHTS, "%s: not an ncnn .param file (the first line must be "
                       "the magic number 7767517)", p->path);
    HS_TRY(next_line(p, &got));
    if (!got || p->token_count != 2)
        return bad(p, "the second line must be LAYER_COUNT BLOB_COUNT");
    HS_TRY(parse_int(p, p->tokens[0], "layer count", 1, HS_NCNN_MAX_LAYERS, layer_count));
    return parse_int(p, p->tokens[1], "blob count", 1, HS_NCNN_MAX_BLOBS, &p->blob_capacity);
}

static hs_status parse_graph(parser *p)
{
    hs_ncnn_graph *g = p->g;
    int layer_count = 0, got;
    HS_TRY(parse_header(p, &layer_count));
    size_t slots = 1;
    while (slots < 2 * (size_t)p->blob_capacity) slots *= 2;
    p->blobs.mask = slots - 1;
    p->blobs.slots = calloc(slots, sizeof *p->blobs.slots);
    g->blob_names = calloc((size_t)p->blob_capacity, sizeof *g->blob_names);
    g->layers = calloc((size_t)layer_count, sizeof *g->layers);
    if (!p->blobs.slots || !g->blob_names || !g->layers)
        return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    for (;;) {
        HS_TRY(next_line(p, &got));
        if (!got) break;
        if (g->layer_count == layer_count) {
            return bad(p, "more layers than the %d the header gives", layer_count);
        }
        HS_TRY(parse_layer(p, &g->layers[g->layer_count++]));
    }
    if (g->layer_count != layer_count || g->blob_count != p->blob_capacity)
        return hs_fail(HS_ERR_WEIGHTS, "%s: the header gives %d layers and %d blobs, the file "
                       "has %d and %d (truncated?)", p->path, layer_count, p->blob_capacity,
                       g->layer_count, g->blob_count);
    return HS_OK;
}

hs_status hs_ncnn_parse_text(const char *path, const char *text, size_t size, hs_ncnn_graph *out)
{
    memset(out, 0, sizeof *out);
    const char *nul = memchr(text, '\0', size);
    if (nul)
        return hs_fail(HS_ERR_WEIGHTS, "%s: not a text file (a NUL byte at offset %zu)", path,
                       (size_t)(nul - text));
    parser *p = calloc(1, sizeof *p);
    if (!p) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    *p = (parser){.path = path, .next = text, .end = text + size, .g = out};
    hs_status st = (out->path = strdup(path)) ? parse_graph(p)
                                              : hs_fail(HS_ERR_INTERNAL, "out of host memory");
    free(p->blobs.slots);
    free(p);
    if (st != HS_OK) hs_ncnn_graph_free(out);
    return st;
}

hs_status hs_ncnn_parse(const char *path, hs_ncnn_graph *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return hs_fail(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    char *text = NULL;
    hs_status st = HS_OK;
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) st = hs_fail(HS_ERR_IO, "%s: cannot read", path);
    else if ((unsigned long)size > HS_NCNN_MAX_PARAM_BYTES)
        st = hs_fail(HS_ERR_WEIGHTS, "%s: larger than %zu MB; not an ncnn .param file", path,
                     HS_NCNN_MAX_PARAM_BYTES >> 20);
    else if (!(text = malloc((size_t)size + 1))) st = hs_fail(HS_ERR_INTERNAL, "out of host memory");
    else if (fread(text, 1, (size_t)size, f) != (size_t)size)
        st = hs_fail(HS_ERR_IO, "%s: cannot read", path);
    fclose(f);
    if (st == HS_OK) st = hs_ncnn_parse_text(path, text, (size_t)size, out);
    free(text);
    return st;
}

static void free_value(hs_ncnn_value *v)
{
    free(v->ints);
    free(v->floats);
}

void hs_ncnn_graph_free(hs_ncnn_graph *g)
{
    for (int i = 0; g->layers && i < g->layer_count; i++) { /* the last may be half-parsed */
        hs_ncnn_layer *l = &g->layers[i];
        free(l->type);
        free(l->name);
        free(l->bottoms);
        free(l->tops);
        for (int k = 0; k < HS_NCNN_MAX_PARAMS; k++) free_value(&l->params[k]);
    }
    for (int i = 0; g->blob_names && i < g->blob_count; i++) free(g->blob_names[i]);
    free(g->blob_names);
    free(g->layers);
    free(g->path);
    memset(g, 0, sizeof *g);
}

/* ---- Parameters ------------------------------------------------------------------------- */

int hs_ncnn_int(const hs_ncnn_layer *l, int id, int fallback)
{
    const hs_ncnn_value *v = &l->params[id];
    return v->kind == HS_NCNN_INT || v->kind == HS_NCNN_FLOAT ? v->i : fallback;
}

float hs_ncnn_float(const hs_ncnn_layer *l, int id, float fallback)
{
    const hs_ncnn_value *v = &l->params[id];
    return v->kind == HS_NCNN_INT || v->kind == HS_NCNN_FLOAT ? v->f : fallback;
}

const hs_ncnn_value *hs_ncnn_array(const hs_ncnn_layer *l, int id)
{
    return l->params[id].kind == HS_NCNN_ARRAY ? &l->params[id] : NULL;
}
