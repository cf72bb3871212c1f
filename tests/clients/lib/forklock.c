/* forklock.c - a test-only interposer that forks the program while a
 * thread holds one of the shim's locks (tests/test_fork.py).
 *
 * Preloaded after libstreamshim.so, it wraps what the shim calls through
 * its PLT: pthread_mutex_lock/trylock, pthread_once and flock, plus fork
 * (and unlock, to know what the parked thread holds). An object belongs
 * to the shim when its address (a mutex, a once control)
 * or the caller's (flock) lies inside libstreamshim.so; the others pass
 * straight through.
 *
 *   FORKLOCK_REPORT=path   at exit, one line per shim object seen:
 *                          "mutex|once|flock OFFSET CALLER" (offsets into
 *                          the shim; flock has no object: OFFSET is 0)
 *   FORKLOCK_TARGET=spec   "mutex:OFFSET", "once:OFFSET" or "flock": the
 *                          first thread other than the main one that holds
 *                          it (a mutex locked, inside the once routine
 *                          after it ran, a flock taken) parks there
 *
 * A parked thread stays in its critical section until the fork has either
 * happened (the parent returns from fork: without a fork handler the child
 * inherits the object held) or is waiting for that very object (a prepare
 * handler asks for the mutex: the fork would wait for the lock, so the
 * thread goes on and the fork takes it; likewise for another shim mutex
 * it holds), or FORKLOCK_WAIT_MS (10000) pass.
 * Deterministic: the fork happens inside the critical section every time.
 *
 * The program drives it through forklock_parked() (dlsym): 1 once a thread
 * is parked. forklock_flock_done() says whether the parked flock has been
 * released in the parent (its fd closed or unlocked); forklock_waited()
 * the offset of the shim mutex a main thread (a hung child's) was last
 * blocked on, 0 for none. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

enum kind { K_MUTEX, K_ONCE, K_FLOCK };
static const char *const kind_name[] = { "mutex", "once", "flock" };

struct seen {
  enum kind kind;
  uintptr_t off, caller;
};

static uintptr_t shim_lo, shim_hi;  /* the shim's mapping */
static struct seen seen[128];
static atomic_int nseen;
static atomic_flag seen_lock = ATOMIC_FLAG_INIT;

static enum kind target_kind;
static uintptr_t target_off;
static atomic_int armed;            /* a target is set, nobody parked yet */
static atomic_int parked, released;
static atomic_int flock_fd = -1, flock_done;
static atomic_long forker;          /* tid of the thread inside fork() */
static long wait_ms = 10000;
/* The shim mutex a main thread waits for (offset + 1), in a page the
 * children share: a hung child's parent can say which lock it hung on. */
static volatile uintptr_t *waiting;
#define HELD_MAX 16
static _Thread_local pthread_mutex_t *held[HELD_MAX];  /* this thread's */
static _Thread_local int nheld;
static pthread_mutex_t *parked_held[HELD_MAX];  /* the parked thread's */
static int nparked_held;                        /* set before parked */

static int (*real_lock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);
static int (*real_once)(pthread_once_t *, void (*)(void));
static int (*real_flock)(int, int);
static int (*real_close)(int);
static pid_t (*real_fork)(void);

API int forklock_parked(void);
API int forklock_flock_done(void);
API unsigned long forklock_waited(void);
API int pthread_mutex_lock(pthread_mutex_t *m);
API int pthread_mutex_trylock(pthread_mutex_t *m);
API int pthread_mutex_unlock(pthread_mutex_t *m);
API int pthread_once(pthread_once_t *c, void (*init)(void));
API int flock(int fd, int op);
API int close(int fd);
API pid_t fork(void);

/* dl_iterate_phdr callback: the address range of libstreamshim.so. */
static int find_shim(struct dl_phdr_info *info, size_t size, void *arg)
{
  (void)size;
  (void)arg;
  if(!info->dlpi_name || !strstr(info->dlpi_name, "/libstreamshim.so"))
    return 0;
  shim_lo = info->dlpi_addr;  /* offsets are relative to the load base */
  for(int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    if(ph->p_type == PT_LOAD && hi > shim_hi)
      shim_hi = hi;
  }
  return 1;
}

