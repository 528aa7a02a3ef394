/* test_queue.c — Check tests for the bounded queue between threads
 * (host/queue.c): order, the bound, closing, and many producers and
 * consumers handing over every item exactly once. */
#include "queue.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

START_TEST(first_in_first_out)
{
    hs_queue q;
    ck_assert_int_eq(hs_queue_init(&q, 3), HS_OK);
    for (intptr_t round = 0; round < 4; round++) { /* the ring wraps */
        for (intptr_t i = 1; i <= 3; i++)
            ck_assert_int_eq(hs_queue_push(&q, (void *)(round * 10 + i)), 0);
        for (intptr_t i = 1; i <= 3; i++) {
            void *item;
            ck_assert_int_eq(hs_queue_pop(&q, &item), 0);
            ck_assert_int_eq((intptr_t)item, round * 10 + i);
        }
    }
    hs_queue_destroy(&q);
}
END_TEST

START_TEST(no_capacity_refused)
{
    hs_queue q;
    ck_assert_int_eq(hs_queue_init(&q, 0), HS_ERR_INTERNAL);
}
END_TEST

START_TEST(closed_queue_drains_then_ends)
{
    hs_queue q;
    void *item;
    ck_assert_int_eq(hs_queue_init(&q, 4), HS_OK);
    ck_assert_int_eq(hs_queue_push(&q, (void *)1), 0);
    ck_assert_int_eq(hs_queue_push(&q, (void *)2), 0);
    hs_queue_close(&q);
    ck_assert_int_eq(hs_queue_push(&q, (void *)3), -1);
    ck_assert_int_eq(hs_queue_pop(&q, &item), 0);
    ck_assert_int_eq((intptr_t)item, 1);
    ck_assert_int_eq(hs_queue_pop(&q, &item), 0);
    ck_assert_int_eq((intptr_t)item, 2);
    ck_assert_int_eq(hs_queue_pop(&q, &item), -1);
    hs_queue_destroy(&q);
}
END_TEST

/* A full queue makes the pusher wait until an item is popped. */
typedef struct bounded { hs_queue q; volatile int pushed; } bounded;

static void *push_three(void *arg)
{
    bounded *b = arg;
    for (intptr_t i = 1; i <= 3; i++) {
        hs_queue_push(&b->q, (void *)i);
        __atomic_store_n(&b->pushed, (int)i, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

START_TEST(full_queue_waits)
{
    bounded b = {.pushed = 0};
    ck_assert_int_eq(hs_queue_init(&b.q, 2), HS_OK);
    pthread_t pusher;
    ck_assert_int_eq(pthread_create(&pusher, NULL, push_three, &b), 0);
    nanosleep(&(struct timespec){0, 200000000}, NULL);
    ck_assert_int_eq(__atomic_load_n(&b.pushed, __ATOMIC_SEQ_CST), 2); /* the third waits */
    void *item;
    ck_assert_int_eq(hs_queue_pop(&b.q, &item), 0);
    ck_assert_int_eq((intptr_t)item, 1);
    pthread_join(pusher, NULL);
    ck_assert_int_eq(b.pushed, 3);
    for (intptr_t i = 2; i <= 3; i++) {
        ck_assert_int_eq(hs_queue_pop(&b.q, &item), 0);
        ck_assert_int_eq((intptr_t)item, i);
    }
    hs_queue_destroy(&b.q);
}
END_TEST

/* A pusher blocked on a full queue, and a popper on an empty one, are
 * released by close. */
static void *push_one(void *arg)
{
    return (void *)(intptr_t)hs_queue_push(arg, (void *)7);
}

static void *pop_one(void *arg)
{
    void *item;
    return (void *)(intptr_t)hs_queue_pop(arg, &item);
}

START_TEST(close_releases_waiters)
{
    hs_queue full, empty;
    ck_assert_int_eq(hs_queue_init(&full, 1), HS_OK);
    ck_assert_int_eq(hs_queue_init(&empty, 1), HS_OK);
    ck_assert_int_eq(hs_queue_push(&full, (void *)1), 0);
    pthread_t pusher, popper;
    ck_assert_int_eq(pthread_create(&pusher, NULL, push_one, &full), 0);
    ck_assert_int_eq(pthread_create(&popper, NULL, pop_one, &empty), 0);
    hs_queue_close(&full);
    hs_queue_close(&empty);
    void *pushed, *popped;
    pthread_join(pusher, &pushed);
    pthread_join(popper, &popped);
    ck_assert_int_eq((intptr_t)pushed, -1);
    ck_assert_int_eq((intptr_t)popped, -1);
    hs_queue_destroy(&full);
    hs_queue_destroy(&empty);
}
END_TEST

/* Producers push PER_PRODUCER distinct numbers each; consumers pop until
 * the queue ends, marking each number seen. */
#define PRODUCERS 4
#define CONSUMERS 3
#define PER_PRODUCER 5000
#define CAPACITY 2

typedef struct traffic {
    hs_queue q;
    int seen[PRODUCERS * PER_PRODUCER];  /* times each item was popped */
    pthread_mutex_t lock;
} traffic;

typedef struct producer_arg { traffic *t; int k; } producer_arg;

static void *produce(void *arg)
{
    producer_arg *p = arg;
    for (intptr_t i = 0; i < PER_PRODUCER; i++)
        if (hs_queue_push(&p->t->q, (void *)(p->k * PER_PRODUCER + i + 1)) != 0) return (void *)1;
    return NULL;
}

static void *consume(void *arg)
{
    traffic *t = arg;
    void *item;
    while (hs_queue_pop(&t->q, &item) == 0) {
        pthread_mutex_lock(&t->lock);
        t->seen[(intptr_t)item - 1]++;
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

START_TEST(many_producers_and_consumers)
{
    static traffic t;
    ck_assert_int_eq(hs_queue_init(&t.q, CAPACITY), HS_OK);
    pthread_mutex_init(&t.lock, NULL);
    pthread_t producers[PRODUCERS], consumers[CONSUMERS];
    producer_arg args[PRODUCERS];
    for (int c = 0; c < CONSUMERS; c++)
        ck_assert_int_eq(pthread_create(&consumers[c], NULL, consume, &t), 0);
    for (int k = 0; k < PRODUCERS; k++) {
        args[k] = (producer_arg){&t, k};
        ck_assert_int_eq(pthread_create(&producers[k], NULL, produce, &args[k]), 0);
    }
    for (int k = 0; k < PRODUCERS; k++) {
        void *failed;
        pthread_join(producers[k], &failed);
        ck_assert_ptr_null(failed);
    }
    hs_queue_close(&t.q);
    for (int c = 0; c < CONSUMERS; c++) pthread_join(consumers[c], NULL);
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++) ck_assert_int_eq(t.seen[i], 1);
    pthread_mutex_destroy(&t.lock);
    hs_queue_destroy(&t.q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, first_in_first_out);
    tcase_add_test(tc, no_capacity_refused);
    tcase_add_test(tc, full_queue_waits);
    tcase_add_test(tc, closed_queue_drains_then_ends);
    tcase_add_test(tc, close_releases_waiters);
    tcase_add_test(tc, many_producers_and_consumers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
