/* sse_messages_read.c - reading and validating an Anthropic Messages
 * answer ("type":"message") for the encoder (see sse_messages.c for the
 * replay rules): everything the encoder cannot replay exactly is refused
 * here, once, with a static reason. */
#include "sse_messages_int.h"

#include <stdlib.h>
#include <string.h>

/* Members each streamed block type may have (the SDK's types, 1.13.0). */
static const char *const msg_text_names[] = {"type", "text", "citations",
                                             NULL};
static const char *const msg_thinking_names[] = {"type", "thinking",
                                                 "signature", NULL};
static const char *const msg_redacted_names[] = {"type", "data", NULL};
static const char *const msg_tool_names[] = {"type", "id", "name", "input",
                                             "caller", "toolset_name", NULL};
static const char *const msg_server_tool_names[] = {"type", "id", "name",
                                                    "input", "caller", NULL};

/* Server tool results: the stream sends each whole in its
 * content_block_start (MessageStream has no delta for them). */
static const char *const msg_whole_types[] = {
  "web_search_tool_result", "web_fetch_tool_result",
  "code_execution_tool_result", "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result", "tool_search_tool_result",
  "container_upload", NULL
};

/* The usage counters MessageStream takes from message_delta. */
static const char *const msg_delta_usage_names[] = {
  "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "output_tokens", "server_tool_use", "output_tokens_details", NULL
};

#define T(t) JSON_T(t)
#define T_OPT_OBJECT (T(JSON_OBJECT) | T(JSON_NULL) | T(JSON_NONE))

/* Set *why and return false: the shape of every refusal below. */
static bool msg_fail(const char **why, const char *reason)
{
  *why = reason;
  return false;
}

/* Is s one of names (a NULL-terminated list)? s is a key or a string. */
static bool msg_in(struct json_span s, const char *const *names)
{
  while(*names && !json_key_is(s, *names))
    names++;
  return *names != NULL;
}

bool msg_delta_usage_key(struct json_span key)
{
  return msg_in(key, msg_delta_usage_names);
}

/* A text block: its text, and citations (each an object) if any. */
static bool msg_text_read(struct msg_block *b, const char **why)
{
  struct json_iter it;
  struct json_span c;
  if(!json_only_members(b->obj, msg_text_names))
    return msg_fail(why, "text block has unknown members");
  if(!json_get_typed(b->obj, "text", T(JSON_STRING), &b->text))
    return msg_fail(why, "text block text is not a string");
  if(!json_get_typed(b->obj, "citations", T(JSON_ARRAY) | T(JSON_NULL) | T(JSON_NONE),
              &b->cites))
    return msg_fail(why, "text block citations is not an array");
  json_iter_init(&it, b->cites);
  while(b->cites.type == JSON_ARRAY && json_next_element(&it, &c))
    if(c.type != JSON_OBJECT)
      return msg_fail(why, "a citation is not an object");
  b->kind = MK_TEXT;
  return true;
}

/* A thinking block: thinking and signature, both strings. */
static bool msg_thinking_read(struct msg_block *b, const char **why)
{
  if(!json_only_members(b->obj, msg_thinking_names))
    return msg_fail(why, "thinking block has unknown members");
  if(!json_get_typed(b->obj, "thinking", T(JSON_STRING), &b->text) ||
     !json_get_typed(b->obj, "signature", T(JSON_STRING), &b->sig))
    return msg_fail(why, "thinking block thinking or signature not a string");
  b->kind = MK_THINKING;
  return true;
}

/* A tool_use or server_tool_use block (names: its allowed members). */
static bool msg_tool_read(struct msg_block *b, const char *const *names,
                          const char **why)
{
  struct json_span v;
  if(!json_only_members(b->obj, names))
    return msg_fail(why, "tool use block has unknown members");
  if(!json_get_typed(b->obj, "id", T(JSON_STRING), &v) ||
     !json_get_typed(b->obj, "name", T(JSON_STRING), &v))
    return msg_fail(why, "tool use block id or name is not a string");
  if(!json_get_typed(b->obj, "input", T(JSON_OBJECT), &b->text))
    return msg_fail(why, "tool use block input is not an object");
  if(!json_get_typed(b->obj, "caller", T(JSON_OBJECT) | T(JSON_NONE), &v))
    return msg_fail(why, "tool use block caller is not an object");
  if(!json_get_typed(b->obj, "toolset_name",
              T(JSON_STRING) | T(JSON_NULL) | T(JSON_NONE), &v))
    return msg_fail(why, "tool use block toolset_name is not a string");
  b->kind = MK_TOOL;
  return true;
}

