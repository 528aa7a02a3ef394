/* stop.c — a request to stop long work (the CLI's Ctrl-C), which the style
 * optimiser, the tile loop and folder runs poll between steps. It is set
 * from a signal handler, hence a sig_atomic_t and nothing else. */
#include "hirestyle.h"

#include <signal.h>

static volatile sig_atomic_t stop_requested;

void hs_request_stop(void) { stop_requested = 1; }
void hs_clear_stop(void) { stop_requested = 0; }
int hs_stop_requested(void) { return stop_requested != 0; }
