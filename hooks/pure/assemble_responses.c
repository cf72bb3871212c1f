/* assemble_responses.c - join a Responses API stream (POST /v1/responses
 * with "stream": true) into the one answer the API returns without
 * streaming (see assemble.h; wire format in the spec's section 4; the
 * reverse of sse_responses.c).
 *
 * The answer is the "response" member of the terminal event
 * (response.completed, response.incomplete or response.failed), copied
 * byte for byte: ResponseStream's final response is that object too (its
 * accumulator replaces the snapshot with each lifecycle event's
 * response), so nothing has to be rebuilt from the deltas.
 *
 * Decisions (each checked by tests/unit/test_assemble_responses.c):
 * - An event is recognised by its "event:" name, or by data.type when it
 *   has none (openai-node reads only the data). When both are there they
 *   must agree. Every data must be a JSON object with a string "type";
 *   other events are not looked into: the terminal response is whole on
 *   its own, so a lost or reordered delta cannot change the answer.
 * - sequence_number is not checked (neither contiguity nor type): the SDK
 *   uses it only to resume a retrieved stream, and a gap would refuse an
 *   answer that is complete in the terminal event.
 * - Unknown event types are ignored (openai-node 7 throws on them, older
 *   ones pass them on; the API adds event families over time).
 * - An error, as openai-node's Stream takes it: an event named "error", a
 *   data of type "error", or a data with an "error" object at the top.
 *   When there is an error object (nested, as first-party servers send
 *   it, or {"error":{...}} from a gateway) the body is {"error": that
 *   object, as it came}. Otherwise (the documented flat event
 *   {"type":"error","code","message","param"}) the body is
 *   {"error":{"message","type","param","code"}}, values copied, null
 *   when absent; the type is data.type when that is not "error", else the
 *   code when it names an error type asm_error_status() knows
 *   ("rate_limit_exceeded", "insufficient_quota", ...), else
 *   "invalid_request_error" for a 4xx status and "server_error" for the
 *   rest. The status is asm_error_status() of the error object (flat: of
 *   the data, whose code decides when its type is "error").
 * - A data with a top-level "error" that is neither an object nor
 *   null/false is refused (the SDK would throw an error without a body).
 * - Data "[DONE]" before the terminal event ends the stream for the SDK:
 *   refused as cut short. After the terminal event (or an error), further
 *   events, [DONE] included, are ignored and give the same result again.
 * - The stream ending without a terminal event is not an answer (the SDK
 *   would hand back its last in-progress snapshot; we do not). */
#include "assemble.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

enum rsp_phase { RSP_OPEN, RSP_END, RSP_ERROR, RSP_BAD, RSP_OOM };

struct rsp {
  enum rsp_phase phase;
  const char *why;   /* RSP_BAD: the reason */
  struct buf body;   /* the answer (RSP_END) or the error body (RSP_ERROR) */
  int status;        /* RSP_ERROR: the HTTP status */
};

/* The events that end the stream with the answer in "response". */
static const char *const rsp_terminal[] = {
  "response.completed", "response.incomplete", "response.failed", NULL
};

/* Is string span s one of names (a NULL-terminated list)? */
static bool rsp_in(struct json_span s, const char *const *names)
{
  while(*names && !json_key_is(s, *names))
    names++;
  return *names != NULL;
}

/* Does string span s decode to the n bytes at p? (Names longer than 63
 * bytes are compared raw.) */
static bool rsp_str_eq(struct json_span s, const char *p, size_t n)
{
  char tmp[64];
  if(s.type != JSON_STRING)
    return false;
  if(s.len - 2 == n && !memcmp(s.ptr + 1, p, n))
    return true;
  if(n >= sizeof(tmp) || memchr(p, '\0', n))
    return false;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  return json_key_is(s, tmp);
}

/* Is the event's name exactly the NUL-terminated name? */
static bool rsp_name_is(const struct sse_event *ev, const char *name)
{
  size_t n = strlen(name);
  return ev->name_len == n && !memcmp(ev->name, name, n);
}

/* Record a refusal: phase RSP_BAD, *why (when given) the static reason. */
static enum asm_result rsp_bad(struct rsp *s, const char **why,
                               const char *reason)
{
  s->phase = RSP_BAD;
  s->why = reason;
  if(why)
    *why = reason;
  return ASM_BAD;
}

/* Append member m of obj, or null when absent. */
static void rsp_put_member(struct buf *b, struct json_span obj, const char *m)
{
  struct json_span v;
  if(json_get(obj, m, &v))
    buf_append(b, v.ptr, v.len);
  else
    buf_puts(b, "null");
}

/* Does string s name an error type asm_error_status() knows (one that
 * gives a status of its own, or api_error / server_error)? */
static bool rsp_known_type(struct json_span s)
{
  char obj[80];
  if(s.type != JSON_STRING || s.len > sizeof(obj) - 10)
    return false;
  if(json_key_is(s, "api_error") || json_key_is(s, "server_error"))
    return true;
  memcpy(obj, "{\"type\":", 8);
  memcpy(obj + 8, s.ptr, s.len);
  obj[8 + s.len] = '}';
  return asm_error_status(obj, s.len + 9) != 500;
}

