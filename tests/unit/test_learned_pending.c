/* test_learned_pending.c - unit tests for the learned cache's pending
 * writes (hooks/learned.c, issue 9 defects 10 and 11): learning does no
 * I/O and learns a triple once, however many threads refuse it at once;
 * one flush writes it in one rewrite (counted with inotify); a held lock
 * keeps entries pending (never dropped) until a later flush; a file that
 * cannot be written leaves them in memory only; the destructor writes
 * what is left at exit; forget records keep a forget from being undone
 * by an entry learned before it and written after it, and their text
 * form, cap and lifetime. Files live in a fresh directory under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "learned.h"
#include "learned_file.h"
#include "learned_check.h"

/* The entries of the file at path (the caller frees). */
static void read_file(const char *path, struct learned_list *l)
{
  struct learned_stamp st;
  learned_list_init(l);
  learned_file_read(path, l, &st);
}

/* Is the triple (h, m, "-") in the file at path? */
static bool in_file(const char *path, const char *h, const char *m)
{
  struct learned_list l;
  read_file(path, &l);
  bool found = learned_list_find(&l, h, m, "-") >= 0;
  learned_list_free(&l);
  return found;
}

/* How many files were renamed into dir under the name `name` since the
 * watch began (each rewrite of the cache is one rename). The watch takes
 * IN_MOVED_FROM too: inotify merges identical consecutive events, and a
 * rewrite's two events alternate. */
static int renames(int ifd, const char *name)
{
  char ev[64 * 1024] __attribute__((aligned(8)));
  int n = 0;
  ssize_t r;
  while((r = read(ifd, ev, sizeof(ev))) > 0) {
    for(char *p = ev; p < ev + r;) {
      struct inotify_event *e = (struct inotify_event *)p;
      if((e->mask & IN_MOVED_TO) && e->len && !strcmp(e->name, name))
        n++;
      p += sizeof(*e) + e->len;
    }
  }
  return n;
}

/* Hold the cache's lock as another process would; the fd. */
static int hold_lock(const char *path)
{
  char name[300];
  snprintf(name, sizeof(name), "%s.lock", path);
  int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  CHECK(fd >= 0 && !flock(fd, LOCK_EX));
  return fd;
}

/* ---- learn once, no I/O ----------------------------------------------- */

struct burst {
  const struct ss_config *c;
  int misses;
};

#define BURST_THREADS 8
#define BURST_EACH 125   /* 1,000 refusals of one triple in all */

static void *refuse_many(void *arg)
{
  struct burst *b = arg;
  for(int i = 0; i < BURST_EACH; i++) {
    learned_add(b->c, "api.example", "o1", "-", REFUSES_STREAM, "built-in",
                1000);
    if(!learned_lookup(b->c, "api.example", "o1", "-", REFUSES_STREAM, 1000))
      b->misses++;  /* seen at once by this process */
  }
  return NULL;
}

TEST(a_burst_is_learned_once_without_io)
{
  struct ss_config c;
  pthread_t t[BURST_THREADS];
  struct burst b[BURST_THREADS];
  struct stat sb;
  const char *path = in_dir("burst/refusals");
  CHECK(!mkdir(in_dir("burst"), 0700));
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  CHECK(ifd >= 0 && inotify_add_watch(ifd, in_dir("burst"),
                                         IN_MOVED_FROM | IN_MOVED_TO) >= 0);
  cfg_for(&c, path, 3600);
  for(int i = 0; i < BURST_THREADS; i++) {
    b[i] = (struct burst){&c, 0};
    CHECK(!pthread_create(&t[i], NULL, refuse_many, &b[i]));
  }
  for(int i = 0; i < BURST_THREADS; i++) {
    CHECK(!pthread_join(t[i], NULL));
    CHECK(b[i].misses == 0);
  }
  /* Nothing on disk yet, not even the lock: learning does no I/O. */
  CHECK(stat(path, &sb) && errno == ENOENT);
  CHECK(stat(in_dir("burst/refusals.lock"), &sb) && errno == ENOENT);
  CHECK(learned_pending() == 1);
  CHECK(learned_flush_at(1000, 30000) == LEARNED_FLUSH_DONE);
  CHECK(learned_pending() == 0);
  CHECK(in_file(path, "api.example", "o1"));
  /* Known now: more refusals of it write nothing more. */
  learned_add(&c, "api.example", "o1", "-", REFUSES_STREAM, "built-in", 1001);
  CHECK(learned_pending() == 0);
  learned_flush();
  CHECK(renames(ifd, "refusals") == 1);
  close(ifd);
  config_free(&c);
  learned_reset_for_tests();
}

