/* cli_options.c — reading a command line with getopt_long from the
 * command's option tables (cli.h): --name value, --name=value, -x value,
 * -xvalue and clustered flags. The single-dash names of neural-style
 * (-content_image) are rewritten into their long options first. An option
 * given twice is refused unless it is a list (several --style): the second
 * would silently replace the first. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTIONS 128
#define SPELLING_SIZE 64

/* One option of one table, with how it was first written (for repeats). */
typedef struct entry {
    const cli_table *table;
    const cli_option *option;
    char seen[SPELLING_SIZE]; /* "" until given */
} entry;

typedef struct parser {
    const char *command;
    entry entries[MAX_OPTIONS];
    int count;
    struct option longs[MAX_OPTIONS + 1]; /* val = 256 + the entry's index */
    char shorts[3 * MAX_OPTIONS + 4];
    char **args;     /* argv with the aliases rewritten: what getopt reads */
    char **original; /* argv as typed, for messages */
} parser;

/* The name getopt knows an option by: its long name, else its alias. */
static const char *long_name(const cli_option *o) { return o->name ? o->name : o->alias; }

static int build(parser *p, const cli_table *tables, int table_count)
{
    size_t s = 0;
    int n = 0;
    p->shorts[s++] = '-'; /* operands come back in order, as code 1 */
    p->shorts[s++] = ':'; /* a missing value comes back as ':' */
    for (int t = 0; t < table_count; t++)
        for (int k = 0; k < tables[t].count; k++) {
            const cli_option *o = &tables[t].options[k];
            if (p->count == MAX_OPTIONS) return -1;
            p->entries[p->count] = (entry){&tables[t], o, ""};
            int index = p->count++;
            if (o->kind == CLI_OPERAND) continue;
            int has_arg = o->kind == CLI_FLAG             ? no_argument
                          : o->kind == CLI_OPTIONAL_COUNT ? optional_argument
                                                          : required_argument;
            p->longs[n++] = (struct option){long_name(o), has_arg, NULL, 256 + index};
            if (o->letter) {
                p->shorts[s++] = (char)o->letter;
                if (has_arg == required_argument) p->shorts[s++] = ':';
            }
        }
    p->longs[n] = (struct option){0};
    p->shorts[s] = '\0';
    return 0;
}

static void free_args(char **args, char **argv, int argc)
{
    for (int i = 0; i < argc; i++)
        if (args[i] != argv[i]) free(args[i]);
    free(args);
}

/* argv with every single-dash alias (-content_image) written as its long
 * option (--content); NULL when out of memory. */
static char **rewrite_aliases(const parser *p, int argc, char **argv)
{
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) return NULL;
    for (int i = 0; i < argc; i++) args[i] = argv[i];
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (argv[i][0] != '-' || argv[i][1] == '-') continue;
        for (int k = 0; k < p->count; k++) {
            const cli_option *o = p->entries[k].option;
            if (!o->alias || strcmp(argv[i] + 1, o->alias) != 0) continue;
            if (!(args[i] = malloc(strlen(long_name(o)) + 3))) {
                free_args(args, argv, argc);
                return NULL;
            }
            sprintf(args[i], "--%s", long_name(o));
            break;
        }
    }
    return args;
}

/* How the option just read was written: "-x", or its word up to any '='. */
static void spelling_of(const parser *p, const cli_option *o, int short_form, char *out)
{
    if (short_form) {
        snprintf(out, SPELLING_SIZE, "-%c", o->letter);
        return;
    }
    int at = optind - 1; /* a separate value is the last word read, the option before it */
    if (optarg && optarg == p->args[at]) at--;
    const char *word = p->original[at];
    const char *equals = word[0] == '-' ? strchr(word, '=') : NULL;
    snprintf(out, SPELLING_SIZE, "%.*s", equals ? (int)(equals - word) : (int)strlen(word), word);
}

