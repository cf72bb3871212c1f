/* optval.h - a curl_easy_setopt argument, read by the option's type class
 * as libcurl's Curl_vsetopt reads it. The exported hook reads it itself
 * (exports.c), so that the rest of the shim takes a plain value. */
#ifndef SS_OPTVAL_H
#define SS_OPTVAL_H

#include <stdarg.h>
#include <curl/curl.h>

union ss_optval {
  long l;
  void *p;
  void (*f)(void);
  curl_off_t o;
  struct curl_blob *b;
};

static inline union ss_optval ss_optval_read(CURLoption opt, va_list ap)
{
  union ss_optval v;
  if(opt < CURLOPTTYPE_OBJECTPOINT)
    v.l = va_arg(ap, long);
  else if(opt < CURLOPTTYPE_FUNCTIONPOINT)
    v.p = va_arg(ap, void *);
  else if(opt < CURLOPTTYPE_OFF_T)
    v.f = va_arg(ap, void (*)(void));
  else if(opt < CURLOPTTYPE_BLOB)
    v.o = va_arg(ap, curl_off_t);
  else
    v.b = va_arg(ap, struct curl_blob *);
  return v;
}

/* Call curl_easy_setopt (fn) with v as the type its class says. */
static inline CURLcode ss_optval_pass(CURLcode (*fn)(CURL *, CURLoption, ...),
                                      CURL *easy, CURLoption opt,
                                      union ss_optval v)
{
  if(opt < CURLOPTTYPE_OBJECTPOINT)
    return fn(easy, opt, v.l);
  if(opt < CURLOPTTYPE_FUNCTIONPOINT)
    return fn(easy, opt, v.p);
  if(opt < CURLOPTTYPE_OFF_T)
    return fn(easy, opt, v.f);
  if(opt < CURLOPTTYPE_BLOB)
    return fn(easy, opt, v.o);
  return fn(easy, opt, v.b);
}

#endif
