/* ctl_check.c - `streamshim check-config [--quiet] [FILE]`: every problem
 * of the configuration the library would load, found by the library's
 * own parser (config.c, config_load.c, log_spec.c, safe_file.c).
 *
 * It reads FILE ("-": standard input), or the file config_find picks (a
 * file STREAMSHIM_CONFIG names that cannot be read is a problem of that
 * variable's, as the wrapper's --config maps it), and the STREAMSHIM_*
 * variables over it, and prints each problem on its own line, "FILE:LINE:
 * message" for a line of the file, "NAME: message" for a variable, then
 * one line saying what was checked and how many problems there are. It
 * also checks what the library only finds out when it runs: the log's
 * level and file (the STREAMSHIM_LOG variable, else the file's `log`),
 * the capture file (STREAMSHIM_CAPTURE, else the file's `capture`),
 * and STREAMSHIM_ names that are no variable of streamshim (a typo
 * leaves a setting unset in silence). Every line is escaped as the log's
 * are (ctl_say): names and values come from files and the environment.
 *
 * --quiet (the wrapper's check of the environment it passes on): only
 * the problems, on stderr, as the library logs them ("streamshim: config
 * FILE:LINE: message", "streamshim: NAME: message").
 *
 * Exit status: 0 without a problem, 1 with any, 2 when FILE cannot be
 * read or for a usage error. */
#include "ctl_commands.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config_load.h"
#include "ctl_config.h"
#include "log_spec.h"
#include "safe_file.h"

/* The problems found, printed as they come. */
struct check {
  bool quiet;
  size_t problems;
};

static void report(void *arg, const char *where, unsigned line,
                   const char *msg)
{
  struct check *k = arg;
  k->problems++;
  if(k->quiet)
    ctl_warn_stderr(NULL, where, line, msg);
  else if(line)
    ctl_say(stdout, "%s:%u: %s", where, line, msg);
  else
    ctl_say(stdout, "%s: %s", where, msg);
}

/* The variables of streamshim besides those config_apply_env reads. */
static const char *const other_vars[] = {"STREAMSHIM_CONFIG", "STREAMSHIM_LOG",
                                         "STREAMSHIM_LIBRARY"};

static bool known_var(const char *name, size_t n)
{
  const char *v;
  for(size_t i = 0; (v = config_env_var(i)); i++)
    if(strlen(v) == n && !strncmp(v, name, n))
      return true;
  for(size_t i = 0; i < sizeof(other_vars) / sizeof(other_vars[0]); i++)
    if(strlen(other_vars[i]) == n && !strncmp(other_vars[i], name, n))
      return true;
  return false;
}

/* Every STREAMSHIM_ name in the environment that streamshim does not read. */
static void check_names(struct check *k)
{
  for(char **e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
    if(strncmp(*e, "STREAMSHIM_", 11) || known_var(*e, n))
      continue;
    char name[128];
    snprintf(name, sizeof(name), "%.*s", (int)n, *e);
    report(k, name, 0, "not a streamshim variable: ignored");
  }
}

/* Why records could not be appended to file, as the library would find
 * out when it opens its log or capture file (the same rules: its own
 * regular file, no symlink, no other hard link, created in a directory
 * that exists): a static reason, or NULL when they can. Nothing is
 * created. */
static const char *append_problem(const char *file)
{
  /* the library's own opening, without O_CREAT */
  int fd = safe_open(file, O_WRONLY | O_APPEND | O_CLOEXEC, 0,
                     SS_SAFE_NOFOLLOW | SS_SAFE_MINE);
  if(fd >= 0) {
    struct stat sb;
    bool linked = !fstat(fd, &sb) && sb.st_nlink > 1;
    close(fd);
    return linked ? "has other hard links" : NULL;
  }
  if(errno != ENOENT)
    return safe_open_why(errno);
  char *copy = strdup(file);
  const char *dir = copy ? dirname(copy) : ".";
  struct stat sb;
  const char *why = NULL;
  if(stat(dir, &sb))
    why = "cannot be opened: its directory does not exist";
  else if(!S_ISDIR(sb.st_mode))
    why = "cannot be opened: its directory is not a directory";
  else if(access(dir, W_OK | X_OK))
    why = "cannot be created: its directory is not writable";
  free(copy);
  return why;
}

