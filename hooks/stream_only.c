/* stream_only.c - sending a non-streaming request streaming and joining
 * the answer (see stream_only.h). */
#include "stream_only.h"

#include <stdio.h>
#include <stdlib.h>

#include "../shim/log.h"
#include "../shim/settings.h"
#include "hold.h"
#include "llm_request.h"
#include "sse_to_json.h"

struct stream_only {
  struct hold hold;           /* the stream, held until it is joined (first:
                                 the hold_stage_* callbacks take the
                                 context) */
  struct sse_to_json input;   /* the transform's state */
};

static void stream_only_free(struct stream_only *s)
{
  if(!s)
    return;
  hold_free(&s->hold);
  sse_to_json_free(&s->input);
  free(s);
}

static void *stream_only_start(struct ss_xfer *x)
{
  const struct llm_request *r = llm_request(x);
  if(r->decision != LLM_STREAM)
    return NULL;
  const struct ss_config *c = ss_settings();
  struct stream_only *s = calloc(1, sizeof(*s));
  size_t nlen = 0;
  if(s) {
    sse_to_json_init(&s->input, assembler_for(r->ep.kind), c->max_answer);
    hold_init(&s->hold, &sse_to_json, &s->input, c->max_answer, 0);
  }
  if(!s || !s->input.st || !llm_rewrite(x, r, &nlen)) {
    ss_warn("pass-through: out of memory or libcurl refused an option");
    stream_only_free(s);
    return NULL;
  }
  ss_info("streaming %s %s for a program that does not: model %s%s; body "
          "%zu -> %zu bytes", endpoint_name(r->ep.kind), r->ep.path,
          r->model, r->why, r->body_len, nlen);
  if(xfer_notes_wanted(x)) {
    char why[600];
    snprintf(why, sizeof(why), "model %s%s", r->model, r->why);
    xfer_note(x, "joined", why);
  }
  return s;
}

static void so_finish(struct ss_xfer *x, void *ctx)
{
  (void)x;
  stream_only_free(ctx);
}

const struct ss_stage stream_only_stage = {
  "stream_only", stream_only_start, hold_stage_header, hold_stage_body,
  hold_stage_resume, hold_stage_end, so_finish
};