/* 0, or -1 after saying why a second of this option is refused. */
static int check_repeat(parser *p, entry *e, const char *spelling)
{
    const cli_option *o = e->option;
    if (o->kind == CLI_LIST) return 0;
    for (int i = 0; i < p->count; i++) {
        const entry *other = &p->entries[i];
        if (other->table != e->table || other->option->id != o->id || !other->seen[0]) continue;
        if (o->kind == CLI_FLAG && other == e) return 0; /* -v -v changes nothing */
        if (o->kind == CLI_OPERAND)
            fprintf(stderr, "hirestyle %s: unexpected argument '%s' (see --help)\n", p->command,
                    spelling);
        else if (strcmp(other->seen, spelling) == 0)
            fprintf(stderr, "hirestyle %s: %s is given twice: give it once\n", p->command,
                    spelling);
        else
            fprintf(stderr, "hirestyle %s: %s and %s set the same thing: give one of them\n",
                    p->command, other->seen, spelling);
        return -1;
    }
    snprintf(e->seen, SPELLING_SIZE, "%s", spelling);
    return 0;
}

/* The entry getopt returned `code` for, or NULL. */
static entry *entry_for(parser *p, int code)
{
    if (code >= 256) return &p->entries[code - 256];
    for (int i = 0; i < p->count; i++) {
        const cli_option *o = p->entries[i].option;
        if (code == 1 ? o->kind == CLI_OPERAND : o->letter == code) return &p->entries[i];
    }
    return NULL;
}

/* Report a word getopt could not read (`code` '?' or ':'); `word` is it. */
static void report_bad(const parser *p, int code, const char *word)
{
    if (code == ':')
        fprintf(stderr, "hirestyle %s: %s needs a value\n", p->command, word);
    else if (optopt >= 256) /* a long flag given a value: --help=3 */
        fprintf(stderr, "hirestyle %s: %.*s takes no value\n", p->command,
                (int)strcspn(word, "="), word);
    else if (optopt && word[1] != '-' && strlen(word) > 2) /* a letter in a cluster */
        fprintf(stderr, "hirestyle %s: unknown option '-%c' in '%s' (see --help)\n", p->command,
                optopt, word);
    else if (optopt)
        fprintf(stderr, "hirestyle %s: unknown option '-%c' (see --help)\n", p->command, optopt);
    else
        fprintf(stderr, "hirestyle %s: unknown option '%s' (see --help)\n", p->command, word);
}

/* An optional count written as a separate word: --adapt-upscaler 30. */
static const char *separate_count(const parser *p, int argc)
{
    if (optind >= argc) return NULL;
    const char *next = p->args[optind];
    if (next[0] < '0' || next[0] > '9') return NULL;
    optind++;
    return next;
}

static int read_options(parser *p, int argc)
{
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    for (;;) {
        int before = optind ? optind : 1;
        int code = getopt_long(argc, p->args, p->shorts, p->longs, NULL);
        if (code == -1) return 0;
        if (code == '?' || code == ':') {
            /* a word getopt finished is behind optind; a cluster it is in, at it */
            report_bad(p, code, p->original[optind > before ? optind - 1 : optind]);
            return HS_ERR_USAGE;
        }
        entry *e = entry_for(p, code);
        if (!e) {
            fprintf(stderr, "hirestyle %s: unexpected argument '%s' (see --help)\n", p->command,
                    optarg);
            return HS_ERR_USAGE;
        }
        const cli_option *o = e->option;
        char spelling[SPELLING_SIZE];
        const char *value = optarg;
        if (o->kind == CLI_OPERAND) snprintf(spelling, sizeof spelling, "%s", optarg);
        else spelling_of(p, o, code < 256, spelling);
        if (o->kind == CLI_OPTIONAL_COUNT && !value) value = separate_count(p, argc);
        if (o->id == CLI_HELP) return CLI_HELP;
        if (check_repeat(p, e, spelling)) return HS_ERR_USAGE;
        if (e->table->set(e->table->state, o, spelling, value)) return HS_ERR_USAGE;
    }
}

int cli_parse(const char *command, int argc, char **argv, const cli_table *tables,
              int table_count)
{
    parser p = {.command = command, .original = argv};
    if (build(&p, tables, table_count)) {
        fprintf(stderr, "hirestyle %s: more than %d options\n", command, MAX_OPTIONS);
        return HS_ERR_INTERNAL;
    }
    if (!(p.args = rewrite_aliases(&p, argc, argv))) {
        fprintf(stderr, "hirestyle %s: out of memory\n", command);
        return HS_ERR_INTERNAL;
    }
    int rc = read_options(&p, argc);
    free_args(p.args, argv, argc);
    return rc;
}
