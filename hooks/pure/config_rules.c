/* config_rules.c - the [refusal "name"] sections of the configuration
 * file (grammar in config.h, rule semantics in hooks/pure/refusal.h).
 *
 * Decisions:
 * - A rule is built as its lines come and judged at its end: a bad line
 *   (unknown key, bad status, bad path, a glob given twice, no '=') is
 *   reported with its line and the whole rule is dropped, so a half-read
 *   rule never matches more than its author meant.
 * - A section with no setting at all is dropped with a warning: it would
 *   match every HTTP 400. "status = 400" alone says that on purpose. A
 *   direction line is no setting in that sense (it says which answers
 *   the rule judges, not which ones it matches).
 * - Names are unique and the built-in rules' names ("built-in",
 *   "dashscope-...") are reserved (refusal_match reports names, and the
 *   learned cache records them); a repeated or reserved name, or a header
 *   without a quoted name, is reported and its section skipped like an
 *   unknown one. */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTION_WORD "refusal"

/* Report a problem through warn, which may be NULL. */
static void say(config_warn_fn warn, void *arg, const char *where,
                unsigned line, const char *msg)
{
  if(warn)
    warn(arg, where, line, msg);
}

/* Report a problem of the open rule: its name, the reason, the outcome. */
static void say_rule(struct ss_config *c, config_warn_fn warn, void *arg,
                     const char *where, unsigned line, const char *msg)
{
  char text[320];
  const char *name = c->refusals.n
                     ? refusal_rule_name(&c->refusals, REFUSAL_BUILTINS +
                                                       c->refusals.n - 1)
                     : "?";
  snprintf(text, sizeof(text), "refusal \"%.64s\": %s; the rule is ignored",
           name, msg);
  say(warn, arg, where, line, text);
}

void config_rules_end(struct ss_config *c, struct config_rules_state *st,
                      const char *where, config_warn_fn warn, void *arg)
{
  if(st->section == CS_REFUSAL) {
    if(!st->broken && !st->settings)
      say_rule(c, warn, arg, where, st->line, st->directed
               ? "no setting but its direction (status = 400 alone would "
                 "match every 400)"
               : "no setting (status = 400 alone would match every 400)");
    if(st->broken || !st->settings)
      refusal_rules_drop_last(&c->refusals);
  }
  st->section = CS_SKIP;
  st->broken = st->settings = st->directed = false;
}

/* The quoted name of `refusal "name"` in [a, b) (already past the word);
 * a malloc'ed copy, or NULL with *msg. */
static char *section_name(const char *a, const char *b, const char **msg)
{
  config_trim(&a, &b);
  *msg = "expected [refusal \"name\"], its settings are ignored";
  if(b - a < 2 || *a != '"' || b[-1] != '"')
    return NULL;
  a++;
  b--;
  if(a == b || memchr(a, '"', (size_t)(b - a)) ||
     memchr(a, '\0', (size_t)(b - a)))
    return NULL;
  char *name = strndup(a, (size_t)(b - a));
  if(!name)
    *msg = "out of memory, a refusal section is ignored";
  return name;
}

/* Open the refusal section whose header is [a, b) (inside the brackets,
 * trimmed, starting with the word). */
static void open_refusal(struct ss_config *c, struct config_rules_state *st,
                         const char *a, const char *b, const char *where,
                         unsigned line, config_warn_fn warn, void *arg)
{
  const char *msg;
  char *name = section_name(a + strlen(SECTION_WORD), b, &msg);
  if(name && refusal_builtin_name(name))
    msg = "the name of a built-in rule is reserved, this section is ignored";
  else if(name && refusal_rules_has(&c->refusals, name))
    msg = "a refusal rule of this name exists, this section is ignored";
  else if(name && !refusal_rules_begin(&c->refusals, name))
    msg = "out of memory, a refusal section is ignored";
  else if(name) {
    st->section = CS_REFUSAL;
    st->line = line;
    msg = NULL;
  }
  free(name);
  if(msg)
    say(warn, arg, where, line, msg);
}

void config_rules_header(struct ss_config *c, struct config_rules_state *st,
                         const char *a, const char *b, const char *where,
                         unsigned line, config_warn_fn warn, void *arg)
{
  size_t w = strlen(SECTION_WORD);
  config_rules_end(c, st, where, warn, arg);
  if(b - a >= 2 && b[-1] == ']') {
    const char *ia = a + 1, *ib = b - 1;
    config_trim(&ia, &ib);
    if((size_t)(ib - ia) >= w && !memcmp(ia, SECTION_WORD, w) &&
       (ia + w == ib || ia[w] == ' ' || ia[w] == '\t' || ia[w] == '"')) {
      open_refusal(c, st, ia, ib, where, line, warn, arg);
      return;
    }
  }
  say(warn, arg, where, line, "unknown section, its settings are ignored");
}

/* Apply key [ka, kb) (a word, then a path for field) = [va, vb) to the
 * open rule; false with *msg. */
static bool rule_setting(struct ss_config *c, const char *ka, const char *kb,
                         const char *va, const char *vb, const char **msg)
{
  const char *sp = ka;
  while(sp < kb && *sp != ' ' && *sp != '\t')
    sp++;
  const char *pa = sp, *pb = kb;
  config_trim(&pa, &pb);
  char *key = strndup(ka, (size_t)(sp - ka));
  char *path = pa < pb ? strndup(pa, (size_t)(pb - pa)) : NULL;
  char *val = strndup(va, (size_t)(vb - va));
  bool ok = false;
  *msg = "out of memory";
  if(key && val && (pa == pb || path))
    ok = refusal_rule_set(&c->refusals, key, path, val, msg);
  free(key);
  free(path);
  free(val);
  return ok;
}

/* Is the key [ka, kb) the word "direction" (no condition)? */
static bool is_direction(const char *ka, const char *kb)
{
  static const char word[] = "direction";
  return (size_t)(kb - ka) == sizeof(word) - 1 &&
         !memcmp(ka, word, sizeof(word) - 1);
}

void config_rules_line(struct ss_config *c, struct config_rules_state *st,
                       const char *a, const char *b, const char *where,
                       unsigned line, config_warn_fn warn, void *arg)
{
  const char *ka, *kb, *va, *vb, *msg = "expected key = value";
  bool split = config_split(a, b, &ka, &kb, &va, &vb);
  if(split && is_direction(ka, kb))
    st->directed = true;
  else
    st->settings = true;
  if(split && rule_setting(c, ka, kb, va, vb, &msg))
    return;
  st->broken = true;
  say_rule(c, warn, arg, where, line, msg);
}
