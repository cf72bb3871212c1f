/* refusal.h - does an error answer mean "this model cannot stream" (or
 * "this model can only stream")? Pure.
 *
 * A rule has a direction (enum refusal_dir): REFUSES_STREAM rules judge
 * answers to requests sent with "stream": true (the request is then sent
 * without stream), REFUSES_NONSTREAM rules answers to requests sent
 * without it (the request is then sent streaming). A caller asks about
 * one direction at a time; rules of the other direction never count.
 *
 * The built-in rules, tried before the user's, fields and never wording
 * alone:
 * - "built-in" (REFUSES_STREAM) covers the public record (README, "Which
 *   models refused streaming"): HTTP 400 whose JSON body has error.param
 *   == "stream" and error.code == "unsupported_value" (o1's "Only the
 *   default (false) value is supported.", Azure o1/o3-mini's "Supported
 *   values are: false.", and the "organization must be verified to
 *   stream" gate).
 * - "dashscope-stream-only" (REFUSES_NONSTREAM): Alibaba DashScope's
 *   stream-only models (qwq-plus, qwen-omni): HTTP 400, error.code ==
 *   "invalid_parameter_error", error.message "This model only support
 *   stream mode*".
 * - "dashscope-enable-thinking" and "dashscope-enable-thinking-zh"
 *   (REFUSES_NONSTREAM): DashScope's thinking models (qwen3): HTTP 400,
 *   error.code == "invalid_parameter_error", error.message
 *   "parameter.enable_thinking must be set to false for non-streaming
 *   calls*", or its Chinese wording "parameter.enable_thinking必须设置为
 *   false才能进行非流式调用*" (UTF-8).
 *
 * Users add rules for other servers in the configuration file:
 *
 *   [refusal "name"]
 *   direction = stream-only            which requests it judges: no-stream
 *                                      (the default: answers to streaming
 *                                      requests, which are then sent
 *                                      without stream; REFUSES_STREAM) or
 *                                      stream-only (answers to requests
 *                                      without stream, which are then
 *                                      sent streaming; REFUSES_NONSTREAM)
 *   status = 500                       the HTTP status (default 400)
 *   field error.type = server_error    a JSON string (or number, true,
 *                                      false, null) at a dotted path equals
 *                                      the value; may repeat, all must hold
 *   message = *Cannot use tools with stream*
 *                                      a glob on the error message (the
 *                                      string at error.message, else at
 *                                      message, else error when a string)
 *   body = *stream*                    a glob on the whole body text
 *
 * Every condition a rule names must hold for it to match (direction is
 * no condition: it says which answers the rule judges, so a rule with
 * nothing but a direction is dropped like an empty one). */
#ifndef SS_REFUSAL_H
#define SS_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>

struct refusal_rule;

/* Which way a server refuses, and so how its requests are retried. */
enum refusal_dir {
  REFUSES_STREAM = 0,    /* refuses "stream": true: sent without stream */
  REFUSES_NONSTREAM = 1  /* only streams: sent with "stream": true */
};

/* The direction's word in the configuration and the learned cache:
 * "no-stream" (REFUSES_STREAM) or "stream-only" (REFUSES_NONSTREAM). */
const char *refusal_dir_name(enum refusal_dir dir);
/* The direction a word names; false (and *dir unchanged) for any other
 * text. */
bool refusal_dir_parse(const char *word, enum refusal_dir *dir);

struct refusal_rules {
  struct refusal_rule *v;  /* owned */
  size_t n;
};

void refusal_rules_init(struct refusal_rules *r);
void refusal_rules_free(struct refusal_rules *r);

/* Could an answer with this status be a refusal in direction dir (by a
 * built-in rule or a user rule of that direction)? Its body is then held
 * and judged before anything of it reaches the program. */
bool refusal_status_candidate(const struct refusal_rules *user,
                              enum refusal_dir dir, int status);

/* The name of the first rule of direction dir (built-in ones first) that
 * the answer matches: a built-in rule's name ("built-in", ...) or the
 * user rule's section name; NULL when none does. The body need not be
 * valid JSON (field and message conditions then fail). */
const char *refusal_match(const struct refusal_rules *user,
                          enum refusal_dir dir, int status,
                          const char *body, size_t n);

/* ---- building and listing rules (config_rules.c, streamshim-ctl) ---- */

struct buf;

/* Append a rule called name with status 400, direction REFUSES_STREAM
 * and no condition. False when memory runs out. */
bool refusal_rules_begin(struct refusal_rules *r, const char *name);
/* Give the last rule one setting: key "status" (100-599), "direction"
 * ("no-stream" or "stream-only", once), "field" (path is then the dotted
 * path: object members, or decimal array indexes), "message" or "body"
 * (globs, once each). False with a static reason in *msg when the key,
 * the path or the value is bad; the rule is then unchanged. */
bool refusal_rule_set(struct refusal_rules *r, const char *key,
                      const char *path, const char *value, const char **msg);
/* Drop the last rule (a broken one) and free it. */
void refusal_rules_drop_last(struct refusal_rules *r);
/* Is there a user rule called name? */
bool refusal_rules_has(const struct refusal_rules *r, const char *name);
/* Is name a built-in rule's ("built-in", "dashscope-...")? Reserved: no
 * user rule may take it. */
bool refusal_builtin_name(const char *name);

/* How many built-in rules there are: they come first in the listing. */
#define REFUSAL_BUILTINS 4

/* The rules as they are listed, each direction's tried in this order:
 * indexes 0 to REFUSAL_BUILTINS - 1 are the built-in rules ("built-in"
 * first), then the user's in file order. Out of range: NULL, 0, false. */
size_t refusal_rule_count(const struct refusal_rules *user);
const char *refusal_rule_name(const struct refusal_rules *user, size_t i);
int refusal_rule_status(const struct refusal_rules *user, size_t i);
enum refusal_dir refusal_rule_dir(const struct refusal_rules *user, size_t i);
bool refusal_rule_builtin(const struct refusal_rules *user, size_t i);
/* Append what rule i matches, one line without a newline, e.g.
 * `status 400, field error.param = "stream", ...` (its direction is not
 * part of it: refusal_rule_dir). False on OOM or out of range. */
bool refusal_rule_describe(const struct refusal_rules *user, size_t i,
                           struct buf *out);

#endif
