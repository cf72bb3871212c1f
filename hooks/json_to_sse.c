/* json_to_sse.c - the de-streaming transform (see json_to_sse.h). */
#include "json_to_sse.h"

#include "../shim/log.h"
#include "pure/headers.h"

void json_to_sse_init(struct json_to_sse *j,
                      const struct replay_encoder *encoder,
                      size_t piece_chars, bool include_usage)
{
  j->encoder = encoder;
  j->opts.piece_chars = piece_chars;
  j->opts.include_usage = include_usage;
  json_end_init(&j->end);
  j->enc = NULL;
}

/* Are all bytes of [p, p+n) JSON whitespace? */
static bool blank(const char *p, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
      return false;
  return true;
}

static enum tf_scan scan_answer(void *ctx, const char *p, size_t n, size_t *at,
                         const char **why)
{
  struct json_to_sse *j = ctx;
  enum json_end_result e = json_end_feed(&j->end, p, n, at);
  if(e == JSON_END_MORE)
    return TF_MORE;
  if(e == JSON_END_BAD)
    *why = "the answer is not a JSON object";
  else if(!blank(p + *at, n - *at))
    *why = "bytes follow the answer's JSON value";
  else
    return TF_DONE;
  return TF_BAD;
}

/* The state is the context itself: next needs the encoder's table. */
static void *open_answer(void *ctx, const char *p, size_t n, const char **why)
{
  struct json_to_sse *j = ctx;
  j->enc = j->encoder->open(p, n, &j->opts, why);
  if(!j->enc)
    return NULL;
  ss_info("replaying a %zu-byte %s answer as Server-Sent Events", n,
          j->encoder->name);
  return j;
}

static int next_event(void *state, struct buf *out)
{
  struct json_to_sse *j = state;
  return j->encoder->next(j->enc, out);
}

static void close_answer(void *state)
{
  struct json_to_sse *j = state;
  j->encoder->close(j->enc);
  j->enc = NULL;
}

static bool rewrite_for_sse(void *state, const char *block, size_t n,
                            struct buf *out)
{
  (void)state;
  return headers_rewrite_for_sse(block, n, JSON_TO_SSE_CONTENT_TYPE, out);
}

const struct ss_transform json_to_sse = {
  .scan = scan_answer,
  .input_type = NULL,  /* JSON answers come with any content type */
  .ends_with_transfer = false,  /* an answer cut short is not replayed */
  .open = open_answer,
  .next = next_event,
  .close = close_answer,
  .rewrite_headers = rewrite_for_sse,
  .status = NULL  /* the JSON answer's own */
};
