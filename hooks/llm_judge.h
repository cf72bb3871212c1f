/* llm_judge.h - what a request is to the LLM stages, and what to do with
 * it: de-stream it (destream.c), send it streaming for a program that
 * does not stream (stream_only.c), send it as written and watch for a
 * refusal (fallback.c, auto mode), or leave it alone. No libcurl: the
 * library judges its transfers with it (llm_request.c) and `streamshim
 * explain` judges a request given on its command line with the same code.
 *
 * A POST to an endpoint this build can replay and join, with a JSON body
 * and a model (the Azure deployment wins over the body's model):
 * - asking for "stream": true, it is de-streamed when its model matches
 *   a `models` glob, when this is the retry of an attempt refused for
 *   streaming, or (auto mode) when that refusal was learned for its host,
 *   model and credential; else auto mode watches it;
 * - not asking for streaming (no "stream", or "stream": false), it is
 *   sent streaming when its model matches a `stream_only` glob, when this
 *   is the retry of an attempt refused for not streaming, or (auto mode)
 *   when that refusal was learned; else auto mode watches it. */
#ifndef SS_LLM_JUDGE_H
#define SS_LLM_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "learned_file.h"  /* LEARNED_FP_LEN */
#include "pure/config.h"
#include "pure/endpoint.h"
#include "pure/refusal.h"

enum llm_decision {
  LLM_PASS = 0,   /* not ours: everything passes through */
  LLM_DESTREAM,   /* send it without stream, replay the answer */
  LLM_STREAM,     /* send it streaming, join the answer */
  LLM_WATCH       /* send it as written, watch for a refusal */
};

/* Why a request passes through (LLM_PASS). */
enum llm_pass {
  LLM_PASS_OFF = 0,      /* mode off, or force with nothing configured */
  LLM_PASS_NOT_LLM,      /* no URL, or not an endpoint this build knows */
  LLM_PASS_INELIGIBLE,   /* an LLM endpoint, but not such a request (why) */
  LLM_PASS_UNCONFIGURED  /* force mode, and its model is not configured */
};

/* The way a request goes as the program wrote it, streaming or not: the
 * refusal it may meet, the turn that answers one, and the words the log
 * and the notes use for them. */
struct llm_way {
  enum refusal_dir refuses;  /* the refusal of this way (refusal.h) */
  enum llm_decision turn;    /* sending it the other way */
  const char *list;          /* the config list that turns it ("models") */
  const char *going;         /* how it goes as written (the log) */
  const char *sent;          /* and in the notes */
  const char *refusal;       /* what a refusal of it is */
  const char *refused;       /* who refused, and how */
  const char *retried;       /* how the retry goes */
  const char *retrying, *learned;  /* why it is turned (the log) */
  const char *unconfigured;  /* why it is not */
};

struct llm_request {
  enum llm_decision decision;
  enum llm_pass pass;              /* LLM_PASS: why */
  /* The rest is set from LLM_PASS_INELIGIBLE on. */
  struct endpoint ep;
  char model[256];                 /* the model or Azure deployment */
  char fp[LEARNED_FP_LEN + 1];     /* the credential's fingerprint, when
                                      the learned cache knew the model
                                      (else ""): llm_fingerprint */
  const char *body;                /* the body as the program wrote it */
  size_t body_len;
  const struct llm_way *way;       /* the body asks "stream": true, or
                                      not (NULL when ineligible) */
  bool include_usage;              /* stream_options.include_usage */
  bool has_stream_options;         /* the body has a stream_options */
  const char *matched;             /* the glob the model matched, or NULL */
  const char *why;                 /* LLM_DESTREAM, LLM_STREAM: why, for
                                      the log (" matches o3-mini*", ...);
                                      LLM_PASS_INELIGIBLE: what it lacks
                                      ("not a POST", ...) */
  char rule[300];                  /* room for why */
};

/* What the judge needs to know of a request: from the library's transfer
 * (llm_request.c) or from explain's command line. */
struct llm_facts {
  const char *url;           /* as libcurl takes it; NULL: none */
  const char *method;        /* "POST", ... */
  bool content_decoding;     /* the program lets libcurl decode answers */
  bool retry;                /* this attempt is the retry after a refusal
                                of direction retry_after */
  enum refusal_dir retry_after;
  /* The body as the program wrote it, read only when the request could
   * be ours (the library reads the upload ahead): NULL with *body set,
   * or a static reason why it cannot be had. */
  const char *(*read_body)(void *arg, size_t max, const char **body,
                           size_t *len);
  /* The credential's fingerprint into fp (LEARNED_FP_LEN + 1 bytes):
   * learned_fingerprint of the lines llm_credential_header picks. Asked
   * only for an eligible request whose host and model the learned cache
   * knows (learned_known): a SHA-256 costs more than the rest of the
   * judgment. */
  void (*fingerprint)(void *arg, char *fp);
  void *arg;                 /* for both */
};

/* Judge a request as the library does (r may be uninitialised; only the
 * fields the decision needs are written: see struct llm_request). now:
 * for the learned refusals. Cheap for a request that is no LLM request
 * (the mode, then the URL). */
void llm_judge(const struct ss_config *c, const struct llm_facts *f,
               struct llm_request *r, time_t now);

/* Is this header line one of those that authenticate LLM APIs
 * (Authorization, api-key, x-api-key)? Their lines, appended in order
 * into one string, are the credential learned_fingerprint digests. */
bool llm_credential_header(const char *line, size_t n);

/* The body that goes out for LLM_DESTREAM (without stream and
 * stream_options) or LLM_STREAM (stream true, and stream_options with
 * include_usage for chat and legacy completions when it has none):
 * malloc'd, *len bytes; NULL when memory runs out or for any other
 * decision. */
char *llm_body_sent(const struct llm_request *r, size_t *len);

#endif
