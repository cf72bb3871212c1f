/* sse_responses_read.c - reading and validating a Responses API answer
 * for the encoder (see sse_responses.c for the replay rules): everything
 * the encoder cannot replay exactly is refused here, once, with a reason.
 *
 * Output items and their parts are checked member by member: a member
 * this encoder does not know might be streamed by events it cannot
 * produce, so it is refused. Top-level members are not checked beyond
 * the few the replay needs: they are copied (see sse_responses.c). */
#include "sse_responses_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const resp_message_names[] = {
  "id", "type", "status", "role", "content", "phase", NULL
};
static const char *const resp_function_names[] = {
  "id", "type", "status", "arguments", "call_id", "name", "namespace",
  "caller", NULL
};
static const char *const resp_custom_names[] = {
  "id", "type", "status", "input", "call_id", "name", "namespace",
  "caller", NULL
};
static const char *const resp_reasoning_names[] = {
  "id", "type", "status", "summary", "content", "encrypted_content", NULL
};
static const char *const resp_search_names[] = {
  "id", "type", "status", "action", NULL
};
static const char *const resp_text_names[] = {
  "type", "text", "annotations", "logprobs", NULL
};
static const char *const resp_refusal_names[] = {"type", "refusal", NULL};
static const char *const resp_plain_names[] = {"type", "text", NULL};

#define T(t) JSON_T(t)

/* Set *why and return false: the shape of every refusal below. */
static bool resp_fail(const char **why, const char *reason)
{
  *why = reason;
  return false;
}

/* Is every element of array a an object? */
static bool resp_all_objects(struct json_span a)
{
  struct json_iter it;
  struct json_span v;
  json_iter_init(&it, a);
  while(json_next_element(&it, &v))
    if(v.type != JSON_OBJECT)
      return false;
  return true;
}

/* Read an output_text part: text, annotations (objects) and logprobs,
 * its members in one walk (json_pick, resp_text_names' order). */
static bool resp_text_read(struct json_span v, struct resp_part *pt,
                           const char **why)
{
  struct json_iter it;
  struct json_span first, m[4];
  if(json_pick(v, resp_text_names, m))
    return resp_fail(why, "output_text part has unknown members");
  pt->text = m[1];
  pt->annots = m[2];
  pt->logprobs = m[3];
  if(!json_is(pt->text, T(JSON_STRING)))
    return resp_fail(why, "output_text text is not a string");
  if(!json_is(pt->annots, T(JSON_ARRAY) | T(JSON_NONE)) ||
     !resp_all_objects(pt->annots))
    return resp_fail(why, "output_text annotations is not an array of objects");
  if(!json_is(pt->logprobs, T(JSON_ARRAY) | T(JSON_NONE)))
    return resp_fail(why, "output_text logprobs is not an array");
  json_iter_init(&it, pt->logprobs);
  if(json_next_element(&it, &first))
    return resp_lp_check(pt->text, pt->logprobs, why);
  return true;
}

/* Read a part whose type must be `type`, with only the members in names
 * ({"type", its text member}), in one walk: the text into *text. */
static bool resp_plain_read(struct json_span v, const char *type,
                            const char *const *names, struct json_span *text)
{
  struct json_span m[2];
  if(json_pick(v, names, m) || !json_is(m[0], T(JSON_STRING)) ||
     !json_key_is(m[0], type) || !json_is(m[1], T(JSON_STRING)))
    return false;
  *text = m[1];
  return true;
}

/* Read one element of a parts array of item it (already checked): a
 * message's output_text or refusal part, a reasoning item's summary_text
 * part, or with `second` its reasoning_text content part. */
bool resp_part_read(const struct resp_item *it, bool second,
                    struct json_span v, struct resp_part *pt,
                    const char **why)
{
  struct json_span type;
  memset(pt, 0, sizeof(*pt));
  pt->obj = v;
  if(it->kind == RK_REASONING) {
    pt->tk = second ? &resp_tk_reasoning_text : &resp_tk_summary;
    if(!resp_plain_read(v, second ? "reasoning_text" : "summary_text",
                        resp_plain_names, &pt->text))
      return resp_fail(why, "reasoning part is not a known text part");
    return true;
  }
  if(!json_get_typed(v, "type", T(JSON_STRING), &type))
    return resp_fail(why, "message content part has no type");
  if(json_key_is(type, "output_text")) {
    pt->tk = &resp_tk_output_text;
    return resp_text_read(v, pt, why);
  }
  pt->tk = &resp_tk_refusal;
  if(!json_key_is(type, "refusal"))
    return resp_fail(why, "message content part type not replayed");
  if(!resp_plain_read(v, "refusal", resp_refusal_names, &pt->text))
    return resp_fail(why, "refusal part is not a known object");
  return true;
}

/* Check every element of a parts array. */
static bool resp_parts_check(const struct resp_item *it, bool second,
                             struct json_span parts, const char **why)
{
  struct json_iter pi;
  struct json_span v;
  struct resp_part pt;
  json_iter_init(&pi, parts);
  while(json_next_element(&pi, &v))
    if(!resp_part_read(it, second, v, &pt, why))
      return false;
  return true;
}

