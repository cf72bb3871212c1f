/* test_refusal.c - unit tests for hooks/pure/refusal.c: the built-in rule on
 * the public record of refusals (README, "Which models refused
 * streaming"), the built-in DashScope rules of the other direction (models
 * that only stream), near misses, user rules of both directions, and
 * refusal_status_candidate. */
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

/* refusal_match on a NUL-terminated body, for a streaming request
 * (REFUSES_STREAM). */
static const char *match(const struct refusal_rules *r, int status,
                         const char *body)
{
  return refusal_match(r, REFUSES_STREAM, status, body, strlen(body));
}

/* The same for a request without stream (REFUSES_NONSTREAM). */
static const char *match_ns(const struct refusal_rules *r, int status,
                            const char *body)
{
  return refusal_match(r, REFUSES_NONSTREAM, status, body, strlen(body));
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
  CHECK(is(refusal_match(NULL, REFUSES_STREAM, 400, real[0],
                         strlen(real[0]) - 1), NULL));
  CHECK(is(refusal_match(NULL, REFUSES_STREAM, 400, real[0], 40), NULL));
  CHECK(is(refusal_match(NULL, REFUSES_STREAM, 400, NULL, 0), NULL));
  CHECK(is(refusal_match(NULL, REFUSES_NONSTREAM, 400, NULL, 0), NULL));
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
  CHECK(is(refusal_match(NULL, REFUSES_STREAM, 400, big, 65536), "built-in"));
  CHECK(is(refusal_match(NULL, REFUSES_STREAM, 400, big, 65537), NULL));
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
  CHECK(is(refusal_match(&r, REFUSES_STREAM, 502, nul, sizeof(nul) - 1),
           NULL));
  /* Only n bytes are read. */
  static const char cut[] = "does not support stream";
  CHECK(is(refusal_match(&r, REFUSES_STREAM, 502, cut, 20), NULL));
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
  const enum refusal_dir S = REFUSES_STREAM, N = REFUSES_NONSTREAM;
  CHECK(refusal_status_candidate(NULL, S, 400));
  CHECK(refusal_status_candidate(&r, S, 400));
  CHECK(!refusal_status_candidate(&r, S, 500));
  CHECK(!refusal_status_candidate(NULL, S, 200));
  CHECK(!refusal_status_candidate(NULL, S, 0));
  CHECK(!refusal_status_candidate(NULL, S, -1));
  /* The DashScope rules make 400 a candidate without stream too. */
  CHECK(refusal_status_candidate(NULL, N, 400));
  CHECK(!refusal_status_candidate(NULL, N, 500));
  CHECK(!refusal_status_candidate(NULL, N, 200));
  add_rule(&r, "a", "status=500", NULL);
  add_rule(&r, "b", "status=429", "message=x", NULL);
  add_rule(&r, "c", "direction=stream-only", "status=422", NULL);
  CHECK(refusal_status_candidate(&r, S, 500) &&
        refusal_status_candidate(&r, S, 429));
  CHECK(refusal_status_candidate(&r, S, 400));
  CHECK(!refusal_status_candidate(&r, S, 503) &&
        !refusal_status_candidate(&r, S, 200));
  /* Each rule counts for its direction only. */
  CHECK(!refusal_status_candidate(&r, S, 422));
  CHECK(refusal_status_candidate(&r, N, 422));
  CHECK(!refusal_status_candidate(&r, N, 500) &&
        !refusal_status_candidate(&r, N, 429));
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
  CHECK(refusal_rule_status(&r, REFUSAL_BUILTINS) == 400);  /* unchanged */
  CHECK(refusal_rule_set(&r, "status", NULL, "599", &msg) && !msg);
  CHECK(refusal_rule_set(&r, "message", NULL, "m*", &msg));
  CHECK(!refusal_rule_set(&r, "message", NULL, "n*", &msg) && msg);
  CHECK(refusal_rule_set(&r, "body", NULL, "", &msg));
  CHECK(!refusal_rule_set(&r, "body", NULL, "b", &msg) && msg);
  CHECK(refusal_rule_dir(&r, REFUSAL_BUILTINS) == REFUSES_STREAM);
  CHECK(!refusal_rule_set(&r, "direction", NULL, "both", &msg) && msg);
  CHECK(!refusal_rule_set(&r, "direction", "a", "stream-only", &msg) && msg);
  CHECK(refusal_rule_dir(&r, REFUSAL_BUILTINS) == REFUSES_STREAM);
  CHECK(refusal_rule_set(&r, "direction", NULL, "stream-only", &msg) && !msg);
  CHECK(refusal_rule_dir(&r, REFUSAL_BUILTINS) == REFUSES_NONSTREAM);
  CHECK(!refusal_rule_set(&r, "direction", NULL, "no-stream", &msg) && msg);
  CHECK(refusal_rule_dir(&r, REFUSAL_BUILTINS) == REFUSES_NONSTREAM);
  CHECK(refusal_rule_count(&r) == REFUSAL_BUILTINS + 1 &&
        refusal_rule_count(NULL) == REFUSAL_BUILTINS);
  CHECK(!strcmp(refusal_rule_name(NULL, 0), "built-in"));
  CHECK(refusal_rule_name(NULL, REFUSAL_BUILTINS) == NULL);
  CHECK(!strcmp(refusal_rule_name(&r, REFUSAL_BUILTINS), "x"));
  CHECK(!refusal_rule_builtin(&r, REFUSAL_BUILTINS) &&
        !refusal_rule_builtin(&r, REFUSAL_BUILTINS + 1));
  CHECK(refusal_rule_status(&r, REFUSAL_BUILTINS + 1) == 0);
  struct buf b;
  buf_init(&b);
  CHECK(refusal_rule_describe(&r, REFUSAL_BUILTINS, &b));
  CHECK_STR(buf_cstr(&b), "status 599, message \"m*\", body \"\"");
  CHECK(!refusal_rule_describe(&r, REFUSAL_BUILTINS + 1, &b));
  buf_free(&b);
  refusal_rules_drop_last(&r);
  CHECK(r.n == 0 && !refusal_rules_has(&r, "x"));
  refusal_rules_drop_last(&r);
  refusal_rules_free(&r);
}

