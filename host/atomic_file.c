/* atomic_file.c — temporary file, fsync, rename (atomic_file.h), and the
 * removal of temporaries that killed writers left behind. */
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_MARK ".tmp-hs-"
#define TEMP_RANDOM "XXXXXX" /* mkstemp's six characters */

int hs_atomic_is_temp_name(const char *name)
{
    const char *mark = strstr(name, TEMP_MARK);
    if (!mark || mark == name) return 0;
    const char *random = mark + strlen(TEMP_MARK);
    if (strlen(random) != strlen(TEMP_RANDOM)) return 0;
    for (const char *c = random; *c; c++)
        if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9'))
            return 0;
    return 1;
}

/* The directory part of path ("." when it has none), malloc'ed. */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Remove our stale temporaries in dir: the pattern, a regular file of the
 * current user, untouched for HS_ATOMIC_STALE_SECONDS. Best effort: a file
 * that cannot be removed is left. */
static void remove_stale_temporaries(const char *dir)
{
    DIR *listing = opendir(dir);
    if (!listing) return;
    int dir_fd = dirfd(listing);
    time_t now = time(NULL);
    for (struct dirent *entry; (entry = readdir(listing));) {
        struct stat info;
        if (!hs_atomic_is_temp_name(entry->d_name) ||
            fstatat(dir_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(info.st_mode) && info.st_uid == getuid() &&
            now - info.st_mtime > HS_ATOMIC_STALE_SECONDS)
            unlinkat(dir_fd, entry->d_name, 0);
    }
    closedir(listing);
}

/* mkstemp creates the file with mode 0600; give it the mode a plain fopen
 * would: 0666 less the umask. The umask can only be read by setting it, so
 * it is read once: threads saving at the same time must not see each
 * other's umask(0) (or leave it set). */
static mode_t file_mode;

static void read_umask(void)
{
    mode_t mask = umask(0);
    umask(mask);
    file_mode = 0666 & ~mask;
}

static mode_t new_file_mode(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_umask);
    return file_mode;
}

/* Once per directory and thread: a batch writing thousands of files into
 * one directory lists it once, not once per file. */
static void remove_stale_temporaries_once(const char *path)
{
    static _Thread_local char cleaned[4096];
    char *dir = directory_of(path);
    if (dir && strcmp(dir, cleaned) != 0) {
        remove_stale_temporaries(dir);
        snprintf(cleaned, sizeof cleaned, "%s", dir);
    }
    free(dir);
}

hs_status hs_atomic_begin(const char *path, hs_atomic_file *file)
{
    *file = (hs_atomic_file){.path = path};
    remove_stale_temporaries_once(path);
    size_t size = strlen(path) + sizeof TEMP_MARK TEMP_RANDOM;
    file->temp_path = malloc(size);
    if (!file->temp_path) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    snprintf(file->temp_path, size, "%s" TEMP_MARK TEMP_RANDOM, path);
    int fd = mkstemp(file->temp_path);
    if (fd < 0) {
        hs_status st = hs_fail(HS_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                               path, strerror(errno));
        free(file->temp_path);
        file->temp_path = NULL;
        return st;
    }
    if (fchmod(fd, new_file_mode()) != 0 || !(file->fp = fdopen(fd, "wb"))) {
        hs_status st = hs_fail(HS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        hs_atomic_abort(file);
        return st;
    }
    return HS_OK;
}

/* Make the rename itself durable; failure here loses nothing but that. */
static void sync_directory(const char *path)
{
    char *dir = directory_of(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

hs_status hs_atomic_commit(hs_atomic_file *file)
{
    FILE *fp = file->fp;
    file->fp = NULL;
    int error = 0;
    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) error = errno;
    if (fclose(fp) != 0 && !error) error = errno;
    if (error) {
        hs_status st = hs_fail(HS_ERR_IO, "%s: cannot write: %s", file->path, strerror(error));
        hs_atomic_abort(file);
        return st;
    }
    if (rename(file->temp_path, file->path) != 0) {
        hs_status st = hs_fail(HS_ERR_IO, "%s: cannot replace it: %s", file->path,
                               strerror(errno));
        hs_atomic_abort(file);
        return st;
    }
    sync_directory(file->path);
    free(file->temp_path);
    file->temp_path = NULL;
    return HS_OK;
}

void hs_atomic_abort(hs_atomic_file *file)
{
    if (file->fp) fclose(file->fp);
    file->fp = NULL;
    if (file->temp_path) unlink(file->temp_path);
    free(file->temp_path);
    file->temp_path = NULL;
}
