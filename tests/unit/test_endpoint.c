/* test_endpoint.c - unit tests for hooks/pure/endpoint.c: which LLM API a
 * request URL addresses, the Azure deployment and the logged path. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "endpoint.h"

/* Classify url and check kind, azure flag, deployment and path. */
static bool expect(const char *url, enum ep_kind kind, bool azure,
                   const char *deployment, const char *path)
{
  struct endpoint ep;
  memset(&ep, 0xA5, sizeof(ep));  /* classify must set every field */
  endpoint_classify(url, &ep);
  bool ok = ep.kind == kind && ep.azure == azure &&
            memchr(ep.deployment, '\0', sizeof(ep.deployment)) &&
            memchr(ep.path, '\0', sizeof(ep.path)) &&
            !strcmp(ep.deployment, deployment) && !strcmp(ep.path, path);
  if(!ok)
    printf("#   %s\n#     got kind=%d azure=%d dep=[%.40s] path=[%.60s]\n"
           "#     want kind=%d azure=%d dep=[%s] path=[%s]\n",
           url ? url : "(null)", (int)ep.kind, (int)ep.azure,
           ep.deployment, ep.path, (int)kind, (int)azure, deployment, path);
  return ok;
}

TEST(names)
{
  CHECK_STR(endpoint_name(EP_NONE), "none");
  CHECK_STR(endpoint_name(EP_CHAT), "chat completions");
  CHECK_STR(endpoint_name(EP_COMPLETIONS), "completions");
  CHECK_STR(endpoint_name(EP_RESPONSES), "responses");
  CHECK_STR(endpoint_name(EP_MESSAGES), "messages");
}

TEST(openai_chat)
{
  const char *p = "/v1/chat/completions";
  CHECK(expect("https://api.openai.com/v1/chat/completions", EP_CHAT, false,
               "", p));
  CHECK(expect("http://127.0.0.1:8080/v1/chat/completions", EP_CHAT, false,
               "", p));
  CHECK(expect("https://api.openai.com/v1/chat/completions?x=1&y=/v1/z",
               EP_CHAT, false, "", p));
  CHECK(expect("https://api.openai.com/v1/chat/completions#frag", EP_CHAT,
               false, "", p));
  CHECK(expect("https://api.openai.com/v1/chat/completions?a=b#c/d", EP_CHAT,
               false, "", p));
  CHECK(expect("https://api.openai.com/v1/chat/completions/", EP_CHAT, false,
               "", p));
  CHECK(expect("https://api.openai.com/v1/chat/completions///?q", EP_CHAT,
               false, "", p));
  /* Other prefixes (proxies, gateways) end the same way. */
  CHECK(expect("https://gw.example/api/openai/chat/completions", EP_CHAT,
               false, "", "/api/openai/chat/completions"));
  CHECK(expect("https://x/chat/completions", EP_CHAT, false, "",
               "/chat/completions"));
}

TEST(openai_other_kinds)
{
  CHECK(expect("https://api.openai.com/v1/completions", EP_COMPLETIONS,
               false, "", "/v1/completions"));
  CHECK(expect("https://api.openai.com/v1/completions?x", EP_COMPLETIONS,
               false, "", "/v1/completions"));
  CHECK(expect("https://api.openai.com/v1/responses", EP_RESPONSES, false,
               "", "/v1/responses"));
  CHECK(expect("https://api.openai.com/v1/responses/", EP_RESPONSES, false,
               "", "/v1/responses"));
  CHECK(expect("https://api.anthropic.com/v1/messages", EP_MESSAGES, false,
               "", "/v1/messages"));
  CHECK(expect("https://api.anthropic.com/v1/messages?beta=true", EP_MESSAGES,
               false, "", "/v1/messages"));
}

