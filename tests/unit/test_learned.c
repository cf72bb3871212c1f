/* test_learned.c - unit tests for hooks/learned.c and the cache file
 * (hooks/learned_list.c, hooks/learned_file.c): fingerprints (SHA-256 has
 * its own vectors in test_sha256.c), add and lookup, expiry, a second "process", unwritable
 * and corrupt files, escaping, the cap, file modes, threads, and the
 * direction of an entry (lookups, replacement, the file's 7th field). Learning
 * writes nothing until a flush: learn() below does both, as a flush point
 * after the transfer would (test_learned_pending.c tests the pending
 * writes themselves). Files live in a fresh directory under /tmp, removed
 * at the end. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "learned.h"
#include "learned_file.h"
#include "learned_check.h"

/* The whole file in a static buffer ("" when unreadable). */
static const char *slurp(const char *path)
{
  static char text[1 << 20];
  size_t n = 0;
  FILE *f = fopen(path, "rb");
  if(f) {
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
  }
  text[n] = '\0';
  return text;
}

/* Write text to path as it is. */
static void spit(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if(f) {
    fputs(text, f);
    fclose(f);
  }
}

/* learned_add, then the flush a flush point does (waiting, so that a
 * busy lock cannot make a test flaky). */
static void learn(const struct ss_config *c, const char *host,
                  const char *model, const char *fp, const char *rule,
                  time_t now)
{
  learned_add(c, host, model, fp, REFUSES_STREAM, rule, now);
  learned_flush_at(now, 30000);
}

/* How many times c occurs in s. */
static size_t count_char(const char *s, char c)
{
  size_t n = 0;
  for(; *s; s++)
    n += *s == c;
  return n;
}

TEST(fingerprints)
{
  char fp[LEARNED_FP_LEN + 1];
  learned_fingerprint("abc", 3, fp);
  CHECK_STR(fp, "ba7816bf8f01cfea");
  learned_fingerprint("", 0, fp);
  CHECK_STR(fp, "-");
  learned_fingerprint(NULL, 0, fp);
  CHECK_STR(fp, "-");
  learned_fingerprint("abc", 0, fp);
  CHECK_STR(fp, "-");
  learned_fingerprint("Bearer sk-abc", 13, fp);
  CHECK(strlen(fp) == LEARNED_FP_LEN && learned_fp_valid(fp));
  CHECK(!strstr(fp, "sk"));
  CHECK(learned_fp_valid("-") && !learned_fp_valid("") &&
        !learned_fp_valid("ba7816bf8f01cfeA") &&
        !learned_fp_valid("ba7816bf8f01cfe") &&
        !learned_fp_valid("ba7816bf8f01cfea0"));
}

TEST(paths)
{
  char pbuf[4096];
  struct ss_config c;
  cfg_for(&c, "off", 60);
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) == NULL);
  config_free(&c);
  cfg_for(&c, "/x/y/refusals", 60);
  CHECK_STR(learned_path(&c, pbuf, sizeof(pbuf)), "/x/y/refusals");
  config_free(&c);
  cfg_for(&c, "relative/refusals", 60);
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) == NULL);
  config_free(&c);
  cfg_for(&c, NULL, 60);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("HOME", "/home/u", 1);
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) && !strcmp(learned_path(&c, pbuf, sizeof(pbuf)), "/xdg/streamshim/refusals"));
  setenv("XDG_CACHE_HOME", "rel", 1);  /* not absolute: ignored */
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) &&
        !strcmp(learned_path(&c, pbuf, sizeof(pbuf)), "/home/u/.cache/streamshim/refusals"));
  unsetenv("XDG_CACHE_HOME");
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) &&
        !strcmp(learned_path(&c, pbuf, sizeof(pbuf)), "/home/u/.cache/streamshim/refusals"));
  unsetenv("HOME");
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) == NULL);
  setenv("HOME", "", 1);
  CHECK(learned_path(&c, pbuf, sizeof(pbuf)) == NULL);
  config_free(&c);
}

/* learned_known: anything of host and model, any credential and
 * direction, learned here or read from the file; nothing once expired. */
