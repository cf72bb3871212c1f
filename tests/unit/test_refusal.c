/* test_refusal.c - unit tests for hooks/pure/refusal.c: the built-in rule on
 * the public record of refusals (README, "Which models refused
 * streaming"), near misses, user rules, and refusal_status_candidate. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "refusal.h"

/* The three real refusal bodies, byte for byte. */
static const char *const real[] = {
  "{\"error\":{\"message\":\"Unsupported value: 'stream' does not support "
  "true with this model. Only the default (false) value is supported.\","
  "\"type\":\"invalid_request_error\",\"param\":\"stream\",\"code\":"
  "\"unsupported_value\"}}",
  "{\"error\":{\"message\":\"Unsupported value: 'stream' does not support "
  "true with this model. Supported values are: false.\",\"type\":"
  "\"invalid_request_error\",\"param\":\"stream\",\"code\":"
  "\"unsupported_value\"}}",
  "{\"error\":{\"message\":\"Your organization must be verified to stream "
  "this model. Please go to: https://platform.openai.com/settings/"
  "organization/general and click on Verify Organization.\",\"type\":"
  "\"invalid_request_error\",\"param\":\"stream\",\"code\":"
  "\"unsupported_value\"}}",
};

/* refusal_match on a NUL-terminated body. */
static const char *match(const struct refusal_rules *r, int status,
                         const char *body)
{
  return refusal_match(r, status, body, strlen(body));
}

/* Is the match the rule called name (NULL: none)? */
static bool is(const char *got, const char *name)
{
  return name ? got && !strcmp(got, name) : got == NULL;
}

/* A body with a relay's suffix added to its message. */
static char *with_suffix(const char *body)
{
  const char *cut = strstr(body, "\",\"type\"");
  static const char sfx[] = " (request id: 20250131123456789abcdef)";
  size_t n = strlen(body);
  char *s = malloc(n + sizeof(sfx));
  if(!s || !cut)
    return s;
  size_t head = (size_t)(cut - body);
  memcpy(s, body, head);
  memcpy(s + head, sfx, sizeof(sfx) - 1);
  memcpy(s + head + sizeof(sfx) - 1, cut, n - head + 1);
  return s;
}

TEST(builtin_real_bodies)
{
  for(size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
    CHECK(is(match(NULL, 400, real[i]), "built-in"));
    char *relay = with_suffix(real[i]);
    CHECK(relay && strstr(relay, "(request id: "));
    CHECK(is(match(NULL, 400, relay), "built-in"));
    /* Other statuses are not this refusal. */
    static const int other[] = {200, 401, 403, 404, 422, 429, 500, 503};
    for(size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++)
      CHECK(is(match(NULL, other[k], real[i]), NULL));
    free(relay);
  }
  /* The June 2025 wording of the gate, with the extra sentence. */
  CHECK(is(match(NULL, 400, "{\"error\":{\"message\":\"Your organization "
                 "must be verified to stream this model. If you just "
                 "verified, it can take up to 15 minutes for access to "
                 "propagate.\",\"type\":\"invalid_request_error\",\"param\":"
                 "\"stream\",\"code\":\"unsupported_value\"}}"), "built-in"));
}

TEST(builtin_reads_fields_not_bytes)
{
  /* Pretty-printed, reordered, escaped, extra members: still fields. */
  CHECK(is(match(NULL, 400, "\n{ \"error\" : {\n  \"code\" : "
                 "\"unsupported_value\",\n  \"param\" : \"str\\u0065am\",\n"
                 "  \"extra\": [1, {\"a\": null}] } , \"x\": 1 }\n"),
           "built-in"));
  CHECK(is(match(NULL, 400, "{\"error\":{\"param\":\"stream\",\"code\":"
                 "\"unsupported_value\"}}"), "built-in"));
  /* A repeated member: the last one counts (json_get). */
  CHECK(is(match(NULL, 400, "{\"error\":{\"param\":\"model\",\"param\":"
                 "\"stream\",\"code\":\"unsupported_value\"}}"), "built-in"));
  CHECK(is(match(NULL, 400, "{\"error\":{\"param\":\"stream\",\"param\":"
                 "\"model\",\"code\":\"unsupported_value\"}}"), NULL));
}

