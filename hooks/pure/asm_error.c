/* asm_error.c - the HTTP status an error event stands for (see
 * assemble.h): a stream that fails after its 200 carries the error the
 * non-streaming API would have answered with a status of its own. */
#include "assemble.h"

#include <string.h>

#include "json.h"

/* names in arrays, not pointers: no relocation at load */
static const struct { char type[24]; int status; } error_types[] = {
  {"invalid_request_error", 400}, {"invalid_parameter_error", 400},
  {"authentication_error", 401}, {"permission_error", 403},
  {"not_found_error", 404}, {"request_too_large", 413},
  {"rate_limit_error", 429}, {"rate_limit_exceeded", 429},
  {"insufficient_quota", 429}, {"api_error", 500}, {"server_error", 500},
  {"overloaded_error", 529},
};

/* The status a "type" or "code" string names, or 0. */
static int status_of_name(struct json_span s)
{
  char name[64];
  size_t n;
  if(s.type != JSON_STRING || !json_string_decode(s, name, sizeof(name), &n))
    return 0;
  for(size_t i = 0; i < sizeof(error_types) / sizeof(error_types[0]); i++)
    if(!strcmp(name, error_types[i].type))
      return error_types[i].status;
  return 0;
}

/* A code that is itself a status: 400-599 as a number or a string of
 * digits ("code": 500, "code": "429"). */
static int status_of_code(struct json_span s)
{
  const char *p = s.ptr, *end = s.ptr + s.len;
  if(s.type == JSON_STRING) {
    p++;
    end--;
  }
  else if(s.type != JSON_NUMBER)
    return 0;
  if(end - p != 3)
    return 0;
  int v = 0;
  for(; p < end; p++) {
    if(*p < '0' || *p > '9')
      return 0;
    v = v * 10 + (*p - '0');
  }
  return v >= 400 && v <= 599 ? v : 0;
}

int asm_error_status(const char *err, size_t n)
{
  struct json_span obj, v;
  int status = 0;
  if(!err || !json_parse(err, n, &obj) || obj.type != JSON_OBJECT)
    return 500;
  if(json_get(obj, "type", &v))
    status = status_of_name(v);
  if(!status && json_get(obj, "code", &v) && !(status = status_of_code(v)))
    status = status_of_name(v);
  return status ? status : 500;
}