/* The log the library would open: STREAMSHIM_LOG, else the file's (at
 * the line that set it). */
static void check_log(struct check *k, const struct ctl_config *c)
{
  const char *env = getenv("STREAMSHIM_LOG");
  const char *spec = env ? env : c->cfg.log;
  const char *where = env ? "STREAMSHIM_LOG" : c->path;
  unsigned line = env ? 0 : c->cfg.log_line;
  const char *file;
  char msg[PATH_MAX + 200];
  if(!spec || !*spec)
    return;
  int level = log_spec_parse(spec, &file);
  if(level < 0) {
    snprintf(msg, sizeof(msg), "log level '%.*s' is none of off, error, "
             "warn, info, debug (expected level[:file])",
             (int)(file ? (size_t)(file - 1 - spec) : strlen(spec)), spec);
    report(k, where, line, msg);
    return;
  }
  const char *why = level > 0 && file && log_spec_target(file) == LOG_TO_FILE
                    ? append_problem(file) : NULL;
  if(why) {
    snprintf(msg, sizeof(msg), "log file %s %s", file, why);
    report(k, where, line, msg);
  }
}

/* The capture file the library would append to: STREAMSHIM_CAPTURE's,
 * else the file's (at the line that set it); none when off. */
static void check_capture(struct check *k, const struct ctl_config *c)
{
  const char *file = c->cfg.capture;
  bool env = getenv("STREAMSHIM_CAPTURE");
  char msg[PATH_MAX + 200];
  const char *why = *file ? append_problem(file) : NULL;
  if(why) {
    snprintf(msg, sizeof(msg), "capture file %s %s", file, why);
    report(k, env ? "STREAMSHIM_CAPTURE" : c->path,
           env ? 0 : c->cfg.capture_line, msg);
  }
}

static int usage(const char *why)
{
  if(why)
    fprintf(stderr, PROG ": %s\n", why);
  fprintf(stderr, "Usage: " PROG " check-config [--quiet] [FILE]\n"
                  "  FILE      the file to check (- for standard input), "
                  "instead of the one\n"
                  "            the library would read\n"
                  "  --quiet   only the problems, on stderr, as the library "
                  "logs them\n");
  return 2;
}

int cmd_check_config(int argc, char **argv)
{
  struct check k = {false, 0};
  const char *file = NULL;
  for(int i = 0; i < argc; i++) {
    if(!strcmp(argv[i], "--quiet"))
      k.quiet = true;
    else if(!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage(NULL);
      return 0;
    } else if(argv[i][0] == '-' && argv[i][1])
      return usage("check-config: unknown option");
    else if(file)
      return usage("check-config: one FILE at most");
    else
      file = argv[i];
  }
  struct ctl_config c;
  ctl_config_load(&c, file, NULL, report, &k);
  if(c.read_errno && file) {
    ctl_say(stderr, PROG ": cannot read %s: %s", file,
            config_read_why(file, c.read_errno));
    config_free(&c.cfg);
    return 2;
  }
  if(c.read_errno) {
    const char *where;
    char msg[PATH_MAX + 200];
    ctl_config_problem(&c, &where, msg, sizeof(msg));
    report(&k, where, 0, msg);
  }
  check_log(&k, &c);
  check_capture(&k, &c);
  check_names(&k);
  if(!k.quiet) {
    char count[64] = "no problems";
    if(k.problems)
      snprintf(count, sizeof(count), "%zu problem%s", k.problems,
               k.problems == 1 ? "" : "s");
    if(c.path)
      ctl_say(stdout, "checked %s and the environment: %s", c.path, count);
    else
      ctl_say(stdout, "checked the environment (no configuration file): %s",
              count);
  }
  config_free(&c.cfg);
  return k.problems ? 1 : 0;
}
