/* llm_request.h - what a transfer's request is to the LLM stages, and
 * what to do with it: de-stream it now (destream.c), stream it for a
 * program that does not (stream_only.c), send it as written and watch
 * for a refusal (fallback.c, auto mode), or leave it alone.
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
 *   when that refusal was learned; else auto mode watches it.
 * The decision is logged once per attempt with its reason. */
#ifndef SS_LLM_REQUEST_H
#define SS_LLM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "../shim/stage.h"
#include "learned_file.h"  /* LEARNED_FP_LEN */
#include "pure/refusal.h"
#include "pure/endpoint.h"

enum llm_decision {
  LLM_PASS = 0,   /* not ours: everything passes through */
  LLM_DESTREAM,   /* send it without stream, replay the answer */
  LLM_STREAM,     /* send it streaming, join the answer */
  LLM_WATCH       /* send it as written, watch for a refusal */
};

/* The way a request goes as the program wrote it, streaming or not: the
 * refusal it may meet, the retry and the turn that answer one, and the
 * words the log and the notes use for them. */
struct llm_way {
  enum refusal_dir refuses;  /* the refusal of this way (refusal.h) */
  enum ss_retry retry;       /* the retry after one */
  enum llm_decision turn;    /* sending it the other way */
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
  /* The rest is set for LLM_DESTREAM, LLM_STREAM and LLM_WATCH only. */
  struct endpoint ep;
  char model[256];                 /* the model or Azure deployment */
  char fp[LEARNED_FP_LEN + 1];     /* the credential's fingerprint */
  const char *body;                /* the body as the program wrote it */
  size_t body_len;
  const struct llm_way *way;       /* the body asks "stream": true, or
                                      not */
  bool include_usage;              /* stream_options.include_usage */
  bool has_stream_options;         /* the body has a stream_options */
  const char *why;                 /* LLM_DESTREAM, LLM_STREAM: why, for
                                      the log
                                      (" matches o3-mini*", ...) */
  char rule[300];                  /* room for why */
};

/* The analysis of x's current attempt. The first call of an attempt
 * does the work (it may read the upload ahead) and logs; later calls for
 * the same attempt, from the next stage's start, return the same result.
 * Cheap for a transfer that is no LLM request (the mode, then the URL).
 * Kept with the attempt (xfer_meta_set): valid until it is over. */
const struct llm_request *llm_request(struct ss_xfer *x);

#endif
