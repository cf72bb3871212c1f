/* diagnose.c - say why the shim saw nothing, when the user asked for a log.
 *
 * Some programs use libcurl in ways a preload cannot reach: they link it
 * statically, look its functions up by handle (Ruby FFI, Python ctypes),
 * or bind deeply (RTLD_DEEPBIND, as PHP does without the companion). The
 * shim cannot see their calls, but at exit it can see that libcurl was
 * there and no call came through: then it logs a warning naming the
 * likely reason. Nothing runs unless STREAMSHIM_LOG is set. */
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "real.h"
#include "settings.h"

/* dl_iterate_phdr callback: the first loaded object named like libcurl. */
static int find_libcurl(struct dl_phdr_info *info, size_t size, void *arg)
{
  (void)size;
  const char *name = info->dlpi_name;
  const char *base = name ? strrchr(name, '/') : NULL;
  base = base ? base + 1 : name;
  if(base && !strncmp(base, "libcurl", 7) && !strstr(base, "streamshim")) {
    *(const char **)arg = name;
    return 1;
  }
  return 0;
}

/* Does the executable carry libcurl's version string (a static libcurl)? */
static bool exe_has_libcurl(void)
{
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct stat st;
  bool found = false;
  if(fd < 0)
    return false;
  if(!fstat(fd, &st) && st.st_size > 0 && st.st_size < (256 << 20)) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if(p != MAP_FAILED) {
      found = memmem(p, (size_t)st.st_size, "libcurl/", 8) != NULL;
      munmap(p, (size_t)st.st_size);
    }
  }
  close(fd);
  return found;
}

__attribute__((destructor)) static void diagnose_at_exit(void)
{
  if(getauxval(AT_SECURE) || !getenv("STREAMSHIM_LOG") || ss_real_used())
    return;
  ss_settings();  /* opens the log */
  const char *lib = NULL;
  dl_iterate_phdr(find_libcurl, &lib);
  if(lib)
    ss_warn("%s was loaded but no libcurl call reached the shim; if the "
            "program used it, it looks functions up by handle (FFI, "
            "ctypes) or binds with RTLD_DEEPBIND (PHP: run it with "
            "streamshim, which adds the deepbind companion)", lib);
  else if(exe_has_libcurl())
    ss_warn("no libcurl call reached the shim and the program carries "
            "libcurl's version string: a statically linked libcurl cannot "
            "be interposed");
}