TEST(builtin_near_misses)
{
  static const char *const miss[] = {
    /* another param */
    "{\"error\":{\"message\":\"Unsupported value: 'stream_options' ...\","
    "\"type\":\"invalid_request_error\",\"param\":\"stream_options\","
    "\"code\":\"unsupported_value\"}}",
    "{\"error\":{\"param\":\"temperature\",\"code\":\"unsupported_value\"}}",
    "{\"error\":{\"param\":\"Stream\",\"code\":\"unsupported_value\"}}",
    "{\"error\":{\"param\":\"stream \",\"code\":\"unsupported_value\"}}",
    /* another code, code null or absent, param null or absent */
    "{\"error\":{\"param\":\"stream\",\"code\":\"invalid_value\"}}",
    "{\"error\":{\"param\":\"stream\",\"code\":null}}",
    "{\"error\":{\"param\":\"stream\"}}",
    "{\"error\":{\"param\":null,\"code\":\"unsupported_value\"}}",
    "{\"error\":{\"code\":\"unsupported_value\"}}",
    "{\"error\":{\"param\":[\"stream\"],\"code\":\"unsupported_value\"}}",
    /* error not an object */
    "{\"error\":\"param stream code unsupported_value\"}",
    "{\"error\":[{\"param\":\"stream\",\"code\":\"unsupported_value\"}]}",
    "{\"error\":null}",
    /* the fields at the top level, or nested deeper */
    "{\"param\":\"stream\",\"code\":\"unsupported_value\"}",
    "{\"detail\":{\"error\":{\"param\":\"stream\",\"code\":"
    "\"unsupported_value\"}}}",
    "[{\"error\":{\"param\":\"stream\",\"code\":\"unsupported_value\"}}]",
    /* not JSON, truncated JSON, JSON with trailing garbage */
    "Bad Request",
    "<html><body>400 stream unsupported_value</body></html>",
    "{\"error\":{\"param\":\"stream\",\"code\":\"unsupported_value\"}",
    "{\"error\":{\"param\":\"stream\",\"code\":\"unsupported_value",
    "{\"error\":{\"param\":\"stream\",\"code\":\"unsupported_value\"}}x",
    "",
    "null",
  };
  for(size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
    if(match(NULL, 400, miss[i]))
      printf("#   matched: %s\n", miss[i]);
    CHECK(is(match(NULL, 400, miss[i]), NULL));
  }
  /* A truncated real body. */
  CHECK(is(refusal_match(NULL, 400, real[0], strlen(real[0]) - 1), NULL));
  CHECK(is(refusal_match(NULL, 400, real[0], 40), NULL));
  CHECK(is(refusal_match(NULL, 400, NULL, 0), NULL));
  /* Invalid UTF-8 inside the JSON. */
  CHECK(is(match(NULL, 400, "{\"error\":{\"message\":\"\xff\",\"param\":"
                 "\"stream\",\"code\":\"unsupported_value\"}}"), NULL));
}

TEST(builtin_body_size_limit)
{
  /* The same refusal padded with whitespace: 64 KiB is the limit. */
  size_t n = strlen(real[0]);
  char *big = malloc(70000);
  if(!big)
    return;
  memcpy(big, real[0], n);
  memset(big + n, ' ', 70000 - n);
  CHECK(is(refusal_match(NULL, 400, big, 65536), "built-in"));
  CHECK(is(refusal_match(NULL, 400, big, 65537), NULL));
  free(big);
}

/* Append a rule with settings "key=value" or "field path=value", ended by
 * NULL; checks that each setting is taken. */
static void add_rule(struct refusal_rules *r, const char *name, ...)
{
  va_list ap;
  const char *msg;
  CHECK(refusal_rules_begin(r, name));
  va_start(ap, name);
  for(const char *kv; (kv = va_arg(ap, const char *));) {
    char key[64], path[64];
    const char *eq = strchr(kv, '='), *sp = strchr(kv, ' ');
    bool has_path = sp && sp < eq;
    snprintf(key, sizeof(key), "%.*s", (int)((has_path ? sp : eq) - kv), kv);
    if(has_path)
      snprintf(path, sizeof(path), "%.*s", (int)(eq - sp - 1), sp + 1);
    bool ok = refusal_rule_set(r, key, has_path ? path : NULL, eq + 1, &msg);
    if(!ok)
      printf("#   %s: %s\n", kv, msg);
    CHECK(ok && msg == NULL);
  }
  va_end(ap);
}

TEST(user_rule_status_only)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "all 500", "status=500", NULL);
  CHECK(is(match(&r, 500, "Internal Server Error"), "all 500"));
  CHECK(is(match(&r, 500, ""), "all 500"));
  CHECK(is(match(&r, 500, real[0]), "all 500"));
  CHECK(is(match(&r, 501, "x"), NULL));
  /* The built-in rule comes first. */
  add_rule(&r, "all 400", "status=400", NULL);
  CHECK(is(match(&r, 400, real[1]), "built-in"));
  CHECK(is(match(&r, 400, "nope"), "all 400"));
  refusal_rules_free(&r);
  refusal_rules_free(&r);
  CHECK(is(match(&r, 500, "x"), NULL));
}

