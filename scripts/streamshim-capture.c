/* streamshim-capture.c - `streamshim har` and `streamshim stats`: the
 * readers of a capture file (STREAMSHIM_CAPTURE; the format is
 * streamshim-capture(5), scripts/man/streamshim-capture.5). The wrapper
 * (scripts/streamshim) execs it for its first argument `har` or `stats`;
 * it is built next to the library ($(BUILD)/streamshim-capture).
 *
 *   streamshim-capture har FILE
 *   streamshim-capture stats [--json] FILE
 *
 * FILE "-" is standard input; the output goes to standard output. A line
 * that is not a record of the format is skipped with a warning naming its
 * number (capture_read.h).
 *
 * Exit status: 0; 1 when a line was skipped; 2 when FILE cannot be read
 * (or the output cannot be written, or memory runs out) and for a usage
 * error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_read.h"
#include "capture_tools.h"

static const char usage_text[] =
  "Usage: " CAP_PROG " har FILE\n"
  "       " CAP_PROG " stats [--json] FILE\n"
  "\n"
  "Read a capture file (written by the shim with STREAMSHIM_CAPTURE=FILE or\n"
  "`" CAP_PROG " --capture FILE`; the format is streamshim-capture(5)); FILE -\n"
  "is standard input. The output goes to standard output.\n"
  "\n"
  "  har      HAR 1.2 for browser developer tools and HAR viewers: one entry\n"
  "           per request on the wire (a retried transfer gives two, linked by\n"
  "           their _streamshim member); the response is what the server\n"
  "           sent, _handed what the program got when the shim changed it\n"
  "  stats    a table, one row per transfer (method, URL path, model, status,\n"
  "           bytes up and down, total time, time to first byte and to first\n"
  "           token in ms, what the shim did), then a totals row\n"
  "  --json   (stats) the same as one JSON object: {\"transfers\": [...],\n"
  "           \"totals\": {...}}\n"
  "  -h, --help  show this help and exit\n"
  "\n"
  "A line that is not a record is skipped with a warning naming its number.\n"
  "Exit status: 0; 1 if a line was skipped; 2 if FILE cannot be read, the\n"
  "output cannot be written, or for a usage error.\n";

static int usage(const char *why)
{
  if(why) {
    fprintf(stderr, CAP_PROG ": %s\n", why);
    fprintf(stderr, "Try '" CAP_PROG " %s --help'.\n", "har|stats");
    return 2;
  }
  fputs(usage_text, stdout);
  return 0;
}

int main(int argc, char **argv)
{
  if(argc < 2)
    return usage("har or stats expected");
  const char *cmd = argv[1];
  if(!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
    return usage(NULL);
  bool har = !strcmp(cmd, "har"), stats = !strcmp(cmd, "stats");
  if(!har && !stats)
    return usage("unknown command (har or stats)");
  bool json = false, opts = true;
  const char *file = NULL;
  for(int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if(opts && !strcmp(a, "--"))
      opts = false;
    else if(opts && (!strcmp(a, "-h") || !strcmp(a, "--help")))
      return usage(NULL);
    else if(opts && stats && !strcmp(a, "--json"))
      json = true;
    else if(opts && a[0] == '-' && a[1]) {
      char msg[160];
      snprintf(msg, sizeof(msg), "%s: unknown option %.100s", cmd, a);
      return usage(msg);
    }
    else if(file)
      return usage("one FILE only");
    else
      file = a;
  }
  if(!file)
    return usage(har ? "har: FILE expected (- for standard input)"
                     : "stats: FILE expected (- for standard input)");

  struct cap_file cf;
  if(!cap_open(&cf, file))
    return 2;
  bool ok = har ? capture_har(&cf, stdout) : capture_stats(&cf, stdout, json);
  bool read_error = cf.read_error;
  unsigned long bad = cf.bad;
  cap_close(&cf);
  if(fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, CAP_PROG ": cannot write the output\n");
    return 2;
  }
  if(!ok || read_error)
    return 2;
  if(bad)
    fprintf(stderr, CAP_PROG ": %lu malformed line%s skipped\n", bad,
            bad == 1 ? "" : "s");
  return bad ? 1 : 0;
}