/* Append the flat error event data as the API's error object:
 * {"message","type","param","code"} (see the decisions above). */
static void rsp_put_flat(struct buf *b, struct json_span data, int status)
{
  struct json_span type, code;
  json_get(data, "type", &type);
  json_get(data, "code", &code);
  buf_puts(b, "{\"message\":");
  rsp_put_member(b, data, "message");
  buf_puts(b, ",\"type\":");
  if(type.type == JSON_STRING && !json_key_is(type, "error"))
    buf_append(b, type.ptr, type.len);
  else if(rsp_known_type(code))
    buf_append(b, code.ptr, code.len);
  else
    buf_puts(b, status < 500 ? "\"invalid_request_error\""
                             : "\"server_error\"");
  buf_puts(b, ",\"param\":");
  rsp_put_member(b, data, "param");
  buf_puts(b, ",\"code\":");
  rsp_put_member(b, data, "code");
  buf_puts(b, "}");
}

/* An error event: keep the body the non-streaming API would answer with
 * and its status (err: the data's top-level "error", if an object). */
static enum asm_result rsp_error(struct rsp *s, struct json_span data,
                                 struct json_span err)
{
  buf_reset(&s->body);
  buf_puts(&s->body, "{\"error\":");
  if(err.type == JSON_OBJECT) {
    s->status = asm_error_status(err.ptr, err.len);
    buf_append(&s->body, err.ptr, err.len);
  }
  else {
    s->status = asm_error_status(data.ptr, data.len);
    rsp_put_flat(&s->body, data, s->status);
  }
  buf_puts(&s->body, "}");
  if(s->body.oom) {
    s->phase = RSP_OOM;
    return ASM_OOM;
  }
  s->phase = RSP_ERROR;
  return ASM_ERROR;
}

/* A terminal event: keep its response object's bytes. */
static enum asm_result rsp_terminal_event(struct rsp *s, struct json_span data,
                                          const char **why)
{
  struct json_span resp;
  if(!json_get(data, "response", &resp) || resp.type != JSON_OBJECT)
    return rsp_bad(s, why, "a terminal event without a response object");
  buf_reset(&s->body);
  if(!buf_append(&s->body, resp.ptr, resp.len)) {
    s->phase = RSP_OOM;
    return ASM_OOM;
  }
  s->phase = RSP_END;
  return ASM_END;
}

/* The result an ended state gives for any further event. */
static enum asm_result rsp_again(const struct rsp *s, const char **why)
{
  switch(s->phase) {
  case RSP_END:
    return ASM_END;
  case RSP_ERROR:
    return ASM_ERROR;
  case RSP_OOM:
    return ASM_OOM;
  default:
    if(why)
      *why = s->why;
    return ASM_BAD;
  }
}

/* The table's event(): errors first, then the type check, then the
 * terminal events; others are taken as they are (see the decisions). */
static enum asm_result rsp_event(void *st, const struct sse_event *ev,
                                 const char **why)
{
  struct rsp *s = st;
  struct json_span data, type, err;
  if(s->phase != RSP_OPEN)
    return rsp_again(s, why);
  if(ev->data_len == 6 && !memcmp(ev->data, "[DONE]", 6))
    return rsp_bad(s, why, "[DONE] before response.completed");
  if(!json_parse(ev->data, ev->data_len, &data) || data.type != JSON_OBJECT)
    return rsp_bad(s, why, "an event's data is not a JSON object");
  json_get(data, "type", &type);
  json_get(data, "error", &err);
  if(rsp_name_is(ev, "error") || json_key_is(type, "error") ||
     err.type == JSON_OBJECT)
    return rsp_error(s, data, err);
  if(err.type != JSON_NONE && err.type != JSON_NULL && err.type != JSON_FALSE)
    return rsp_bad(s, why, "an event's error member is not an object");
  if(type.type != JSON_STRING)
    return rsp_bad(s, why, "an event's data has no string type");
  if(ev->name_len && !rsp_str_eq(type, ev->name, ev->name_len))
    return rsp_bad(s, why, "an event's name is not its data's type");
  if(rsp_in(type, rsp_terminal))
    return rsp_terminal_event(s, data, why);
  return ASM_MORE;
}

/* The table's finish(): the response, the error body, or 0 with *why. */
static int rsp_finish(void *st, bool eof, struct buf *out, const char **why)
{
  struct rsp *s = st;
  const char *ignored;
  if(!why)
    why = &ignored;
  switch(s->phase) {
  case RSP_END:
  case RSP_ERROR:
    if(!buf_append(out, s->body.ptr, s->body.len))
      return -1;
    return s->phase == RSP_END ? 200 : s->status;
  case RSP_OOM:
    return -1;
  case RSP_BAD:
    *why = s->why;
    return 0;
  default:
    *why = eof ? "the stream ended before response.completed"
               : "the stream has not ended";
    return 0;
  }
}

static void *rsp_open(void)
{
  struct rsp *s = calloc(1, sizeof(*s));
  if(s)
    buf_init(&s->body);
  return s;
}

static void rsp_close(void *st)
{
  struct rsp *s = st;
  if(!s)
    return;
  buf_free(&s->body);
  free(s);
}

const struct assembler responses_assembler = {
  "response", rsp_open, rsp_event, rsp_finish, rsp_close
};
