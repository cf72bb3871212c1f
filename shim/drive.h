/* drive.h - running deferred work (defer.h) from the hooks of the calls
 * that drive a multi handle; internal to the hooks. */
#ifndef SS_DRIVE_H
#define SS_DRIVE_H

#include <stdbool.h>
#include <curl/curl.h>

#include "handle.h"
#include "real.h"

/* Run m's deferred work that is due now (outside every callback): paced
 * transfers are unpaused, refused ones retried. True when a retry added a
 * handle back, so that the caller lets libcurl start it before it reports
 * a count of running transfers. */
bool drive_deferred(const struct ss_real *r, CURLM *m);
/* Retry s's refused attempt now: take the handle out of m (which also
 * drops the attempt's DONE message), restart the transfer and add the
 * handle back. */
void drive_retry(const struct ss_real *r, CURLM *m, struct ss_handle *s);

#endif
