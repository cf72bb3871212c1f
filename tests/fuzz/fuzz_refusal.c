/* fuzz_refusal.c - libFuzzer harness for hooks/pure/refusal.c and the
 * [refusal "name"] sections of hooks/pure/config_rules.c.
 *
 * Input: a first byte choosing the mode, then bytes.
 *   - Mode 'C' (config): the rest is a configuration file; its rules are
 *     then tried on a few fixed bodies and described.
 *   - Any other: two bytes of HTTP status, then a body judged by a fixed
 *     configuration with rules of every kind (status only, fields with
 *     nested paths, array indexes and non-string values, message and body
 *     globs, several conditions).
 * Properties checked:
 *   - no crash, no leak, no read outside the body (ASan);
 *   - a match names a rule of the list, whose status is the answer's and
 *     whose direction is the one asked about, and
 *     refusal_status_candidate agrees; both directions are asked;
 *   - the same call twice gives the same answer; a copy of the body in a
 *     buffer of exactly its size gives it too (no read past n);
 *   - a built-in rule only for a 400 whose body is valid JSON;
 *   - every rule a config keeps has a name, a status from 100 to 599, and
 *     a description.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ihooks \
 *     tests/fuzz/fuzz_refusal.c hooks/pure/refusal.c hooks/pure/json.c hooks/pure/buf.c \
 *     hooks/pure/config.c hooks/pure/config_rules.c hooks/pure/glob.c -o /tmp/fuzz_refusal
 *   /tmp/fuzz_refusal -max_total_time=60 -max_len=4096
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "refusal.h"

#define FUZZ_NAME "fuzz_refusal"
#include "fuzz_util.h"

/* The fixed configuration's rules. */
static const char fixed_conf[] =
    "[refusal \"status-only\"]\n"
    "status = 503\n"
    "[refusal \"typed\"]\n"
    "status = 500\n"
    "field error.type = server_error\n"
    "field error.details.0.code = 42\n"
    "[refusal \"scalars\"]\n"
    "status = 400\n"
    "field ok = true\n"
    "field error.param = null\n"
    "field error.retry = false\n"
    "[refusal \"message\"]\n"
    "status = 400\n"
    "message = *stream*\n"
    "[refusal \"body\"]\n"
    "status = 422\n"
    "direction = stream-only\n"
    "body = *does not support [Ss]tream*\n"
    "[refusal \"all\"]\n"
    "status = 429\n"
    "field error.code = rate\n"
    "message = *stream?*\n"
    "body = *\"error\"*\n";

/* Bodies a fuzzed configuration's rules are tried on. */
static const char *const probe_bodies[] = {
  ("{\"error\":{\"message\":\"no stream\",\"param\":\"stream\",\"code\":"
   "\"unsupported_value\",\"type\":\"server_error\"}}"),
  "{\"message\":\"stream\",\"error\":\"x\",\"a\":[1,{\"b\":[true,null]}]}",
  "plain text stream",
  ("{\"error\":{\"code\":\"invalid_parameter_error\",\"message\":\"This "
   "model only support stream mode, please enable the stream parameter to "
   "access the model. \"}}"),
  "",
};

/* The fixed configuration, parsed once. */
static const struct ss_config *fixed(void)
{
  static struct ss_config c;
  static bool done;
  if(!done) {
    config_init(&c);
    config_parse(&c, fixed_conf, sizeof(fixed_conf) - 1, "fixed", NULL, NULL);
    fuzz_assert(c.refusals.n == 6, "the fixed rules parse");
    done = true;
  }
  return &c;
}

/* Check one refusal_match call of direction dir and its properties. */
static void check_match_dir(const struct refusal_rules *r,
                            enum refusal_dir dir, int status,
                            const char *body, size_t n)
{
  const char *m = refusal_match(r, dir, status, body, n);
  fuzz_assert(m == refusal_match(r, dir, status, body, n),
              "not deterministic");
  char *copy = malloc(n ? n : 1);
  if(copy) {
    if(n)
      memcpy(copy, body, n);
    fuzz_assert(m == refusal_match(r, dir, status, copy, n), "copy differs");
    free(copy);
  }
  if(!m)
    return;
  fuzz_assert(refusal_status_candidate(r, dir, status),
              "match but no candidate");
  size_t i = 0, count = refusal_rule_count(r);
  while(i < count && refusal_rule_name(r, i) != m)
    i++;
  fuzz_assert(i < count, "the match is no rule's name");
  fuzz_assert(refusal_rule_status(r, i) == status, "the rule's status");
  fuzz_assert(refusal_rule_dir(r, i) == dir, "the rule's direction");
  if(refusal_rule_builtin(r, i)) {
    struct json_span root;
    fuzz_assert(status == 400 && json_parse(body, n, &root),
                "built-in on a body that is not JSON");
  }
}

/* Both directions. */
static void check_match(const struct refusal_rules *r, int status,
                        const char *body, size_t n)
{
  check_match_dir(r, REFUSES_STREAM, status, body, n);
  check_match_dir(r, REFUSES_NONSTREAM, status, body, n);
}

/* Mode 'C': a fuzzed configuration's rules. */
static void fuzz_config_rules(const char *p, size_t n)
{
  struct ss_config c;
  struct buf b;
  config_init(&c);
  config_parse(&c, p, n, "fuzz", NULL, NULL);
  buf_init(&b);
  for(size_t i = 0; i < refusal_rule_count(&c.refusals); i++) {
    const char *name = refusal_rule_name(&c.refusals, i);
    int st = refusal_rule_status(&c.refusals, i);
    fuzz_assert(name && *name, "a rule without a name");
    fuzz_assert(st >= 100 && st <= 599, "a rule's status out of range");
    buf_reset(&b);
    fuzz_assert(refusal_rule_describe(&c.refusals, i, &b) && b.len,
                "a rule without a description");
    for(size_t k = 0; k < sizeof(probe_bodies) / sizeof(probe_bodies[0]); k++)
      check_match(&c.refusals, st, probe_bodies[k], strlen(probe_bodies[k]));
  }
  buf_free(&b);
  config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  if(size >= 1 && p[0] == 'C') {
    fuzz_config_rules(p + 1, size - 1);
    return 0;
  }
  if(size < 2)
    return 0;
  /* Statuses near the rules' are likely: 400 + (byte % 40), or any. */
  int status = data[0] & 1 ? 400 + data[1] % 40 : (data[0] << 8 | data[1]) % 700;
  check_match(&fixed()->refusals, status, p + 2, size - 2);
  check_match(NULL, status, p + 2, size - 2);
  return 0;
}
