/* config.c - configuration values and the file grammar (see config.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK 24
#define DEFAULT_MAX_ANSWER (64u << 20)

void config_init(struct ss_config *c)
{
  c->mode = SS_MODE_FORCE;
  globs_init(&c->models);
  c->log = NULL;
  c->chunk_chars = DEFAULT_CHUNK;
  c->max_answer = DEFAULT_MAX_ANSWER;
}

void config_free(struct ss_config *c)
{
  globs_clear(&c->models);
  free(c->log);
  c->log = NULL;
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
  if(!strcmp(v, "force"))
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

bool config_set(struct ss_config *c, const char *key, const char *value,
                bool replace_list, const char **msg)
{
  *msg = NULL;
  if(!strcmp(key, "mode"))
    return set_mode(c, value, msg);
  if(!strcmp(key, "models")) {
    if(replace_list)
      globs_clear(&c->models);
    if(globs_add_list(&c->models, value))
      return true;
    *msg = "out of memory";
    return false;
  }
  if(!strcmp(key, "log")) {
    char *dup = strdup(value);
    if(!dup) {
      *msg = "out of memory";
      return false;
    }
    free(c->log);
    c->log = dup;
    return true;
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

/* Trim blanks at both ends of [*a, *b). */
static void trim(const char **a, const char **b)
{
  while(*a < *b && (**a == ' ' || **a == '\t' || **a == '\r'))
    (*a)++;
  while(*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t' || (*b)[-1] == '\r'))
    (*b)--;
}

/* Handle one "key = value" line of the global section. */
static void parse_setting(struct ss_config *c, const char *a, const char *b,
                          const char *where, unsigned line, config_warn_fn warn,
                          void *arg)
{
  const char *eq = memchr(a, '=', (size_t)(b - a));
  if(!eq) {
    if(warn)
      warn(arg, where, line, "expected key = value");
    return;
  }
  const char *ka = a, *kb = eq, *va = eq + 1, *vb = b;
  trim(&ka, &kb);
  trim(&va, &vb);
  if(vb - va >= 2 && *va == '"' && vb[-1] == '"') {
    va++;
    vb--;
  }
  char *key = strndup(ka, (size_t)(kb - ka));
  char *val = strndup(va, (size_t)(vb - va));
  const char *msg = "out of memory";
  if(key && val && !config_set(c, key, val, false, &msg) && warn)
    warn(arg, where, line, msg);
  else if((!key || !val) && warn)
    warn(arg, where, line, msg);
  free(key);
  free(val);
}

void config_parse(struct ss_config *c, const char *text, size_t n,
                  const char *where, config_warn_fn warn, void *arg)
{
  const char *p = text, *end = text + n;
  unsigned line = 0;
  bool in_global = true;
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *a = p, *b = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line++;
    trim(&a, &b);
    if(a == b || *a == '#' || *a == ';')
      continue;
    if(*a == '[') {
      /* Sections belong to later features; skip their keys for now. */
      in_global = false;
      if(warn)
        warn(arg, where, line, "unknown section, its settings are ignored");
      continue;
    }
    if(in_global)
      parse_setting(c, a, b, where, line, warn, arg);
  }
}
