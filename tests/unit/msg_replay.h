/* msg_replay.h - shared by the Messages encoder's unit tests
 * (test_sse_messages.c, test_sse_messages_pieces.c): answer and event
 * templates, and helpers that replay an answer while checking that every
 * call appends exactly one well-framed event. Include after check.h. */
#ifndef SS_TEST_MSG_REPLAY_H
#define SS_TEST_MSG_REPLAY_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "replay_check.h"
#include "sse_messages.h"

/* ---- answer and event templates ---- */

#define ANS_USAGE(content, sr, ss, usage)                                  \
  "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\","       \
  "\"model\":\"claude-x\",\"content\":[" content "],\"stop_reason\":" sr  \
  ",\"stop_sequence\":" ss ",\"usage\":" usage "}"
#define USAGE "{\"input_tokens\":10,\"cache_read_input_tokens\":0,"        \
  "\"output_tokens\":7,\"service_tier\":\"standard\"}"
#define ANS(content, sr, ss) ANS_USAGE(content, sr, ss, USAGE)

#define EV(t, body) "event: " t "\ndata: {\"type\":\"" t "\"" body "}\n\n"
#define START                                                              \
  EV("message_start", ",\"message\":{\"id\":\"msg_01\",\"type\":\"message\"," \
     "\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],"       \
     "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"              \
     "{\"input_tokens\":10,\"cache_read_input_tokens\":0,"                 \
     "\"output_tokens\":1,\"service_tier\":\"standard\"}}")
#define CBS(i, blk) \
  EV("content_block_start", ",\"index\":" #i ",\"content_block\":" blk)
#define CBD(i, d) EV("content_block_delta", ",\"index\":" #i ",\"delta\":" d)
#define TD(i, s) CBD(i, "{\"type\":\"text_delta\",\"text\":\"" s "\"}")
#define THD(i, s) \
  CBD(i, "{\"type\":\"thinking_delta\",\"thinking\":\"" s "\"}")
#define SIG(i, s) \
  CBD(i, "{\"type\":\"signature_delta\",\"signature\":\"" s "\"}")
#define IJ(i, s) \
  CBD(i, "{\"type\":\"input_json_delta\",\"partial_json\":\"" s "\"}")
#define CBSTOP(i) EV("content_block_stop", ",\"index\":" #i)
#define PING EV("ping", "")
#define MD(sr, ss)                                                         \
  EV("message_delta", ",\"delta\":{\"stop_reason\":" sr                    \
     ",\"stop_sequence\":" ss "},\"usage\":{\"input_tokens\":10,"          \
     "\"cache_read_input_tokens\":0,\"output_tokens\":7}")
#define MSTOP EV("message_stop", "")
#define TEXT_START "{\"type\":\"text\",\"text\":\"\"}"

/* ---- helpers ---- */

/* The first "\n\n" in [p, end), or NULL (a loop: sanitizer string
 * interceptors would make a search per event cost the whole buffer). */
static inline const char *find_blank(const char *p, const char *end)
{
  for(; p + 1 < end; p++)
    if(p[0] == '\n' && p[1] == '\n')
      return p;
  return NULL;
}

/* Is ev one well-formed event: "event: T\n" + "data: " + one-line JSON
 * object whose type is T + blank line? On success *data spans the JSON. */
static inline int event_ok(const char *ev, size_t n, struct json_span *data)
{
  const char *nl, *end = ev + n;
  struct json_span t;
  if(n < 20 || memcmp(ev, "event: ", 7) || memcmp(end - 2, "\n\n", 2))
    return 0;
  nl = memchr(ev, '\n', n);
  if(!nl || end - nl < 9 || memcmp(nl + 1, "data: ", 6) ||
     memchr(nl + 1, '\n', (size_t)(end - nl - 3)) || memchr(ev, '\r', n))
    return 0;
  if(!json_parse(nl + 7, (size_t)(end - nl - 9), data) ||
     data->type != JSON_OBJECT || !json_get(*data, "type", &t) ||
     t.type != JSON_STRING || t.len - 2 != (size_t)(nl - ev - 7) ||
     memcmp(t.ptr + 1, ev + 7, t.len - 2))
    return 0;
  return 1;
}

/* event_ok for replay_checked. */
static inline int msg_event_ok(const char *ev, size_t n, long index)
{
  struct json_span data;
  (void)index;
  return event_ok(ev, n, &data);
}

/* Replay answer into all (replay_checked); the stream ends with
 * message_stop. The event count, -1 when the encoder refused the answer. */
static inline long replay(const char *ans, size_t alen, size_t piece,
                          size_t maxev, struct buf *all)
{
  struct replay_opts o = {piece, false};
  long count = replay_checked(&sse_messages_encoder, ans, alen,
                              &o, maxev, msg_event_ok, all);
  CHECK(count < 0 || replay_ends_with(all, MSTOP));
  return count;
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

/* Is the answer refused, with a reason? */
static inline int refused(const char *ans)
{
  struct replay_opts o = {8, false};
  const char *why = NULL;
  void *e = sse_messages_encoder.open(ans, strlen(ans), &o, &why);
  if(e) {
    sse_messages_encoder.close(e);
    return 0;
  }
  return why != NULL && why[0] != '\0';
}

/* Walk the events in [p, end) and append to raw the raw text of every
 * string member `name` of a content_block_delta's delta, decoded to dec
 * when given; "|" after each piece in list when given. The piece count. */
static inline long pieces(const char *p, const char *end, const char *name,
                          struct buf *raw, struct buf *dec, struct buf *list)
{
  long n = 0;
  while(p < end) {
    const char *nl = find_blank(p, end);
    struct json_span v, d, s;
    if(!nl)
      break;
    if(event_ok(p, (size_t)(nl + 2 - p), &v) && json_get(v, "delta", &d) &&
       json_get(d, name, &s) && s.type == JSON_STRING && s.len > 2) {
      replay_collect(s, raw, dec, list);
      n++;
    }
    p = nl + 2;
  }
  return n;
}

/* A message with one block: prefix, raw text, suffix. */
static inline void answer_with(struct buf *a, const char *pre,
                               const char *raw, size_t n, const char *post)
{
  buf_puts(a, "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\","
              "\"model\":\"m\",\"content\":[");
  buf_puts(a, pre);
  buf_append(a, raw, n);
  buf_puts(a, post);
  buf_puts(a, "],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
              "\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}");
}

#endif