/* ---- a held lock, an unwritable file, the exit ------------------------ */

/* Release the lock held in *arg after a while (another writer finishing). */
static void *release_later(void *arg)
{
  struct timespec ts = {0, 200 * 1000000L};
  nanosleep(&ts, NULL);
  close(*(int *)arg);
  return NULL;
}

TEST(a_burst_of_either_direction_is_learned_once)
{
  struct ss_config c;
  const char *path = in_dir("burstdir");
  cfg_for(&c, path, 3600);
  learned_add(&c, "h", "m", "-", REFUSES_NONSTREAM, "dashscope-stream-only",
              1000);
  learned_add(&c, "h", "m", "-", REFUSES_NONSTREAM, "dashscope-stream-only",
              1000);
  CHECK(learned_pending() == 1);
  /* The other direction replaces the pending entry: still one. */
  learned_add(&c, "h", "m", "-", REFUSES_STREAM, "built-in", 1001);
  learned_add(&c, "h", "m", "-", REFUSES_STREAM, "built-in", 1001);
  CHECK(learned_pending() == 1);
  CHECK(learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 1001) &&
        !learned_lookup(&c, "h", "m", "-", REFUSES_NONSTREAM, 1001));
  struct stat sb;
  CHECK(stat(path, &sb) && errno == ENOENT);  /* no I/O yet */
  CHECK(learned_flush_at(1001, 30000) == LEARNED_FLUSH_DONE);
  struct learned_list l;
  read_file(path, &l);
  CHECK(l.n == 1 && l.v[0].dir == REFUSES_STREAM &&
        !strcmp(l.v[0].rule, "built-in") && l.v[0].learned == 1001);
  learned_list_free(&l);
  CHECK(learned_pending() == 0);
  config_free(&c);
  learned_reset_for_tests();
}

