/* at_load.c - the core's one constructor. It runs in every process the
 * library is preloaded into, most of which never call libcurl, so it does
 * two things only: keep the environment's few variables (settings.c) and
 * register the core's fork handlers, once for all of them (each
 * registration is a call into libc; the first one also binds it).
 *
 * The handlers are registered at load, before any thread can take a lock:
 * a handler registered lazily could miss a fork already under way, and
 * one registered by a once routine a child re-runs would run twice. The
 * order is the one the modules' own registrations had: prepare in reverse
 * (registry, real, defer), parent and child forward. */
#include <pthread.h>

#include "at_fork.h"
#include "settings.h"

static void prepare(void)
{
  registry_fork_prepare();
  real_fork_prepare();
  defer_fork_prepare();
}

static void parent(void)
{
  defer_fork_after();
  real_fork_after();
  registry_fork_after();
}

static void child(void)
{
  defer_fork_after();
  monitor_fork_child();
  real_fork_after();
  registry_fork_after();
}

/* glibc passes a constructor the environment: reading environ instead
 * would be a data relocation, a symbol lookup at load in every process. */
__attribute__((constructor)) static void at_load(int argc, char **argv,
                                                 char **envp)
{
  (void)argc;
  (void)argv;
  settings_keep_env(envp);
  pthread_atfork(prepare, parent, child);
}
