/* destream.c - the de-streaming stage (see destream.h). */
#include "destream.h"

#include <stdio.h>
#include <stdlib.h>

#include "../shim/log.h"
#include "../shim/settings.h"
#include "hold.h"
#include "json_to_sse.h"
#include "llm_request.h"

struct destream {
  struct hold hold;          /* the answer, held and replayed (first: the
                                hold_stage_* callbacks take the context) */
  struct json_to_sse input;  /* the transform's state */
};

static void destream_free(struct destream *d)
{
  if(!d)
    return;
  hold_free(&d->hold);
  free(d);
}

static void *destream_start(struct ss_xfer *x)
{
  const struct llm_request *r = llm_request(x);
  if(r->decision != LLM_DESTREAM)
    return NULL;
  const struct ss_config *c = ss_settings();
  /* malloc, every field set by the inits: glibc's calloc skips its
   * per-thread cache */
  struct destream *d = malloc(sizeof(*d));
  size_t nlen = 0;
  if(d) {
    json_to_sse_init(&d->input, replay_encoder_for(r->ep.kind),
                     c->chunk_chars, r->include_usage);
    hold_init(&d->hold, &json_to_sse, &d->input, c->max_answer, c->pace_ms);
  }
  if(!d || !llm_rewrite(x, r, &nlen)) {
    ss_warn("pass-through: out of memory or libcurl refused an option");
    destream_free(d);
    return NULL;
  }
  ss_info("de-streaming %s %s: model %s%s; body %zu -> %zu bytes",
          endpoint_name(r->ep.kind), r->ep.path, r->model, r->why,
          r->body_len, nlen);
  if(xfer_notes_wanted(x)) {
    char why[600];
    snprintf(why, sizeof(why), "model %s%s", r->model, r->why);
    xfer_note(x, "destreamed", why);
  }
  return d;
}

static void ds_finish(struct ss_xfer *x, void *ctx)
{
  (void)x;
  destream_free(ctx);
}

const struct ss_stage destream_stage = {
  "destream", destream_start, hold_stage_header, hold_stage_body,
  hold_stage_resume, hold_stage_end, ds_finish
};
