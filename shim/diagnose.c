/* diagnose.c - say why the shim saw nothing, when the user asked for a log.
 *
 * Some programs use libcurl in ways a preload cannot reach: they link it
 * statically, look its functions up by handle (Ruby FFI, Python ctypes),
 * or bind deeply (RTLD_DEEPBIND, as PHP does without the companion). The
 * shim cannot see their calls, but at exit it can see that libcurl was
 * there and no call came through: then it logs a warning naming the
 * likely reason.
 *
 * Every process the shim is preloaded into runs this at exit (a wrapped
 * shell script loads it into each child), so it first looks without
 * touching anything: no libcurl call came, logging was asked for, and
 * libcurl is in the process (the loaded objects, then the executable's
 * own mapped bytes). Only then are the settings loaded and the log opened.
 *
 * PHP unloads its extensions, and with them libcurl, before exit, and
 * empties its environment: the STREAMSHIM_* variables are kept from the
 * start (settings.c), and a PHP host without the companion is recognised
 * by the engine's own exported symbol instead. */
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "real.h"
#include "settings.h"

struct seen {
  const char *libcurl;  /* the first loaded object named like libcurl */
  bool companion;       /* libstreamshim-deepbind.so is loaded */
};

/* dl_iterate_phdr callback: note libcurl and the deepbind companion. */
static int find_objects(struct dl_phdr_info *info, size_t size, void *arg)
{
  struct seen *s = arg;
  const char *name = info->dlpi_name;
  const char *base = name ? strrchr(name, '/') : NULL;
  (void)size;
  base = base ? base + 1 : name;
  if(!base)
    return 0;
  if(strstr(base, "streamshim-deepbind"))
    s->companion = true;
  else if(!s->libcurl && !strncmp(base, "libcurl", 7) &&
          !strstr(base, "streamshim"))
    s->libcurl = name;
  return 0;
}

/* dl_iterate_phdr callback, main program only (it comes first): does a
 * read-only segment hold libcurl's version string (a static libcurl)?
 * The bytes are already mapped: nothing is opened. Writable segments
 * (data, bss) are skipped: zero pages would be faulted in for nothing. */
static int scan_main(struct dl_phdr_info *info, size_t size, void *arg)
{
  (void)size;
  for(size_t i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if(ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) ||
       (ph->p_flags & PF_W) || !ph->p_filesz)
      continue;
    const void *p = (const void *)(info->dlpi_addr + ph->p_vaddr);
    if(memmem(p, ph->p_filesz, "libcurl/", 8)) {
      *(bool *)arg = true;
      break;
    }
  }
  return 1;
}

/* Is this PHP (the CLI, CGI, FPM, or libphp in a server)? Its engine
 * exports the API extensions link against. */
static bool host_is_php(void)
{
  return dlsym(RTLD_DEFAULT, "php_module_startup") != NULL;
}

__attribute__((destructor)) static void diagnose_at_exit(void)
{
  if(ss_real_used() || !ss_settings_may_log())
    return;
  struct seen s = {NULL, false};
  bool is_static = false;
  dl_iterate_phdr(find_objects, &s);
  bool php = !s.companion && host_is_php();
  /* scanning the image costs page faults in every process: only when the
   * user asked for a log in the environment */
  if(!php && !s.libcurl && ss_settings_log_asked())
    dl_iterate_phdr(scan_main, &is_static);
  if(s.companion || (!php && !s.libcurl && !is_static))
    return;
  ss_settings();  /* opens the log */
  if(php)
    ss_warn("PHP opens its curl extension with RTLD_DEEPBIND, out of a "
            "plain preload's reach, and no libcurl call reached the shim: "
            "run PHP with streamshim, which adds the deepbind companion "
            "(libstreamshim-deepbind.so), or preload both libraries");
  else if(s.libcurl)
    ss_warn("%s was loaded but no libcurl call reached the shim; if the "
            "program used it, it looks functions up by handle (FFI, "
            "ctypes) or binds with RTLD_DEEPBIND", s.libcurl);
  else
    ss_warn("no libcurl call reached the shim and the program carries "
            "libcurl's version string: a statically linked libcurl cannot "
            "be interposed");
}