TEST(known_models)
{
  struct ss_config c;
  const char *path = in_dir("known/refusals");
  char fp[LEARNED_FP_LEN + 1];
  learned_reset_for_tests();
  learned_fingerprint("key-k", 5, fp);
  cfg_for(&c, path, 3600);
  CHECK(!learned_known(&c, "k.example", "o3", 1000));
  learned_add(&c, "k.example", "o3", fp, REFUSES_NONSTREAM, "built-in", 1000);
  CHECK(learned_known(&c, "k.example", "o3", 1000));
  CHECK(!learned_known(&c, "k.example", "o3-mini", 1000));
  CHECK(!learned_known(&c, "other.example", "o3", 1000));
  CHECK(!learned_known(&c, "k.example", "o3", 4600));  /* expired */
  CHECK(learned_flush_at(1000, 30000) == LEARNED_FLUSH_DONE);
  learned_reset_for_tests();  /* a new process: the file says it */
  CHECK(learned_known(&c, "k.example", "o3", 1000));
  CHECK(!learned_known(&c, "k.example", "o1", 1000));
  learned_reset_for_tests();
  config_free(&c);
}

TEST(add_lookup_and_modes)
{
  struct ss_config c;
  struct stat sb;
  const char *path = in_dir("new/sub/refusals");
  char fp[LEARNED_FP_LEN + 1];
  learned_fingerprint("key-1", 5, fp);
  cfg_for(&c, path, 3600);
  CHECK(!learned_lookup(&c, "api.example", "o3", fp, REFUSES_STREAM, 1000));
  learned_add(&c, "api.example", "o3", fp, REFUSES_STREAM, "built-in", 1000);
  CHECK(learned_lookup(&c, "api.example", "o3", fp, REFUSES_STREAM, 1000));
  CHECK(stat(path, &sb) && errno == ENOENT);  /* learning does no I/O */
  CHECK(learned_flush_at(1000, 30000) == LEARNED_FLUSH_DONE);
  CHECK(learned_lookup(&c, "api.example", "o3", fp, REFUSES_STREAM, 1000));
  CHECK(learned_lookup(&c, "api.example", "o3", fp, REFUSES_STREAM, 4599));
  CHECK(!learned_lookup(&c, "api.example", "o3", "-", REFUSES_STREAM, 1000));
  CHECK(!learned_lookup(&c, "api.example", "o3-mini", fp, REFUSES_STREAM,
                        1000));
  CHECK(!learned_lookup(&c, "other.example", "o3", fp, REFUSES_STREAM, 1000));
  CHECK(!stat(path, &sb) && (sb.st_mode & 0777) == 0600 && S_ISREG(sb.st_mode));
  CHECK(!stat(in_dir("new/sub"), &sb) && (sb.st_mode & 0777) == 0700);
  CHECK(!stat(in_dir("new"), &sb) && (sb.st_mode & 0777) == 0700);
  CHECK(!stat(in_dir("new/sub/refusals.lock"), &sb) &&
        (sb.st_mode & 0777) == 0600);
  const char *text = slurp(path);
  char line[256];
  snprintf(line, sizeof(line),
           "\napi.example\to3\t%s\t1000\t4600\tbuilt-in\n", fp);
  CHECK(text[0] == '#' && strstr(text, line));
  /* No temporary file is left behind. */
  char tmp[300];
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  CHECK(stat(tmp, &sb) && errno == ENOENT);
  /* The same triple again, while known: learned once, nothing to write. */
  learned_add(&c, "api.example", "o3", fp, REFUSES_STREAM, "relay", 2000);
  CHECK(learned_pending() == 0);
  CHECK(!strstr(slurp(path), "relay"));
  /* Once expired, it is learned again and replaces the entry. */
  learn(&c, "api.example", "o3", fp, "relay", 5000);
  text = slurp(path);
  CHECK(count_char(text, '\n') == 3 &&
        strstr(text, "\t5000\t8600\trelay\n"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(expiry)
{
  struct ss_config c;
  const char *path = in_dir("expiry");
  cfg_for(&c, path, 60);
  learn(&c, "h", "old", "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", "old", "-", REFUSES_STREAM, 1059));
  CHECK(!learned_lookup(&c, "h", "old", "-", REFUSES_STREAM, 1060));
  CHECK(!learned_lookup(&c, "h", "old", "-", REFUSES_STREAM, 999999));
  /* The next write drops the expired entry from the file. */
  learn(&c, "h", "new", "-", "built-in", 2000);
  const char *text = slurp(path);
  CHECK(!strstr(text, "\told\t") && strstr(text, "\tnew\t"));
  /* A TTL of 0 learns nothing; a bad fingerprint is ignored. */
  c.cache_ttl = 0;
  learn(&c, "h", "zero", "-", "built-in", 3000);
  CHECK(!learned_lookup(&c, "h", "zero", "-", REFUSES_STREAM, 3000));
  c.cache_ttl = 60;
  learn(&c, "h", "badfp", "XYZ", "built-in", 3000);
  CHECK(!learned_lookup(&c, "h", "badfp", "XYZ", REFUSES_STREAM, 3000));
  CHECK(!strstr(slurp(path), "badfp"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(second_process_sees_entries)
{
  struct ss_config c;
  const char *path = in_dir("shared");
  cfg_for(&c, path, 3600);
  learn(&c, "h", "m1", "-", "built-in", 1000);
  learned_reset_for_tests();  /* a new process */
  CHECK(learned_lookup(&c, "h", "m1", "-", REFUSES_STREAM, 1001));
  /* Another process adds an entry: the file changes, the lookup sees it. */
  struct learned_list l;
  learned_list_init(&l);
  CHECK(learned_list_put(&l, "h", "m2", "-", REFUSES_STREAM, "other", 1000,
                         9000));
  CHECK(learned_list_put(&l, "h", "m1", "-", REFUSES_STREAM, "built-in",
                         1000, 4600));
  struct buf b;
  buf_init(&b);
  CHECK(learned_format(&l, &b));
  spit(in_dir("shared.new"), buf_cstr(&b));
  CHECK(!rename(in_dir("shared.new"), path));
  CHECK(learned_lookup(&c, "h", "m2", "-", REFUSES_STREAM, 1001));
  /* Another process forgets everything: so does this one (the entry it
   * wrote was trusted to the file). */
  spit(in_dir("shared.new"), "# empty\n");
  CHECK(!rename(in_dir("shared.new"), path));
  CHECK(!learned_lookup(&c, "h", "m1", "-", REFUSES_STREAM, 1001));
  CHECK(!learned_lookup(&c, "h", "m2", "-", REFUSES_STREAM, 1001));
  /* The file removed: nothing. */
  CHECK(!unlink(path));
  CHECK(!learned_lookup(&c, "h", "m1", "-", REFUSES_STREAM, 1001));
  buf_free(&b);
  learned_list_free(&l);
  config_free(&c);
  learned_reset_for_tests();
}

TEST(unwritable_path_keeps_memory)
{
  struct ss_config c;
  struct stat sb;
  spit(in_dir("plainfile"), "not a directory\n");
  cfg_for(&c, in_dir("plainfile/sub/refusals"), 3600);
  learn(&c, "h", "m", "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 1000));
  /* expires in memory too */
  CHECK(!learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 4600));
  learned_reset_for_tests();
  CHECK(!learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 1000));
  config_free(&c);
  /* Cache off: memory only. */
  cfg_for(&c, "off", 3600);
  learn(&c, "h", "m", "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 1001));
  config_free(&c);
  learned_reset_for_tests();
  /* The path is a symlink: never followed, the target untouched. */
  spit(in_dir("target"), "# target\n");
  CHECK(!symlink(in_dir("target"), in_dir("link")));
  cfg_for(&c, in_dir("link"), 3600);
  learn(&c, "h", "sym", "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", "sym", "-", REFUSES_STREAM, 1000));
  CHECK_STR(slurp(in_dir("target")), "# target\n");
  CHECK(!lstat(in_dir("link"), &sb) && S_ISLNK(sb.st_mode));
  config_free(&c);
  learned_reset_for_tests();
  /* The path is a directory. */
  CHECK(!mkdir(in_dir("isdir"), 0700));
  cfg_for(&c, in_dir("isdir"), 3600);
  learn(&c, "h", "d", "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", "d", "-", REFUSES_STREAM, 1000));
  config_free(&c);
  learned_reset_for_tests();
}

/* Forget records a file may hold: many (read in linear time, at most
 * LEARNED_MAX_FORGETS kept), from the future (dropped: they would forget
 * everything learned until then), with a time that overflows (refused). */
TEST(hostile_forget_records)
{
  struct learned_list l;
  struct buf text;
  buf_init(&text);
  long long now = (long long)time(NULL);
  for(int i = 0; i < 80000; i++) {
    char line[96];
    int n = snprintf(line, sizeof(line), "#!forget\t%lld.%09d\tp%d\n",
                     now - 100, i, i);
    buf_append(&text, line, (size_t)n);
  }
  learned_list_init(&l);
  learned_parse(text.ptr, text.len, &l);
  CHECK(!text.oom && l.nf == LEARNED_MAX_FORGETS);
  learned_list_free(&l);
  buf_free(&text);
  static const char future[] = "#!forget\t4102444800.000000000\n"
                               "#!forget\t9999999999.999999999\tx\n"
                               "#!forget\t99999999999.000000000\ty\n";
  learned_list_init(&l);
  learned_parse(future, sizeof(future) - 1, &l);
  CHECK(l.nf == 0);
  learned_list_free(&l);
}

/* A child keeps what its parent learned for lookups but leaves writing it
 * to the parent: it neither flushes it nor waits for the lock at exit. */
TEST(child_leaves_pending_to_the_parent)
{
  struct ss_config c;
  char fp[LEARNED_FP_LEN + 1];
  learned_reset_for_tests();
  cfg_for(&c, in_dir("childpend"), 3600);
  learned_fingerprint(NULL, 0, fp);
  learned_add(&c, "api.example", "child-o3", fp, REFUSES_STREAM, "built-in",
              time(NULL));
  CHECK(learned_pending() == 1);
  pid_t pid = fork();
  if(!pid) {
    bool ok = learned_pending() == 0 &&
              learned_lookup(&c, "api.example", "child-o3", fp,
                             REFUSES_STREAM, time(NULL));
    /* what the child learns itself it writes, and only that */
    learned_add(&c, "api.example", "child-own", fp, REFUSES_STREAM,
                "built-in", time(NULL));
    ok = ok && learned_pending() == 1;
    learned_flush_at(time(NULL), 5000);
    const char *text = slurp(in_dir("childpend"));
    ok = ok && strstr(text, "child-own") && !strstr(text, "child-o3");
    _exit(ok ? 0 : 1);
  }
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(learned_pending() == 1);
  learned_discard_pending();
  learned_reset_for_tests();
  config_free(&c);
}

TEST(corrupt_lines_skipped)
{
  struct ss_config c;
  const char *path = in_dir("corrupt");
  spit(path,
       "# header\n"
       "h\tgood\t-\t1000\t9000\tbuilt-in\n"
       "garbage\n"
       "\n"
       "h\tfive\t-\t1000\t9000\n"
       "h\tseven\t-\t1000\t9000\tbuilt-in\textra\n"
       "h\tbadfp\tXYZ\t1000\t9000\tbuilt-in\n"
       "h\tbadtime\t-\t1x00\t9000\tbuilt-in\n"
       "h\tnegtime\t-\t-1\t9000\tbuilt-in\n"
       "h\tbadesc\\q\t-\t1000\t9000\tbuilt-in\n"
       "h\ttrailing\\\t-\t1000\t9000\tbuilt-in\n"
       "h\tnorule\t-\t1000\t9000\t\n"
       "\xff\xfe\x01\t\t\t\t\t\n"
       "h\tbytes\xff\t-\t1000\t9000\tbuilt-in\n"
       "h\tlast\t0123456789abcdef\t1000\t9000\tr");  /* no final newline */
  struct learned_list l;
  struct learned_stamp st;
  learned_list_init(&l);
  CHECK(learned_file_read(path, &l, &st) == 1 && st.exists);
  CHECK(l.n == 3);
  CHECK(l.n == 3 && !strcmp(l.v[0].model, "good") &&
        !strcmp(l.v[1].model, "bytes\xff") && !strcmp(l.v[2].model, "last"));
  learned_list_free(&l);
  cfg_for(&c, path, 3600);
  CHECK(learned_lookup(&c, "h", "good", "-", REFUSES_STREAM, 2000));
  CHECK(learned_lookup(&c, "h", "last", "0123456789abcdef", REFUSES_STREAM,
                       2000));
  CHECK(!learned_lookup(&c, "h", "five", "-", REFUSES_STREAM, 2000));
  /* The next write keeps the good entries only. */
  learn(&c, "h", "added", "-", "built-in", 2000);
  const char *text = slurp(path);
  CHECK(strstr(text, "\tgood\t") && strstr(text, "\tlast\t") &&
        strstr(text, "\tadded\t") && !strstr(text, "garbage") &&
        !strstr(text, "seven"));
  CHECK(count_char(text, '\n') == 2 + 4);
  config_free(&c);
  learned_reset_for_tests();
}

TEST(names_cannot_break_the_file)
{
  struct ss_config c;
  const char *path = in_dir("names");
  cfg_for(&c, path, 3600);
  static const char *const models[] = {
    "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\t literal",
    "#hash", "", "\t\n\\\r", "ünïcödé"
  };
  size_t n = sizeof(models) / sizeof(models[0]);
  for(size_t i = 0; i < n; i++)
    learn(&c, "h\tost\n", models[i], "-", "rule\twith\ntab", 1000);
  const char *text = slurp(path);
  CHECK(count_char(text, '\n') == 2 + n);
  CHECK(strstr(text, "h\\tost\\n\ttab\\there\t-\t1000\t4600\t"
                     "rule\\twith\\ntab\n"));
  CHECK(strstr(text, "\n\\\\t literal\t") == NULL);  /* host comes first */
  CHECK(strstr(text, "\t\\\\t literal\t"));
  learned_reset_for_tests();
  for(size_t i = 0; i < n; i++)
    CHECK(learned_lookup(&c, "h\tost\n", models[i], "-", REFUSES_STREAM,
                         1001));
  CHECK(!learned_lookup(&c, "h\tost", "tab\there", "-", REFUSES_STREAM, 1001));
  struct learned_list l;
  struct learned_stamp st;
  learned_list_init(&l);
  CHECK(learned_file_read(path, &l, &st) == 1 && l.n == n);
  for(size_t i = 0; i < l.n; i++)
    CHECK(!strcmp(l.v[i].rule, "rule\twith\ntab"));
  learned_list_free(&l);
  /* A name too long for the file stays in memory only. */
  char longname[LEARNED_MAX_FIELD + 2];
  memset(longname, 'x', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  learn(&c, "h", longname, "-", "built-in", 1000);
  CHECK(learned_lookup(&c, "h", longname, "-", REFUSES_STREAM, 1001));
  CHECK(!strstr(slurp(path), "xxxxxxxxxxxxxxxx"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(cap_drops_oldest)
{
  struct ss_config c;
  struct buf b;
  struct learned_list l;
  char model[32];
  const char *path = in_dir("cap");
  learned_list_init(&l);
  /* LEARNED_MAX_ENTRIES + 10 entries learned at times 1..N (shuffled). */
  size_t total = LEARNED_MAX_ENTRIES + 10;
  for(size_t i = 0; i < total; i++) {
    size_t t = (i * 7919) % total + 1;
    snprintf(model, sizeof(model), "m%zu", t);
    CHECK(learned_list_put(&l, "h", model, "-", REFUSES_STREAM, "built-in",
                           (long long)t, 1000000));
  }
  buf_init(&b);
  CHECK(learned_format(&l, &b));
  spit(path, buf_cstr(&b));
  buf_free(&b);
  learned_list_free(&l);
  cfg_for(&c, path, 3600);
  learn(&c, "h", "newest", "-", "built-in", 5000);
  CHECK(learned_file_read(path, &l, &(struct learned_stamp){0}) == 1);
  CHECK(l.n == LEARNED_MAX_ENTRIES);
  CHECK(learned_list_find(&l, "h", "newest", "-") >= 0);
  /* The 11 oldest (m1..m11) went. */
  for(size_t t = 1; t <= total; t++) {
    snprintf(model, sizeof(model), "m%zu", t);
    bool want = t > 11;
    if((learned_list_find(&l, "h", model, "-") >= 0) != want)
      printf("#   %s %s\n", model, want ? "missing" : "kept");
    CHECK((learned_list_find(&l, "h", model, "-") >= 0) == want);
  }
  /* Ordered by learned time. */
  for(size_t i = 1; i < l.n; i++)
    CHECK(l.v[i - 1].learned <= l.v[i].learned);
  learned_list_free(&l);
  config_free(&c);
  learned_reset_for_tests();
}

/* learn() of a direction. */
static void learn_dir(const struct ss_config *c, const char *host,
                      const char *model, enum refusal_dir d,
                      const char *rule, time_t now)
{
  learned_add(c, host, model, "-", d, rule, now);
  learned_flush_at(now, 30000);
}

/* The entry lines of a file (comments and forget records left out). */
static const char *entry_lines(const char *path)
{
  static char out[8192];
  const char *text = slurp(path);
  size_t o = 0;
  out[0] = '\0';
  for(const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
    if(*p != '#' && o + n < sizeof(out)) {
      memcpy(out + o, p, n);
      o += n;
      out[o] = '\0';
    }
    p += n;
  }
  return out;
}

/* Does the triple's word say d, and not the other direction? */
static bool says(const struct ss_config *c, const char *host,
                 const char *model, enum refusal_dir d, time_t now)
{
  enum refusal_dir other = d == REFUSES_STREAM ? REFUSES_NONSTREAM
                                               : REFUSES_STREAM;
  return learned_lookup(c, host, model, "-", d, now) &&
         !learned_lookup(c, host, model, "-", other, now);
}

TEST(directions_are_looked_up_apart)
{
  struct ss_config c;
  const char *path = in_dir("dirs");
  cfg_for(&c, path, 3600);
  learned_add(&c, "dashscope.example", "qwq-plus", "-", REFUSES_NONSTREAM,
              "dashscope-stream-only", 1000);
  CHECK(says(&c, "dashscope.example", "qwq-plus", REFUSES_NONSTREAM, 1000));
  CHECK(learned_flush_at(1000, 30000) == LEARNED_FLUSH_DONE);
  CHECK_STR(entry_lines(path), "dashscope.example\tqwq-plus\t-\t1000\t4600\t"
            "dashscope-stream-only\tstream-only\n");
  learn_dir(&c, "api.example", "o1", REFUSES_STREAM, "built-in", 1000);
  CHECK(strstr(entry_lines(path),
               "api.example\to1\t-\t1000\t4600\tbuilt-in\n"));
  /* A new process reads both directions back. */
  learned_reset_for_tests();
  CHECK(says(&c, "dashscope.example", "qwq-plus", REFUSES_NONSTREAM, 1001));
  CHECK(says(&c, "api.example", "o1", REFUSES_STREAM, 1001));
  CHECK(!learned_lookup(&c, "dashscope.example", "qwq-plus", "-",
                        REFUSES_NONSTREAM, 4600));  /* expired */
  /* Known in its direction: learned once, nothing to write. */
  learned_add(&c, "dashscope.example", "qwq-plus", "-", REFUSES_NONSTREAM,
              "other", 2000);
  CHECK(learned_pending() == 0 && !strstr(slurp(path), "other"));
  config_free(&c);
  learned_reset_for_tests();
}

TEST(the_newest_word_replaces_the_other_direction)
{
  struct ss_config c;
  const char *path = in_dir("flip");
  cfg_for(&c, path, 3600);
  learn_dir(&c, "h", "m", REFUSES_NONSTREAM, "dashscope-stream-only", 1000);
  /* The other direction, later: its word wins at once, in memory ... */
  learned_add(&c, "h", "m", "-", REFUSES_STREAM, "built-in", 1500);
  CHECK(learned_pending() == 1);
  CHECK(says(&c, "h", "m", REFUSES_STREAM, 1500));
  /* ... and in the file, which holds one entry for the triple. */
  CHECK(learned_flush_at(1500, 30000) == LEARNED_FLUSH_DONE);
  CHECK_STR(entry_lines(path), "h\tm\t-\t1500\t5100\tbuilt-in\n");
  CHECK(says(&c, "h", "m", REFUSES_STREAM, 1500));
  /* Back again within the same second: the newest word still wins. */
  learn_dir(&c, "h", "m", REFUSES_NONSTREAM, "dashscope-enable-thinking",
            1500);
  CHECK(says(&c, "h", "m", REFUSES_NONSTREAM, 1500));
  CHECK_STR(entry_lines(path), "h\tm\t-\t1500\t5100\t"
            "dashscope-enable-thinking\tstream-only\n");
  learned_reset_for_tests();
  CHECK(says(&c, "h", "m", REFUSES_NONSTREAM, 1501));
  /* An expired entry of the other direction says nothing. */
  CHECK(!learned_lookup(&c, "h", "m", "-", REFUSES_NONSTREAM, 5100) &&
        !learned_lookup(&c, "h", "m", "-", REFUSES_STREAM, 5100));
  learn_dir(&c, "h", "m", REFUSES_STREAM, "built-in", 6000);
  CHECK(says(&c, "h", "m", REFUSES_STREAM, 6000));
  CHECK_STR(entry_lines(path), "h\tm\t-\t6000\t9600\tbuilt-in\n");
  config_free(&c);
  learned_reset_for_tests();
}

TEST(a_newer_word_in_the_file_wins)
{
  struct ss_config c;
  const char *path = in_dir("newer");
  cfg_for(&c, path, 3600);
  learn_dir(&c, "h", "seed", REFUSES_STREAM, "built-in", 1000);
  /* This process learns one direction at 1000; before it writes, another
   * process writes the other direction at 2000. */
  learned_add(&c, "h", "m", "-", REFUSES_STREAM, "built-in", 1000);
  struct learned_list l;
  struct buf b;
  learned_list_init(&l);
  buf_init(&b);
  CHECK(learned_list_put(&l, "h", "seed", "-", REFUSES_STREAM, "built-in",
                         1000, 4600));
  CHECK(learned_list_put(&l, "h", "m", "-", REFUSES_NONSTREAM,
                         "dashscope-stream-only", 2000, 5600));
  CHECK(learned_format(&l, &b));
  spit(in_dir("newer.new"), buf_cstr(&b));
  CHECK(!rename(in_dir("newer.new"), path));
  CHECK(says(&c, "h", "m", REFUSES_NONSTREAM, 2000));
  /* The flush keeps the file's newer word. */
  CHECK(learned_flush_at(2000, 30000) == LEARNED_FLUSH_DONE);
  CHECK(strstr(entry_lines(path), "h\tm\t-\t2000\t5600\t"
               "dashscope-stream-only\tstream-only\n"));
  CHECK(says(&c, "h", "m", REFUSES_NONSTREAM, 2000));
  buf_free(&b);
  learned_list_free(&l);
  config_free(&c);
  learned_reset_for_tests();
}

TEST(direction_field_in_the_file)
{
  struct ss_config c;
  const char *path = in_dir("format");
  spit(path,
       "# header\n"
       "h\told\t-\t1000\t9000\tbuilt-in\n"                 /* 6: no-stream */
       "h\tns\t-\t1000\t9000\tbuilt-in\n"
       "h\tso\t-\t1000\t9000\tdashscope-stream-only\tstream-only\n"
       "h\tbad\t-\t1000\t9000\tbuilt-in\tstream\n"
       "h\tcase\t-\t1000\t9000\tbuilt-in\tStream-Only\n"
       "h\tempty\t-\t1000\t9000\tbuilt-in\t\n"
       "h\teight\t-\t1000\t9000\tbuilt-in\tno-stream\tx\n"
       "h\tspace\t-\t1000\t9000\tbuilt-in\tno-stream \n"
       "h\tlast\t-\t1000\t9000\tr\tstream-only");  /* no final newline */
  struct learned_list l;
  struct learned_stamp st;
  learned_list_init(&l);
  CHECK(learned_file_read(path, &l, &st) == 1);
  CHECK(l.n == 4);
  if(l.n == 4) {
    CHECK(!strcmp(l.v[0].model, "old") && l.v[0].dir == REFUSES_STREAM);
    CHECK(!strcmp(l.v[1].model, "ns") && l.v[1].dir == REFUSES_STREAM);
    CHECK(!strcmp(l.v[2].model, "so") && l.v[2].dir == REFUSES_NONSTREAM);
    CHECK(!strcmp(l.v[3].model, "last") && l.v[3].dir == REFUSES_NONSTREAM &&
          !strcmp(l.v[3].rule, "r"));
  }
  /* Written back: seven fields each, the old line with its direction. */
  struct buf b;
  buf_init(&b);
  CHECK(learned_format(&l, &b));
  const char *text = buf_cstr(&b);
  CHECK(strstr(text, "\nh\told\t-\t1000\t9000\tbuilt-in\n") &&
        strstr(text, "\nh\tso\t-\t1000\t9000\tdashscope-stream-only\t"
                     "stream-only\n") &&
        strstr(text, "\nh\tlast\t-\t1000\t9000\tr\tstream-only\n"));
  CHECK(strstr(text, "\trule[\tdirection] ") != NULL);  /* the header says */
  struct learned_list back;
  learned_list_init(&back);
  learned_parse(b.ptr, b.len, &back);
  CHECK(back.n == 4);
  for(size_t i = 0; i < back.n && i < l.n; i++)
    CHECK(back.v[i].dir == l.v[i].dir && !strcmp(back.v[i].model,
                                                 l.v[i].model));
  learned_list_free(&back);
  buf_free(&b);
  learned_list_free(&l);
  /* Lookups read the directions too. */
  cfg_for(&c, path, 3600);
  CHECK(says(&c, "h", "old", REFUSES_STREAM, 2000));
  CHECK(says(&c, "h", "so", REFUSES_NONSTREAM, 2000));
  CHECK(!learned_lookup(&c, "h", "bad", "-", REFUSES_STREAM, 2000) &&
        !learned_lookup(&c, "h", "bad", "-", REFUSES_NONSTREAM, 2000));
  /* The next write rewrites the old line with seven fields. */
  learn_dir(&c, "h", "added", REFUSES_NONSTREAM, "dashscope-stream-only",
            2000);
  CHECK(strstr(slurp(path), "\nh\told\t-\t1000\t9000\tbuilt-in\n"));
  CHECK(!strstr(slurp(path), "\tbad\t"));
  config_free(&c);
  learned_reset_for_tests();
}

/* One thread's share of the threads test. */
struct worker {
  const struct ss_config *c;
  int id;
};

#define THREADS 8
#define PER_THREAD 12

/* Learn PER_THREAD entries, looking each up as it goes. */
static void *work(void *arg)
{
  struct worker *w = arg;
  char model[32];
  for(int i = 0; i < PER_THREAD; i++) {
    snprintf(model, sizeof(model), "t%d-m%d", w->id, i);
    learn(w->c, "h", model, "-", "built-in", 1000);
    if(!learned_lookup(w->c, "h", model, "-", REFUSES_STREAM, 1001))
      return w;  /* non-NULL: failure */
  }
  return NULL;
}

TEST(threads_share_the_file)
{
  struct ss_config c;
  pthread_t t[THREADS];
  struct worker w[THREADS];
  const char *path = in_dir("threads");
  cfg_for(&c, path, 3600);
  for(int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){&c, i};
    CHECK(!pthread_create(&t[i], NULL, work, &w[i]));
  }
  for(int i = 0; i < THREADS; i++) {
    void *r;
    CHECK(!pthread_join(t[i], &r) && r == NULL);
  }
  struct learned_list l;
  learned_list_init(&l);
  CHECK(learned_file_read(path, &l, &(struct learned_stamp){0}) == 1);
  CHECK(l.n == THREADS * PER_THREAD);
  learned_list_free(&l);
  config_free(&c);
  learned_reset_for_tests();
}

int main(void)
{
  if(!learned_dir_make("/tmp/ss-learned-XXXXXX"))
    return 1;
  RUN(fingerprints);
  RUN(paths);
  RUN(add_lookup_and_modes);
  RUN(known_models);
  RUN(expiry);
  RUN(second_process_sees_entries);
  RUN(unwritable_path_keeps_memory);
  RUN(hostile_forget_records);
  RUN(child_leaves_pending_to_the_parent);
  RUN(corrupt_lines_skipped);
  RUN(names_cannot_break_the_file);
  RUN(cap_drops_oldest);
  RUN(threads_share_the_file);
  RUN(directions_are_looked_up_apart);
  RUN(the_newest_word_replaces_the_other_direction);
  RUN(a_newer_word_in_the_file_wins);
  RUN(direction_field_in_the_file);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if(system(cmd) != 0)
    printf("# could not remove %s\n", dir);
  return check_done();
}