static void resolve(void)
{
  *(void **)&real_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
  *(void **)&real_trylock = dlsym(RTLD_NEXT, "pthread_mutex_trylock");
  *(void **)&real_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
  *(void **)&real_once = dlsym(RTLD_NEXT, "pthread_once");
  *(void **)&real_flock = dlsym(RTLD_NEXT, "flock");
  *(void **)&real_close = dlsym(RTLD_NEXT, "close");
  *(void **)&real_fork = dlsym(RTLD_NEXT, "fork");
}

__attribute__((constructor)) static void forklock_init(void)
{
  const char *t = getenv("FORKLOCK_TARGET"), *w = getenv("FORKLOCK_WAIT_MS");
  resolve();
  dl_iterate_phdr(find_shim, NULL);
  void *page = mmap(NULL, sizeof(*waiting), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(page != MAP_FAILED)
    waiting = page;
  if(w)
    wait_ms = atol(w);
  if(!t || !shim_hi)
    return;
  if(!strncmp(t, "mutex:", 6) || !strncmp(t, "once:", 5)) {
    target_kind = t[0] == 'm' ? K_MUTEX : K_ONCE;
    target_off = (uintptr_t)strtoull(strchr(t, ':') + 1, NULL, 0);
    atomic_store(&armed, 1);
  }
  else if(!strcmp(t, "flock")) {
    target_kind = K_FLOCK;
    atomic_store(&armed, 1);
  }
}

static bool in_shim(const void *p)
{
  uintptr_t a = (uintptr_t)p;
  return a >= shim_lo && a < shim_hi;
}

/* Remember a shim object once, with the first caller that used it. */
static void note(enum kind k, const void *obj, const void *caller)
{
  uintptr_t off = obj ? (uintptr_t)obj - shim_lo : 0;
  int n = atomic_load(&nseen);
  for(int i = 0; i < n; i++)
    if(seen[i].kind == k && seen[i].off == off)
      return;
  while(atomic_flag_test_and_set(&seen_lock))
    ;
  n = atomic_load(&nseen);
  bool dup = false;
  for(int i = 0; i < n && !dup; i++)
    dup = seen[i].kind == k && seen[i].off == off;
  if(!dup && n < 128) {
    seen[n] = (struct seen){ k, off, (uintptr_t)caller - shim_lo };
    atomic_store(&nseen, n + 1);
  }
  atomic_flag_clear(&seen_lock);
}

static bool is_target(enum kind k, const void *obj)
{
  return atomic_load(&armed) && k == target_kind &&
         (k == K_FLOCK || (uintptr_t)obj - shim_lo == target_off);
}

/* Hold the current thread in its critical section (see the top). */
static void park(void)
{
  struct timespec ts = { 0, 1000000 };
  for(int i = 0; i < nheld; i++)
    parked_held[i] = held[i];
  nparked_held = nheld;
  atomic_store(&parked, 1);
  for(long ms = 0; ms < wait_ms && !atomic_load(&released); ms++)
    nanosleep(&ts, NULL);
}

/* Park here if this is the target and this thread is not the main one. */
static void maybe_park(enum kind k, const void *obj)
{
  int one = 1;
  if(!is_target(k, obj) || gettid() == getpid())
    return;
  if(atomic_compare_exchange_strong(&armed, &one, 0))
    park();
}

/* The thread inside fork() asks for a shim mutex that the parked thread
 * holds: a prepare handler that will wait for it (the target itself, or,
 * for a flock, a mutex that guards the file lock). Let the parked thread
 * go on; the fork then takes the lock. */
static void fork_wants(pthread_mutex_t *m)
{
  if(!atomic_load(&parked) || atomic_load(&forker) != gettid())
    return;
  for(int i = 0; i < nparked_held; i++)
    if(parked_held[i] == m)
      atomic_store(&released, 1);
}

/* Track the shim mutexes this thread holds. */
static void held_add(pthread_mutex_t *m)
{
  if(nheld < HELD_MAX)
    held[nheld++] = m;
}

static void held_drop(pthread_mutex_t *m)
{
  for(int i = nheld - 1; i >= 0; i--)
    if(held[i] == m) {
      held[i] = held[--nheld];
      return;
    }
}

int forklock_parked(void)
{
  return atomic_load(&parked);
}

int forklock_flock_done(void)
{
  return atomic_load(&flock_done);
}

unsigned long forklock_waited(void)
{
  return waiting && *waiting ? (unsigned long)(*waiting - 1) : 0;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
  if(!real_lock)
    resolve();
  if(!in_shim(m))
    return real_lock(m);
  note(K_MUTEX, m, __builtin_return_address(0));
  fork_wants(m);
  bool main_thread = waiting && gettid() == getpid();
  if(main_thread)
    *waiting = (uintptr_t)m - shim_lo + 1;
  int rc = real_lock(m);
  if(main_thread)
    *waiting = 0;
  if(!rc) {
    held_add(m);
    maybe_park(K_MUTEX, m);
  }
  return rc;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
  if(!real_trylock)
    resolve();
  int rc = real_trylock(m);
  if(in_shim(m)) {
    note(K_MUTEX, m, __builtin_return_address(0));
    if(!rc) {
      held_add(m);
      maybe_park(K_MUTEX, m);
    }
  }
  return rc;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
  if(!real_unlock)
    resolve();
  if(in_shim(m))
    held_drop(m);
  return real_unlock(m);
}

/* The routine of the parked once control, and the control (this thread). */
static _Thread_local void (*once_init)(void);
static _Thread_local pthread_once_t *once_ctl;

static void once_trampoline(void)
{
  void (*init)(void) = once_init;
  pthread_once_t *c = once_ctl;
  init();
  maybe_park(K_ONCE, c);  /* done, but not yet marked done */
}

int pthread_once(pthread_once_t *c, void (*init)(void))
{
  if(!real_once)
    resolve();
  if(!in_shim(c))
    return real_once(c, init);
  note(K_ONCE, c, __builtin_return_address(0));
  if(!is_target(K_ONCE, c))
    return real_once(c, init);
  once_init = init;
  once_ctl = c;
  return real_once(c, once_trampoline);
}

int flock(int fd, int op)
{
  const void *caller = __builtin_return_address(0);
  if(!real_flock)
    resolve();
  int rc = real_flock(fd, op);
  if(in_shim(caller)) {
    note(K_FLOCK, NULL, caller);
    if(fd == atomic_load(&flock_fd) && (op & LOCK_UN))
      atomic_store(&flock_done, 1);
    if(!rc && !(op & LOCK_UN) && is_target(K_FLOCK, NULL) &&
       gettid() != getpid()) {
      atomic_store(&flock_fd, fd);
      maybe_park(K_FLOCK, NULL);
    }
  }
  return rc;
}

int close(int fd)
{
  if(!real_close)
    resolve();
  int rc = real_close(fd);
  if(fd >= 0 && fd == atomic_load(&flock_fd) &&
     in_shim(__builtin_return_address(0))) {
    atomic_store(&flock_fd, -1);
    atomic_store(&flock_done, 1);
  }
  return rc;
}

pid_t fork(void)
{
  if(!real_fork)
    resolve();
  atomic_store(&forker, gettid());
  pid_t pid = real_fork();
  if(pid == 0) {  /* the child: one thread, nothing parked */
    atomic_store(&armed, 0);
    atomic_store(&parked, 0);
    atomic_store(&released, 1);
    atomic_store(&flock_fd, -1);
    nparked_held = 0;
  }
  atomic_store(&forker, 0);
  if(pid > 0)
    atomic_store(&released, 1);
  return pid;
}

__attribute__((destructor)) static void forklock_report(void)
{
  const char *path = getenv("FORKLOCK_REPORT");
  if(!path || !*path)
    return;
  FILE *f = fopen(path, "w");
  if(!f)
    return;
  int n = atomic_load(&nseen);
  for(int i = 0; i < n; i++)
    fprintf(f, "%s 0x%lx 0x%lx\n", kind_name[seen[i].kind],
            (unsigned long)seen[i].off, (unsigned long)seen[i].caller);
  fclose(f);
}
