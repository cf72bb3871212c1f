/* real.c - find the real libcurl functions per flavour (see real.h). */
#include "real.h"
#include "at_fork.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "settings.h"

#define REAL_FUNCS(X)                               \
  X(easy_init, "curl_easy_init")                    \
  X(easy_duphandle, "curl_easy_duphandle")          \
  X(easy_reset, "curl_easy_reset")                  \
  X(easy_cleanup, "curl_easy_cleanup")              \
  X(easy_setopt, "curl_easy_setopt")                \
  X(easy_perform, "curl_easy_perform")              \
  X(easy_getinfo, "curl_easy_getinfo")              \
  X(easy_header, "curl_easy_header")                \
  X(easy_nextheader, "curl_easy_nextheader")        \
  X(multi_add_handle, "curl_multi_add_handle")      \
  X(multi_remove_handle, "curl_multi_remove_handle") \
  X(multi_info_read, "curl_multi_info_read")        \
  X(multi_cleanup, "curl_multi_cleanup")            \
  X(multi_perform, "curl_multi_perform")            \
  X(multi_socket_action, "curl_multi_socket_action") \
  X(multi_poll, "curl_multi_poll")                  \
  X(multi_wait, "curl_multi_wait")                  \
  X(multi_timeout, "curl_multi_timeout")            \
  X(easy_pause, "curl_easy_pause")                  \
  X(easy_strerror, "curl_easy_strerror")

static const struct {  /* arrays, not pointers: no relocation at load */
  char version[16];
  char name[8];
} flavours[SS_FL_COUNT] = {
  {"CURL_OPENSSL_4", "openssl"},
  {"CURL_GNUTLS_3", "gnutls"},
  {"CURL_NSS_3", "nss"},
};

struct ss_real_state ss_real_states[SS_FL_COUNT];
const struct ss_real ss_real_none;  /* returned until a flavour resolves */
static pthread_mutex_t publish_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned fork_depth;  /* under glibc's fork lock */

/* A fork while another thread publishes must not leave the lock held in
 * the child: it resolves there again if that flavour was not ready. The
 * depth is a guard: handlers that ran twice for one fork must not lock
 * twice. */
void real_fork_prepare(void)  /* (at_load.c) */
{
  if(!fork_depth++)
    pthread_mutex_lock(&publish_lock);
}

void real_fork_after(void)
{
  if(fork_depth && !--fork_depth)
    pthread_mutex_unlock(&publish_lock);
}

/* The load address of the shim itself, to skip it when searching. */
static uintptr_t self_base(void)
{
  Dl_info di;
  if(dladdr((void *)&self_base, &di))
    return (uintptr_t)di.dli_fbase;
  return 0;
}

struct object_list {
  char *path[256];
  uintptr_t base[256];
  size_t n;
};

/* dl_iterate_phdr callback: note each named shared object. dlopen must not
 * run under the loader lock held here, so only collect. */
static int collect_object(struct dl_phdr_info *info, size_t size, void *arg)
{
  struct object_list *l = arg;
  (void)size;
  if(!info->dlpi_name || !info->dlpi_name[0] || l->n >= 256)
    return 0;
  char *p = strdup(info->dlpi_name);
  if(p) {
    l->path[l->n] = p;
    l->base[l->n++] = (uintptr_t)info->dlpi_addr;
  }
  return 0;
}

/* Look for a definition of name (version ver, or unversioned when ver is
 * NULL) in one loaded object; the definition must live in that object. */
static void *find_in_object(const char *path, uintptr_t base,
                            const char *name, const char *ver)
{
  void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
  if(!h)
    return NULL;
  void *sym = ver ? dlvsym(h, name, ver) : dlsym(h, name);
  Dl_info di;
  if(sym && !(dladdr(sym, &di) && (uintptr_t)di.dli_fbase == base))
    sym = NULL;
  dlclose(h);
  return sym;
}

/* Search every loaded object except the shim; *where gets the path. */
static void *find_in_loaded(const char *name, const char *ver, bool any_ver,
                            char **where)
{
  struct object_list l = {.n = 0};
  uintptr_t self = self_base();
  void *sym = NULL;
  dl_iterate_phdr(collect_object, &l);
  for(size_t i = 0; i < l.n && !sym; i++) {
    if(l.base[i] == self)
      continue;
    sym = find_in_object(l.path[i], l.base[i], name, ver);
    if(!sym && any_ver)
      sym = find_in_object(l.path[i], l.base[i], name, NULL);
    if(sym && !*where)
      *where = strdup(l.path[i]);
  }
  for(size_t i = 0; i < l.n; i++)
    free(l.path[i]);
  return sym;
}

