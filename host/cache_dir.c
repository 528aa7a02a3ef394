/* cache_dir.c — where hirestyle keeps what it can rebuild (compiled kernel
 * binaries, GEMM checks and tuned parameters), and how it reads and writes
 * there without ever failing because of it.
 *
 * The directory is $XDG_CACHE_HOME/hirestyle (or ~/.cache/hirestyle) when it
 * can be created, is ours and no one else can write to it; else a private
 * one under $TMPDIR (or /tmp); else none, and every build starts from
 * source. Entries are read only when they are regular files of ours of a
 * sane size (a FIFO or a device planted there must not hang or feed us),
 * written through a temporary file and a rename, and built under a lock so
 * that several cold starts compile once. Every problem costs one warning a
 * process, never a failure.
 *
 * PoCL keeps a kernel cache of its own ($POCL_CACHE_DIR, else
 * $XDG_CACHE_HOME/pocl/kcache): when that cannot be used PoCL reports no
 * device at all, so hs_cache_prepare_driver points it at a private one.
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Less free space than this and a directory counts as full: kernel
 * binaries take a few MiB each, PoCL's cache tens. */
#define MIN_FREE_BYTES ((unsigned long long)64 << 20)

/* How long a start waits for another one building the same entry. */
#define LOCK_WAIT_SECONDS 600

/* Resolved once per process (pthread_once: contexts may be made on several
 * threads), read-only afterwards. */
static char cache_dir[4096]; /* "" when there is no cache */
static pthread_once_t cache_resolved = PTHREAD_ONCE_INIT;
static int cache_warned;

/* One line on stderr for the first cache problem of the process. */
static void warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_once(const char *fmt, ...)
{
    if (__atomic_exchange_n(&cache_warned, 1, __ATOMIC_SEQ_CST)) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hirestyle: warning: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void hs_make_parent_dirs(const char *path)
{
    char dir[4096];
    size_t len = strlen(path);
    if (len >= sizeof dir) return; /* the open or rename that follows reports it */
    memcpy(dir, path, len + 1);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0700);
        *p = '/';
    }
}

/* Create `dir` if needed; "" into why when it is a directory of ours that
 * only we can write to, else the reason it is not. */