/* ---- the other direction: models that only stream -------------------- */

/* DashScope's answers to a request without stream, byte for byte: qwq-plus
 * (and qwen-omni), then the qwen3 thinking models in English and in
 * Chinese (UTF-8). */
static const char ds_stream_only[] =
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"
    "\"message\":\"This model only support stream mode, please enable the "
    "stream parameter to access the model. \",\"type\":"
    "\"invalid_request_error\"},\"id\":"
    "\"chatcmpl-3f1a2b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b\",\"request_id\":"
    "\"3f1a2b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b\"}";
static const char ds_thinking[] =
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"
    "\"message\":\"parameter.enable_thinking must be set to false for "
    "non-streaming calls\",\"type\":\"invalid_request_error\"},\"id\":"
    "\"chatcmpl-8c2d0e4f-1a2b-3c4d-5e6f-7a8b9c0d1e2f\",\"request_id\":"
    "\"8c2d0e4f-1a2b-3c4d-5e6f-7a8b9c0d1e2f\"}";
static const char ds_thinking_zh[] =
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"
    "\"message\":\"parameter.enable_thinking必须设置为false才能进行非流式调用\","
    "\"type\":\"invalid_request_error\"},\"id\":"
    "\"chatcmpl-1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e\",\"request_id\":"
    "\"1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e\"}";

TEST(dashscope_bodies_match_without_stream_only)
{
  CHECK(is(match_ns(NULL, 400, ds_stream_only), "dashscope-stream-only"));
  CHECK(is(match_ns(NULL, 400, ds_thinking), "dashscope-enable-thinking"));
  CHECK(is(match_ns(NULL, 400, ds_thinking_zh),
           "dashscope-enable-thinking-zh"));
  /* The Chinese message escaped as \uXXXX: the decoded text counts. */
  CHECK(is(match_ns(NULL, 400, "{\"error\":{\"code\":"
                    "\"invalid_parameter_error\",\"message\":"
                    "\"parameter.enable_thinking\\u5fc5\\u987b\\u8bbe\\u7f6e"
                    "\\u4e3afalse\\u624d\\u80fd\\u8fdb\\u884c\\u975e\\u6d41"
                    "\\u5f0f\\u8c03\\u7528\"}}"),
           "dashscope-enable-thinking-zh"));
  /* A relay's suffix on the message. */
  CHECK(is(match_ns(NULL, 400, "{\"error\":{\"code\":"
                    "\"invalid_parameter_error\",\"message\":\"parameter."
                    "enable_thinking must be set to false for non-streaming "
                    "calls (request id: 42)\"}}"),
           "dashscope-enable-thinking"));
  /* Never in the streaming direction, and never at another status. */
  const char *const all[] = {ds_stream_only, ds_thinking, ds_thinking_zh};
  for(size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    CHECK(is(match(NULL, 400, all[i]), NULL));
    static const int other[] = {200, 401, 404, 422, 429, 500};
    for(size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++)
      CHECK(is(match_ns(NULL, other[k], all[i]), NULL));
  }
}

TEST(stream_refusals_match_in_their_direction_only)
{
  /* Azure's and OpenAI's refusals of "stream": true say nothing about a
   * request without stream. */
  for(size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
    CHECK(is(match(NULL, 400, real[i]), "built-in"));
    CHECK(is(match_ns(NULL, 400, real[i]), NULL));
  }
}

