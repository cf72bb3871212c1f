/* defer.c - deferred work per multi handle, and the thread's driver (see
 * defer.h). A short list under a mutex: it holds only transfers that wait
 * for a retry or between paced events, usually none, so the drive hooks
 * check an atomic count first and pay nothing when it is zero. */
#include "defer.h"
#include "at_fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct entry {
  struct ss_handle *h;
  CURLM *m;
  enum ss_defer_kind kind;
  uint64_t due;
};

static struct entry *list;
static size_t used, cap;
static atomic_size_t count;  /* == used; read without the lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* initial-exec: no __tls_get_addr, so no dependency on the dynamic
 * loader's own library (the shim is preloaded, never dlopen'ed late) */
static _Thread_local struct ss_drive *top
  __attribute__((tls_model("initial-exec")));

/* A fork while another thread holds the lock must not leave it held
 * (at_load.c registers these). */
void defer_fork_prepare(void) { pthread_mutex_lock(&lock); }
void defer_fork_after(void) { pthread_mutex_unlock(&lock); }

uint64_t defer_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Remove entry i (the lock held). */
static void drop(size_t i)
{
  list[i] = list[--used];
  atomic_store(&count, used);
}

/* The index of h's entry, or used (the lock held). */
static size_t find(const struct ss_handle *h)
{
  size_t i = 0;
  while(i < used && list[i].h != h)
    i++;
  return i;
}

int defer_add(struct ss_handle *h, CURLM *m, enum ss_defer_kind kind,
              uint64_t due_ms)
{
  int ok = 1;
  pthread_mutex_lock(&lock);
  size_t i = find(h);
  if(i == used && used == cap) {
    size_t n = cap ? cap * 2 : 16;
    struct entry *l = realloc(list, n * sizeof(*l));
    if(l) {
      list = l;
      cap = n;
    }
    else
      ok = 0;
  }
  if(ok) {
    list[i] = (struct entry){h, m, kind, due_ms};
    if(i == used)
      used++;
    atomic_store(&count, used);
  }
  pthread_mutex_unlock(&lock);
  return ok;
}

bool defer_queued(void)
{
  return atomic_load_explicit(&count, memory_order_relaxed) != 0;
}

bool defer_take_due(CURLM *m, uint64_t now_ms, unsigned kinds,
                    struct ss_deferred *out)
{
  bool found = false;
  if(!atomic_load(&count))
    return false;
  pthread_mutex_lock(&lock);
  for(size_t i = 0; i < used && !found; i++) {
    if(list[i].m == m && list[i].due <= now_ms &&
       (kinds & (1u << list[i].kind))) {
      *out = (struct ss_deferred){list[i].h, list[i].kind};
      drop(i);
      found = true;
    }
  }
  pthread_mutex_unlock(&lock);
  return found;
}

bool defer_pending(const struct ss_handle *h, enum ss_defer_kind kind)
{
  bool found = false;
  if(!atomic_load(&count))
    return false;
  pthread_mutex_lock(&lock);
  size_t i = find(h);
  found = i < used && list[i].kind == kind;
  pthread_mutex_unlock(&lock);
  return found;
}

long defer_wait_ms(CURLM *m, uint64_t now_ms)
{
  long best = -1;
  if(!atomic_load(&count))
    return -1;
  pthread_mutex_lock(&lock);
  for(size_t i = 0; i < used; i++) {
    if(list[i].m != m)
      continue;
    long w = list[i].due <= now_ms ? 0 : (long)(list[i].due - now_ms);
    if(best < 0 || w < best)
      best = w;
  }
  pthread_mutex_unlock(&lock);
  return best;
}

void defer_forget(const struct ss_handle *h)
{
  if(!atomic_load(&count))
    return;
  pthread_mutex_lock(&lock);
  size_t i = find(h);
  if(i < used)
    drop(i);
  pthread_mutex_unlock(&lock);
}

void defer_drive_begin(struct ss_drive *f, enum ss_driver d, CURLM *m)
{
  *f = (struct ss_drive){d, m, false, top};
  top = f;
}

void defer_deliver_begin(struct ss_drive *f, CURLM *m)
{
  *f = (struct ss_drive){SS_DRIVE_OTHER, m, true, top};
  top = f;
}

void defer_drive_end(struct ss_drive *f)
{
  top = f->up;
}

enum ss_driver defer_driver(void)
{
  return top ? top->d : SS_DRIVE_OTHER;
}

bool defer_outside_callbacks(void)
{
  return !top;
}

bool defer_in_callback_of(CURLM *m)
{
  for(const struct ss_drive *f = top; m && f; f = f->up)
    if(f->m == m)
      return true;
  return false;
}

bool defer_delivering(CURLM *m)
{
  for(const struct ss_drive *f = top; f; f = f->up)
    if(f->delivering && f->m == m)
      return true;
  return false;
}

size_t defer_count(CURLM *m, enum ss_defer_kind kind)
{
  size_t n = 0;
  if(!atomic_load(&count))
    return 0;
  pthread_mutex_lock(&lock);
  for(size_t i = 0; i < used; i++)
    n += list[i].m == m && list[i].kind == kind;
  pthread_mutex_unlock(&lock);
  return n;
}
