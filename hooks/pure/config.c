/* config.c - configuration values and the file grammar (see config.h);
 * the [refusal "name"] sections are read by config_rules.c. */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"

#define DEFAULT_CHUNK 24
#define DEFAULT_MAX_ANSWER (64u << 20)
#define DEFAULT_CACHE_TTL (7L * 24 * 3600)
#define MAX_PACE_MS 60000
#define DEFAULT_CAPTURE_MAX_BODY ((size_t)1 << 20)
#define MAX_CAPTURE_MAX_BODY ((size_t)1 << 30)

void config_init(struct ss_config *c)
{
  c->mode = SS_MODE_AUTO;
  globs_init(&c->models);
  globs_init(&c->stream_only);
  c->log = NULL;
  c->log_line = 0;
  c->chunk_chars = DEFAULT_CHUNK;
  c->max_answer = DEFAULT_MAX_ANSWER;
  c->pace_ms = 0;
  c->cache = NULL;
  c->cache_ttl = DEFAULT_CACHE_TTL;
  refusal_rules_init(&c->refusals);
  c->capture[0] = '\0';
  c->capture_line = 0;
  c->capture_max_body = DEFAULT_CAPTURE_MAX_BODY;
  redact_rules_default(&c->capture_redact);
}

const char *config_mode_name(enum ss_mode m)
{
  return m == SS_MODE_AUTO ? "auto" : m == SS_MODE_FORCE ? "force" : "off";
}

void config_free(struct ss_config *c)
{
  globs_clear(&c->models);
  globs_clear(&c->stream_only);
  free(c->log);
  c->log = NULL;
  free(c->cache);
  c->cache = NULL;
  refusal_rules_free(&c->refusals);
}

/* Parse a positive decimal size within [lo, hi]; false otherwise. */
static bool parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
  if(!*s)
    return false;
  size_t v = 0;
  for(; *s; s++) {
    if(*s < '0' || *s > '9' || v > (hi - (size_t)(*s - '0')) / 10)
      return false;
    v = v * 10 + (size_t)(*s - '0');
  }
  if(v < lo)
    return false;
  *out = v;
  return true;
}

/* Apply "mode = ..."; unknown values act as off. */
static bool set_mode(struct ss_config *c, const char *v, const char **msg)
{
  if(!strcmp(v, "auto"))
    c->mode = SS_MODE_AUTO;
  else if(!strcmp(v, "force"))
    c->mode = SS_MODE_FORCE;
  else if(!strcmp(v, "off"))
    c->mode = SS_MODE_OFF;
  else {
    c->mode = SS_MODE_OFF;
    *msg = "unknown mode, acting as off";
    return false;
  }
  return true;
}

/* Parse a duration: N seconds, or N with a suffix s, m, h or d. */
static bool parse_duration(const char *s, long *out)
{
  char num[24];
  size_t n = strlen(s), mult = 1;
  if(n && (s[n - 1] == 's' || s[n - 1] == 'm' || s[n - 1] == 'h' ||
           s[n - 1] == 'd')) {
    mult = s[n - 1] == 's' ? 1 : s[n - 1] == 'm' ? 60
           : s[n - 1] == 'h' ? 3600 : 86400;
    n--;
  }
  size_t v;
  if(n >= sizeof(num))
    return false;
  memcpy(num, s, n);
  num[n] = '\0';
  if(!parse_size(num, 0, (size_t)10 * 365 * 86400 / mult, &v))
    return false;
  *out = (long)(v * mult);
  return true;
}

/* Replace an owned string setting. */
static bool set_string(char **slot, const char *v, const char **msg)
{
  char *dup = strdup(v);
  if(!dup) {
    *msg = "out of memory";
    return false;
  }
  free(*slot);
  *slot = dup;
  return true;
}

/* The capture file: a path, or empty / off for none. */
static bool set_capture(struct ss_config *c, const char *v, const char **msg)
{
  size_t n = strlen(v);
  if(!strcmp(v, "off"))
    n = 0;
  if(n >= sizeof(c->capture)) {
    *msg = "capture must be a path shorter than 4096 bytes, or off";
    return false;
  }
  memcpy(c->capture, v, n);
  c->capture[n] = '\0';
  return true;
}

/* The capture_redact_* keys and the lists they edit (arrays, not
 * pointers: no relocation at load). */
static const struct {
  char key[24];
  enum redact_list list;
} redact_keys[] = {
  { "capture_redact_headers", REDACT_HEADERS },
  { "capture_redact_query", REDACT_QUERY },
  { "capture_redact_fields", REDACT_FIELDS },
};

/* Apply a capture_* key; -1 when key is none of them, else whether the
 * value was good. */
static int set_capture_key(struct ss_config *c, const char *key,
                           const char *v, const char **msg)
{
  if(!strcmp(key, "capture"))
    return set_capture(c, v, msg);
  if(!strcmp(key, "capture_max_body")) {
    if(parse_size(v, 0, MAX_CAPTURE_MAX_BODY, &c->capture_max_body))
      return true;
    *msg = "capture_max_body must be a number of bytes from 0 to 1073741824";
    return false;
  }
  if(!strcmp(key, "capture_redact")) {
    if(strcmp(v, "on") && strcmp(v, "off")) {
      *msg = "capture_redact must be on or off";
      return false;
    }
    c->capture_redact.off = !strcmp(v, "off");
    return true;
  }
  for(size_t i = 0; i < sizeof(redact_keys) / sizeof(redact_keys[0]); i++) {
    if(strcmp(key, redact_keys[i].key))
      continue;
    if(redact_rules_edit(&c->capture_redact, redact_keys[i].list, v,
                         strlen(v)))
      return true;
    *msg = "a bad name to redact (1 to 63 bytes, no control characters) or "
           "a full list (64 names): the valid additions apply, the removals "
           "only when every name is valid";
    return false;
  }
  return -1;
}