/* Resolve one function of a flavour; *how says which route worked. */
static void *resolve_one(enum ss_flavour fl, const char *name,
                         const char **how, char **where)
{
  const char *ver = flavours[fl].version;
  bool dflt = fl == SS_FL_OPENSSL;
  void *sym = dlvsym(RTLD_NEXT, name, ver);
  *how = "RTLD_NEXT";
  if(!sym && dflt) {
    sym = dlsym(RTLD_NEXT, name);
    *how = "RTLD_NEXT, unversioned";
  }
  if(!sym) {
    sym = find_in_loaded(name, ver, dflt, where);
    *how = "the loaded objects";
  }
  return sym;
}

struct code_range {
  uintptr_t base, lo, hi;
};

/* dl_iterate_phdr callback: the executable segments of the object at base. */
static int find_code(struct dl_phdr_info *info, size_t size, void *arg)
{
  struct code_range *r = arg;
  (void)size;
  if((uintptr_t)info->dlpi_addr != r->base)
    return 0;
  for(int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if(ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
      continue;
    uintptr_t lo = r->base + ph->p_vaddr, hi = lo + ph->p_memsz;
    if(!r->lo || lo < r->lo)
      r->lo = lo;
    if(hi > r->hi)
      r->hi = hi;
  }
  return 1;
}

/* Resolve a whole flavour; publish it once its setopt exists. The loader
 * calls run outside any lock of ours (a constructor of an object being
 * dlopen'ed may call libcurl while the loader lock is held); two threads
 * may resolve at once, the first to publish wins. */
static void resolve_flavour(enum ss_flavour fl)
{
  struct ss_real_state *s = &ss_real_states[fl];
  struct ss_real fn;
  const char *how = "";
  char *where = NULL;
  memset(&fn, 0, sizeof(fn));
  ss_settings();  /* the log is opened there, so this resolution is logged */
  fn.easy_setopt = (CURLcode(*)(CURL *, CURLoption, ...))resolve_one(
    fl, "curl_easy_setopt", &how, &where);
  if(!fn.easy_setopt) {
    ss_warn("libcurl %s flavour: curl_easy_setopt not found", flavours[fl].name);
    return;
  }
  const char *how2;
#define RESOLVE(field, sym) \
  if(!fn.field) \
    *(void **)&fn.field = resolve_one(fl, sym, &how2, &where);
  REAL_FUNCS(RESOLVE)
#undef RESOLVE
  Dl_info di = {0};
  struct code_range r = {0, 0, 0};
  if(dladdr(*(void **)&fn.easy_setopt, &di)) {
    r.base = (uintptr_t)di.dli_fbase;
    dl_iterate_phdr(find_code, &r);
  }
  ss_info("libcurl %s flavour (%s): %s via %s", flavours[fl].name,
          flavours[fl].version, where ? where : di.dli_fname ? di.dli_fname : "?", how);
  free(where);
  pthread_mutex_lock(&publish_lock);
  if(!atomic_load_explicit(&s->ready, memory_order_relaxed)) {
    s->fn = fn;
    s->code_lo = r.lo;
    s->code_hi = r.hi;
    atomic_store_explicit(&s->ready, 1, memory_order_release);
  }
  pthread_mutex_unlock(&publish_lock);
}

static atomic_bool used;

bool ss_real_used(void)
{
  return atomic_load_explicit(&used, memory_order_relaxed);
}

/* The first call of a flavour resolves it; every later call is one
 * load in ss_real (ready is only ever set, and used was set before it). */
__attribute__((noinline, cold))
const struct ss_real *ss_real_resolve(enum ss_flavour fl)
{
  struct ss_real_state *s = &ss_real_states[fl];
  if(!atomic_load_explicit(&used, memory_order_relaxed))
    atomic_store_explicit(&used, true, memory_order_relaxed);
  if(!atomic_load_explicit(&s->ready, memory_order_acquire))
    resolve_flavour(fl);
  return atomic_load_explicit(&s->ready, memory_order_acquire) ? &s->fn
                                                               : &ss_real_none;
}
