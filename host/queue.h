/* queue.h — a bounded first-in first-out queue of pointers between threads
 * (pthreads): the load, proc and save stages of a folder run hand their
 * images along two of them (cli_pipeline.c). push waits while the queue is
 * full and pop while it is empty, so a fast stage runs at most `capacity`
 * items ahead of a slow one; once closed, push refuses and pop hands out
 * what is left, then says the queue is done. */
#ifndef HS_QUEUE_H
#define HS_QUEUE_H

#include "hirestyle.h"

#include <pthread.h>

typedef struct hs_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **items;      /* a ring of capacity slots */
    int capacity, head, count;
    int closed;
} hs_queue;

/* An empty queue of at most capacity (>= 1) items. */
hs_status hs_queue_init(hs_queue *q, int capacity);
void hs_queue_destroy(hs_queue *q);
/* Add item at the tail, waiting for room: 0, or -1 when the queue is closed
 * (the item was not added). */
int hs_queue_push(hs_queue *q, void *item);
/* Take the head into *item, waiting for one: 0, or -1 when the queue is
 * closed and empty. */
int hs_queue_pop(hs_queue *q, void **item);
/* No more pushes: waiting pushers fail, poppers drain what is left. */
void hs_queue_close(hs_queue *q);

#endif
