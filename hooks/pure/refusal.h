/* refusal.h - does an error answer mean "this model cannot stream"? Pure.
 *
 * The built-in rule covers the public record (README, "Which models
 * refused streaming"):
 * HTTP 400 whose JSON body has error.param == "stream" and error.code ==
 * "unsupported_value" (o1's "Only the default (false) value is
 * supported.", Azure o1/o3-mini's "Supported values are: false.", and the
 * "organization must be verified to stream" gate): fields, never wording.
 * Users add rules for other servers in the configuration file:
 *
 *   [refusal "name"]
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
 * Every condition a rule names must hold for it to match. */
#ifndef SS_REFUSAL_H
#define SS_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>

struct refusal_rule;

struct refusal_rules {
  struct refusal_rule *v;  /* owned */
  size_t n;
};

void refusal_rules_init(struct refusal_rules *r);
void refusal_rules_free(struct refusal_rules *r);

/* Could an answer with this status be a refusal (by the built-in rule or a
 * user rule)? Its body is then held and judged before anything of it
 * reaches the program. */
bool refusal_status_candidate(const struct refusal_rules *user, int status);

/* The name of the first rule (built-in first) that the answer matches:
 * "built-in" or the rule's section name; NULL when none does. The body
 * need not be valid JSON (field and message conditions then fail). */
const char *refusal_match(const struct refusal_rules *user, int status,
                          const char *body, size_t n);

/* ---- building and listing rules (config_rules.c, streamshim-ctl) ---- */

struct buf;

/* Append a rule called name with status 400 and no condition. False when
 * memory runs out. */
bool refusal_rules_begin(struct refusal_rules *r, const char *name);
/* Give the last rule one setting: key "status" (100-599), "field" (path
 * is then the dotted path: object members, or decimal array indexes),
 * "message" or "body" (globs). False with a static reason in *msg when
 * the key, the path or the value is bad; the rule is then unchanged. */
bool refusal_rule_set(struct refusal_rules *r, const char *key,
                      const char *path, const char *value, const char **msg);
/* Drop the last rule (a broken one) and free it. */
void refusal_rules_drop_last(struct refusal_rules *r);
/* Is there a user rule called name? */
bool refusal_rules_has(const struct refusal_rules *r, const char *name);

/* The rules as they are tried: index 0 is the built-in rule, then the
 * user's in file order. */
size_t refusal_rule_count(const struct refusal_rules *user);
const char *refusal_rule_name(const struct refusal_rules *user, size_t i);
int refusal_rule_status(const struct refusal_rules *user, size_t i);
/* Append what rule i matches, one line without a newline, e.g.
 * `status 400, field error.param = "stream", ...`. False on OOM. */
bool refusal_rule_describe(const struct refusal_rules *user, size_t i,
                           struct buf *out);

#endif
