/* drive.h - running deferred work (defer.h) from the hooks of the calls
 * that drive a multi handle; internal to the hooks. */
#ifndef SS_DRIVE_H
#define SS_DRIVE_H

#include <stdbool.h>
#include <curl/curl.h>

#include "handle.h"
#include "real.h"

/* Run m's deferred work that is due now (outside every callback): refused
 * transfers are retried and, with resume, paced ones unpaused (that calls
 * the program's callbacks: only from curl_multi_perform). True when a
 * retry added a handle back, so that the caller lets libcurl start it
 * before it reports a count of running transfers. */
bool drive_deferred(const struct ss_real *r, CURLM *m, bool resume);

#endif