TEST(dashscope_near_misses)
{
  static const char *const miss[] = {
    /* the same code for another parameter: an error, not a refusal */
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"
    "\"message\":\"Range of max_tokens should be [1, 8192]\",\"type\":"
    "\"invalid_request_error\"},\"id\":\"chatcmpl-x\",\"request_id\":\"x\"}",
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":"
    "\"parameter.enable_thinking must be a boolean\"}}",
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":"
    "\"Invalid parameter: stream mode\"}}",
    /* the wording without the code, or with another one */
    "{\"error\":{\"message\":\"This model only support stream mode, "
    "please enable the stream parameter to access the model. \"}}",
    "{\"error\":{\"code\":\"invalid_request_error\",\"message\":\"This "
    "model only support stream mode\"}}",
    "{\"error\":{\"code\":null,\"message\":\"parameter.enable_thinking "
    "must be set to false for non-streaming calls\"}}",
    /* another case, a prefix before the wording */
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":\"this "
    "model only support stream mode\"}}",
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":\"x: "
    "This model only support stream mode\"}}",
    /* the code at the top level (DashScope's native API): not this form */
    "{\"code\":\"invalid_parameter_error\",\"message\":\"This model only "
    "support stream mode\"}",
    /* the wording only in the body, not the message */
    "{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":\"x\","
    "\"detail\":\"This model only support stream mode\"}}",
    "This model only support stream mode",
    "",
  };
  for(size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
    if(match_ns(NULL, 400, miss[i]) || match(NULL, 400, miss[i]))
      printf("#   matched: %s\n", miss[i]);
    CHECK(is(match_ns(NULL, 400, miss[i]), NULL));
    CHECK(is(match(NULL, 400, miss[i]), NULL));
  }
}

TEST(user_rules_of_each_direction)
{
  struct refusal_rules r;
  refusal_rules_init(&r);
  add_rule(&r, "relay needs stream", "direction=stream-only", "status=422",
           "field error.code=stream_required", NULL);
  add_rule(&r, "relay refuses stream", "direction=no-stream", "status=422",
           "field error.code=stream_unsupported", NULL);
  add_rule(&r, "default is no-stream", "status=409", NULL);
  static const char need[] = "{\"error\":{\"code\":\"stream_required\"}}";
  static const char refuse[] = "{\"error\":{\"code\":"
                               "\"stream_unsupported\"}}";
  CHECK(is(match_ns(&r, 422, need), "relay needs stream"));
  CHECK(is(match(&r, 422, need), NULL));
  CHECK(is(match(&r, 422, refuse), "relay refuses stream"));
  CHECK(is(match_ns(&r, 422, refuse), NULL));
  CHECK(is(match(&r, 409, "x"), "default is no-stream"));
  CHECK(is(match_ns(&r, 409, "x"), NULL));
  /* The built-in rules of each direction still come first. */
  add_rule(&r, "any 400 without stream", "direction=stream-only",
           "status=400", NULL);
  CHECK(is(match_ns(&r, 400, ds_stream_only), "dashscope-stream-only"));
  CHECK(is(match_ns(&r, 400, real[0]), "any 400 without stream"));
  CHECK(is(match(&r, 400, real[0]), "built-in"));
  CHECK(is(match(&r, 400, ds_stream_only), NULL));
  refusal_rules_free(&r);
}

TEST(listing_the_builtin_rules)
{
  static const struct {
    const char *name;
    enum refusal_dir dir;
  } want[REFUSAL_BUILTINS] = {
    {"built-in", REFUSES_STREAM},
    {"dashscope-stream-only", REFUSES_NONSTREAM},
    {"dashscope-enable-thinking", REFUSES_NONSTREAM},
    {"dashscope-enable-thinking-zh", REFUSES_NONSTREAM},
  };
  struct buf b;
  buf_init(&b);
  for(size_t i = 0; i < REFUSAL_BUILTINS; i++) {
    CHECK_STR(refusal_rule_name(NULL, i), want[i].name);
    CHECK(refusal_rule_dir(NULL, i) == want[i].dir);
    CHECK(refusal_rule_builtin(NULL, i));
    CHECK(refusal_rule_status(NULL, i) == 400);
    CHECK(refusal_builtin_name(want[i].name));
    buf_reset(&b);
    CHECK(refusal_rule_describe(NULL, i, &b) && b.len);
  }
  buf_reset(&b);
  CHECK(refusal_rule_describe(NULL, 1, &b));
  CHECK_STR(buf_cstr(&b), "status 400, field error.code = "
            "\"invalid_parameter_error\", message \"This model only support "
            "stream mode*\"");
  buf_free(&b);
  CHECK(!refusal_builtin_name("dashscope") && !refusal_builtin_name(""));
  CHECK(!refusal_builtin_name("Built-in"));
  /* The direction words, both ways. */
  enum refusal_dir d = REFUSES_NONSTREAM;
  CHECK_STR(refusal_dir_name(REFUSES_STREAM), "no-stream");
  CHECK_STR(refusal_dir_name(REFUSES_NONSTREAM), "stream-only");
  CHECK(refusal_dir_parse("no-stream", &d) && d == REFUSES_STREAM);
  CHECK(refusal_dir_parse("stream-only", &d) && d == REFUSES_NONSTREAM);
  CHECK(!refusal_dir_parse("stream", &d) && d == REFUSES_NONSTREAM);
  CHECK(!refusal_dir_parse("", &d) && !refusal_dir_parse("no-stream ", &d));
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
  RUN(dashscope_bodies_match_without_stream_only);
  RUN(stream_refusals_match_in_their_direction_only);
  RUN(dashscope_near_misses);
  RUN(user_rules_of_each_direction);
  RUN(listing_the_builtin_rules);
  return check_done();
}
