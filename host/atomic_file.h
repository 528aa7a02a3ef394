/* atomic_file.h — write a file so that it appears whole or not at all.
 *
 * hs_atomic_begin creates PATH.tmp-hs-XXXXXX beside the target (mkstemp) with
 * the mode a plain fopen would give; hs_atomic_commit flushes it to disk
 * (fsync), renames it over the target and syncs the directory;
 * hs_atomic_abort removes it. A process killed in between leaves its
 * temporary behind: the first hs_atomic_begin of a thread in a directory
 * removes such leftovers of this pattern there (the current user's regular
 * files, untouched for HS_ATOMIC_STALE_SECONDS).
 */
#ifndef HS_ATOMIC_FILE_H
#define HS_ATOMIC_FILE_H

#include "hirestyle.h"

#include <stdio.h>

/* A temporary file untouched for this long belongs to a dead writer. */
#define HS_ATOMIC_STALE_SECONDS (15 * 60)

typedef struct hs_atomic_file {
    FILE *fp;        /* write here, then commit or abort */
    const char *path;
    char *temp_path;
} hs_atomic_file;

hs_status hs_atomic_begin(const char *path, hs_atomic_file *file);
/* Close, sync and rename; on failure the temporary is removed. */
hs_status hs_atomic_commit(hs_atomic_file *file);
/* Close and remove the temporary; a no-op after commit. */
void hs_atomic_abort(hs_atomic_file *file);

/* Whether `name` (no directory) has the temporary-file pattern of `begin`. */
int hs_atomic_is_temp_name(const char *name);

#endif
