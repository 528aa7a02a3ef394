/* cli_pipeline.c — the loop of a folder run (cli_batch_run) as three stages
 * on their own threads, like realesrgan-ncnn-vulkan's -j load:proc:save:
 * load threads decode the next images while the proc threads (one per
 * context: per device, times -j's proc count) work on theirs, and save
 * threads encode and write the results (atomically, so Ctrl-C never leaves
 * half a file). Two bounded queues (queue.c) hand the images along, so a
 * fast stage runs only a few images ahead.
 *
 * Whatever the threads, the report is the one loop's: an outcome is kept
 * per image, and the lines ("[i/n] wrote ...", a failure's message) are
 * printed in name order as soon as every image before is settled. */
#include "cli.h"
#include "queue.h"
#include "timer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_SIZE 4096

typedef enum outcome_kind {
    PENDING, /* not settled (or never taken: interrupted) */
    WRITTEN,
    SKIPPED, /* the output was there */
    FAILED,
    STOPPED, /* interrupted while working on it */
} outcome_kind;

typedef struct outcome {
    outcome_kind kind;
    hs_status status;  /* FAILED, STOPPED */
    char *message;     /* FAILED, STOPPED: the error, malloc'ed */
    double seconds;    /* WRITTEN: from the start of its work to its file */
} outcome;

/* An image between the stages. */
typedef struct item {
    int index;
    int worker; /* whose proc stage did it */
    char input[PATH_SIZE], output[PATH_SIZE];
    hs_image in, out;
    double start;
} item;

typedef struct pipeline {
    const cli_batch_job *job;
    const cli_batch_stages *stages;
    void *state;
    hs_queue to_proc, to_save;
    pthread_mutex_t lock;  /* next_load, outcomes, the report and its counts */
    int next_load;         /* the next index a load thread takes */
    outcome *outcomes;
    int *written;          /* by each worker */
    int reported;          /* outcomes[0..reported) are printed */
    int done, skipped, failed;
    hs_status first_failure;
    double start;
} pipeline;

typedef struct worker {
    pipeline *p;
    int index; /* proc: which context */
} worker;

/* ---- The report, in name order ---------------------------------------------------- */

/* Image i written: its line on stdout (unless quiet) and its event, the
 * time left from the images settled so far. */
static void report_written(const pipeline *p, int i, double seconds)
{
    const cli_batch_job *job = p->job;
    char output[PATH_SIZE];
    cli_batch_output(job->out_dir, job->batch->names[i], job->format, output, sizeof output);
    hs_progress_event e = hs_progress_event_of(HS_PHASE_BATCH);
    e.step = i + 1;
    e.steps = job->batch->count;
    e.name = output;
    e.seconds_per_step = seconds;
    e.elapsed = hs_seconds() - p->start;
    e.eta = e.elapsed / (p->done + p->failed) * (e.steps - e.step);
    e.fraction = (double)e.step / e.steps;
    if (!job->quiet) {
        char line[80];
        hs_progress_line(&e, line, sizeof line);
        printf("%s\n", line);
        fflush(stdout);
    }
    hs_progress_emit(job->events, &e);
}

static void print_outcome(pipeline *p, int i)
{
    outcome *o = &p->outcomes[i];
    if (o->kind == SKIPPED) {
        p->skipped++;
    } else if (o->kind == FAILED) {
        fprintf(stderr, "hirestyle: %s\n", o->message);
        cli_progress_error(o->status, o->message);
        if (!p->failed++) p->first_failure = o->status;
    } else if (o->kind == WRITTEN) {
        p->done++;
        report_written(p, i, o->seconds);
    }
}

/* Settle image i (worker's, or -1 before proc); print every settled line
 * from the first unprinted one. */
static void settle(pipeline *p, int i, int worker, outcome_kind kind, hs_status status,
                   double seconds)
{
    pthread_mutex_lock(&p->lock);
    if (kind == WRITTEN) p->written[worker]++;
    outcome *o = &p->outcomes[i];
    *o = (outcome){kind, status, NULL, seconds};
    if (kind == FAILED || kind == STOPPED) o->message = strdup(hs_last_error());
    if (kind == FAILED && !o->message) o->message = strdup("out of host memory");
    while (p->reported < p->job->batch->count && p->outcomes[p->reported].kind != PENDING &&
           p->outcomes[p->reported].kind != STOPPED)
        print_outcome(p, p->reported++);
    pthread_mutex_unlock(&p->lock);
}

/* ---- The stages ---------------------------------------------------------------- */