TEST(a_held_lock_keeps_entries_pending)
{
  struct ss_config c;
  const char *path = in_dir("busy");
  cfg_for(&c, path, 3600);
  int fd = hold_lock(path);
  learned_add(&c, "h", "m1", "-", REFUSES_STREAM, "built-in", 1000);
  learned_flush();  /* a flush point: one try, the lock is held */
  CHECK(learned_pending() == 1);
  CHECK(learned_flush_at(1000, 0) == LEARNED_FLUSH_BUSY);
  CHECK(learned_pending() == 1 &&
        learned_lookup(&c, "h", "m1", "-", REFUSES_STREAM, 1000));
  learned_add(&c, "h", "m2", "-", REFUSES_STREAM, "built-in", 1000);
  CHECK(learned_pending() == 2);
  CHECK(!in_file(path, "h", "m1"));
  close(fd);
  /* the next flush point writes both, in one rewrite */
  CHECK(learned_flush_at(1000, 0) == LEARNED_FLUSH_DONE);
  CHECK(learned_pending() == 0);
  CHECK(in_file(path, "h", "m1") && in_file(path, "h", "m2"));
  /* A wait outlasts a writer that lets go. */
  fd = hold_lock(path);
  learned_add(&c, "h", "m3", "-", REFUSES_STREAM, "built-in", 1000);
  pthread_t t;
  CHECK(!pthread_create(&t, NULL, release_later, &fd));
  CHECK(learned_flush_at(1000, 60000) == LEARNED_FLUSH_DONE);
  CHECK(!pthread_join(t, NULL));
  CHECK(in_file(path, "h", "m3"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(an_unwritable_file_means_memory_only)
{
  struct ss_config c;
  CHECK(!mkdir(in_dir("adir"), 0700));
  cfg_for(&c, in_dir("adir"), 3600);
  learned_add(&c, "h", "m", "-", REFUSES_STREAM, "built-in", 1000);
  CHECK(learned_flush_at(1000, 0) == LEARNED_FLUSH_FAILED);
  CHECK(learned_pending() == 0);  /* not retried at every flush point */
  CHECK(learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 1000));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(what_is_pending_is_written_at_exit)
{
  struct ss_config c;
  const char *path = in_dir("atexit");
  cfg_for(&c, path, 3600);
  int fd = hold_lock(path);
  fflush(stdout);
  pid_t pid = fork();
  if(!pid) {
    close(fd);  /* the lock stays held by the parent's descriptor */
    learned_add(&c, "h", "exit", "-", REFUSES_STREAM, "built-in", time(NULL));
    learned_flush();  /* busy: pending */
    exit(learned_pending() == 1 ? 0 : 3);  /* the destructor waits */
  }
  struct timespec ts = {0, 300 * 1000000L};
  nanosleep(&ts, NULL);
  close(fd);
  int st = 0;
  CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(in_file(path, "h", "exit"));
  config_free(&c);
}

/* ---- forget records ---------------------------------------------------- */

/* A forget as `streamshim models --forget PATTERN` does it. */
static size_t forget_edit(struct learned_list *l, void *arg)
{
  const char *pattern = arg;
  for(size_t i = l->n; i-- > 0;)
    if(learned_forget_matches(pattern, &l->v[i]))
      learned_list_remove(l, i);
  return learned_list_forget(l, pattern, learned_clock_ns());
}

TEST(a_forget_is_not_undone_by_a_pending_entry)
{
  struct ss_config c;
  const char *path = in_dir("forget");
  cfg_for(&c, path, 3600);
  time_t now = time(NULL);
  learned_add(&c, "h", "old-written", "-", REFUSES_STREAM, "built-in", now);
  CHECK(learned_flush_at(now, 30000) == LEARNED_FLUSH_DONE);
  int fd = hold_lock(path);
  learned_add(&c, "h", "old-pending", "-", REFUSES_STREAM, "built-in", now);
  learned_add(&c, "h", "other", "-", REFUSES_STREAM, "built-in", now);
  CHECK(learned_flush_at(now, 0) == LEARNED_FLUSH_BUSY);
  close(fd);
  /* Another process forgets old-*, with these two still pending here. */
  CHECK(learned_file_update(path, true, now, 30000, forget_edit, "old-*",
                            NULL, NULL, NULL) == LEARNED_FILE_OK);
  /* after it */
  learned_add(&c, "h", "old-after", "-", REFUSES_STREAM, "built-in", now);
  CHECK(learned_flush_at(now, 30000) == LEARNED_FLUSH_DONE);
  CHECK(!in_file(path, "h", "old-written"));
  CHECK(!in_file(path, "h", "old-pending"));  /* not written back */
  CHECK(in_file(path, "h", "other") && in_file(path, "h", "old-after"));
  /* and forgotten by this process too */
  CHECK(!learned_lookup(&c, "h", "old-pending", "-", REFUSES_STREAM, now));
  CHECK(!learned_lookup(&c, "h", "old-written", "-", REFUSES_STREAM, now));
  CHECK(learned_lookup(&c, "h", "old-after", "-", REFUSES_STREAM, now));
  /* A lookup alone applies a forget to what is pending. */
  fd = hold_lock(path);
  learned_add(&c, "h", "zz", "-", REFUSES_STREAM, "built-in", now);
  close(fd);
  CHECK(learned_file_update(path, true, now, 30000, forget_edit, NULL,
                            NULL, NULL, NULL) == LEARNED_FILE_OK);
  CHECK(!learned_lookup(&c, "h", "zz", "-", REFUSES_STREAM, now));
  CHECK(learned_pending() == 0);
  config_free(&c);
  learned_reset_for_tests();
}

TEST(forget_records_text_cap_and_lifetime)
{
  struct learned_list l, back;
  struct buf b;
  learned_list_init(&l);
  long long t0 = 1700000000LL * 1000000000LL;
  CHECK(learned_list_put(&l, "h", "m", "-", REFUSES_STREAM, "built-in",
                         1700000000, 1800000000));
  CHECK(learned_list_forget(&l, "o1\t*", t0 + 5));
  CHECK(learned_list_forget(&l, "gpt*", t0 + 7));
  CHECK(learned_list_forget(&l, "gpt*", t0 + 9));  /* replaces the older */
  CHECK(l.nf == 2);
  buf_init(&b);
  CHECK(learned_format(&l, &b));
  const char *text = buf_cstr(&b);
  CHECK(strstr(text, "\n#!forget\t1700000000.000000005\to1\\t*\n") != NULL);
  CHECK(strstr(text, "\n#!forget\t1700000000.000000009\tgpt*\n") != NULL);
  learned_list_init(&back);
  learned_parse(b.ptr, b.len, &back);
  CHECK(back.n == 1 && back.nf == 2);
  CHECK(back.nf == 2 && !strcmp(back.fv[0].pattern, "o1\t*") &&
        back.fv[0].at_ns == t0 + 5 && back.fv[1].at_ns == t0 + 9);
  struct learned_entry e = {.host = "x", .model = "gpt-5"};
  CHECK(learned_forgotten(&back, &e, t0 + 9));
  CHECK(!learned_forgotten(&back, &e, t0 + 10));  /* learned after it */
  /* Forgetting everything replaces the older records. */
  CHECK(learned_list_forget(&back, NULL, t0 + 20));
  CHECK(back.nf == 1 && back.fv[0].pattern == NULL);
  CHECK(learned_forgotten(&back, &e, t0 + 20));
  buf_reset(&b);
  CHECK(learned_format(&back, &b));
  CHECK(strstr(buf_cstr(&b), "\n#!forget\t1700000000.000000020\n") != NULL);
  learned_list_free(&back);
  /* Bad records are skipped; old readers see comments. */
  learned_list_init(&back);
  static const char bad[] =
    "#!forget\t17.5\tx\n#!forget\tabc.000000001\n#!forget\t1.000000001\ta\tb\n"
    "#!forget\n#!forgetx\t1.000000001\n#!forget\t1.000000001\tok\n";
  learned_parse(bad, sizeof(bad) - 1, &back);
  CHECK(back.n == 0 && back.nf == 1);
  learned_list_free(&back);
  /* At most LEARNED_MAX_FORGETS, the newest; none past their lifetime. */
  for(int i = 0; i < LEARNED_MAX_FORGETS + 5; i++) {
    char p[16];
    snprintf(p, sizeof(p), "p%d", i);
    CHECK(learned_list_forget(&l, p, t0 + 100 + i));
  }
  learned_list_prune(&l, 1700000000, 100);
  CHECK(l.nf == LEARNED_MAX_FORGETS);
  CHECK(l.nf && l.fv[l.nf - 1].at_ns == t0 + 100 + LEARNED_MAX_FORGETS + 4);
  learned_list_prune(&l, 1700000000 + LEARNED_FORGET_KEEP + 1, 100);
  CHECK(l.nf == 0);
  buf_free(&b);
  learned_list_free(&l);
}

int main(void)
{
  if(!learned_dir_make("/tmp/ss-learned-pending-XXXXXX"))
    return 1;
  RUN(a_burst_is_learned_once_without_io);
  RUN(a_burst_of_either_direction_is_learned_once);
  RUN(a_held_lock_keeps_entries_pending);
  RUN(an_unwritable_file_means_memory_only);
  RUN(what_is_pending_is_written_at_exit);
  RUN(a_forget_is_not_undone_by_a_pending_entry);
  RUN(forget_records_text_cap_and_lifetime);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if(system(cmd) != 0)
    printf("# could not remove %s\n", dir);
  return check_done();
}
