/* learned_file.h - the learned-refusal cache file: its format, reading it,
 * and rewriting it under a lock. No libcurl; used by learned.c (the
 * library's memory of refusals) and by streamshim-ctl (`streamshim
 * models`, `--forget`).
 *
 * Format: a text file of lines ending in '\n'. Lines starting with '#'
 * are comments (the writer puts a header saying what the file is), except
 * forget records (below); every other line is one entry of seven
 * TAB-separated fields:
 *
 *   host  model  fingerprint  learned  expires  rule  direction
 *
 * learned and expires are decimal Unix times (seconds, UTC); fingerprint
 * is "-" or LEARNED_FP_LEN lowercase hex digits (below); host, model
 * and rule are escaped: '\\' as "\\\\", TAB as "\\t", LF as "\\n", CR as
 * "\\r" (any other byte is itself), so no name can break a line.
 * direction is which way the server refused (refusal_dir_name):
 * "no-stream" (it refused "stream": true; requests go without it) or
 * "stream-only" (it refused a request without stream; requests go
 * streaming). A line of six fields is a no-stream entry: the writer
 * leaves the direction out for those, so that versions that knew six
 * fields only (a long-running process of an older release sharing the
 * file) still read and keep them; they skip the seven-field stream-only
 * lines (and drop them when they rewrite the file). One entry per (host, model, fingerprint): the
 * newest word on a triple replaces the other direction's. A line that
 * does not parse (wrong field count, bad number, bad escape, a field
 * over LEARNED_MAX_FIELD bytes, empty rule, unknown direction) is
 * skipped, never fatal.
 *
 * Forget records: `streamshim models --forget [PATTERN]` removes the
 * matching entries and leaves a line
 *
 *   #!forget  SECONDS.NANOSECONDS  [PATTERN]
 *
 * (TAB-separated; the time of the forget, CLOCK_REALTIME; PATTERN escaped
 * as above, absent for "all"). A process that learned a refusal before
 * that time but writes it only later (its write waited for the lock)
 * finds the record and drops the entry instead of writing it back, so a
 * forget is never undone by a writer that was already under way. A
 * record is kept LEARNED_FORGET_KEEP seconds (longer than any write
 * waits), at most LEARNED_MAX_FORGETS of them (a forget of everything
 * replaces the older ones); they look like comments to older readers.
 *
 * Updates: flock(LOCK_EX) on "<path>.lock" (created 0600, never removed:
 * removing a lock file lets two writers lock different inodes), read the
 * current file, edit, drop expired entries and forget records, keep the
 * newest LEARNED_MAX_ENTRIES, write "<path>.tmp.<pid>" (0600, O_EXCL),
 * fsync, rename over path, unlock. Readers never lock: rename is atomic,
 * so they see the old file or the new one, never a torn one, and every
 * writer starts from the file the previous writer left, so none loses
 * another's entries. Every file (the cache, its lock, the temporary) is
 * opened with safe_open (safe_file.h): never blocking (a FIFO), never
 * through a symlink, a regular file owned by the effective user only. */
#ifndef SS_LEARNED_FILE_H
#define SS_LEARNED_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "pure/buf.h"
#include "pure/refusal.h"  /* enum refusal_dir */

#define LEARNED_FP_LEN 16  /* hex digits of a credential fingerprint */

#define LEARNED_MAX_ENTRIES 4096
#define LEARNED_MAX_FIELD 512          /* bytes of a host, model or rule */
#define LEARNED_FILE_MAX (16u << 20)   /* bytes of the file read */
#define LEARNED_MAX_FORGETS 64         /* forget records kept */
#define LEARNED_FORGET_KEEP (30L * 86400)  /* seconds a record is kept */

struct learned_entry {
  char *host, *model, *rule;          /* owned, NUL-terminated */
  char fp[LEARNED_FP_LEN + 1];
  long long learned, expires;         /* Unix times */
  enum refusal_dir dir;               /* which way it refused */
  /* in a process's memory only, never in the file: */
  long long noted_ns;                 /* when it was learned (realtime) */
  bool pending;                       /* still to be written */
};

/* A forget record: entries noted at or before at_ns that match. */
struct learned_forget {
  char *pattern;                      /* owned; NULL: every entry */
  long long at_ns;                    /* CLOCK_REALTIME nanoseconds */
};

