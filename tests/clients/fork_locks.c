/* fork_locks - fork while another thread holds one of the shim's locks
 * (tests/test_fork.py; run with tests/clients/lib/forklock.c preloaded
 * after the shim, which picks the lock and parks the thread holding it).
 *
 *   fork_locks URL LOCKFILE NTHREADS
 *
 * NTHREADS workers do real transfers against URL in auto mode: streams
 * to new models the server refuses (easy and multi: retried without
 * stream, learned, deferred on the multi handle) and to a learned one.
 * With FORKLOCK_TARGET set, the main thread waits until a worker is
 * parked inside the target's critical section and forks. The child (under
 * alarm(), so a hang fails fast) does an easy and a multi request to new
 * refused models and must get each answer as an event stream, then forks
 * a grandchild that does one more (a child's own fork handlers must work
 * too). For the "flock" target the child first checks that it did not
 * inherit LOCKFILE locked (once the parent's parked thread has let go of
 * it and the other workers have stopped).
 * Without FORKLOCK_TARGET the workers do a few rounds each, no fork.
 *
 * stdout: "result=ok", or result=not-parked|hang|bad-answer|
 * inherited-flock|grandchild-hang|grandchild-bad, the child's last step
 * and the shim mutex it was blocked on (waited=OFFSET, 0 for none). Exit 0
 * for ok. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *url, *lockfile;
static atomic_int stop;
static pthread_t *workers;
static int nworkers;
static atomic_long worker_failures;
static volatile int *step;  /* the child's last step, shared */

struct sink {
  char *p;
  size_t n;
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  struct sink *s = ud;
  size_t n = size * nmemb;
  char *q = realloc(s->p, s->n + n + 1);
  if(!q)
    return 0;
  memcpy(q + s->n, p, n);
  s->p = q;
  s->n += n;
  s->p[s->n] = '\0';
  return n;
}

/* Drive h on a multi handle until its DONE message (not only until the
 * running count says 0). */
static CURLcode multi_perform(CURL *h)
{
  CURLM *m = curl_multi_init();
  CURLcode rc = CURLE_COULDNT_CONNECT;
  int running = 1, done = 0;
  curl_multi_add_handle(m, h);
  for(int rounds = 0; !done && rounds < 100000; rounds++) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while((msg = curl_multi_info_read(m, &left)))
      if(msg->msg == CURLMSG_DONE) {
        rc = msg->data.result;
        done = 1;
      }
    if(!done)
      curl_multi_poll(m, NULL, 0, running ? 1000 : 10, NULL);
  }
  curl_multi_remove_handle(m, h);
  curl_multi_cleanup(m);
  return rc;
}

/* One streaming request for model; 0 when the answer is an event stream. */
static int request(const char *model, int multi)
{
  char body[256];
  struct sink s = {0};
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  CURL *h = curl_easy_init();
  snprintf(body, sizeof(body),
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\","
           "\"content\":\"fork\"}],\"stream\":true}", model);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  CURLcode rc = multi ? multi_perform(h) : curl_easy_perform(h);
  int bad = rc != CURLE_OK || !s.p || strncmp(s.p, "data: {", 7) ||
            !strstr(s.p, "chat.completion.chunk") ||
            !strstr(s.p, "data: [DONE]\n\n");
  if(bad)
    fprintf(stderr, "fork_locks %ld: %s (%s) failed: rc=%d %.100s\n",
            (long)getpid(), model, multi ? "multi" : "easy", (int)rc,
            s.p ? s.p : "");
  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  free(s.p);
  return bad;
}

/* Refused streams to new models (easy, multi) and to a learned one. */
static void *worker(void *arg)
{
  long id = (long)arg, fails = 0;
  char model[64];
  for(int i = 0; !atomic_load(&stop); i++) {
    int kind = i % 3;
    snprintf(model, sizeof(model), "o3-mini-w%ld-%d", id,
             kind == 2 ? 0 : i);
    fails += request(model, kind == 1);
    if(!getenv("FORKLOCK_TARGET") && i == 5)
      break;  /* discovery: a few rounds */
  }
  atomic_fetch_add(&worker_failures, fails);
  return NULL;
}

/* Wait up to ms for f() to say yes. */
static int wait_for(int (*f)(void), long ms)
{
  struct timespec ts = {0, 1000000};
  for(long i = 0; i < ms && !f(); i++)
    nanosleep(&ts, NULL);
  return f();
}

/* Could a fresh open of the lock file take it? Not if we inherited it. */
static int lock_is_free(void)
{
  int fd = open(lockfile, O_RDWR | O_CLOEXEC);
  if(fd < 0)
    return errno == ENOENT;
  int ok = !flock(fd, LOCK_EX | LOCK_NB);
  close(fd);
  return ok;
}

