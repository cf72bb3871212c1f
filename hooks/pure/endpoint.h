/* endpoint.h - which LLM API a request URL addresses. Pure. */
#ifndef SS_ENDPOINT_H
#define SS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

enum ep_kind {
  EP_NONE = 0,      /* not an LLM endpoint we know */
  EP_CHAT,          /* .../chat/completions */
  EP_COMPLETIONS,   /* .../completions (legacy) */
  EP_RESPONSES,     /* .../responses */
  EP_MESSAGES       /* .../v1/messages (Anthropic) */
};

struct endpoint {
  enum ep_kind kind;
  bool azure;             /* /openai/deployments/{deployment}/... */
  char deployment[256];   /* percent-decoded; "" when none */
  char path[512];         /* the path without query, for logs ("" if long) */
  char host[256];         /* host[:port] in lowercase, no user info ("" if
                             none or long): learned refusals are per host */
};

/* Classify an http(s) URL as libcurl takes it (a missing scheme means
 * http). Unknown schemes and paths give EP_NONE. */
void endpoint_classify(const char *url, struct endpoint *ep);
/* A short name for logs. */
const char *endpoint_name(enum ep_kind k);

#endif
