/* fixture_json.h - what the assemblers' unit tests share whichever way
 * they feed a stream (asm_check.h: through the SSE reader;
 * asm_events_check.h: split by hand): reading a file, finding and listing
 * the fixtures in tests/fixtures, and a structural JSON comparison
 * (objects as key sets in any order, each key once; arrays element by
 * element; strings by decoded value; numbers by their bytes) with a hook
 * that may forgive a member present on one side only. */
#ifndef SS_FIXTURE_JSON_H
#define SS_FIXTURE_JSON_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"

/* ---- files ---- */

/* Append the whole file at path to out; false when it cannot be read
 * (or memory ran out). */
static inline bool read_whole_file(const char *path, struct buf *out)
{
  char chunk[65536];
  size_t got;
  FILE *f = fopen(path, "rb");
  if(!f)
    return false;
  while((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
    buf_append(out, chunk, got);
  fclose(f);
  return !out->oom;
}

/* The folder tests/fixtures/<sub> into path (cap bytes): under the working
 * directory (make and pytest run from the top of the tree), else three
 * levels above this binary (<root>/<build>/unit/test_x). False if neither. */
static inline bool fixture_dir(const char *sub, char *path, size_t cap)
{
  char exe[PATH_MAX];
  DIR *d;
  int w = snprintf(path, cap, "tests/fixtures/%s", sub);
  if(w > 0 && (size_t)w < cap && (d = opendir(path))) {
    closedir(d);
    return true;
  }
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if(n <= 0)
    return false;
  exe[n] = '\0';
  for(int up = 0; up < 3; up++) {
    char *slash = strrchr(exe, '/');
    if(!slash)
      return false;
    *slash = '\0';
  }
  w = snprintf(path, cap, "%s/tests/fixtures/%s", exe, sub);
  if(w < 0 || (size_t)w >= cap || !(d = opendir(path)))
    return false;
  closedir(d);
  return true;
}

/* qsort's order of two paths: strcmp's. */
static inline int fixture_path_cmp(const void *x, const void *y)
{
  return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The *.json files of tests/fixtures/<sub> as paths, sorted, in a new
 * *list; their count (0 when the folder is missing). Free with
 * fixture_list_free(). */
static inline size_t fixture_list(const char *sub, char ***list)
{
  char dir[PATH_MAX];
  struct dirent *e;
  size_t n = 0, cap = 0;
  DIR *d;
  *list = NULL;
  if(!fixture_dir(sub, dir, sizeof(dir)) || !(d = opendir(dir)))
    return 0;
  while((e = readdir(d))) {
    size_t len = strlen(e->d_name), size = strlen(dir) + len + 2;
    if(len < 6 || strcmp(e->d_name + len - 5, ".json"))
      continue;
    if(n == cap) {
      cap = cap ? cap * 2 : 64;
      *list = realloc(*list, cap * sizeof(**list));
    }
    (*list)[n] = malloc(size);
    snprintf((*list)[n], size, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  qsort(*list, n, sizeof(**list), fixture_path_cmp);
  return n;
}

/* Free the n paths of list and list itself. */
static inline void fixture_list_free(char **list, size_t n)
{
  for(size_t i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

/* ---- structural JSON comparison ---- */

/* Called for a member present on one side only (the other's span is
 * JSON_NONE): true to forgive the difference. path is the members' names
 * from the top joined by '.', arrays not counted ("choices.message.x"). */
typedef bool (*same_json_allow_fn)(const char *path, struct json_span want,
                                   struct json_span got, void *arg);

/* Decode string span s into a new NUL-terminated block (*len bytes); NULL
 * when json_string_decode() cannot (\u0000, lone surrogates). */
static inline char *decode_json_string(struct json_span s, size_t *len)
{
  char *p = malloc(s.len + 1);
  if(p && !json_string_decode(s, p, s.len + 1, len)) {
    free(p);
    p = NULL;
  }
  return p;
}

/* Are strings a and b (spans with quotes) the same text? Decoded when both
 * decode, else byte for byte. */
static inline bool same_json_string(struct json_span a, struct json_span b)
{
  size_t la = 0, lb = 0;
  char *da = decode_json_string(a, &la), *db = decode_json_string(b, &lb);
  bool same = da && db ? la == lb && !memcmp(da, db, la)
                       : a.len == b.len && !memcmp(a.ptr, b.ptr, a.len);
  free(da);
  free(db);
  return same;
}

/* How many members of object obj have a key that decodes as key does;
 * *val gets the last of them. */
static inline int count_members_keyed(struct json_span obj,
                                      struct json_span key,
                                      struct json_span *val)
{
  struct json_iter it;
  struct json_span k, v;
  int n = 0;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &k, &v))
    if(same_json_string(k, key)) {
      *val = v;
      n++;
    }
  return n;
}

/* path, '.' and key (decoded; '?' when it cannot be) into out, truncated
 * to cap bytes. */
static inline void member_path(char *out, size_t cap, const char *path,
                               struct json_span key)
{
  size_t len;
  char *k = decode_json_string(key, &len);
  snprintf(out, cap, "%s%s%s", path, *path ? "." : "", k ? k : "?");
  free(k);
}

static inline bool same_json_value(struct json_span want, struct json_span got,
                                   const char *path, same_json_allow_fn allow,
                                   void *arg);

/* Objects want and got as key sets (see same_json_value): every key once
 * on each side with the same value, or on one side only and forgiven. */
static inline bool same_json_members(struct json_span want,
                                     struct json_span got, const char *path,
                                     same_json_allow_fn allow, void *arg)
{
  static const struct json_span none = {NULL, 0, JSON_NONE};
  struct json_iter it;
  struct json_span k, v, o;
  char sub[512];
  bool ok = true;
  int n;
  json_iter_init(&it, want);
  while(json_next_member(&it, &k, &v)) {
    member_path(sub, sizeof(sub), path, k);
    if((n = count_members_keyed(got, k, &o)) == 1)
      ok = same_json_value(v, o, sub, allow, arg) && ok;
    else if(n > 1) {
      printf("#   %s: %d times in the answer\n", sub, n);
      ok = false;
    }
    else if(!allow || !allow(sub, v, none, arg)) {
      printf("#   %s: missing from the answer\n", sub);
      ok = false;
    }
  }
  json_iter_init(&it, got);
  while(json_next_member(&it, &k, &v)) {
    member_path(sub, sizeof(sub), path, k);
    if((n = count_members_keyed(want, k, &o)) > 1) {
      printf("#   %s: %d times in the expected answer\n", sub, n);
      ok = false;
    }
    else if(!n && (!allow || !allow(sub, none, v, arg))) {
      printf("#   %s: not in the expected answer\n", sub);
      ok = false;
    }
  }
  return ok;
}

/* Are want and got the same JSON value: objects as key sets in any order
 * (each key once), arrays element by element, strings by decoded value,
 * numbers by their bytes (1.0 is not 1), up to what allow (NULL: nothing)
 * forgives? Each difference is printed with its path. */
static inline bool same_json_value(struct json_span want, struct json_span got,
                                   const char *path, same_json_allow_fn allow,
                                   void *arg)
{
  struct json_iter iw, ig;
  struct json_span ew, eg;
  bool ok = true, mw, mg;
  if(want.type != got.type) {
    printf("#   %s: type %d, want %d\n", path, got.type, want.type);
    return false;
  }
  switch(want.type) {
  case JSON_OBJECT:
    return same_json_members(want, got, path, allow, arg);
  case JSON_ARRAY:
    json_iter_init(&iw, want);
    json_iter_init(&ig, got);
    for(;;) {
      mw = json_next_element(&iw, &ew);
      mg = json_next_element(&ig, &eg);
      if(!mw || !mg)
        break;
      ok = same_json_value(ew, eg, path, allow, arg) && ok;
    }
    if(mw != mg)
      printf("#   %s: arrays differ in length\n", path);
    return ok && mw == mg;
  case JSON_STRING:
    if(same_json_string(want, got))
      return true;
    break;
  case JSON_NUMBER:
    if(want.len == got.len && !memcmp(want.ptr, got.ptr, want.len))
      return true;
    break;
  default:
    return true;
  }
  printf("#   %s: [%.*s], want [%.*s]\n", path,
         (int)(got.len > 200 ? 200 : got.len), got.ptr,
         (int)(want.len > 200 ? 200 : want.len), want.ptr);
  return false;
}

/* same_json_value over two texts, each of which must parse. */
static inline bool same_json_text(const char *want, size_t wlen,
                                  const char *got, size_t glen,
                                  same_json_allow_fn allow, void *arg)
{
  struct json_span w, g;
  if(!json_parse(want, wlen, &w) || !json_parse(got, glen, &g)) {
    printf("#   not valid JSON\n");
    return false;
  }
  return same_json_value(w, g, "", allow, arg);
}

#endif
