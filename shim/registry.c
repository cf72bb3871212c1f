/* registry.c - handle -> state map (see registry.h). Linear probing with
 * backward-shift deletion; grows at half load.
 *
 * Lookups take no lock: every hook looks its handle up, several times per
 * transfer, from any thread. Writers (insert, remove, grow) hold the mutex
 * and make the sequence count odd while they change the table; a reader
 * probes the keys stored in the table itself (it never follows a state
 * pointer that another thread may be freeing) and tries again when the
 * count moved. A table that was grown out of is kept, never freed: a
 * reader may still be probing it; the old ones add up to less than the
 * current one. */
#include "registry.h"
#include "at_fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "handle.h"

struct slot {
  _Atomic(const CURL *) key;
  _Atomic(struct ss_handle *) val;
};

struct registry_table {
  size_t n;              /* a power of two */
  struct registry_table *older;   /* the one it replaced, kept for readers */
  struct slot s[];
};

_Atomic(struct registry_table *) registry_cur;
static size_t nused;
static atomic_uint seq;   /* odd while a writer changes the table */
/* Inserts and removals so far: a thread's last answer stands while this
 * has not moved (each hook looks up the handle its caller passes, and
 * one transfer's calls come from one thread, on one handle). */
static atomic_ulong changes;
static _Thread_local struct {
  const CURL *h;
  struct ss_handle *s;
  unsigned long changes;
} last __attribute__((tls_model("initial-exec")));  /* as defer.c's */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Fork handlers (at_load.c): a fork never finds a writer half-way,
 * writers hold the lock. */
void registry_fork_prepare(void) { pthread_mutex_lock(&lock); }
void registry_fork_after(void) { pthread_mutex_unlock(&lock); }

static struct registry_table *load_cur(memory_order o)
{
  return atomic_load_explicit(&registry_cur, o);
}

/* Slot index for a handle address: multiplicative hashing of the pointer. */
static size_t home(const CURL *h, size_t n)
{
  uint64_t x = (uint64_t)(uintptr_t)h >> 4;
  return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 20) & (n - 1);
}

/* Slots are read with acquire and written with release (plain moves on
 * x86): a reader that sees a writer's slot then sees its odd count. No
 * fences: TSan does not model them. */
static const CURL *key_at(const struct registry_table *t, size_t i)
{
  return atomic_load_explicit(&t->s[i].key, memory_order_acquire);
}

static struct ss_handle *val_at(const struct registry_table *t, size_t i)
{
  return atomic_load_explicit(&t->s[i].val, memory_order_acquire);
}

static void set_slot(struct registry_table *t, size_t i, const CURL *k,
                     struct ss_handle *v)
{
  atomic_store_explicit(&t->s[i].key, k, memory_order_release);
  atomic_store_explicit(&t->s[i].val, v, memory_order_release);
}

/* The slot holding h, or the empty slot where it would go. A reader may
 * see a table being changed: the bound keeps its probe finite. */
static inline __attribute__((always_inline))
size_t probe(const struct registry_table *t, const CURL *h)
{
  size_t i = home(h, t->n);
  for(size_t k = 0; k < t->n; k++) {
    const CURL *at = key_at(t, i);
    if(!at || at == h)
      return i;
    i = (i + 1) & (t->n - 1);
  }
  return i;
}