static void free_item(item *it)
{
    hs_image_free(&it->in);
    hs_image_free(&it->out);
    free(it);
}

/* Take the next image, skip it when its output is there, else decode it
 * and hand it on; stop taking images at Ctrl-C. */
static void *load_images(void *arg)
{
    pipeline *p = arg;
    const cli_batch_job *job = p->job;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = cli_interrupted() ? -1 : p->next_load++;
        pthread_mutex_unlock(&p->lock);
        if (i < 0 || i >= job->batch->count) return NULL;
        item *it = calloc(1, sizeof *it);
        if (!it) {
            hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", job->batch->names[i]);
            settle(p, i, -1, FAILED, HS_ERR_TOO_LARGE, 0);
            continue;
        }
        it->index = i;
        snprintf(it->input, sizeof it->input, "%s/%s", job->in_dir, job->batch->names[i]);
        cli_batch_output(job->out_dir, job->batch->names[i], job->format, it->output,
                         sizeof it->output);
        hs_status st = HS_OK;
        if (!job->options->overwrite && access(it->output, F_OK) == 0) {
            settle(p, i, -1, SKIPPED, HS_OK, 0);
            free_item(it);
            continue;
        }
        if (p->stages->load) st = p->stages->load(p->state, it->input, &it->in);
        if (st == HS_OK && hs_queue_push(&p->to_proc, it) != 0)
            st = hs_fail(HS_ERR_INTERNAL, "%s: the queue to the devices closed", it->input);
        if (st != HS_OK) {
            settle(p, i, -1, FAILED, st, 0);
            free_item(it);
        }
    }
}

/* Worker w's loop: each image through the stage's work on its context. */
static void *proc_images(void *arg)
{
    worker *w = arg;
    pipeline *p = w->p;
    void *next;
    while (hs_queue_pop(&p->to_proc, &next) == 0) {
        item *it = next;
        it->start = hs_seconds();
        it->worker = w->index;
        hs_status st = cli_interrupted()
                           ? hs_fail(HS_ERR_INTERRUPTED, "interrupted before %s", it->input)
                           : p->stages->proc(p->state, w->index, it->input, it->output,
                                             &it->in, &it->out);
        hs_image_free(&it->in);
        if (st == HS_OK && p->stages->save && hs_queue_push(&p->to_save, it) == 0) continue;
        if (st == HS_OK && p->stages->save)
            st = hs_fail(HS_ERR_INTERNAL, "%s: the queue to the writers closed", it->output);
        if (st == HS_OK) /* the work wrote the output itself */
            settle(p, it->index, it->worker, WRITTEN, HS_OK, hs_seconds() - it->start);
        else
            settle(p, it->index, it->worker, st == HS_ERR_INTERRUPTED ? STOPPED : FAILED, st, 0);
        free_item(it);
    }
    return NULL;
}

/* Write each finished image; one whose work is done is written even after
 * Ctrl-C (the write is atomic and quick beside the work). */
static void *save_images(void *arg)
{
    pipeline *p = arg;
    void *next;
    while (hs_queue_pop(&p->to_save, &next) == 0) {
        item *it = next;
        hs_status st = p->stages->save(p->state, it->output, &it->out);
        settle(p, it->index, it->worker, st == HS_OK ? WRITTEN : FAILED, st,
               hs_seconds() - it->start);
        free_item(it);
    }
    return NULL;
}

/* ---- Threads ------------------------------------------------------------------- */

/* Start count threads of fn, thread k on args + k * arg_size (arg_size 0:
 * all on args); at least one must start, *started says how many did. */
static hs_status start_threads(pthread_t *threads, int count, void *(*fn)(void *), void *args,
                               size_t arg_size, int *started)
{
    *started = 0;
    while (*started < count &&
           pthread_create(&threads[*started], NULL, fn, (char *)args + *started * arg_size) == 0)
        (*started)++;
    return *started > 0 ? HS_OK : hs_fail(HS_ERR_INTERNAL, "cannot start a thread");
}

static void join_threads(pthread_t *threads, int count)
{
    for (int k = 0; k < count; k++) pthread_join(threads[k], NULL);
}

/* The stages' threads, started from the last (save) to the first (load)
 * and stopped from the first: each queue closes when its producers end. */