/* The grandchild: one more refused stream. */
static int grandchild(void)
{
  char model[64];
  pid_t pid;
  int st;
  *step = 4;
  pid = fork();
  if(pid == 0) {
    alarm(10);
    snprintf(model, sizeof(model), "o3-mini-g%ld", (long)getpid());
    _exit(request(model, 0) ? 1 : 0);
  }
  if(pid < 0 || waitpid(pid, &st, 0) != pid)
    return 6;
  if(WIFSIGNALED(st))
    return 5;
  return WEXITSTATUS(st) ? 6 : 0;
}

/* The child: must not have inherited a held lock (exit code: see main). */
static int child(int sync, int flock_target)
{
  char model[64], c;
  alarm(20);
  if(flock_target) {
    *step = 1;
    if(read(sync, &c, 1) != 1 || !lock_is_free())
      return 4;
  }
  *step = 2;
  snprintf(model, sizeof(model), "o3-mini-c%ld", (long)getpid());
  if(request(model, 0))
    return 1;
  *step = 3;
  snprintf(model, sizeof(model), "o3-mini-cm%ld", (long)getpid());
  if(request(model, 1))
    return 1;
  return grandchild();
}

static const char *verdict(int st)
{
  static const char *const codes[] = {
    "ok", "bad-answer", "?", "?", "inherited-flock", "grandchild-hang",
    "grandchild-bad"};
  if(WIFSIGNALED(st))
    return WTERMSIG(st) == SIGALRM ? "hang" : "killed";
  int c = WEXITSTATUS(st);
  return c >= 0 && c < 7 ? codes[c] : "?";
}

/* Wait for the workers (after stop: once they finish their transfers). */
static void join_workers(void)
{
  for(int i = 0; i < nworkers; i++)
    pthread_join(workers[i], NULL);
  nworkers = 0;
}

/* Fork while the parked worker holds the target; the child's verdict. */
static const char *fork_now(int (*flock_done)(void), int flock_target)
{
  int sync[2], st;
  if(pipe(sync))
    return "pipe";
  pid_t pid = fork();
  if(pid == 0)
    _exit(child(sync[0], flock_target));
  if(pid < 0)
    return "fork-failed";
  if(flock_target) {
    /* the parked thread lets go first, and no other takes the lock while
     * the child looks: then only an inherited lock can hold it */
    if(!wait_for(flock_done, 10000))
      fprintf(stderr, "fork_locks: the parked flock was never released\n");
    atomic_store(&stop, 1);
    join_workers();
    if(write(sync[1], "x", 1) != 1)
      return "pipe";
  }
  if(waitpid(pid, &st, 0) != pid)
    return "waitpid";
  close(sync[0]);
  close(sync[1]);
  return verdict(st);
}

/* The shim mutex a hung child waited for (forklock.so), or 0. */
static unsigned long child_waited(void)
{
  unsigned long (*f)(void) =
    (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "forklock_waited");
  return f ? f() : 0;
}

int main(int argc, char **argv)
{
  if(argc != 4) {
    fprintf(stderr, "usage: fork_locks URL LOCKFILE NTHREADS\n");
    return 2;
  }
  url = argv[1];
  lockfile = argv[2];
  int nt = atoi(argv[3]);
  const char *target = getenv("FORKLOCK_TARGET");
  int (*parked)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "forklock_parked");
  int (*flock_done)(void) =
    (int (*)(void))dlsym(RTLD_DEFAULT, "forklock_flock_done");
  const char *result = "ok";
  step = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(step == MAP_FAILED || (target && (!parked || !flock_done))) {
    fprintf(stderr, "fork_locks: forklock.so is not preloaded\n");
    return 2;
  }
  *step = 0;
  curl_global_init(CURL_GLOBAL_ALL);  /* not hooked: no shim lock yet */
  workers = calloc((size_t)nt, sizeof(*workers));
  for(long i = 0; i < nt; i++)
    pthread_create(&workers[nworkers++], NULL, worker, (void *)i);
  if(target) {
    if(!wait_for(parked, 30000))
      result = "not-parked";
    else
      result = fork_now(flock_done, !strcmp(target, "flock"));
    atomic_store(&stop, 1);
  }
  join_workers();
  curl_global_cleanup();
  free(workers);
  printf("result=%s step=%d waited=0x%lx worker_failures=%ld\n", result,
         *step, child_waited(), atomic_load(&worker_failures));
  return strcmp(result, "ok") ? 1 : 0;
}