TEST(user_rule_fields)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "nested", "status=422", "field error.details.0.reason=stream",
           NULL);
  add_rule(&r, "scalars", "status=503", "field error.code=42",
           "field error.retry=false", "field error.param=null",
           "field ok=true", NULL);
  add_rule(&r, "typed", "status=409", "field error.type=server_error", NULL);
  CHECK(is(match(&r, 422, "{\"error\":{\"details\":[{\"reason\":\"stream\"},"
                 "{\"reason\":\"x\"}]}}"), "nested"));
  CHECK(is(match(&r, 422, "{\"error\":{\"details\":[{\"reason\":\"x\"},"
                 "{\"reason\":\"stream\"}]}}"), NULL));
  CHECK(is(match(&r, 422, "{\"error\":{\"details\":[]}}"), NULL));
  /* Digits name a member of an object. */
  CHECK(is(match(&r, 422, "{\"error\":{\"details\":{\"0\":{\"reason\":"
                 "\"stream\"}}}}"), "nested"));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42,\"retry\":"
                 "false,\"param\":null}}"), "scalars"));
  /* A string "42" is the text 42; a number's bytes must be the same. */
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":\"42\","
                 "\"retry\":false,\"param\":null}}"), "scalars"));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42.0,"
                 "\"retry\":false,\"param\":null}}"), NULL));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42,\"retry\":"
                 "\"false\",\"param\":null}}"), "scalars"));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42,\"retry\":"
                 "true,\"param\":null}}"), NULL));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42,\"retry\":"
                 "false}}"), NULL));
  CHECK(is(match(&r, 503, "{\"ok\":true,\"error\":{\"code\":42,\"retry\":"
                 "false,\"param\":{}}}"), NULL));
  CHECK(is(match(&r, 409, "{\"error\":{\"type\":\"server_error\"}}"),
           "typed"));
  CHECK(is(match(&r, 409, "{\"error\":{\"type\":{\"server_error\":1}}}"),
           NULL));
  CHECK(is(match(&r, 409, "{\"error\":{\"type\":\"server_errorX\"}}"), NULL));
  CHECK(is(match(&r, 409, "type server_error"), NULL));  /* not JSON */
  refusal_rules_free(&r);
}

TEST(user_rule_message_glob)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "tools", "status=400", "message=*Cannot use tools with stream*",
           NULL);
  static const char *const yes[] = {
    "{\"error\":{\"message\":\"Cannot use tools with stream\"}}",
    "{\"error\":{\"message\":\"x: Cannot use tools with stream (request id: "
    "1)\"}}",
    "{\"message\":\"Cannot use tools with streaming\"}",
    "{\"error\":\"Cannot use tools with stream\"}",
    "{\"error\":{\"message\":\"Cannot use tools with \\u0073tream\"}}",
    "{\"error\":{\"code\":1},\"message\":\"Cannot use tools with stream\"}",
  };
  for(size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    CHECK(is(match(&r, 400, yes[i]), "tools"));
  static const char *const no[] = {
    "{\"error\":{\"message\":\"cannot use tools with stream\"}}",
    "{\"error\":{\"message\":42}}",
    "{\"error\":{\"msg\":\"Cannot use tools with stream\"}}",
    "{\"detail\":\"Cannot use tools with stream\"}",
    "Cannot use tools with stream",
    "{\"error\":{\"message\":\"Cannot use tools with stream\\u0000\"}}",
    /* error.message wins over message when both are strings */
    "{\"error\":{\"message\":\"other\"},\"message\":\"Cannot use tools with "
    "stream\"}",
  };
  for(size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
    CHECK(is(match(&r, 400, no[i]), NULL));
  refusal_rules_free(&r);
}

TEST(user_rule_body_glob)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "plain", "status=502", "body=*does not support stream*", NULL);
  CHECK(is(match(&r, 502, "upstream: model does not support streaming"),
           "plain"));
  CHECK(is(match(&r, 502, "{\"e\":\"does not support stream\"}"), "plain"));
  CHECK(is(match(&r, 502, "does not support Stream"), NULL));
  static const char nul[] = "x\0 does not support stream";
  CHECK(is(refusal_match(&r, 502, nul, sizeof(nul) - 1), NULL));
  /* Only n bytes are read. */
  static const char cut[] = "does not support stream";
  CHECK(is(refusal_match(&r, 502, cut, 20), NULL));
  refusal_rules_free(&r);
}