static hs_status run_stages(pipeline *p, int loaders, int savers)
{
    int workers = p->stages->workers;
    pthread_t *threads = calloc((size_t)(loaders + workers + savers), sizeof *threads);
    worker *procs = calloc((size_t)workers, sizeof *procs);
    if (!threads || !procs) {
        free(threads), free(procs);
        return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    }
    for (int k = 0; k < workers; k++) procs[k] = (worker){p, k};
    int saving = 0, proc = 0, loading = 0;
    pthread_t *save_threads = threads, *proc_threads = threads + savers,
              *load_threads = threads + savers + workers;
    hs_status st = p->stages->save ? start_threads(save_threads, savers, save_images, p, 0, &saving)
                                   : HS_OK;
    /* procs[k] must go to worker k: a missing one would leave its context idle */
    if (st == HS_OK) st = start_threads(proc_threads, workers, proc_images, procs, sizeof *procs,
                                        &proc);
    if (st == HS_OK && proc < workers)
        st = hs_fail(HS_ERR_INTERNAL, "cannot start %d threads for the devices", workers);
    if (st == HS_OK) st = start_threads(load_threads, loaders, load_images, p, 0, &loading);
    join_threads(load_threads, loading);
    hs_queue_close(&p->to_proc);
    join_threads(proc_threads, proc);
    hs_queue_close(&p->to_save);
    join_threads(save_threads, saving);
    free(threads), free(procs);
    return st;
}

/* ---- The run -------------------------------------------------------------------- */

/* "images per context: 4 on DEVICE, 3 on DEVICE" */
static void print_tally(const pipeline *p)
{
    printf("images per context:");
    for (int k = 0; k < p->stages->workers; k++)
        printf("%s %d on %s", k ? "," : "", p->written[k],
               hs_context_device(p->stages->contexts[k])->name);
    printf("\n");
    fflush(stdout);
}

/* What stopped the run: the message of the first image stopped while
 * worked on, else the first image never taken. */
static hs_status interruption(const pipeline *p)
{
    const cli_batch *batch = p->job->batch;
    for (int i = 0; i < batch->count; i++)
        if (p->outcomes[i].kind == STOPPED)
            return hs_fail(HS_ERR_INTERRUPTED, "%s", p->outcomes[i].message);
    for (int i = 0; i < batch->count; i++)
        if (p->outcomes[i].kind == PENDING)
            return hs_fail(HS_ERR_INTERRUPTED, "interrupted before %s/%s", p->job->in_dir,
                           batch->names[i]);
    return hs_fail(HS_ERR_INTERRUPTED, "interrupted");
}

int cli_batch_run(const cli_batch_job *job, const cli_batch_stages *stages, void *state)
{
    const int *threads = job->options->threads;
    int count = job->batch->count;
    pipeline p = {.job = job, .stages = stages, .state = state, .first_failure = HS_OK,
                  .start = hs_seconds()};
    p.outcomes = calloc(count > 0 ? (size_t)count : 1, sizeof *p.outcomes);
    p.written = calloc((size_t)stages->workers, sizeof *p.written);
    if (!p.outcomes || !p.written) {
        free(p.outcomes), free(p.written);
        return cli_report(hs_fail(HS_ERR_TOO_LARGE, "out of host memory"));
    }
    hs_status st = hs_queue_init(&p.to_proc, stages->workers);
    if (st == HS_OK && (st = hs_queue_init(&p.to_save, threads[2])) != HS_OK)
        hs_queue_destroy(&p.to_proc);
    if (st == HS_OK && pthread_mutex_init(&p.lock, NULL) != 0) {
        st = hs_fail(HS_ERR_INTERNAL, "pthread_mutex_init failed");
        hs_queue_destroy(&p.to_proc);
        hs_queue_destroy(&p.to_save);
    }
    if (st == HS_OK) {
        st = run_stages(&p, threads[0], threads[2]);
        pthread_mutex_destroy(&p.lock);
        hs_queue_destroy(&p.to_proc);
        hs_queue_destroy(&p.to_save);
    }
    if (st == HS_OK && p.reported < count) st = interruption(&p);
    for (int i = 0; i < count; i++) free(p.outcomes[i].message);
    free(p.outcomes);
    if (st != HS_OK) {
        free(p.written);
        return cli_report(st);
    }
    if (!job->quiet || p.failed)
        fprintf(p.failed ? stderr : stdout, "%s%d %s, %d skipped (output already there%s), "
                "%d failed, in %.1f s\n", p.failed ? "hirestyle: " : "", p.done, job->done_word,
                p.skipped, job->options->overwrite ? "" : "; --overwrite redoes them", p.failed,
                hs_seconds() - p.start);
    if (!job->quiet && stages->workers > 1) print_tally(&p);
    free(p.written);
    return p.failed ? (int)p.first_failure : 0;
}
