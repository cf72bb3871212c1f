/* registry.c - handle -> state map (see registry.h). Linear probing with
 * backward-shift deletion; grows at half load. */
#include "registry.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "handle.h"

static struct ss_handle **slots;
static size_t nslots, nused;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_all(void) { pthread_mutex_lock(&lock); }
static void unlock_all(void) { pthread_mutex_unlock(&lock); }

/* Registered at load, before any thread can take the lock: a handler
 * registered lazily could miss a fork already under way, and one
 * registered by a once routine a child re-runs would run twice. */
__attribute__((constructor)) static void install_atfork(void)
{
  pthread_atfork(lock_all, unlock_all, unlock_all);
}

/* Slot index for a handle address: multiplicative hashing of the pointer. */
static size_t home(const CURL *h, size_t n)
{
  uint64_t x = (uint64_t)(uintptr_t)h >> 4;
  return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 20) & (n - 1);
}

/* The slot holding h, or the empty slot where it would go. */
static size_t probe(const CURL *h)
{
  size_t i = home(h, nslots);
  while(slots[i] && slots[i]->easy != h)
    i = (i + 1) & (nslots - 1);
  return i;
}

/* Double the table (or create it); false when memory runs out. */
static int grow(void)
{
  size_t n = nslots ? nslots * 2 : 64;
  struct ss_handle **old = slots, **t = calloc(n, sizeof(*t));
  if(!t)
    return 0;
  size_t oldn = nslots;
  slots = t;
  nslots = n;
  for(size_t i = 0; i < oldn; i++)
    if(old[i])
      slots[probe(old[i]->easy)] = old[i];
  free(old);
  return 1;
}

struct ss_handle *registry_get(const CURL *h)
{
  struct ss_handle *s = NULL;
  pthread_mutex_lock(&lock);
  if(nslots)
    s = slots[probe(h)];
  pthread_mutex_unlock(&lock);
  return s;
}

struct ss_handle *registry_put(struct ss_handle *s, int *failed)
{
  struct ss_handle *stale = NULL;
  pthread_mutex_lock(&lock);
  *failed = 0;
  if((nused + 1) * 2 > nslots && !grow())
    *failed = 1;
  else {
    size_t i = probe(s->easy);
    stale = slots[i];
    if(!stale)
      nused++;
    slots[i] = s;
  }
  pthread_mutex_unlock(&lock);
  return stale;
}

/* Remove slot i and shift later members of its probe run back. */
static void delete_slot(size_t i)
{
  size_t j = i;
  slots[i] = NULL;
  for(;;) {
    j = (j + 1) & (nslots - 1);
    if(!slots[j])
      break;
    size_t k = home(slots[j]->easy, nslots);
    /* Move j to i unless its home lies cyclically in (i, j]. */
    if((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
      slots[i] = slots[j];
      slots[j] = NULL;
      i = j;
    }
  }
}

struct ss_handle *registry_take(const CURL *h)
{
  struct ss_handle *s = NULL;
  pthread_mutex_lock(&lock);
  if(nslots) {
    size_t i = probe(h);
    s = slots[i];
    if(s) {
      delete_slot(i);
      nused--;
    }
  }
  pthread_mutex_unlock(&lock);
  return s;
}

void registry_set_multi(struct ss_handle *s, CURLM *m)
{
  pthread_mutex_lock(&lock);
  s->in_multi = m;
  pthread_mutex_unlock(&lock);
}

/* The handles in m into out (up to max); with leave, out of m. */
static size_t collect_multi(CURLM *m, struct ss_handle **out, size_t max,
                            bool leave)
{
  size_t n = 0;
  pthread_mutex_lock(&lock);
  for(size_t i = 0; i < nslots; i++) {
    struct ss_handle *s = slots[i];
    if(s && s->in_multi == m) {
      if(leave)
        s->in_multi = NULL;
      if(n < max)
        out[n++] = s;
    }
  }
  pthread_mutex_unlock(&lock);
  return n;
}

size_t registry_in_multi(CURLM *m, struct ss_handle **out, size_t max)
{
  return collect_multi(m, out, max, false);
}

size_t registry_leave_multi(CURLM *m, struct ss_handle **out, size_t max)
{
  return collect_multi(m, out, max, true);
}