bool config_set(struct ss_config *c, const char *key, const char *value,
                bool replace_list, const char **msg)
{
  size_t n;
  int done;
  *msg = NULL;
  if((done = set_capture_key(c, key, value, msg)) >= 0)
    return done;
  if(!strcmp(key, "mode"))
    return set_mode(c, value, msg);
  if(!strcmp(key, "models") || !strcmp(key, "stream_only")) {
    struct globs *g = key[0] == 'm' ? &c->models : &c->stream_only;
    if(replace_list)
      globs_clear(g);
    if(globs_add_list(g, value))
      return true;
    *msg = "out of memory";
    return false;
  }
  if(!strcmp(key, "log"))
    return set_string(&c->log, value, msg);
  if(!strcmp(key, "cache")) {
    if(*value)
      return set_string(&c->cache, value, msg);
    *msg = "cache must be a path or off";
    return false;
  }
  if(!strcmp(key, "cache_ttl")) {
    if(parse_duration(value, &c->cache_ttl))
      return true;
    *msg = "cache_ttl must be a duration: N seconds, or N followed by s, m, h or d";
    return false;
  }
  if(!strcmp(key, "pace")) {
    if(parse_size(value, 0, MAX_PACE_MS, &n)) {
      c->pace_ms = (unsigned)n;
      return true;
    }
    *msg = "pace must be a number of milliseconds from 0 to 60000";
    return false;
  }
  if(!strcmp(key, "chunk")) {
    if(parse_size(value, 1, 1u << 20, &c->chunk_chars))
      return true;
    *msg = "chunk must be a number from 1 to 1048576";
    return false;
  }
  if(!strcmp(key, "max_answer")) {
    if(parse_size(value, 1024, (size_t)1 << 40, &c->max_answer))
      return true;
    *msg = "max_answer must be a number of bytes, at least 1024";
    return false;
  }
  *msg = "unknown setting";
  return false;
}

void config_trim(const char **a, const char **b)
{
  while(*a < *b && (**a == ' ' || **a == '\t' || **a == '\r'))
    (*a)++;
  while(*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t' || (*b)[-1] == '\r'))
    (*b)--;
}

bool config_split(const char *a, const char *b, const char **ka,
                  const char **kb, const char **va, const char **vb)
{
  const char *eq = memchr(a, '=', (size_t)(b - a));
  if(!eq)
    return false;
  *ka = a;
  *kb = eq;
  *va = eq + 1;
  *vb = b;
  config_trim(ka, kb);
  config_trim(va, vb);
  if(*vb - *va >= 2 && **va == '"' && (*vb)[-1] == '"') {
    (*va)++;
    (*vb)--;
  }
  return true;
}

/* Handle one "key = value" line of the global section. */
static void parse_setting(struct ss_config *c, const char *a, const char *b,
                          const char *where, unsigned line, config_warn_fn warn,
                          void *arg)
{
  const char *ka, *kb, *va, *vb;
  if(!config_split(a, b, &ka, &kb, &va, &vb)) {
    if(warn)
      warn(arg, where, line, "expected key = value");
    return;
  }
  char *key = strndup(ka, (size_t)(kb - ka));
  char *val = strndup(va, (size_t)(vb - va));
  const char *msg = "out of memory";
  char named[100];
  bool set = key && val && config_set(c, key, val, false, &msg);
  /* their files are judged when they open (check-config names the line) */
  if(set && !strcmp(key, "log"))
    c->log_line = line;
  else if(set && !strcmp(key, "capture"))
    c->capture_line = line;
  if(key && val && !set && warn) {
    if(!strcmp(msg, "unknown setting")) {  /* which one */
      snprintf(named, sizeof(named), "unknown setting '%.64s'", key);
      msg = named;
    }
    warn(arg, where, line, msg);
  } else if((!key || !val) && warn)
    warn(arg, where, line, msg);
  free(key);
  free(val);
}

void config_parse(struct ss_config *c, const char *text, size_t n,
                  const char *where, config_warn_fn warn, void *arg)
{
  const char *p = text, *end = text + n;
  unsigned line = 0;
  struct config_rules_state st = {CS_GLOBAL, false, false, false, 0};
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *a = p, *b = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line++;
    config_trim(&a, &b);
    if(a == b || *a == '#' || *a == ';')
      continue;
    b = config_strip_comment(a, b);
    config_trim(&a, &b);
    if(*a == '[')
      config_rules_header(c, &st, a, b, where, line, warn, arg);
    else if(st.section == CS_GLOBAL)
      parse_setting(c, a, b, where, line, warn, arg);
    else if(st.section == CS_REFUSAL)
      config_rules_line(c, &st, a, b, where, line, warn, arg);
  }
  config_rules_end(c, &st, where, warn, arg);
}
