/* transform.h - what a transform plugs into the hold mechanism (hold.h).
 *
 * A transform turns one whole input (the body of a held answer) into
 * another answer, produced a piece at a time: de-streaming turns a JSON
 * answer into Server-Sent Events (json_to_sse.h); the reverse direction
 * joins an event stream into one JSON answer (sse_to_json.h). The table is const and
 * shared; ctx is the transform's state for one transfer, owned by the
 * stage (the per-transfer settings, the scanner's state). The hold
 * mechanism calls scan on every body byte as it comes, open once the
 * input is complete, then next until it returns 0, then close. */
#ifndef SS_TRANSFORM_H
#define SS_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "pure/buf.h"

enum tf_scan {
  TF_MORE = 0,  /* the input goes on */
  TF_DONE = 1,  /* the input ends in this piece, at *at */
  TF_BAD = -1   /* this cannot be the transform's input: *why says why */
};

struct ss_transform {
  /* Is the input complete? The body bytes, fed in order as they come:
   * TF_MORE; TF_DONE with *at the offset in [p, p+n) just after the
   * input's end; TF_BAD with *why (a static string). */
  enum tf_scan (*scan)(void *ctx, const char *p, size_t n, size_t *at,
                       const char **why);
  /* The content type the input must have (matched on its start, case
   * aside), or NULL for any: a held answer of another type goes out
   * unchanged at its first body byte (a server that ignored the request's
   * "stream"). */
  const char *input_type;
  const char *other_type;   /* the log's words for another type */
  /* Does the end of the transfer complete the input (an event stream is
   * whole when its connection closes)? Else an input cut short there
   * goes out unchanged. */
  bool ends_with_transfer;
  /* The complete input [p, p+n) (it outlives the state): the output's
   * state, or NULL with *why (a static string; NULL for out of memory)
   * when the input cannot be transformed exactly. Logs what it does. */
  void *(*open)(void *ctx, const char *p, size_t n, const char **why);
  /* Append the next output piece to out (one write-callback call, e.g. an
   * event): 1; 0 when the output is complete; < 0 when memory ran out
   * (the same piece comes again from the next call). */
  int (*next)(void *state, struct buf *out);
  void (*close)(void *state);
  /* The final header block rewritten for the output, appended to out
   * (false when memory runs out); state is the opened output's (its
   * length, its status). */
  bool (*rewrite_headers)(void *state, const char *block, size_t n,
                          struct buf *out);
  /* The HTTP status the output stands for (an error the stream carried),
   * or NULL: the block's own. A program asking CURLOPT_FAILONERROR gets
   * a status of 400 or more as libcurl fails it (hold_fail). */
  int (*status)(void *state);
};

#endif
