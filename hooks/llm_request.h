/* llm_request.h - the LLM stages' view of a transfer's current attempt:
 * its request judged once (llm_judge.h, which says what each decision
 * means), with the reason logged. */
#ifndef SS_LLM_REQUEST_H
#define SS_LLM_REQUEST_H

#include "../shim/stage.h"
#include "llm_judge.h"

/* The analysis of x's current attempt. The first call of an attempt
 * does the work (it may read the upload ahead) and logs; later calls for
 * the same attempt, from the next stage's start, return the same result.
 * Cheap for a transfer that is no LLM request (the mode, then the URL).
 * Kept with the attempt (xfer_meta_set): valid until it is over. */
const struct llm_request *llm_request(struct ss_xfer *x);

/* Send the body llm_body_sent gives for r's decision (LLM_DESTREAM or
 * LLM_STREAM) and ask for the answer decoded, with no low-speed limit,
 * watched; false if anything failed. *nlen gets the body's length. */
bool llm_rewrite(struct ss_xfer *x, const struct llm_request *r,
                 size_t *nlen);

/* The fingerprint of the credential x's request carries, into fp
 * (LEARNED_FP_LEN + 1 bytes): what learned refusals are keyed by. */
void llm_fingerprint(struct ss_xfer *x, char *fp);

/* The core's retry that sends a request of this way the other way. */
enum ss_retry llm_retry(const struct llm_way *way);

#endif