TEST(non_llm_paths)
{
  CHECK(expect("https://api.openai.com/v1/models", EP_NONE, false, "",
               "/v1/models"));
  CHECK(expect("https://api.openai.com/v1/embeddings", EP_NONE, false, "",
               "/v1/embeddings"));
  CHECK(expect("https://api.openai.com/v1/chat/completions/abc", EP_NONE,
               false, "", "/v1/chat/completions/abc"));
  CHECK(expect("https://api.openai.com/v1/responses/resp_1/input_items",
               EP_NONE, false, "", "/v1/responses/resp_1/input_items"));
  CHECK(expect("https://api.anthropic.com/v1/messages/count_tokens", EP_NONE,
               false, "", "/v1/messages/count_tokens"));
  CHECK(expect("https://api.anthropic.com/messages", EP_NONE, false, "",
               "/messages"));
  CHECK(expect("https://x/v1/chatcompletions", EP_NONE, false, "",
               "/v1/chatcompletions"));
  CHECK(expect("https://x/v1/xcompletions", EP_NONE, false, "",
               "/v1/xcompletions"));
  CHECK(expect("https://x/V1/CHAT/COMPLETIONS", EP_NONE, false, "",
               "/V1/CHAT/COMPLETIONS"));
  CHECK(expect("https://x/", EP_NONE, false, "", "/"));
  CHECK(expect("https://x//", EP_NONE, false, "", "/"));
  CHECK(expect("https://x", EP_NONE, false, "", ""));
  /* The endpoint in the query or the fragment does not count. */
  CHECK(expect("https://x/?u=/v1/chat/completions", EP_NONE, false, "",
               "/"));
  CHECK(expect("https://x?u=/v1/chat/completions", EP_NONE, false, "", ""));
  CHECK(expect("https://x#/v1/chat/completions", EP_NONE, false, "", ""));
  CHECK(expect("https://x/health#/v1/messages", EP_NONE, false, "",
               "/health"));
}

TEST(azure_deployments)
{
  CHECK(expect("https://r.openai.azure.com/openai/deployments/gpt4o/chat/"
               "completions?api-version=2024-10-21",
               EP_CHAT, true, "gpt4o",
               "/openai/deployments/gpt4o/chat/completions"));
  CHECK(expect("https://r.openai.azure.com/openai/deployments/my%20dep%2Fx/"
               "chat/completions?api-version=2024-10-21",
               EP_CHAT, true, "my dep/x",
               "/openai/deployments/my%20dep%2Fx/chat/completions"));
  CHECK(expect("https://r/openai/deployments/%41%62%7e/completions",
               EP_COMPLETIONS, true, "Ab~",
               "/openai/deployments/%41%62%7e/completions"));
  /* Bad or short escapes stay literal. */
  CHECK(expect("https://r/openai/deployments/a%zz%4/chat/completions",
               EP_CHAT, true, "a%zz%4",
               "/openai/deployments/a%zz%4/chat/completions"));
  CHECK(expect("https://r/openai/deployments/a%/chat/completions", EP_CHAT,
               true, "a%", "/openai/deployments/a%/chat/completions"));
  /* %00 is rejected: the deployment is empty. */
  CHECK(expect("https://r/openai/deployments/a%00b/chat/completions",
               EP_CHAT, true, "",
               "/openai/deployments/a%00b/chat/completions"));
  /* Azure responses API, with and without a deployment. */
  CHECK(expect("https://r/openai/deployments/d1/responses?api-version=x",
               EP_RESPONSES, true, "d1", "/openai/deployments/d1/responses"));
  CHECK(expect("https://r.openai.azure.com/openai/responses?api-version="
               "2025-04-01-preview",
               EP_RESPONSES, false, "", "/openai/responses"));
  /* Azure v1 API: no deployment in the path. */
  CHECK(expect("https://r.openai.azure.com/openai/v1/chat/completions?"
               "api-version=preview",
               EP_CHAT, false, "", "/openai/v1/chat/completions"));
  CHECK(expect("https://r.openai.azure.com/openai/v1/responses", EP_RESPONSES,
               false, "", "/openai/v1/responses"));
  /* An empty deployment segment is no deployment. */
  CHECK(expect("https://r/openai/deployments//chat/completions", EP_CHAT,
               false, "", "/openai/deployments//chat/completions"));
  /* Not an LLM endpoint: no deployment is reported either. */
  CHECK(expect("https://r/openai/deployments/d1/embeddings", EP_NONE, false,
               "", "/openai/deployments/d1/embeddings"));
  /* Behind a gateway prefix. */
  CHECK(expect("https://gw/azure/openai/deployments/d2/chat/completions",
               EP_CHAT, true, "d2",
               "/azure/openai/deployments/d2/chat/completions"));
}

