/* llm_request.c - judging a transfer's request once per attempt (see
 * llm_request.h). */
#include "llm_request.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learned.h"
#include "../shim/log.h"
#include "../shim/settings.h"
#include "pure/buf.h"

enum ss_retry llm_retry(const struct llm_way *way)
{
  return way->refuses == REFUSES_STREAM ? SS_RETRY_WITHOUT_STREAM
                                        : SS_RETRY_WITH_STREAM;
}

bool llm_rewrite(struct ss_xfer *x, const struct llm_request *r,
                 size_t *nlen)
{
  char *nb = llm_body_sent(r, nlen);
  /* xfer_set_body takes the bytes */
  return nb && xfer_set_body(x, nb, *nlen) && xfer_decode_answer(x) &&
         xfer_lift_low_speed(x) && xfer_watch_response(x);
}

/* llm_facts' read_body: the upload, read ahead if need be. */
static const char *read_body(void *arg, size_t max, const char **body,
                             size_t *len)
{
  return xfer_request_body(arg, max, body, len);
}

/* Of the credential headers the request carries, as one string. */
void llm_fingerprint(struct ss_xfer *x, char *fp)
{
  struct ss_request rq;
  struct buf cred;
  xfer_request(x, &rq);
  buf_init(&cred);
  for(const struct curl_slist *l = rq.headers; l; l = l->next)
    if(l->data && llm_credential_header(l->data, strlen(l->data)))
      buf_puts(&cred, l->data);
  learned_fingerprint(cred.oom ? NULL : cred.ptr, cred.oom ? 0 : cred.len, fp);
  buf_free(&cred);
}

/* llm_facts' fingerprint. */
static void request_credential(void *arg, char *fp)
{
  llm_fingerprint(arg, fp);
}

/* The work, for an attempt not analysed yet: judged, and a pass-through
 * of an LLM endpoint logged with its reason. */
static void analyse(struct ss_xfer *x, const struct ss_request *rq,
                    const struct ss_config *c, struct llm_request *r)
{
  struct llm_facts f = {
    .url = rq->url, .method = rq->method,
    .content_decoding = rq->content_decoding,
    .retry = rq->retry != SS_RETRY_NONE,
    .retry_after = rq->retry == SS_RETRY_WITH_STREAM ? REFUSES_NONSTREAM
                                                     : REFUSES_STREAM,
    .read_body = read_body, .fingerprint = request_credential, .arg = x
  };
  llm_judge(c, &f, r, time(NULL));
  if(r->pass == LLM_PASS_INELIGIBLE && r->decision == LLM_PASS)
    ss_info("pass-through: %s %s: %s", endpoint_name(r->ep.kind), r->ep.path,
            r->why);
  else if(r->pass == LLM_PASS_UNCONFIGURED)
    ss_info("pass-through: model %s %s", r->model, r->why);
}

/* free, called: its address taken would be bound (a symbol lookup) in
 * every process the library is loaded into. */
static void free_request(void *p)
{
  free(p);
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
  return xfer_meta_set(x, LLM_META, r, free_request) ? r : &pass;
}
