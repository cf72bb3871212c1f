/* sse_to_json.h - the transform of the reverse direction (transform.h):
 * a Server-Sent Events answer in, the one JSON answer the API gives
 * without streaming out, joined by the endpoint's assembler
 * (pure/assemble.h). The events are read and joined as the bytes come
 * (scan); the input is complete at the stream's terminal event ([DONE],
 * message_stop, response.completed, an error event) or at the end of the
 * transfer, when the assembler decides whether what came is whole. The
 * output goes out in pieces of at most CURL_MAX_WRITE_SIZE bytes, as
 * libcurl would hand a body of that size, under a header block saying
 * application/json, its length, and the status an error event stands
 * for. */
#ifndef SS_SSE_TO_JSON_H
#define SS_SSE_TO_JSON_H

#include "pure/assemble.h"
#include "pure/buf.h"
#include "pure/sse_read.h"
#include "transform.h"

/* The transform's state for one transfer (the ctx of its functions). */
struct sse_to_json {
  const struct assembler *a;  /* the endpoint's */
  void *st;                   /* its state; NULL when out of memory */
  struct sse_reader reader;
  enum asm_result last;       /* the last event's verdict */
  const char *why;            /* why the stream is not one (TF_BAD) */
  size_t events;              /* events joined */
  struct buf out;             /* the answer */
  size_t out_off;             /* how much of it went out */
  int status;                 /* the status it stands for */
};

/* Start joining with assembler a; events larger than max_event bytes
 * make the stream pass through unchanged. */
void sse_to_json_init(struct sse_to_json *s, const struct assembler *a,
                      size_t max_event);
void sse_to_json_free(struct sse_to_json *s);

extern const struct ss_transform sse_to_json;

#endif