/* Which kind is type (a string span)? False for types not replayed. */
static bool resp_kind_of(struct json_span type, enum resp_kind *k)
{
  static const char *const names[] = {
    "message", "function_call", "custom_tool_call", "reasoning",
    "web_search_call"
  };
  for(int i = 0; i < 5; i++)
    if(json_key_is(type, names[i])) {
      *k = (enum resp_kind)i;
      return true;
    }
  return false;
}

/* Read and check one element of "output": its kind, id, status and the
 * members of its kind (parts included). Its members are read in one walk
 * (json_pick) by the names of its kind: id, type and status come first
 * in each list, then (indexes 3 to 5) the kind's own. */
bool resp_item_read(struct json_span v, struct resp_item *it,
                    const char **why)
{
  static const char *const *const kind_names[] = {
    resp_message_names, resp_function_names, resp_custom_names,
    resp_reasoning_names, resp_search_names
  };
  static const char *const unknown[] = {
    "message item has unknown members", "tool call item has unknown members",
    "tool call item has unknown members",
    "reasoning item has unknown members",
    "web_search_call item has unknown members"
  };
  struct json_span type, m[8];
  int others;
  memset(it, 0, sizeof(*it));
  it->obj = v;
  if(v.type != JSON_OBJECT || !json_get_typed(v, "type", T(JSON_STRING), &type))
    return resp_fail(why, "output item is not an object with a type");
  if(!resp_kind_of(type, &it->kind))
    return resp_fail(why, "output item type not replayed (only message, "
                          "function_call, custom_tool_call, reasoning, "
                          "web_search_call)");
  others = json_pick(v, kind_names[it->kind], m);
  it->id = m[0];
  if(!json_is(it->id, T(JSON_STRING)))
    return resp_fail(why, "output item has no string id");
  if(!json_is(m[2], T(JSON_STRING) | T(JSON_NULL) | T(JSON_NONE)))
    return resp_fail(why, "output item status is not a string");
  if(others)
    return resp_fail(why, unknown[it->kind]);
  switch(it->kind) {
  case RK_MESSAGE:
    it->parts = m[4];
    if(!json_is(it->parts, T(JSON_ARRAY)))
      return resp_fail(why, "message content is not an array");
    return resp_parts_check(it, false, it->parts, why);
  case RK_REASONING:
    it->parts = m[3];
    if(!json_is(it->parts, T(JSON_ARRAY)))
      return resp_fail(why, "reasoning summary is not an array");
    it->parts2 = m[4];
    if(!json_is(it->parts2, T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE)))
      return resp_fail(why, "reasoning content is not an array");
    return resp_parts_check(it, false, it->parts, why) &&
           resp_parts_check(it, true, it->parts2, why);
  case RK_FUNCTION:
  case RK_CUSTOM:
    it->text = m[3];  /* arguments / input */
    it->name = m[5];
    if(!json_is(it->text, T(JSON_STRING)) || !json_is(it->name, T(JSON_STRING)) ||
       !json_is(m[4], T(JSON_STRING)))  /* call_id */
      return resp_fail(why, "tool call item lacks a string member");
    return true;
  default: /* RK_WEB_SEARCH */
    if(!json_key_is(m[2], "completed"))
      return resp_fail(why, "web_search_call item is not completed");
    return true;
  }
}

/* Check the top-level members the replay relies on; the terminal event
 * follows the answer's status. */
static bool resp_top_read(struct json_span root, struct sse_responses *e,
                          const char **why)
{
  static const char *const states[] = {"completed", "incomplete", "failed"};
  static const char *const terminals[] = {
    "response.completed", "response.incomplete", "response.failed"
  };
  static const char *const names[] = {"object", "id", "status", "output",
                                      NULL};
  struct json_span v[4], item;  /* the members of names, in one walk */
  struct json_iter it;
  struct resp_item ri;
  json_pick(root, names, v);
  if(!json_is(v[0], T(JSON_STRING)) || !json_key_is(v[0], "response"))
    return resp_fail(why, "not a response object");
  if(!json_is(v[1], T(JSON_STRING)))
    return resp_fail(why, "response id is not a string");
  for(int i = 0; i < 3 && !e->terminal; i++)
    if(json_key_is(v[2], states[i]))
      e->terminal = terminals[i];
  if(!e->terminal)
    return resp_fail(why, "response status is not completed, incomplete "
                          "or failed");
  e->output = v[3];
  if(!json_is(e->output, T(JSON_ARRAY)))
    return resp_fail(why, "response output is not an array");
  json_iter_init(&it, e->output);
  while(json_next_element(&it, &item))
    if(!resp_item_read(item, &ri, why))
      return false;
  return true;
}

void *sse_responses_open(const char *p, size_t n, const struct replay_opts *o,
                         const char **why)
{
  const char *ignored;
  struct sse_responses tmp;
  if(!why)
    why = &ignored;
  memset(&tmp, 0, sizeof(tmp));
  if(!p || !json_parse(p, n, &tmp.root) || tmp.root.type != JSON_OBJECT) {
    *why = "answer is not a JSON object";
    return NULL;
  }
  if(!resp_top_read(tmp.root, &tmp, why))
    return NULL;
  struct sse_responses *e = malloc(sizeof(*e));
  if(!e) {
    *why = "out of memory";
    return NULL;
  }
  *e = tmp;
  e->piece_chars = (o && o->piece_chars) ? o->piece_chars : 1;
  e->c.st = ST_CREATED;
  json_iter_init(&e->c.item_it, e->output);
  return e;
}
