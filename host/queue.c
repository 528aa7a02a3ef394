/* queue.c — the bounded queue of queue.h: a ring of pointers under one
 * mutex, with a condition for each side to wait on. */
#include "queue.h"

#include <stdlib.h>

hs_status hs_queue_init(hs_queue *q, int capacity)
{
    *q = (hs_queue){.capacity = capacity};
    if (capacity < 1) return hs_fail(HS_ERR_INTERNAL, "queue: capacity %d", capacity);
    q->items = malloc((size_t)capacity * sizeof *q->items);
    if (!q->items) return hs_fail(HS_ERR_TOO_LARGE, "queue: out of host memory");
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q->items);
        return hs_fail(HS_ERR_INTERNAL, "queue: pthread_mutex_init failed");
    }
    if (pthread_cond_init(&q->not_empty, NULL) != 0) {
        pthread_mutex_destroy(&q->lock);
        free(q->items);
        return hs_fail(HS_ERR_INTERNAL, "queue: pthread_cond_init failed");
    }
    if (pthread_cond_init(&q->not_full, NULL) != 0) {
        pthread_cond_destroy(&q->not_empty);
        pthread_mutex_destroy(&q->lock);
        free(q->items);
        return hs_fail(HS_ERR_INTERNAL, "queue: pthread_cond_init failed");
    }
    return HS_OK;
}

void hs_queue_destroy(hs_queue *q)
{
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
    free(q->items);
    q->items = NULL;
}

int hs_queue_push(hs_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->count == q->capacity) pthread_cond_wait(&q->not_full, &q->lock);
    int added = !q->closed;
    if (added) {
        q->items[(q->head + q->count) % q->capacity] = item;
        q->count++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
    return added ? 0 : -1;
}

int hs_queue_pop(hs_queue *q, void **item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->count == 0) pthread_cond_wait(&q->not_empty, &q->lock);
    int got = q->count > 0;
    if (got) {
        *item = q->items[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return got ? 0 : -1;
}

void hs_queue_close(hs_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
