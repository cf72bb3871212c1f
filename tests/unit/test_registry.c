/* test_registry.c - the handle registry (shim/registry.c): lookups of
 * many handles, removal with the probe runs shifted back, growth, the
 * thread's last answer given up when the table changed, and lookups from
 * several threads while others insert and remove. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "handle.h"
#include "registry.h"

#define MANY 10000

static char arena[MANY * 4 * 16];  /* distinct, 16-byte spaced addresses */

static CURL *addr(size_t i)
{
  return (CURL *)(arena + i * 16);
}

static struct ss_handle *state_for(CURL *e)
{
  struct ss_handle *s = calloc(1, sizeof(*s));
  s->easy = e;
  return s;
}

static int put(struct ss_handle *s)
{
  int failed;
  struct ss_handle *stale = registry_put(s, &failed);
  free(stale);
  return !failed;
}

TEST(many_handles)
{
  static struct ss_handle *st[MANY];
  for(size_t i = 0; i < MANY; i++) {
    st[i] = state_for(addr(i));
    CHECK(put(st[i]));
  }
  int wrong = 0;
  for(size_t i = 0; i < MANY; i++)
    wrong += registry_get(addr(i)) != st[i];
  CHECK(wrong == 0);
  CHECK(registry_get(addr(MANY)) == NULL);
  /* every other one out: the rest must still be found */
  for(size_t i = 0; i < MANY; i += 2)
    CHECK(registry_take(addr(i)) == st[i]);
  wrong = 0;
  for(size_t i = 0; i < MANY; i++)
    wrong += registry_get(addr(i)) != (i % 2 ? st[i] : NULL);
  CHECK(wrong == 0);
  for(size_t i = 0; i < MANY; i++) {
    if(i % 2)
      CHECK(registry_take(addr(i)) == st[i]);
    free(st[i]);
  }
  CHECK(registry_get(addr(1)) == NULL);
}

TEST(last_answer_follows_changes)
{
  CURL *e = addr(7);
  struct ss_handle *a = state_for(e), *b = state_for(e);
  CHECK(put(a));
  CHECK(registry_get(e) == a);
  CHECK(registry_get(e) == a);  /* the thread's last answer */
  CHECK(registry_take(e) == a);
  CHECK(registry_get(e) == NULL);
  CHECK(put(b));  /* the same address back, new state */
  CHECK(registry_get(e) == b);
  /* a stale state under the address is handed back on insert */
  int failed;
  CHECK(registry_put(a, &failed) == b && !failed);
  CHECK(registry_get(e) == a);
  CHECK(registry_take(e) == a);
  free(a);
  free(b);
}

TEST(multi_membership)
{
  struct ss_handle *s[3];
  struct ss_handle *out[3];
  CURLM *m = (CURLM *)&s;
  for(int i = 0; i < 3; i++) {
    s[i] = state_for(addr(100 + (size_t)i));
    CHECK(put(s[i]));
  }
  registry_set_multi(s[0], m);
  registry_set_multi(s[2], m);
  CHECK(registry_in_multi(m, out, 3) == 2);
  CHECK(registry_leave_multi(m, out, 3) == 2);
  CHECK(registry_in_multi(m, out, 3) == 0);
  for(int i = 0; i < 3; i++) {
    CHECK(registry_take(s[i]->easy) == s[i]);
    free(s[i]);
  }
}

#define THREADS 4
#define ROUNDS 2000
#define PER 64

/* Each thread inserts, looks up and removes its own handles while the
 * others change the table (and grow it): its lookups stay right. */
static void *churn(void *arg)
{
  size_t base = MANY + (size_t)(uintptr_t)arg * PER;
  struct ss_handle *mine[PER];
  long wrong = 0;
  for(int r = 0; r < ROUNDS; r++) {
    for(size_t i = 0; i < PER; i++) {
      mine[i] = state_for(addr(base + i));
      if(!put(mine[i]))
        wrong++;
    }
    for(size_t i = 0; i < PER; i++)
      wrong += registry_get(addr(base + i)) != mine[i];
    for(size_t i = 0; i < PER; i++) {
      wrong += registry_take(addr(base + i)) != mine[i];
      wrong += registry_get(addr(base + i)) != NULL;
      free(mine[i]);
    }
  }
  return (void *)(intptr_t)wrong;
}

TEST(threads)
{
  pthread_t t[THREADS];
  for(uintptr_t i = 0; i < THREADS; i++)
    CHECK(!pthread_create(&t[i], NULL, churn, (void *)i));
  long wrong = 0;
  for(int i = 0; i < THREADS; i++) {
    void *w;
    pthread_join(t[i], &w);
    wrong += (long)(intptr_t)w;
  }
  CHECK(wrong == 0);
}

int main(void)
{
  RUN(many_handles);
  RUN(last_answer_follows_changes);
  RUN(multi_membership);
  RUN(threads);
  return check_done();
}
