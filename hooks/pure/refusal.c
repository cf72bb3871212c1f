/* refusal.c - does an error answer mean "this model cannot stream"? (see
 * refusal.h). Pure: the body is judged by its JSON fields through json.h
 * and by fnmatch(3) globs; nothing is allocated but the copies a message
 * or body glob needs.
 *
 * Decisions:
 * - The built-in rule reads fields only (status 400, error.param "stream",
 *   error.code "unsupported_value"), never wording: relays append
 *   " (request id: ...)" to messages and OpenAI reworded them over time.
 * - DashScope's refusals of requests without stream share their code
 *   (invalid_parameter_error) with every bad parameter ("Range of
 *   max_tokens should be [1, 8192]"), so their rules need the message
 *   too: a glob open at the end only (relays append to it), one rule per
 *   wording (English and Chinese), so that each is listed and learned
 *   under a name of its own.
 * - A rule's direction is no condition but which question it answers:
 *   refusal_match and refusal_status_candidate skip the other
 *   direction's rules entirely, built-in ones included.
 * - A field condition compares a JSON string by its decoded text and a
 *   number, true, false or null by its exact bytes ("1.0" is not "1");
 *   an object or an array at the path never matches.
 * - Globs are case-sensitive, without FNM_PATHNAME ('*' matches '/').
 * - A body longer than REFUSAL_MAX_BODY is never a refusal (refusals are
 *   short), which also bounds the cost of a glob; a body glob never
 *   matches a body holding a NUL byte, a message glob never matches a
 *   message holding \u0000. */
#include "refusal.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

#define REFUSAL_MAX_BODY (64u << 10)
#define REFUSAL_MAX_SEGMENT 255  /* bytes of one path segment */
#define BUILTIN_NAME "built-in"
#define DIRECTION_KEY "direction"

/* "field <path> = <value>": path segments stored NUL-separated. */
struct refusal_field {
  char *path;       /* owned: "error\0code\0" */
  size_t segments;
  char *value;      /* owned */
};

struct refusal_rule {
  char *name;       /* owned section name */
  int status;
  struct refusal_field *fields;  /* owned, nfields of them */
  size_t nfields;
  char *message;    /* owned glob or NULL */
  char *body;       /* owned glob or NULL */
  enum refusal_dir dir;
  bool dir_set;     /* a direction line was read (once per rule) */
};

/* The built-in rules, as fields of the same shape as a user rule's. */
static char builtin_param_path[] = "error\0param";
static char builtin_code_path[] = "error\0code";
static char builtin_param_value[] = "stream";
static char builtin_code_value[] = "unsupported_value";
static struct refusal_field builtin_fields[] = {
  {builtin_param_path, 2, builtin_param_value},
  {builtin_code_path, 2, builtin_code_value},
};
static char builtin_name[] = BUILTIN_NAME;

/* DashScope (Alibaba Cloud Model Studio), OpenAI-compatible mode:
 * {"error":{"code":"invalid_parameter_error","param":null,"message":
 * "This model only support stream mode, please enable the stream
 * parameter to access the model. ","type":"invalid_request_error"},...} */
static char ds_code_value[] = "invalid_parameter_error";
static struct refusal_field ds_fields[] = {
  {builtin_code_path, 2, ds_code_value},
};
static char ds_only_name[] = "dashscope-stream-only";
static char ds_only_message[] = "This model only support stream mode*";
static char ds_think_name[] = "dashscope-enable-thinking";
static char ds_think_message[] =
    "parameter.enable_thinking must be set to false for non-streaming calls*";
static char ds_think_zh_name[] = "dashscope-enable-thinking-zh";
static char ds_think_zh_message[] =
    "parameter.enable_thinking必须设置为false才能进行非流式调用*";

static const struct refusal_rule builtins[] = {
  {builtin_name, 400, builtin_fields, 2, NULL, NULL, REFUSES_STREAM, true},
  {ds_only_name, 400, ds_fields, 1, ds_only_message, NULL,
   REFUSES_NONSTREAM, true},
  {ds_think_name, 400, ds_fields, 1, ds_think_message, NULL,
   REFUSES_NONSTREAM, true},
  {ds_think_zh_name, 400, ds_fields, 1, ds_think_zh_message, NULL,
   REFUSES_NONSTREAM, true},
};
_Static_assert(sizeof(builtins) / sizeof(builtins[0]) == REFUSAL_BUILTINS,
               "REFUSAL_BUILTINS counts the built-in rules");

