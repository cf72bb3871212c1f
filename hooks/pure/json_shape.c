/* json_shape.c - small checks the answer readers share (see json.h). */
#include "json.h"

#include <string.h>

bool json_get_typed(struct json_span obj, const char *name, unsigned mask,
                    struct json_span *v)
{
  json_get(obj, name, v);
  return (mask >> v->type) & 1u;
}

bool json_only_members(struct json_span obj, const char *const *names)
{
  struct json_iter it;
  struct json_span key, val;
  if(obj.type != JSON_OBJECT)
    return false;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val))
    if(json_name_in(key, names) < 0)
      return false;
  return true;
}

int json_name_in(struct json_span key, const char *const *names)
{
  const char *k = key.len >= 2 ? key.ptr + 1 : NULL;
  size_t n = k ? key.len - 2 : 0;
  if(!k || key.ptr[0] != '"' || memchr(k, '\\', n)) {
    for(int i = 0; names[i]; i++)  /* escapes: decode and compare */
      if(json_key_is(key, names[i]))
        return i;
    return -1;
  }
  for(int i = 0; names[i]; i++)
    if(names[i][0] == (n ? k[0] : '\0') && strlen(names[i]) == n &&
       !memcmp(names[i], k, n))
      return i;
  return -1;
}

int json_pick(struct json_span obj, const char *const *names,
              struct json_span *vals)
{
  struct json_iter it;
  struct json_span key, val;
  int others = 0;
  for(size_t i = 0; names[i]; i++)
    vals[i] = (struct json_span){ NULL, 0, JSON_NONE };
  if(obj.type != JSON_OBJECT)
    return -1;
  json_iter_init(&it, obj);
  while(json_next_member(&it, &key, &val)) {
    int i = json_name_in(key, names);
    if(i >= 0)
      vals[i] = val;
    else
      others++;
  }
  return others;
}

int json_hex_digit(int c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