static void check_dir(const char *dir, char *why, size_t size)
{
    char with_slash[4200];
    snprintf(with_slash, sizeof with_slash, "%s/", dir);
    hs_make_parent_dirs(with_slash);
    struct stat st;
    struct statvfs fs;
    why[0] = '\0';
    if (stat(dir, &st) != 0)
        snprintf(why, size, "cannot create it (%s)", strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        snprintf(why, size, "it is not a directory");
    else if (st.st_uid != geteuid())
        snprintf(why, size, "it belongs to another user");
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        snprintf(why, size, "other users can write to it");
    else if (access(dir, W_OK | X_OK) != 0)
        snprintf(why, size, "it is not writable (%s)", strerror(errno));
    else if (statvfs(dir, &fs) == 0 &&
             (unsigned long long)fs.f_bavail * fs.f_frsize < MIN_FREE_BYTES)
        snprintf(why, size, "its file system is full (%llu KiB free)",
                 (unsigned long long)fs.f_bavail * fs.f_frsize >> 10);
}

/* $TMPDIR/<name>-<uid>: a directory of our own when the usual one is not. */
static int private_dir(const char *name, char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/%s-%ld", tmp && *tmp ? tmp : "/tmp", name, (long)geteuid());
    char why[200];
    check_dir(out, why, sizeof why);
    return why[0] == '\0';
}

static void resolve_once(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char usual[4096] = "";
    if (xdg && *xdg)
        snprintf(usual, sizeof usual, "%s/hirestyle", xdg);
    else if (home && *home)
        snprintf(usual, sizeof usual, "%s/.cache/hirestyle", home);
    char why[200] = "neither XDG_CACHE_HOME nor HOME is set";
    if (usual[0]) check_dir(usual, why, sizeof why);
    if (usual[0] && !why[0]) {
        snprintf(cache_dir, sizeof cache_dir, "%s", usual);
        return;
    }
    if (private_dir("hirestyle-cache", cache_dir, sizeof cache_dir)) {
        warn_once("kernel cache %s: %s; using %s", usual[0] ? usual : "", why, cache_dir);
        return;
    }
    warn_once("kernel cache %s: %s, and %s is not usable either; kernels will be built "
              "every run", usual[0] ? usual : "", why, cache_dir);
    cache_dir[0] = '\0';
}

static void resolve(void) { pthread_once(&cache_resolved, resolve_once); }

const char *hs_cache_dir(void)
{
    resolve();
    return cache_dir;
}

void hs_cache_path(const char *file_name, char *out, size_t size)
{
    resolve();
    if (cache_dir[0])
        snprintf(out, size, "%s/%s", cache_dir, file_name);
    else
        out[0] = '\0';
}

void hs_cache_device_path(const hs_device_info *dev, const char *prefix, char *out, size_t size)
{
    uint64_t h = HS_HASH_SEED;
    const char *parts[] = {dev->platform_name, dev->name, dev->driver_version};
    for (size_t i = 0; i < 3; i++) h = hs_hash(h, parts[i], strlen(parts[i]) + 1);
    char name[64];
    snprintf(name, sizeof name, "%s%016llx.txt", prefix, (unsigned long long)h);
    hs_cache_path(name, out, size);
}

/* Opens an entry for reading only if it is a regular file of ours that no
 * one else can write to; O_NONBLOCK so that a FIFO does not wait for a
 * writer. Returns the descriptor and its size, or -1. */
static int open_entry(const char *path, size_t max_bytes, size_t *size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    const char *refused = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        refused = "not a regular file";
    else if (st.st_uid != geteuid())
        refused = "owned by another user";
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        refused = "writable by other users";
    else if ((unsigned long long)st.st_size > max_bytes)
        refused = "larger than any entry hirestyle writes";
    if (refused) {
        warn_once("ignoring cache entry %s: %s", path, refused);
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    return fd;
}

unsigned char *hs_cache_read(const char *name, size_t max_bytes, size_t *len)
{
    char path[4400];
    hs_cache_path(name, path, sizeof path);
    size_t size = 0;
    int fd = path[0] ? open_entry(path, max_bytes, &size) : -1;
    if (fd < 0) return NULL;
    unsigned char *data = malloc(size + 1);
    size_t got = 0;
    while (data && got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (!data || got != size) {
        free(data);
        return NULL;
    }
    data[size] = '\0'; /* text entries can be read as strings */
    *len = size;
    return data;
}

int hs_cache_exists(const char *name)
{
    char path[4400];
    hs_cache_path(name, path, sizeof path);
    struct stat st;
    return path[0] && lstat(path, &st) == 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void hs_cache_write(const char *name, const void *data, size_t len)
{
    char path[4400], tmp[4500];
    hs_cache_path(name, path, sizeof path);
    if (!path[0]) return;
    /* one name per writer, threads of one process included */
    static unsigned writes;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%u", path, (long)getpid(),
             __atomic_fetch_add(&writes, 1, __ATOMIC_SEQ_CST));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write_all(fd, data, len) == 0;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        if (fd >= 0) unlink(tmp);
        warn_once("cannot write %s (%s); continuing without caching it", path, strerror(saved));
    }
}

void hs_cache_remove(const char *name)
{
    char path[4400];
    hs_cache_path(name, path, sizeof path);
    if (path[0]) unlink(path);
}

int hs_cache_lock(const char *name, int verbose)
{
    char path[4400];
    hs_cache_path(name, path, sizeof path);
    if (!path[0]) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        warn_once("cannot lock %s; building without the lock", path);
        if (fd >= 0) close(fd);
        return -1;
    }
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited++) {
        if (errno != EWOULDBLOCK && errno != EINTR) break;
        if (waited == 0 && verbose)
            fprintf(stderr, "kernels: waiting for another hirestyle building the same ones\n");
        if (waited >= LOCK_WAIT_SECONDS * 10) {
            warn_once("%s is still locked after %d s; building without the lock", path,
                      LOCK_WAIT_SECONDS);
            close(fd);
            return -1;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    return fd;
}

void hs_cache_unlock(int fd)
{
    if (fd >= 0) close(fd); /* closing releases the flock */
}

/* PoCL's own cache, as PoCL finds it. */
static void pocl_cache_dir(char *out, size_t size)
{
    const char *set = getenv("POCL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (set && *set)
        snprintf(out, size, "%s", set);
    else if (xdg && *xdg)
        snprintf(out, size, "%s/pocl/kcache", xdg);
    else if (home && *home)
        snprintf(out, size, "%s/.cache/pocl/kcache", home);
    else
        out[0] = '\0';
}

static void prepare_driver_once(void)
{
    char dir[4096], why[200] = "no cache directory is set";
    pocl_cache_dir(dir, sizeof dir);
    if (dir[0]) check_dir(dir, why, sizeof why);
    if (!why[0]) return;
    char own[4096];
    if (private_dir("hirestyle-pocl-cache", own, sizeof own)) {
        setenv("POCL_CACHE_DIR", own, 1);
        warn_once("PoCL's kernel cache %s: %s; pointing POCL_CACHE_DIR at %s", dir, why, own);
        return;
    }
    warn_once("PoCL's kernel cache %s: %s, and %s is not usable either: PoCL may not start "
              "(set POCL_CACHE_DIR to a writable directory)", dir, why, own);
}

void hs_cache_prepare_driver(void)
{
    static pthread_once_t prepared = PTHREAD_ONCE_INIT;
    pthread_once(&prepared, prepare_driver_once);
}

uint64_t hs_hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