const char *refusal_dir_name(enum refusal_dir dir)
{
  return dir == REFUSES_NONSTREAM ? "stream-only" : "no-stream";
}

bool refusal_dir_parse(const char *word, enum refusal_dir *dir)
{
  if(!strcmp(word, "no-stream"))
    *dir = REFUSES_STREAM;
  else if(!strcmp(word, "stream-only"))
    *dir = REFUSES_NONSTREAM;
  else
    return false;
  return true;
}

void refusal_rules_init(struct refusal_rules *r)
{
  r->v = NULL;
  r->n = 0;
}

/* Free what one rule owns. */
static void rule_free(struct refusal_rule *rule)
{
  for(size_t i = 0; i < rule->nfields; i++) {
    free(rule->fields[i].path);
    free(rule->fields[i].value);
  }
  free(rule->fields);
  free(rule->name);
  free(rule->message);
  free(rule->body);
}

void refusal_rules_free(struct refusal_rules *r)
{
  for(size_t i = 0; i < r->n; i++)
    rule_free(&r->v[i]);
  free(r->v);
  refusal_rules_init(r);
}

bool refusal_status_candidate(const struct refusal_rules *user,
                              enum refusal_dir dir, int status)
{
  for(size_t i = 0; i < REFUSAL_BUILTINS; i++)
    if(builtins[i].dir == dir && builtins[i].status == status)
      return true;
  for(size_t i = 0; user && i < user->n; i++)
    if(user->v[i].dir == dir && user->v[i].status == status)
      return true;
  return false;
}