TEST(user_rule_all_conditions_must_hold)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "strict", "status=400", "field error.param=stream",
           "field error.type=invalid_request_error", "message=*stream*",
           "body=*request id*", NULL);
  add_rule(&r, "loose", "status=400", "field error.param=stream", NULL);
  static const char all[] = "{\"error\":{\"param\":\"stream\",\"type\":"
                            "\"invalid_request_error\",\"message\":\"no "
                            "stream (request id: 5)\"}}";
  CHECK(is(match(&r, 400, all), "strict"));
  CHECK(is(match(&r, 400, "{\"error\":{\"param\":\"stream\",\"type\":"
                 "\"invalid_request_error\",\"message\":\"no stream\"}}"),
           "loose"));
  CHECK(is(match(&r, 400, "{\"error\":{\"param\":\"stream\",\"type\":"
                 "\"x\",\"message\":\"no stream (request id: 5)\"}}"),
           "loose"));
  CHECK(is(match(&r, 400, "{\"error\":{\"param\":\"strea\",\"type\":"
                 "\"invalid_request_error\",\"message\":\"no stream "
                 "(request id: 5)\"}}"), NULL));
  CHECK(is(match(&r, 401, all), NULL));
  refusal_rules_free(&r);
}

TEST(status_candidate)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  CHECK(refusal_status_candidate(NULL, 400));
  CHECK(refusal_status_candidate(&r, 400));
  CHECK(!refusal_status_candidate(&r, 500));
  CHECK(!refusal_status_candidate(NULL, 200));
  CHECK(!refusal_status_candidate(NULL, 0));
  CHECK(!refusal_status_candidate(NULL, -1));
  add_rule(&r, "a", "status=500", NULL);
  add_rule(&r, "b", "status=429", "message=x", NULL);
  CHECK(refusal_status_candidate(&r, 500) && refusal_status_candidate(&r, 429));
  CHECK(refusal_status_candidate(&r, 400));
  CHECK(!refusal_status_candidate(&r, 503) && !refusal_status_candidate(&r, 200));
  refusal_rules_free(&r);
}

TEST(building_rules)
{
  struct refusal_rules r;
  const char *msg;
  refusal_rules_init(&r);
  CHECK(!refusal_rule_set(&r, "status", NULL, "500", &msg) && msg);
  CHECK(refusal_rules_begin(&r, "x"));
  CHECK(refusal_rules_has(&r, "x") && !refusal_rules_has(&r, "y"));
  CHECK(!refusal_rule_set(&r, "colour", NULL, "red", &msg) && msg);
  CHECK(!refusal_rule_set(&r, "status", "a.b", "500", &msg) && msg);
  CHECK(!refusal_rule_set(&r, "field", NULL, "v", &msg) && msg);
  CHECK(!refusal_rule_set(&r, "field", "", "v", &msg) && msg);
  CHECK(!refusal_rule_set(&r, "field", "a..b", "v", &msg) && msg);
  static const char *const bad_status[] = {"", "1", "99", "600", "4000",
                                           "40a", "-400", "+400", " 400"};
  for(size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++)
    CHECK(!refusal_rule_set(&r, "status", NULL, bad_status[i], &msg) && msg);
  CHECK(refusal_rule_status(&r, 1) == 400);  /* unchanged */
  CHECK(refusal_rule_set(&r, "status", NULL, "599", &msg) && !msg);
  CHECK(refusal_rule_set(&r, "message", NULL, "m*", &msg));
  CHECK(!refusal_rule_set(&r, "message", NULL, "n*", &msg) && msg);
  CHECK(refusal_rule_set(&r, "body", NULL, "", &msg));
  CHECK(!refusal_rule_set(&r, "body", NULL, "b", &msg) && msg);
  CHECK(refusal_rule_count(&r) == 2 && refusal_rule_count(NULL) == 1);
  CHECK(!strcmp(refusal_rule_name(NULL, 0), "built-in"));
  CHECK(refusal_rule_name(NULL, 1) == NULL);
  struct buf b;
  buf_init(&b);
  CHECK(refusal_rule_describe(&r, 1, &b));
  CHECK_STR(buf_cstr(&b), "status 599, message \"m*\", body \"\"");
  CHECK(!refusal_rule_describe(&r, 2, &b));
  buf_free(&b);
  refusal_rules_drop_last(&r);
  CHECK(r.n == 0 && !refusal_rules_has(&r, "x"));
  refusal_rules_drop_last(&r);
  refusal_rules_free(&r);
}

int main(void)
{
  RUN(builtin_real_bodies);
  RUN(builtin_reads_fields_not_bytes);
  RUN(builtin_near_misses);
  RUN(builtin_body_size_limit);
  RUN(user_rule_status_only);
  RUN(user_rule_fields);
  RUN(user_rule_message_glob);
  RUN(user_rule_body_glob);
  RUN(user_rule_all_conditions_must_hold);
  RUN(status_candidate);
  RUN(building_rules);
  return check_done();
}
