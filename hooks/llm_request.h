/* llm_request.h - what a transfer's request is to the LLM stages, and
 * what to do with it: de-stream it now (destream.c), send it streaming
 * and watch for a refusal (fallback.c, auto mode), or leave it alone.
 *
 * A POST to an endpoint this build can replay, whose JSON body asks for
 * "stream": true, is de-streamed when its model (the Azure deployment
 * wins over the body's model) matches a configured glob, when this is
 * the retry of a refused attempt, or (auto mode) when the refusal was
 * learned for its host, model and credential; else auto mode watches it.
 * The decision is logged once per attempt with its reason. */
#ifndef SS_LLM_REQUEST_H
#define SS_LLM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "../shim/stage.h"
#include "learned_file.h"  /* LEARNED_FP_LEN */
#include "pure/endpoint.h"

enum llm_decision {
  LLM_PASS = 0,   /* not ours: everything passes through */
  LLM_DESTREAM,   /* send it without stream, replay the answer */
  LLM_WATCH       /* send it as written, watch for a refusal */
};

struct llm_request {
  enum llm_decision decision;
  /* The rest is set for LLM_DESTREAM and LLM_WATCH only. */
  struct endpoint ep;
  char model[256];                 /* the model or Azure deployment */
  char fp[LEARNED_FP_LEN + 1];     /* the credential's fingerprint */
  const char *body;                /* the body as the program wrote it */
  size_t body_len;
  bool include_usage;              /* stream_options.include_usage */
  const char *why;                 /* LLM_DESTREAM: why, for the log
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