TEST(azure_long_deployment)
{
  char url[1400], path[1200], dep[600];
  /* 255 characters fit the 256-byte buffer. */
  memset(dep, 'd', 255);
  dep[255] = '\0';
  snprintf(path, sizeof(path), "/openai/deployments/%s/chat/completions",
           dep);
  snprintf(url, sizeof(url), "https://r%s?api-version=1", path);
  CHECK(expect(url, EP_CHAT, true, dep, path));
  /* 256 do not: the deployment is empty (never truncated). */
  memset(dep, 'd', 256);
  dep[256] = '\0';
  snprintf(path, sizeof(path), "/openai/deployments/%s/chat/completions",
           dep);
  snprintf(url, sizeof(url), "https://r%s", path);
  CHECK(expect(url, EP_CHAT, true, "", path));
  /* The length counts decoded bytes: 255 "%41" escapes fit. */
  char enc[800], want[300];
  for(int i = 0; i < 255; i++)
    memcpy(enc + 3 * i, "%41", 3);
  enc[765] = '\0';
  memset(want, 'A', 255);
  want[255] = '\0';
  snprintf(url, sizeof(url), "https://r/openai/deployments/%s/responses",
           enc);
  CHECK(expect(url, EP_RESPONSES, true, want, ""));  /* path > 511 */
  /* 500 characters. */
  memset(dep, 'e', 500);
  dep[500] = '\0';
  snprintf(url, sizeof(url), "https://r/openai/deployments/%s/chat/"
           "completions", dep);
  CHECK(expect(url, EP_CHAT, true, "", ""));
}

TEST(path_field)
{
  char url[1400], path[1200];
  /* 511 bytes of path fit, 512 do not (the path is then ""). */
  memset(path, 'p', sizeof(path));
  path[0] = '/';
  memcpy(path + 511 - 17, "/chat/completions", 17);
  path[511] = '\0';
  snprintf(url, sizeof(url), "https://h%s?q=1", path);
  CHECK(expect(url, EP_CHAT, false, "", path));
  memset(path, 'p', sizeof(path));
  path[0] = '/';
  memcpy(path + 512 - 17, "/chat/completions", 17);
  path[512] = '\0';
  snprintf(url, sizeof(url), "https://h%s", path);
  CHECK(expect(url, EP_CHAT, false, "", ""));
  /* A long non-LLM path too. */
  memset(path, 'q', 900);
  path[0] = '/';
  path[900] = '\0';
  snprintf(url, sizeof(url), "http://h%s", path);
  CHECK(expect(url, EP_NONE, false, "", ""));
  /* Trailing slashes do not count against the length. */
  memset(path, 'p', sizeof(path));
  path[0] = '/';
  memcpy(path + 511 - 17, "/chat/completions", 17);
  path[511] = '\0';
  snprintf(url, sizeof(url), "https://h%s////", path);
  CHECK(expect(url, EP_CHAT, false, "", path));
  /* The path is logged raw: no decoding, no normalisation. */
  CHECK(expect("https://h/a%2Fb/./v1/../v1/chat/completions", EP_CHAT, false,
               "", "/a%2Fb/./v1/../v1/chat/completions"));
}