/* Is [s, s+n) a decimal number without sign or leading zeros? */
static bool is_index(const char *s, size_t n)
{
  if(!n || n > 9 || (s[0] == '0' && n > 1))
    return false;
  for(size_t i = 0; i < n; i++)
    if(s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* Element k of array a. */
static bool array_at(struct json_span a, size_t k, struct json_span *out)
{
  struct json_iter it;
  json_iter_init(&it, a);
  for(size_t i = 0; json_next_element(&it, out); i++)
    if(i == k)
      return true;
  return false;
}

/* Follow a field's path from the root; false when it leads nowhere. */
static bool field_find(struct json_span root, const struct refusal_field *f,
                       struct json_span *out)
{
  const char *seg = f->path;
  struct json_span cur = root;
  for(size_t i = 0; i < f->segments; i++) {
    size_t len = strlen(seg);
    if(cur.type == JSON_ARRAY && is_index(seg, len)) {
      if(!array_at(cur, (size_t)strtoul(seg, NULL, 10), &cur))
        return false;
    } else if(!json_get(cur, seg, &cur)) {
      return false;
    }
    seg += len + 1;
  }
  *out = cur;
  return true;
}

/* Does the value at the field's path equal its value? */
static bool field_holds(struct json_span root, const struct refusal_field *f)
{
  struct json_span v;
  if(!field_find(root, f, &v))
    return false;
  switch(v.type) {
  case JSON_STRING:
    return json_key_is(v, f->value);
  case JSON_NUMBER:
  case JSON_TRUE:
  case JSON_FALSE:
  case JSON_NULL:
    return v.len == strlen(f->value) && !memcmp(v.ptr, f->value, v.len);
  default:
    return false;
  }
}

/* The error message: error.message, else message, else error, when a
 * string; false when there is none. */
static bool message_span(struct json_span root, struct json_span *out)
{
  struct json_span err;
  bool has_err = json_get(root, "error", &err);
  if(has_err && json_get(err, "message", out) && out->type == JSON_STRING)
    return true;
  if(json_get(root, "message", out) && out->type == JSON_STRING)
    return true;
  *out = err;
  return has_err && err.type == JSON_STRING;
}

/* Does the glob match the decoded string s? */
static bool glob_string(const char *glob, struct json_span s)
{
  char *text = malloc(s.len + 1);
  size_t n;
  bool ok = text && json_string_decode(s, text, s.len + 1, &n) &&
            fnmatch(glob, text, 0) == 0;
  free(text);
  return ok;
}

/* What one refusal_match call knows of the body, computed on demand. */
struct judged {
  const char *body;
  size_t n;
  int parsed;         /* 0: not yet, 1: valid JSON, -1: not */
  struct json_span root;
  char *text;         /* the body NUL-terminated, when a glob needed it */
  bool text_bad;      /* holds a NUL or memory ran out */
};

/* Parse the body once; false when it is not JSON. */
static bool judged_json(struct judged *j)
{
  if(!j->parsed)
    j->parsed = json_parse(j->body, j->n, &j->root) ? 1 : -1;
  return j->parsed > 0;
}

/* Is the rule of direction dir, and does every condition of it hold? */
static bool rule_holds(const struct refusal_rule *r, enum refusal_dir dir,
                       int status, struct judged *j)
{
  struct json_span m;
  if(r->dir != dir || status != r->status)
    return false;
  if((r->nfields || r->message) && !judged_json(j))
    return false;
  for(size_t i = 0; i < r->nfields; i++)
    if(!field_holds(j->root, &r->fields[i]))
      return false;
  if(r->message &&
     (!message_span(j->root, &m) || !glob_string(r->message, m)))
    return false;
  if(r->body) {
    if(!j->text && !j->text_bad) {
      j->text_bad = memchr(j->body, '\0', j->n) != NULL ||
                    !(j->text = strndup(j->body, j->n));
    }
    if(j->text_bad || fnmatch(r->body, j->text, 0) != 0)
      return false;
  }
  return true;
}

const char *refusal_match(const struct refusal_rules *user,
                          enum refusal_dir dir, int status,
                          const char *body, size_t n)
{
  struct judged j = {body ? body : "", body ? n : 0, 0, {NULL, 0, JSON_NONE},
                     NULL, false};
  const char *name = NULL;
  if(j.n > REFUSAL_MAX_BODY)
    return NULL;
  for(size_t i = 0; !name && i < REFUSAL_BUILTINS; i++)
    if(rule_holds(&builtins[i], dir, status, &j))
      name = builtins[i].name;
  for(size_t i = 0; !name && user && i < user->n; i++)
    if(rule_holds(&user->v[i], dir, status, &j))
      name = user->v[i].name;
  free(j.text);
  return name;
}

/* ---- building and listing ------------------------------------------- */

bool refusal_rules_begin(struct refusal_rules *r, const char *name)
{
  struct refusal_rule *v = realloc(r->v, (r->n + 1) * sizeof(*v));
  if(!v)
    return false;
  r->v = v;
  struct refusal_rule *rule = &r->v[r->n];
  memset(rule, 0, sizeof(*rule));
  rule->status = 400;
  rule->dir = REFUSES_STREAM;
  if(!(rule->name = strdup(name)))
    return false;
  r->n++;
  return true;
}

void refusal_rules_drop_last(struct refusal_rules *r)
{
  if(r->n)
    rule_free(&r->v[--r->n]);
}

bool refusal_rules_has(const struct refusal_rules *r, const char *name)
{
  for(size_t i = 0; i < r->n; i++)
    if(!strcmp(r->v[i].name, name))
      return true;
  return false;
}

bool refusal_builtin_name(const char *name)
{
  for(size_t i = 0; i < REFUSAL_BUILTINS; i++)
    if(!strcmp(builtins[i].name, name))
      return true;
  return false;
}

/* Split a dotted path into NUL-separated segments; NULL with *msg when a
 * segment is empty or too long (or memory runs out). */
static char *path_split(const char *path, size_t *segments, const char **msg)
{
  size_t len = strlen(path), seg = 0, run = 0;
  char *p = malloc(len + 1);
  if(!p) {
    *msg = "out of memory";
    return NULL;
  }
  for(size_t i = 0; i <= len; i++) {
    if(path[i] == '.' || path[i] == '\0') {
      if(!run || run > REFUSAL_MAX_SEGMENT) {
        *msg = "field needs a dotted path like error.code (no empty part)";
        free(p);
        return NULL;
      }
      p[i] = '\0';
      seg++;
      run = 0;
    } else {
      p[i] = path[i];
      run++;
    }
  }
  *segments = seg;
  return p;
}

/* Add "field <path> = <value>" to a rule. */
static bool rule_add_field(struct refusal_rule *rule, const char *path,
                           const char *value, const char **msg)
{
  struct refusal_field f;
  if(!path || !(f.path = path_split(path, &f.segments, msg))) {
    if(!path)
      *msg = "field needs a dotted path: field error.code = value";
    return false;
  }
  struct refusal_field *v =
      realloc(rule->fields, (rule->nfields + 1) * sizeof(*v));
  if(v)
    rule->fields = v;
  if(!v || !(f.value = strdup(value))) {
    free(f.path);
    *msg = "out of memory";
    return false;
  }
  rule->fields[rule->nfields++] = f;
  return true;
}

/* Set a glob once: a second one in the same rule is an error. */
static bool rule_set_glob(char **slot, const char *value, const char *key,
                          const char **msg)
{
  if(*slot) {
    *msg = !strcmp(key, "message") ? "message given twice in one rule"
                                   : "body given twice in one rule";
    return false;
  }
  if(!(*slot = strdup(value))) {
    *msg = "out of memory";
    return false;
  }
  return true;
}

/* Parse an HTTP status from 100 to 599. */
static bool parse_status(const char *s, int *out)
{
  if(strlen(s) != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' ||
     s[1] > '9' || s[2] < '0' || s[2] > '9')
    return false;
  *out = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  return true;
}

bool refusal_rule_set(struct refusal_rules *r, const char *key,
                      const char *path, const char *value, const char **msg)
{
  *msg = NULL;
  if(!r->n) {
    *msg = "no rule to add to";
    return false;
  }
  struct refusal_rule *rule = &r->v[r->n - 1];
  if(strcmp(key, "field") && path) {
    *msg = "only field takes a path";
    return false;
  }
  if(!strcmp(key, "status")) {
    if(parse_status(value, &rule->status))
      return true;
    *msg = "status must be an HTTP status from 100 to 599";
    return false;
  }
  if(!strcmp(key, DIRECTION_KEY)) {
    if(rule->dir_set) {
      *msg = "direction given twice in one rule";
      return false;
    }
    if(!refusal_dir_parse(value, &rule->dir)) {
      *msg = "direction must be no-stream or stream-only";
      return false;
    }
    rule->dir_set = true;
    return true;
  }
  if(!strcmp(key, "field"))
    return rule_add_field(rule, path, value, msg);
  if(!strcmp(key, "message"))
    return rule_set_glob(&rule->message, value, key, msg);
  if(!strcmp(key, "body"))
    return rule_set_glob(&rule->body, value, key, msg);
  *msg = "unknown refusal setting (direction, status, field, message, "
         "body)";
  return false;
}

/* Rule i: the built-in ones first, then the user's. */
static const struct refusal_rule *rule_at(const struct refusal_rules *user,
                                          size_t i)
{
  if(i < REFUSAL_BUILTINS)
    return &builtins[i];
  i -= REFUSAL_BUILTINS;
  return user && i < user->n ? &user->v[i] : NULL;
}

size_t refusal_rule_count(const struct refusal_rules *user)
{
  return REFUSAL_BUILTINS + (user ? user->n : 0);
}

enum refusal_dir refusal_rule_dir(const struct refusal_rules *user, size_t i)
{
  const struct refusal_rule *r = rule_at(user, i);
  return r ? r->dir : REFUSES_STREAM;
}

bool refusal_rule_builtin(const struct refusal_rules *user, size_t i)
{
  (void)user;
  return i < REFUSAL_BUILTINS;
}

const char *refusal_rule_name(const struct refusal_rules *user, size_t i)
{
  const struct refusal_rule *r = rule_at(user, i);
  return r ? r->name : NULL;
}

int refusal_rule_status(const struct refusal_rules *user, size_t i)
{
  const struct refusal_rule *r = rule_at(user, i);
  return r ? r->status : 0;
}

/* Append a field's path with dots again. */
static void put_path(struct buf *out, const struct refusal_field *f)
{
  const char *seg = f->path;
  for(size_t k = 0; k < f->segments; k++) {
    if(k)
      buf_puts(out, ".");
    buf_puts(out, seg);
    seg += strlen(seg) + 1;
  }
}

bool refusal_rule_describe(const struct refusal_rules *user, size_t i,
                           struct buf *out)
{
  const struct refusal_rule *r = rule_at(user, i);
  char status[24];
  if(!r)
    return false;
  snprintf(status, sizeof(status), "status %d", r->status);
  buf_puts(out, status);
  for(size_t k = 0; k < r->nfields; k++) {
    buf_puts(out, ", field ");
    put_path(out, &r->fields[k]);
    buf_puts(out, " = \"");
    buf_puts(out, r->fields[k].value);
    buf_puts(out, "\"");
  }
  if(r->message) {
    buf_puts(out, ", message \"");
    buf_puts(out, r->message);
    buf_puts(out, "\"");
  }
  if(r->body) {
    buf_puts(out, ", body \"");
    buf_puts(out, r->body);
    buf_puts(out, "\"");
  }
  return !out->oom;
}
