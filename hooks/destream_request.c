/* destream_request.c - deciding whether to de-stream a transfer, and the
 * request rewrite (see destream.h). */
#include "destream_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learned.h"
#include "../shim/log.h"
#include "../shim/settings.h"
#include "pure/body.h"
#include "pure/endpoint.h"
#include "pure/headers.h"

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

/* Is this an LLM request we could de-stream? Logs why not. On success
 * fills the body, its description and the model. */
static bool eligible(struct ss_xfer *x, const struct ss_request *rq,
                     const struct endpoint *ep, const char **body,
                     size_t *len, struct body_info *bi, char *model,
                     size_t cap)
{
  const char *why = NULL;
  if(strcmp(rq->method, "POST"))
    why = "not a POST";
  else if(!replay_encoder_for(ep->kind))
    why = "this build cannot replay that endpoint";
  else if(!rq->content_decoding)
    why = "the program turned content decoding off";
  else if((why = xfer_request_body(x, ss_settings()->max_answer, body, len)))
    ;
  else if(!body_inspect(*body, *len, bi))
    why = "the body is not a JSON object";
  else if(!bi->stream_true)
    why = "the request does not ask for streaming";
  else if(!request_model(ep, bi, model, cap))
    why = "no model in the request";
  if(why)
    ss_info("pass-through: %s %s: %s", endpoint_name(ep->kind), ep->path, why);
  return !why;
}

/* Rewrite the request and ask for the answer; false if anything failed.
 * *nlen gets the new body's length. */
static bool rewrite(struct ss_xfer *x, const char *body, size_t len,
                    size_t *nlen)
{
  static const char *const names[] = {"stream", "stream_options"};
  char *nb = malloc(len ? len : 1);
  if(!nb)
    return false;
  *nlen = body_remove_members(body, len, names, 2, nb);
  return xfer_set_body(x, nb, *nlen) && xfer_decode_answer(x) && xfer_lift_low_speed(x) &&
         xfer_watch_response(x);
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

/* Why to de-stream this request up front (a static or fixed string), or
 * NULL: then *watch says whether to send it streaming and watch for a
 * refusal (auto mode). */
static const char *decide(const struct ss_request *rq,
                          const struct ss_config *c,
                          const struct endpoint *ep, const char *model,
                          const char *fp, bool *watch, char *buf, size_t cap)
{
  const char *rule = globs_match(&c->models, model);
  *watch = false;
  if(rq->retry == SS_RETRY_WITHOUT_STREAM)
    return ": the server refused to stream it, retrying without stream";
  if(rule) {
    snprintf(buf, cap, " matches %s", rule);
    return buf;
  }
  if(c->mode != SS_MODE_AUTO)
    return NULL;
  if(learned_lookup(c, ep->host, model, fp, time(NULL)))
    return ": the server refused to stream it before (learned)";
  *watch = true;
  return NULL;
}

/* Make d watch a streaming request for a refusal; false on failure. */
static bool watch(struct ss_xfer *x, struct destream *d,
                  const struct endpoint *ep, const char *model,
                  const char *fp)
{
  d->watch = true;
  snprintf(d->host, sizeof(d->host), "%s", ep->host);
  snprintf(d->model, sizeof(d->model), "%s", model);
  snprintf(d->fp, sizeof(d->fp), "%s", fp);
  /* an error answer's body must be seen: FAILONERROR is emulated */
  return xfer_fail_on_error(x, false) && xfer_watch_response(x);
}

void *destream_start(struct ss_xfer *x)
{
  const struct ss_config *c = ss_settings();
  struct endpoint ep;
  struct body_info bi;
  const char *body;
  size_t len;
  char model[256];
  char fp[LEARNED_FP_LEN + 1];
  size_t nlen = 0;
  bool watching;
  char rule[300];
  struct ss_request rq;
  if(c->mode == SS_MODE_OFF)
    return NULL;
  xfer_request(x, &rq);
  if(!rq.url || (c->mode == SS_MODE_FORCE && !c->models.n &&
                 rq.retry != SS_RETRY_WITHOUT_STREAM))
    return NULL;
  endpoint_classify(rq.url, &ep);
  if(ep.kind == EP_NONE)
    return NULL;
  if(!eligible(x, &rq, &ep, &body, &len, &bi, model, sizeof(model)))
    return NULL;
  request_credential(&rq, fp);
  const char *why = decide(&rq, c, &ep, model, fp, &watching, rule,
                           sizeof(rule));
  if(!why && !watching) {
    ss_info("pass-through: model %s is not configured to de-stream", model);
    return NULL;
  }
  struct destream *d = destream_new(c, bi.include_usage,
                                    replay_encoder_for(ep.kind));
  bool ok = d && (watching ? watch(x, d, &ep, model, fp)
                           : rewrite(x, body, len, &nlen));
  if(!ok) {
    ss_warn("pass-through: out of memory or libcurl refused an option");
    destream_free(d);
    return NULL;
  }
  if(watching)
    ss_info("streaming %s %s: model %s, watching for a refusal to stream",
            endpoint_name(ep.kind), ep.path, model);
  else
    ss_info("de-streaming %s %s: model %s%s; body %zu -> %zu bytes",
            endpoint_name(ep.kind), ep.path, model, why, len, nlen);
  return d;
}