TEST(schemes_and_authority)
{
  const char *p = "/v1/chat/completions";
  CHECK(expect("HTTPS://api.openai.com/v1/chat/completions", EP_CHAT, false,
               "", p));
  CHECK(expect("HtTp://api.openai.com/v1/chat/completions", EP_CHAT, false,
               "", p));
  CHECK(expect("ftp://api.openai.com/v1/chat/completions", EP_NONE, false,
               "", ""));
  CHECK(expect("file:///v1/chat/completions", EP_NONE, false, "", ""));
  CHECK(expect("httpx://h/v1/chat/completions", EP_NONE, false, "", ""));
  CHECK(expect("ws://h/v1/chat/completions", EP_NONE, false, "", ""));
  CHECK(expect("https://user:pw@h:8443/v1/chat/completions", EP_CHAT, false,
               "", p));
  CHECK(expect("https://user@[::1]:8443/v1/messages", EP_MESSAGES, false, "",
               "/v1/messages"));
  CHECK(expect("http://h:80/openai/deployments/x/responses", EP_RESPONSES,
               true, "x", "/openai/deployments/x/responses"));
  /* No scheme: libcurl assumes http. */
  CHECK(expect("api.openai.com/v1/chat/completions", EP_CHAT, false, "", p));
  CHECK(expect("localhost:8080/v1/chat/completions?x=1", EP_CHAT, false, "",
               p));
  CHECK(expect("user:pw@host:1/v1/responses", EP_RESPONSES, false, "",
               "/v1/responses"));
  CHECK(expect("host", EP_NONE, false, "", ""));
  /* A "://" in the query or path of an http URL is not a scheme. */
  CHECK(expect("https://h/v1/chat/completions?next=ftp://x", EP_CHAT, false,
               "", p));
}

/* Regression: with no scheme, url_path() once took the first "://"
 * anywhere in the URL, even in the query, as the end of a scheme and gave
 * EP_NONE; libcurl (7.88, CURLU_GUESS_SCHEME) takes these URLs as http. */
TEST(no_scheme_with_scheme_like_query)
{
  CHECK(expect("api.example.com/v1/chat/completions?next=http://x", EP_CHAT,
               false, "", "/v1/chat/completions"));
  CHECK(expect("h/v1/messages#see=https://docs", EP_MESSAGES, false, "",
               "/v1/messages"));
}

TEST(empty_and_null)
{
  CHECK(expect("", EP_NONE, false, "", ""));
  CHECK(expect(NULL, EP_NONE, false, "", ""));
  CHECK(expect("?", EP_NONE, false, "", ""));
  CHECK(expect("#", EP_NONE, false, "", ""));
  CHECK(expect("://", EP_NONE, false, "", ""));
  CHECK(expect("http://", EP_NONE, false, "", ""));
  CHECK(expect("/", EP_NONE, false, "", "/"));
  /* A bare path (no host) as libcurl would never see it, still no crash. */
  CHECK(expect("/v1/responses", EP_RESPONSES, false, "", "/v1/responses"));
}

/* The host learned refusals are keyed by: lowercase, port kept, user
 * info dropped; "" when it does not fit. */
static bool host_is(const char *url, const char *host)
{
  struct endpoint ep;
  memset(&ep, 0xA5, sizeof(ep));
  endpoint_classify(url, &ep);
  bool ok = memchr(ep.host, '\0', sizeof(ep.host)) && !strcmp(ep.host, host);
  if(!ok)
    printf("#   %s: host [%.60s], want [%s]\n", url, ep.host, host);
  return ok;
}

TEST(host_field)
{
  char longurl[600];
  CHECK(host_is("https://API.OpenAI.com/v1/chat/completions", "api.openai.com"));
  CHECK(host_is("http://127.0.0.1:8080/v1/responses", "127.0.0.1:8080"));
  CHECK(host_is("https://user:pw@Res.openai.azure.com/openai/responses",
                "res.openai.azure.com"));
  CHECK(host_is("api.anthropic.com/v1/messages", "api.anthropic.com"));
  CHECK(host_is("http://[::1]:9/v1/messages?x=1", "[::1]:9"));
  CHECK(host_is("https://h.example?q=/v1/chat/completions", "h.example"));
  memcpy(longurl, "https://", 8);
  memset(longurl + 8, 'a', 300);
  memcpy(longurl + 308, "/v1/chat/completions", 21);
  CHECK(host_is(longurl, ""));
}

int main(void)
{
  RUN(names);
  RUN(openai_chat);
  RUN(openai_other_kinds);
  RUN(non_llm_paths);
  RUN(azure_deployments);
  RUN(azure_long_deployment);
  RUN(path_field);
  RUN(schemes_and_authority);
  RUN(no_scheme_with_scheme_like_query);
  RUN(empty_and_null);
  RUN(host_field);
  return check_done();
}