/* A writer's change of the table, between begin and end. */
static void write_begin(void)
{
  atomic_store_explicit(&seq, atomic_load_explicit(&seq, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

static void write_end(void)
{
  atomic_store_explicit(&seq, atomic_load_explicit(&seq, memory_order_relaxed) + 1,
                        memory_order_release);
}

/* Double the table (or create it); false when memory runs out. Under the
 * lock; the new table is filled before readers can see it. */
static int grow(void)
{
  struct registry_table *old = load_cur(memory_order_relaxed);
  size_t n = old ? old->n * 2 : 64;
  struct registry_table *t = calloc(1, sizeof(*t) + n * sizeof(t->s[0]));
  if(!t)
    return 0;
  t->n = n;
  t->older = old;
  for(size_t i = 0; old && i < old->n; i++) {
    const CURL *k = key_at(old, i);
    if(k)
      set_slot(t, probe(t, k), k, val_at(old, i));
  }
  atomic_store_explicit(&registry_cur, t, memory_order_release);
  return 1;
}

/* A writer was busy: wait for it rather than spin. Out of line, so that
 * the lookup's common path saves no registers. */
__attribute__((noinline, cold))
static struct ss_handle *get_locked(const CURL *h)
{
  pthread_mutex_lock(&lock);
  struct registry_table *t = load_cur(memory_order_relaxed);
  size_t i = probe(t, h);
  struct ss_handle *v = key_at(t, i) == h ? val_at(t, i) : NULL;
  pthread_mutex_unlock(&lock);
  return v;
}

/* The lookup itself, without the thread's last answer. */
static struct ss_handle *get(const CURL *h)
{
  unsigned s1 = atomic_load_explicit(&seq, memory_order_acquire);
  struct registry_table *t = load_cur(memory_order_acquire);
  if(!t)
    return NULL;
  if(s1 & 1)
    return get_locked(h);
  size_t i = probe(t, h);
  struct ss_handle *v = key_at(t, i) == h ? val_at(t, i) : NULL;
  if(atomic_load_explicit(&seq, memory_order_relaxed) != s1)
    return get_locked(h);
  return v;
}

struct ss_handle *registry_get(const CURL *h)
{
  if(registry_unused())  /* nothing ever tracked (mode off) */
    return NULL;
  unsigned long c = atomic_load_explicit(&changes, memory_order_acquire);
  if(last.h == h && last.changes == c && h)
    return last.s;
  /* c was read first: a change during the lookup makes the next call
   * look again */
  struct ss_handle *v = get(h);
  last.h = h;
  last.s = v;
  last.changes = c;
  return v;
}

struct ss_handle *registry_put(struct ss_handle *s, int *failed)
{
  struct ss_handle *stale = NULL;
  pthread_mutex_lock(&lock);
  *failed = 0;
  write_begin();
  struct registry_table *t = load_cur(memory_order_relaxed);
  if((!t || (nused + 1) * 2 > t->n) && !grow())
    *failed = 1;
  else {
    t = load_cur(memory_order_relaxed);
    size_t i = probe(t, s->easy);
    stale = key_at(t, i) ? val_at(t, i) : NULL;
    if(!stale)
      nused++;
    set_slot(t, i, s->easy, s);
    atomic_fetch_add_explicit(&changes, 1, memory_order_release);
  }
  write_end();
  pthread_mutex_unlock(&lock);
  return stale;
}

/* Remove slot i and shift later members of its probe run back. */
static void delete_slot(struct registry_table *t, size_t i)
{
  size_t j = i, n = t->n;
  set_slot(t, i, NULL, NULL);
  for(;;) {
    j = (j + 1) & (n - 1);
    const CURL *kj = key_at(t, j);
    if(!kj)
      break;
    size_t k = home(kj, n);
    /* Move j to i unless its home lies cyclically in (i, j]. */
    if((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
      set_slot(t, i, kj, val_at(t, j));
      set_slot(t, j, NULL, NULL);
      i = j;
    }
  }
}

struct ss_handle *registry_take(const CURL *h)
{
  struct ss_handle *s = NULL;
  pthread_mutex_lock(&lock);
  struct registry_table *t = load_cur(memory_order_relaxed);
  if(t) {
    size_t i = probe(t, h);
    if(key_at(t, i) == h) {
      s = val_at(t, i);
      write_begin();
      delete_slot(t, i);
      atomic_fetch_add_explicit(&changes, 1, memory_order_release);
      write_end();
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
  struct registry_table *t = load_cur(memory_order_relaxed);
  for(size_t i = 0; t && i < t->n; i++) {
    struct ss_handle *s = key_at(t, i) ? val_at(t, i) : NULL;
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
