/* llm_request.c - judging a transfer's request once per attempt (see
 * llm_request.h). */
#include "llm_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learned.h"
#include "../shim/log.h"
#include "../shim/settings.h"
#include "pure/body.h"
#include "pure/headers.h"
#include "pure/assemble.h"
#include "pure/replay.h"

/* The model a request is for: the Azure deployment, else the body's. */
static bool request_model(const struct endpoint *ep, const struct body_info *bi,
                          char *model, size_t cap)
{
  size_t n;
  if(ep->azure && ep->deployment[0]) {
    snprintf(model, cap, "%s", ep->deployment);
    return true;
  }
  return bi->model.type == JSON_STRING &&
         json_string_decode(bi->model, model, cap, &n);
}

/* The two ways, as llm_request.h describes them. */
static const struct llm_way streaming = {
  .refuses = REFUSES_STREAM, .retry = SS_RETRY_WITHOUT_STREAM,
  .turn = LLM_DESTREAM, .going = "streaming", .sent = "streaming",
  .refusal = "a refusal to stream", .refused = "the server refused to stream",
  .retried = "without stream",
  .retrying = ": the server refused to stream it, retrying without stream",
  .learned = ": the server refused to stream it before (learned)",
  .unconfigured = "is not configured to de-stream"
};
static const struct llm_way not_streaming = {
  .refuses = REFUSES_NONSTREAM, .retry = SS_RETRY_WITH_STREAM,
  .turn = LLM_STREAM, .going = "not streaming", .sent = "without stream",
  .refusal = "a refusal of requests that do not stream",
  .refused = "the server only streams", .retried = "with stream",
  .retrying = ": the server only streams it, retrying with stream",
  .learned = ": the server only streamed it before (learned)",
  .unconfigured = "is not configured to stream"
};

/* Can this build turn answers of the endpoint the other way round? */
static bool convertible(enum ep_kind kind, bool streams)
{
  return streams ? replay_encoder_for(kind) != NULL
                 : assembler_for(kind) != NULL;
}

/* Is this an LLM request we could de-stream or stream? Logs why not. On
 * success fills r's body, stream members and model. */
static bool eligible(struct ss_xfer *x, const struct ss_request *rq,
                     const struct ss_config *c, struct llm_request *r)
{
  const struct endpoint *ep = &r->ep;
  struct body_info bi;
  const char *why = NULL;
  if(strcmp(rq->method, "POST"))
    why = "not a POST";
  else if(!rq->content_decoding)
    why = "the program turned content decoding off";
  else if((why = xfer_request_body(x, c->max_answer, &r->body,
                                   &r->body_len)))
    ;
  else if(!body_inspect(r->body, r->body_len, &bi))
    why = "the body is not a JSON object";
  else if(!convertible(ep->kind, bi.stream_true))
    why = bi.stream_true ? "this build cannot replay that endpoint"
                         : "this build cannot join that endpoint's streams";
  else if(!request_model(ep, &bi, r->model, sizeof(r->model)))
    why = "no model in the request";
  if(why)
    ss_info("pass-through: %s %s: %s", endpoint_name(ep->kind), ep->path, why);
  else {
    r->way = bi.stream_true ? &streaming : &not_streaming;
    r->include_usage = bi.include_usage;
    r->has_stream_options = bi.has_stream_options;
  }
  return !why;
}

/* The credential a request carries, as one string for its fingerprint:
 * the values of the headers that authenticate LLM APIs. */
static void request_credential(const struct ss_request *rq, char *fp)
{
  static const char *const names[] = {"Authorization", "api-key",
                                      "x-api-key"};
  struct buf cred;
  buf_init(&cred);
  for(const struct curl_slist *l = rq->headers; l; l = l->next)
    for(size_t i = 0; l->data && i < 3; i++)
      if(header_is(l->data, strlen(l->data), names[i]))
        buf_puts(&cred, l->data);
  learned_fingerprint(cred.oom ? NULL : cred.ptr, cred.oom ? 0 : cred.len, fp);
  buf_free(&cred);
}

/* Turn it up front (r->why says why), watch it (auto mode) or nothing. */
static enum llm_decision decide(const struct ss_request *rq,
                                const struct ss_config *c,
                                struct llm_request *r)
{
  const struct llm_way *d = r->way;
  const char *rule = globs_match(d == &streaming ? &c->models
                                                 : &c->stream_only,
                                 r->model);
  if(rq->retry == d->retry) {
    r->why = d->retrying;
    return d->turn;
  }
  if(rule) {
    snprintf(r->rule, sizeof(r->rule), " matches %s", rule);
    r->why = r->rule;
    return d->turn;
  }
  if(c->mode != SS_MODE_AUTO) {
    ss_info("pass-through: model %s %s", r->model, d->unconfigured);
    return LLM_PASS;
  }
  if(learned_lookup(c, r->ep.host, r->model, r->fp, d->refuses, time(NULL))) {
    r->why = d->learned;
    return d->turn;
  }
  return LLM_WATCH;
}

/* The work, for an attempt not analysed yet. */
static void analyse(struct ss_xfer *x, const struct ss_request *rq,
                    const struct ss_config *c, struct llm_request *r)
{
  r->decision = LLM_PASS;  /* all a transfer that is no LLM request costs */
  if(!rq->url || (c->mode == SS_MODE_FORCE && !c->models.n &&
                  !c->stream_only.n && rq->retry == SS_RETRY_NONE))
    return;
  endpoint_classify(rq->url, &r->ep);
  if(r->ep.kind == EP_NONE)
    return;
  /* an LLM endpoint: the rest of r from zero (field by field: r is large) */
  r->body = NULL;
  r->body_len = 0;
  r->way = NULL;
  r->include_usage = r->has_stream_options = false;
  r->why = NULL;
  r->model[0] = r->fp[0] = r->rule[0] = '\0';
  if(!eligible(x, rq, c, r))
    return;
  request_credential(rq, r->fp);
  r->decision = decide(rq, c, r);
}

static const struct llm_request pass;  /* LLM_PASS */

/* The attempt's analysis is kept with it (xfer_meta_set): the next
 * stage's start reads it. Nothing is allocated for a transfer that is no
 * LLM request. */
#define LLM_META "llm_request"

const struct llm_request *llm_request(struct ss_xfer *x)
{
  const struct ss_config *c = ss_settings();
  struct ss_request rq;
  if(c->mode == SS_MODE_OFF)
    return &pass;
  const struct llm_request *kept = xfer_meta_get(x, LLM_META);
  if(kept)
    return kept;
  struct llm_request tmp;
  xfer_request(x, &rq);
  /* Only POSTs are ever rewritten: another method is judged further only
   * for the log's "pass-through: ...: not a POST" line. */
  if(strcmp(rq.method, "POST") && !SS_LOG_ON(SS_LOG_INFO)) {
    xfer_meta_set(x, LLM_META, (void *)&pass, NULL);  /* the next stage too */
    return &pass;
  }
  analyse(x, &rq, c, &tmp);
  struct llm_request *r = tmp.decision == LLM_PASS ? NULL : malloc(sizeof(*r));
  if(!r) {
    xfer_meta_set(x, LLM_META, (void *)&pass, NULL);
    return &pass;
  }
  *r = tmp;
  if(tmp.why >= tmp.rule && tmp.why < tmp.rule + sizeof(tmp.rule))
    r->why = r->rule + (tmp.why - tmp.rule);  /* it pointed into tmp */
  return xfer_meta_set(x, LLM_META, r, free) ? r : &pass;
}
