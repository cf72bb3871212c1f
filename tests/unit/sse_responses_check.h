/* sse_responses_check.h - shared by the unit tests of the Responses
 * encoder (test_sse_responses.c: exact event ladders;
 * test_sse_responses_more.c: logprobs, big answers, out of memory,
 * refusals): event templates and a replay that checks every event's
 * framing and sequence number. Include after check.h. */
#ifndef SS_SSE_RESPONSES_CHECK_H
#define SS_SSE_RESPONSES_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "replay_check.h"
#include "sse_responses.h"

/* ---- event templates ---- */

/* One event: type, sequence number (a literal), the payload members. */
#define EVT(t, n, x)                                                     \
  "event: " t "\ndata: {\"type\":\"" t "\",\"sequence_number\":" #n x    \
  "}\n\n"
#define REF(item, out) ",\"item_id\":\"" item "\",\"output_index\":" #out
#define CI(i) ",\"content_index\":" #i
#define SI(i) ",\"summary_index\":" #i

/* The top of the small answers: everything before "output". */
#define TOP_MEMBERS                                                      \
  "\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1700000000,"  \
  "\"status\":\"completed\",\"error\":null,\"incomplete_details\":null,"  \
  "\"model\":\"o3-2025-04-16\""
#define START_MEMBERS                                                    \
  "\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1700000000,"  \
  "\"status\":\"in_progress\",\"error\":null,\"incomplete_details\":null," \
  "\"model\":\"o3-2025-04-16\""
#define USAGE                                                            \
  "\"usage\":{\"input_tokens\":5,\"input_tokens_details\":"              \
  "{\"cached_tokens\":0},\"output_tokens\":2,\"output_tokens_details\":" \
  "{\"reasoning_tokens\":0},\"total_tokens\":7}"
#define ANSWER(items) "{" TOP_MEMBERS ",\"output\":[" items "]," USAGE \
  ",\"metadata\":{}}"
#define START "{" START_MEMBERS ",\"output\":[],\"usage\":null,\"metadata\":{}}"
/* response.created and response.in_progress of the small answers. */
#define HEAD2                                                            \
  EVT("response.created", 0, ",\"response\":" START)                     \
  EVT("response.in_progress", 1, ",\"response\":" START)

#define TEXT_PART(t)                                                     \
  "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],"         \
  "\"text\":\"" t "\"}"
#define MSG(id, st, parts)                                               \
  "{\"id\":\"" id "\",\"type\":\"message\",\"status\":\"" st "\","        \
  "\"content\":[" parts "],\"role\":\"assistant\"}"
#define MSG_START(id)                                                    \
  "{\"id\":\"" id "\",\"type\":\"message\",\"status\":\"in_progress\","   \
  "\"content\":[],\"role\":\"assistant\"}"

#define TEXT_ANSWER ANSWER(MSG("msg_1", "completed", TEXT_PART("Hi there")))
#define FC(id, args)                                                     \
  "{\"id\":\"" id "\",\"type\":\"function_call\",\"status\":\"completed\"," \
  "\"arguments\":\"" args "\",\"call_id\":\"call_" id "\",\"name\":\"get\"}"
#define RS(sum, extra)                                                   \
  "{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[" sum "]" extra "}"
#define SUM(t) "{\"type\":\"summary_text\",\"text\":\"" t "\"}"

/* ---- helpers ---- */

/* Is [ev, ev+n) one well-formed event: "event: T\ndata: " + one-line
 * JSON object whose type is T and sequence_number is seq + "\n\n"? */
static inline int event_ok(const char *ev, size_t n, long seq)
{
  struct json_span v, t, s;
  const char *nl;
  char num[24];
  int k;
  if(n < 20 || memcmp(ev, "event: ", 7) || memcmp(ev + n - 2, "\n\n", 2))
    return 0;
  nl = memchr(ev, '\n', n);
  if(!nl || (size_t)(nl - ev) + 7 > n || memcmp(nl + 1, "data: ", 6))
    return 0;
  if(memchr(nl + 1, '\n', (size_t)(ev + n - 2 - nl - 1)) ||
     memchr(ev, '\r', n))
    return 0;
  if(!json_parse(nl + 7, (size_t)(ev + n - 2 - nl - 7), &v) ||
     v.type != JSON_OBJECT || !json_get(v, "type", &t) ||
     t.len != (size_t)(nl - ev) - 7 + 2 ||
     memcmp(t.ptr + 1, ev + 7, t.len - 2) ||
     !json_get(v, "sequence_number", &s))
    return 0;
  k = snprintf(num, sizeof(num), "%ld", seq);
  return s.len == (size_t)k && !memcmp(s.ptr, num, s.len);
}

/* Replay answer into all (replay_checked, events numbered from 0). The
 * event count, -1 when the encoder refused the answer. */
static inline long replay(const char *ans, size_t alen, size_t piece,
                          size_t maxev, struct buf *all)
{
  struct replay_opts o = {piece, false};
  return replay_checked(&sse_responses_encoder, ans, alen, &o,
                        maxev, event_ok, all);
}

/* Replay a NUL-terminated answer and compare all bytes with want. */
static inline void expect(const char *ans, size_t piece, const char *want)
{
  struct buf all;
  buf_init(&all);
  CHECK(replay(ans, strlen(ans), piece, 0, &all) > 0);
  CHECK_MEM(all.ptr, all.len, want, strlen(want));
  buf_free(&all);
}

/* The reason the answer is refused, or NULL when it is accepted. */
static inline const char *refusal(const char *ans)
{
  struct replay_opts o = {8, false};
  const char *why = NULL;
  void *e = sse_responses_encoder.open(ans, strlen(ans), &o, &why);
  if(e) {
    sse_responses_encoder.close(e);
    return NULL;
  }
  return why ? why : "";
}

/* Is the answer refused with a reason that contains `part`? */
static inline int refused(const char *ans, const char *part)
{
  const char *why = refusal(ans);
  return why && why[0] && strstr(why, part) != NULL;
}


#endif
