/* llm_judge.c - judging a request (see llm_judge.h). */
#include "llm_judge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learned.h"
#include "pure/assemble.h"
#include "pure/body.h"
#include "pure/buf.h"
#include "pure/headers.h"
#include "pure/replay.h"

/* The two ways, as llm_judge.h describes them. */
static const struct llm_way streaming = {
  .refuses = REFUSES_STREAM, .turn = LLM_DESTREAM, .list = "models",
  .going = "streaming", .sent = "streaming",
  .refusal = "a refusal to stream", .refused = "the server refused to stream",
  .retried = "without stream",
  .retrying = ": the server refused to stream it, retrying without stream",
  .learned = ": the server refused to stream it before (learned)",
  .unconfigured = "is not configured to de-stream"
};
static const struct llm_way not_streaming = {
  .refuses = REFUSES_NONSTREAM, .turn = LLM_STREAM, .list = "stream_only",
  .going = "not streaming", .sent = "without stream",
  .refusal = "a refusal of requests that do not stream",
  .refused = "the server only streams", .retried = "with stream",
  .retrying = ": the server only streams it, retrying with stream",
  .learned = ": the server only streamed it before (learned)",
  .unconfigured = "is not configured to stream"
};

/* The model a request is for: the Azure deployment, else the body's. */
static bool request_model(const struct endpoint *ep, const struct body_info *bi,
                          char *model, size_t cap)
{
  size_t n;
  if(ep->azure && ep->deployment[0]) {
    snprintf(model, cap, "%s", ep->deployment);
    return true;
  }
  if(bi->model.type != JSON_STRING)
    return false;
  /* without escapes the bytes are the name (the body is valid JSON: no
   * control byte, valid UTF-8) */
  n = bi->model.len - 2;
  if(n < cap && !memchr(bi->model.ptr + 1, '\\', n)) {
    memcpy(model, bi->model.ptr + 1, n);
    model[n] = '\0';
    return true;
  }
  return json_string_decode(bi->model, model, cap, &n);
}

/* Can this build turn answers of the endpoint the other way round? */
static bool convertible(enum ep_kind kind, bool streams)
{
  return streams ? replay_encoder_for(kind) != NULL
                 : assembler_for(kind) != NULL;
}

/* Is this an LLM request we could de-stream or stream? If not, r->why
 * says why; else r's body, way, stream members and model are set. */
static bool eligible(const struct ss_config *c, const struct llm_facts *f,
                     struct llm_request *r)
{
  struct body_info bi;
  const char *why = NULL;
  if(!f->method || strcmp(f->method, "POST"))
    why = "not a POST";
  else if(!f->content_decoding)
    why = "the program turned content decoding off";
  else if((why = f->read_body(f->arg, c->max_answer, &r->body, &r->body_len)))
    ;
  else if(!body_inspect(r->body, r->body_len, &bi))
    why = "the body is not a JSON object";
  else if(!convertible(r->ep.kind, bi.stream_true))
    why = bi.stream_true ? "this build cannot replay that endpoint"
                         : "this build cannot join that endpoint's streams";
  else if(!request_model(&r->ep, &bi, r->model, sizeof(r->model)))
    why = "no model in the request";
  r->why = why;
  if(!why) {
    r->way = bi.stream_true ? &streaming : &not_streaming;
    r->include_usage = bi.include_usage;
    r->has_stream_options = bi.has_stream_options;
  }
  return !why;
}

/* Turn it up front (r->why says why), watch it (auto mode) or nothing. */
static enum llm_decision decide(const struct ss_config *c,
                                const struct llm_facts *f,
                                struct llm_request *r, time_t now)
{
  const struct llm_way *d = r->way;
  if(f->retry && f->retry_after == d->refuses) {
    r->why = d->retrying;
    return d->turn;
  }
  r->matched = globs_match(d == &streaming ? &c->models : &c->stream_only,
                           r->model);
  if(r->matched) {
    snprintf(r->rule, sizeof(r->rule), " matches %s", r->matched);
    r->why = r->rule;
    return d->turn;
  }
  if(c->mode != SS_MODE_AUTO) {
    r->pass = LLM_PASS_UNCONFIGURED;
    r->why = d->unconfigured;
    return LLM_PASS;
  }
  /* the credential is digested only when the cache knows the model */
  if(learned_known(c, r->ep.host, r->model, now)) {
    f->fingerprint(f->arg, r->fp);
    if(learned_lookup(c, r->ep.host, r->model, r->fp, d->refuses, now)) {
      r->why = d->learned;
      return d->turn;
    }
  }
  return LLM_WATCH;
}

void llm_judge(const struct ss_config *c, const struct llm_facts *f,
               struct llm_request *r, time_t now)
{
  r->decision = LLM_PASS;  /* all a transfer that is no LLM request costs */
  r->pass = LLM_PASS_OFF;
  if(c->mode == SS_MODE_OFF ||
     (c->mode == SS_MODE_FORCE && !c->models.n && !c->stream_only.n &&
      !f->retry))
    return;
  r->pass = LLM_PASS_NOT_LLM;
  if(!f->url)
    return;
  endpoint_classify(f->url, &r->ep);
  if(r->ep.kind == EP_NONE)
    return;
  /* an LLM endpoint: the rest of r from zero (field by field: r is large) */
  r->pass = LLM_PASS_INELIGIBLE;
  r->body = NULL;
  r->body_len = 0;
  r->way = NULL;
  r->include_usage = r->has_stream_options = false;
  r->matched = r->why = NULL;
  r->model[0] = r->rule[0] = '\0';
  r->fp[0] = '\0';
  if(!eligible(c, f, r))
    return;
  r->decision = decide(c, f, r, now);
}

bool llm_credential_header(const char *line, size_t n)
{
  return header_is(line, n, "Authorization") || header_is(line, n, "api-key") ||
         header_is(line, n, "x-api-key");
}

char *llm_body_sent(const struct llm_request *r, size_t *len)
{
  static const char *const names[] = {"stream", "stream_options"};
  if(r->decision == LLM_DESTREAM) {
    char *nb = malloc(r->body_len ? r->body_len : 1);
    if(nb)
      *len = body_remove_members(r->body, r->body_len, names, 2, nb);
    return nb;
  }
  if(r->decision != LLM_STREAM)
    return NULL;
  struct body_edit edits[] = {
    BODY_SET("stream", "true"),
    BODY_SET("stream_options", "{\"include_usage\":true}"),
  };
  bool usage = (r->ep.kind == EP_CHAT || r->ep.kind == EP_COMPLETIONS) &&
               !r->has_stream_options;
  struct buf nb;
  buf_init(&nb);
  if(!body_edit_members(r->body, r->body_len, edits, usage ? 2 : 1, &nb)) {
    buf_free(&nb);
    return NULL;
  }
  *len = nb.len;
  return nb.ptr ? nb.ptr : malloc(1);  /* malloc'd, as buf's bytes are */
}
