/* test_learned_fork.c - a fork at any point is safe for the learned cache
 * (hooks/learned.c, issue 9 defect 3): a child forked while another thread
 * is inside learned_lookup (the lists' mutex held) can learn and look up;
 * a child forked while another thread writes the file (inside its flock'd
 * section) does not inherit the lock, so a long-lived child blocks no
 * writer.
 *
 * Deterministic: this executable defines lstat and fsync, which the cache
 * code linked into it calls (lstat of the file under the mutex in every
 * lookup, fsync of the temporary inside the locked section): armed, the
 * first such call parks its thread until the fork returned in the parent
 * (the old code: the child is born inside the section), or until the fork
 * has waited a while in its prepare handlers (the fixed code: the fork
 * waits for the section to end). The test's own prepare handler is
 * installed after the cache's, so it runs first and says the fork began. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "learned.h"
#include "learned_file.h"

enum { PARK_NONE, PARK_LSTAT, PARK_FSYNC };

static char dir[64];
static char cache[128];                /* the cache file */
static atomic_int park_on;             /* which call parks (once) */
static atomic_int parked;              /* 1 while a thread is parked */
static atomic_int fork_begun;          /* the prepare handler ran */
static atomic_int fork_done;           /* fork returned in the parent */

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Stay in the caller's critical section until the fork happened, or the
 * fork has waited 1 s for it (it is blocked in a prepare handler), or
 * 20 s pass. */
static void park(int kind)
{
  int want = kind;
  if(!atomic_compare_exchange_strong(&park_on, &want, PARK_NONE))
    return;
  atomic_store(&parked, 1);
  for(long ms = 0, begun_ms = -1; ms < 20000 && !atomic_load(&fork_done);
      ms++) {
    if(begun_ms < 0 && atomic_load(&fork_begun))
      begun_ms = ms;
    if(begun_ms >= 0 && ms - begun_ms >= 1000)
      break;
    sleep_ms(1);
  }
  atomic_store(&parked, 0);
}

int lstat(const char *restrict path, struct stat *restrict sb)
{
  if(atomic_load(&park_on) == PARK_LSTAT && !strcmp(path, cache))
    park(PARK_LSTAT);
  return fstatat(AT_FDCWD, path, sb, AT_SYMLINK_NOFOLLOW);
}

int fsync(int fd)
{
  if(atomic_load(&park_on) == PARK_FSYNC)
    park(PARK_FSYNC);
  return (int)syscall(SYS_fsync, fd);
}

static void on_prepare(void) { atomic_store(&fork_begun, 1); }
static void on_other(void) {}

static void cfg_for(struct ss_config *c)
{
  const char *msg;
  config_init(c);
  CHECK(config_set(c, "cache", cache, false, &msg));
  c->cache_ttl = 3600;
}

/* Is the triple (h, model, "-") in the file? */
static bool in_file(const char *model)
{
  struct learned_list l;
  struct learned_stamp st;
  learned_list_init(&l);
  learned_file_read(cache, &l, &st);
  bool found = learned_list_find(&l, "h", model, "-") >= 0;
  learned_list_free(&l);
  return found;
}

/* Wait for pid up to 30 s; kill it then. Its exit status, or -1 when it
 * hung. */
static int reap(pid_t pid)
{
  int st;
  for(int ms = 0; ms < 30000; ms += 10) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if(r == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
    sleep_ms(10);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

/* Arm the next call of this kind to park. */
static void arm(int kind)
{
  atomic_store(&fork_begun, 0);
  atomic_store(&fork_done, 0);
  atomic_store(&park_on, kind);
}

/* Fork once the armed call has parked a thread. */
static pid_t fork_while_parked(void)
{
  for(int ms = 0; ms < 20000 && !atomic_load(&parked); ms++)
    sleep_ms(1);
  CHECK(atomic_load(&parked));
  fflush(stdout);
  pid_t pid = fork();
  if(pid > 0)
    atomic_store(&fork_done, 1);
  return pid;
}

static const struct ss_config *cfg;

static void *lookup_thread(void *arg)
{
  (void)arg;
  learned_lookup(cfg, "h", "x", "-", REFUSES_STREAM, time(NULL));
  return NULL;
}

static void *write_thread(void *arg)
{
  learned_add(cfg, "h", arg, "-", REFUSES_STREAM, "built-in", time(NULL));
  learned_flush_at(time(NULL), 30000);
  return NULL;
}

TEST(fork_inside_a_lookup)
{
  struct ss_config c;
  pthread_t t;
  cfg_for(&c);
  cfg = &c;
  learned_add(&c, "h", "seed", "-", REFUSES_STREAM, "built-in", time(NULL));
  CHECK(learned_flush_at(time(NULL), 30000) == LEARNED_FLUSH_DONE);
  learned_reset_for_tests();  /* the next lookup reads the file */
  arm(PARK_LSTAT);
  CHECK(!pthread_create(&t, NULL, lookup_thread, NULL));
  pid_t pid = fork_while_parked();
  if(!pid) {
    /* the child's first request: a lookup, then a refusal learned */
    time_t now = time(NULL);
    bool seen = learned_lookup(&c, "h", "seed", "-", REFUSES_STREAM, now);
    learned_add(&c, "h", "child", "-", REFUSES_STREAM, "built-in", now);
    int rc = learned_flush_at(now, 10000);
    _exit(seen && rc == LEARNED_FLUSH_DONE && in_file("child") ? 0 : 1);
  }
  CHECK(pid > 0);
  CHECK(reap(pid) == 0);  /* -1: the child hung on the lists' mutex */
  CHECK(!pthread_join(t, NULL));
  CHECK(in_file("child"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(fork_inside_a_write)
{
  struct ss_config c;
  pthread_t t;
  int p[2];
  cfg_for(&c);
  cfg = &c;
  CHECK(!pipe(p));
  arm(PARK_FSYNC);
  CHECK(!pthread_create(&t, NULL, write_thread, "parent"));
  pid_t pid = fork_while_parked();
  if(!pid) {
    /* a long-lived child (a daemon, a worker): lives until told */
    char b;
    close(p[1]);
    while(read(p[0], &b, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  CHECK(pid > 0);
  close(p[0]);
  CHECK(!pthread_join(t, NULL));
  CHECK(in_file("parent"));
  /* The writer is done: the lock is free, though the child lives. */
  char name[160];
  snprintf(name, sizeof(name), "%s.lock", cache);
  int fd = open(name, O_RDWR | O_CLOEXEC);
  CHECK(fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB));
  if(fd >= 0)
    close(fd);
  /* and this process can write again */
  learned_add(&c, "h", "again", "-", REFUSES_STREAM, "built-in", time(NULL));
  CHECK(learned_flush_at(time(NULL), 2000) == LEARNED_FLUSH_DONE);
  CHECK(in_file("again"));
  close(p[1]);
  CHECK(reap(pid) == 0);
  config_free(&c);
  learned_reset_for_tests();
}

int main(void)
{
  struct ss_config c;
  snprintf(dir, sizeof(dir), "/tmp/ss-learned-fork-XXXXXX");
  if(!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(cache, sizeof(cache), "%s/refusals", dir);
  /* the cache installs its fork handlers on first use; ours come after,
   * so that ours runs first at a fork */
  cfg_for(&c);
  learned_lookup(&c, "h", "none", "-", REFUSES_STREAM, time(NULL));
  config_free(&c);
  pthread_atfork(on_prepare, on_other, on_other);
  RUN(fork_inside_a_lookup);
  RUN(fork_inside_a_write);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if(system(cmd) != 0)
    printf("# could not remove %s\n", dir);
  return check_done();
}