struct learned_list {
  struct learned_entry *v;            /* owned */
  size_t n;
  struct learned_forget *fv;          /* owned: the forget records */
  size_t nf;
};

/* What stat says of the file: any rewrite changes it (a new inode). */
struct learned_stamp {
  bool exists;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
};

void learned_list_init(struct learned_list *l);
void learned_list_free(struct learned_list *l);
/* Append a copy of an entry; false when memory runs out. */
bool learned_list_put(struct learned_list *l, const char *host,
                      const char *model, const char *fp,
                      enum refusal_dir dir, const char *rule,
                      long long learned, long long expires);
/* Remove entry i (order kept). */
void learned_list_remove(struct learned_list *l, size_t i);
/* The index of the entry of this triple (whatever its direction), or
 * -1. */
long learned_list_find(const struct learned_list *l, const char *host,
                       const char *model, const char *fp);
/* Is the field a valid credential fingerprint ("-" or hex digits)? */
bool learned_fp_valid(const char *fp);
/* Drop entries expired at now, then the oldest beyond max, and forget
 * records older than LEARNED_FORGET_KEEP; returns how many were dropped.
 * The rest is ordered by learned time. */
size_t learned_list_prune(struct learned_list *l, time_t now, size_t max);

/* Does the entry's host or model match the glob (fnmatch; NULL: all)? */
bool learned_forget_matches(const char *pattern,
                            const struct learned_entry *e);
/* Add a forget record of pattern (NULL: all) at at_ns; false when memory
 * runs out. A record that a newer one implies is dropped. */
bool learned_list_forget(struct learned_list *l, const char *pattern,
                         long long at_ns);
/* Does a forget record of l cover an entry like e noted at noted_ns? */
bool learned_forgotten(const struct learned_list *l,
                       const struct learned_entry *e, long long noted_ns);
/* The realtime clock in nanoseconds (forget records, noted_ns). */
long long learned_clock_ns(void);

/* Append the entries of a file's text to out; bad lines are skipped. */
void learned_parse(const char *text, size_t n, struct learned_list *out);
/* The file's text: the header comment, the forget records, then one line
 * per entry. */
bool learned_format(const struct learned_list *l, struct buf *out);
/* Append s escaped as in the file. */
bool learned_escape(struct buf *out, const char *s);

/* lstat the path into *st (exists false when absent or unreadable). */
void learned_file_stamp(const char *path, struct learned_stamp *st);
/* Is a the same file version as b? */
bool learned_stamp_same(const struct learned_stamp *a,
                        const struct learned_stamp *b);
/* Read the file's entries into out (appended) and its stamp: 1 read, 0
 * absent, -1 unreadable (not a regular file of ours, I/O error). */
int learned_file_read(const char *path, struct learned_list *out,
                      struct learned_stamp *st);
/* Why the cache at path cannot be read or rewritten, in a few words (in
 * buf, cap bytes), or NULL when nothing stands against it: a symlink, a
 * FIFO, a directory, another owner, at the file or its lock; a directory
 * that cannot be made or written. For `streamshim models`. */
const char *learned_file_problem(const char *path, char *buf, size_t cap);

/* An edit of the entries under the lock; returns how many it changed. */
typedef size_t (*learned_edit_fn)(struct learned_list *l, void *arg);

/* learned_file_update's results. */
#define LEARNED_FILE_OK 0
#define LEARNED_FILE_FAILED (-1)   /* cannot be written: not ours, ... */
#define LEARNED_FILE_BUSY (-2)     /* another writer held the lock */

/* Rewrite the file under the lock with edit applied (see the top),
 * waiting up to wait_ms for the lock (0: one try). With create, missing
 * directories are made (0700) and an absent file is started; without,
 * an absent file is left absent. On success (LEARNED_FILE_OK) the entries
 * written and the new stamp go to written/st when not NULL, and *changed
 * (when not NULL) says how many entries the edit changed; otherwise the
 * file is unchanged. */
int learned_file_update(const char *path, bool create, time_t now,
                        long wait_ms, learned_edit_fn edit, void *arg,
                        size_t *changed, struct learned_list *written,
                        struct learned_stamp *st);

#endif