/* Read and check one element of "content". */
bool msg_block_read(struct json_span blk, struct msg_block *b,
                    const char **why)
{
  struct json_span type, data;
  memset(b, 0, sizeof(*b));
  b->obj = blk;
  if(blk.type != JSON_OBJECT)
    return msg_fail(why, "a content block is not an object");
  if(!json_get_typed(blk, "type", T(JSON_STRING), &type))
    return msg_fail(why, "a content block has no type");
  if(json_key_is(type, "text"))
    return msg_text_read(b, why);
  if(json_key_is(type, "thinking"))
    return msg_thinking_read(b, why);
  if(json_key_is(type, "tool_use"))
    return msg_tool_read(b, msg_tool_names, why);
  if(json_key_is(type, "server_tool_use"))
    return msg_tool_read(b, msg_server_tool_names, why);
  if(json_key_is(type, "redacted_thinking")) {
    if(!json_only_members(blk, msg_redacted_names) ||
       !json_get_typed(blk, "data", T(JSON_STRING), &data))
      return msg_fail(why, "redacted_thinking block is not {type, data}");
    b->kind = MK_WHOLE;
    return true;
  }
  if(msg_in(type, msg_whole_types)) {
    b->kind = MK_WHOLE;
    return true;
  }
  return msg_fail(why, "a content block type is not replayed");
}

/* Check the top-level members and remember those the events need.
 * Unknown members are kept: message_start carries them (see
 * sse_messages.c). */
static bool msg_top_read(struct json_span root, struct sse_messages *e,
                         const char **why)
{
  struct json_span v;
  if(!json_get_typed(root, "type", T(JSON_STRING), &v) || !json_key_is(v, "message"))
    return msg_fail(why, "not a message");
  if(!json_get_typed(root, "id", T(JSON_STRING), &v) ||
     !json_get_typed(root, "role", T(JSON_STRING), &v) ||
     !json_get_typed(root, "model", T(JSON_STRING), &v))
    return msg_fail(why, "id, role or model missing or not a string");
  if(!json_get_typed(root, "content", T(JSON_ARRAY), &e->content))
    return msg_fail(why, "content is not an array");
  if(!json_get_typed(root, "stop_reason", T(JSON_STRING) | T(JSON_NULL),
              &e->stop_reason) ||
     !json_get_typed(root, "stop_sequence", T(JSON_STRING) | T(JSON_NULL),
              &e->stop_sequence))
    return msg_fail(why, "stop_reason or stop_sequence missing or mistyped");
  if(!json_get_typed(root, "stop_details", T_OPT_OBJECT, &e->stop_details) ||
     !json_get_typed(root, "container", T_OPT_OBJECT, &e->container))
    return msg_fail(why, "stop_details or container is not an object");
  if(!json_get_typed(root, "usage", T(JSON_OBJECT), &e->usage))
    return msg_fail(why, "usage is not an object");
  if(!json_get_typed(e->usage, "output_tokens", T(JSON_NUMBER), &v))
    return msg_fail(why, "usage.output_tokens is not a number");
  return true;
}

/* Check every content block. */
static bool msg_blocks_check(struct json_span content, const char **why)
{
  struct json_iter it;
  struct json_span blk;
  struct msg_block b;
  json_iter_init(&it, content);
  while(json_next_element(&it, &blk))
    if(!msg_block_read(blk, &b, why))
      return false;
  return true;
}

void *sse_messages_open(const char *p, size_t n, const struct replay_opts *o,
                        const char **why)
{
  const char *ignored;
  struct json_span root;
  struct sse_messages tmp;
  if(!why)
    why = &ignored;
  memset(&tmp, 0, sizeof(tmp));
  if(!p || !json_parse(p, n, &root) || root.type != JSON_OBJECT) {
    *why = "answer is not a JSON object";
    return NULL;
  }
  tmp.root = root;
  if(!msg_top_read(root, &tmp, why) || !msg_blocks_check(tmp.content, why))
    return NULL;
  struct sse_messages *e = malloc(sizeof(*e));
  if(!e) {
    *why = "out of memory";
    return NULL;
  }
  *e = tmp;
  e->piece_chars = (o && o->piece_chars) ? o->piece_chars : 1;
  e->c.st = MS_START;
  json_iter_init(&e->c.block_it, e->content);
  return e;
}
