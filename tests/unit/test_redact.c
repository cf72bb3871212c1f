/* test_redact.c - unit tests for hooks/pure/redact.c: the name lists and
 * their edits, header lines and values, URLs, JSON and form bodies, the
 * body dispatch, and the property that a planted secret never survives
 * while everything that is not secret is kept byte for byte. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "json.h"
#include "redact.h"

static struct redact_rules R;  /* the built-in rules */

/* ---- calling the writers on C strings ----------------------------------- */

/* The output of the last writer as a C string, "(false)" when it failed
 * (then out must be as on entry: empty). */
static const char *result(bool ok, struct buf *b)
{
  static char s[8192];
  if(!ok) {
    snprintf(s, sizeof(s), "(false%s)", b->len ? ", out not empty" : "");
    return s;
  }
  snprintf(s, sizeof(s), "%.*s", (int)b->len, b->ptr ? b->ptr : "");
  return s;
}

static struct buf out;

static const char *line_r(const struct redact_rules *r, const char *in)
{
  buf_reset(&out);
  return result(redact_header_line(r, in, strlen(in), &out), &out);
}
static const char *line(const char *in) { return line_r(&R, in); }

static const char *hvalue_r(const struct redact_rules *r, const char *name,
                            const char *value)
{
  buf_reset(&out);
  return result(redact_header_value(r, name, strlen(name), value,
                                    strlen(value), &out), &out);
}
static const char *hvalue(const char *name, const char *value)
{
  return hvalue_r(&R, name, value);
}

static const char *url_r(const struct redact_rules *r, const char *in)
{
  buf_reset(&out);
  return result(redact_url(r, in, strlen(in), &out), &out);
}
static const char *url(const char *in) { return url_r(&R, in); }

static const char *json_r(const struct redact_rules *r, const char *in)
{
  buf_reset(&out);
  return result(redact_json(r, in, strlen(in), &out), &out);
}
static const char *json(const char *in) { return json_r(&R, in); }

static const char *form(const char *in)
{
  buf_reset(&out);
  return result(redact_form(&R, in, strlen(in), &out), &out);
}

static const char *body_r(const struct redact_rules *r, const char *type,
                          const char *in)
{
  buf_reset(&out);
  return result(redact_body(r, type, in, strlen(in), &out), &out);
}
static const char *body(const char *type, const char *in)
{
  return body_r(&R, type, in);
}

/* Is the output of the writers the input itself? */
#define SAME(fn, in) CHECK_STR(fn(in), in)

/* Do two buffers hold the same bytes? */
static bool same_buf(const struct buf *a, const struct buf *b)
{
  return a->len == b->len && (!a->len || !memcmp(a->ptr, b->ptr, a->len));
}

/* A list as "a|b|c" (static storage). */
static const char *list_str(const struct redact_rules *r, enum redact_list l)
{
  static char s[REDACT_NAMES_MAX * (REDACT_NAME_MAX + 1) + 1];
  size_t o = 0;
  s[0] = '\0';
  for(unsigned i = 0; i < r->lists[l].n; i++)
    o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%s", i ? "|" : "",
                          r->lists[l].v[i]);
  return s;
}

static bool edit(struct redact_rules *r, enum redact_list l, const char *spec)
{
  return redact_rules_edit(r, l, spec, strlen(spec));
}

/* ---- the lists ------------------------------------------------------------ */

TEST(default_lists)
{
  CHECK(!R.off);
  CHECK_STR(list_str(&R, REDACT_HEADERS),
            "Authorization|Proxy-Authorization|api-key|x-api-key|"
            "x-goog-api-key|Cookie|Set-Cookie");
  CHECK_STR(list_str(&R, REDACT_QUERY),
            "key|api_key|api-key|apikey|token|access_token|sig|signature|"
            "password|secret");
  CHECK_STR(list_str(&R, REDACT_FIELDS),
            "api_key|apiKey|password|secret|client_secret|refresh_token|"
            "access_token|id_token|token");
  CHECK(redact_rules_has(&R, REDACT_HEADERS, "authorization", 13));
  CHECK(redact_rules_has(&R, REDACT_HEADERS, "SET-COOKIE", 10));
  CHECK(redact_rules_has(&R, REDACT_FIELDS, "APIKEY", 6));
  CHECK(!redact_rules_has(&R, REDACT_FIELDS, "api", 3));
  CHECK(!redact_rules_has(&R, REDACT_FIELDS, "api_key2", 8));
  CHECK(!redact_rules_has(&R, REDACT_FIELDS, "", 0));
  CHECK(!redact_rules_has(&R, REDACT_LISTS, "token", 5));
  /* A NUL in a name never matches a shorter listed one. */
  CHECK(!redact_rules_has(&R, REDACT_FIELDS, "token\0x", 7));
}

TEST(edit_add_remove)
{
  struct redact_rules r;
  redact_rules_default(&r);
  CHECK(edit(&r, REDACT_HEADERS, "X-Secret, -Cookie , +x-trace-token,,"));
  CHECK_STR(list_str(&r, REDACT_HEADERS),
            "Authorization|Proxy-Authorization|api-key|x-api-key|"
            "x-goog-api-key|Set-Cookie|X-Secret|x-trace-token");
  /* Duplicates in any case are not added; blanks after the sign go. */
  CHECK(edit(&r, REDACT_HEADERS, "AUTHORIZATION, + x-secret,\t- set-cookie"));
  CHECK_STR(list_str(&r, REDACT_HEADERS),
            "Authorization|Proxy-Authorization|api-key|x-api-key|"
            "x-goog-api-key|X-Secret|x-trace-token");
  /* Removing an absent name is fine; items apply in order. */
  CHECK(edit(&r, REDACT_FIELDS, "-nothing, +pin, -pin, +otp"));
  CHECK(redact_rules_has(&r, REDACT_FIELDS, "otp", 3));
  CHECK(!redact_rules_has(&r, REDACT_FIELDS, "pin", 3));
  /* Inner blanks belong to the name; an empty spec changes nothing. */
  CHECK(edit(&r, REDACT_FIELDS, " my key "));
  CHECK(redact_rules_has(&r, REDACT_FIELDS, "my key", 6));
  CHECK(edit(&r, REDACT_FIELDS, ""));
  CHECK(edit(&r, REDACT_FIELDS, " , ,"));
  CHECK(redact_rules_edit(&r, REDACT_FIELDS, NULL, 0));
  CHECK(!redact_rules_edit(&r, REDACT_FIELDS, NULL, 3));
  /* Everything can go. */
  CHECK(edit(&r, REDACT_QUERY, "-key,-api_key,-api-key,-apikey,-token,"
                               "-access_token,-sig,-signature,-password,"
                               "-secret"));
  CHECK(r.lists[REDACT_QUERY].n == 0);
  CHECK_STR(url_r(&r, "https://h/?token=abc"), "https://h/?token=abc");
  CHECK(!redact_rules_edit(&r, REDACT_LISTS, "x", 1));
}

TEST(edit_malformed_keeps_removals_out)
{
  struct redact_rules r;
  char long_name[REDACT_NAME_MAX + 2];
  redact_rules_default(&r);
  /* A bad item: the additions apply, no removal does. */
  CHECK(!edit(&r, REDACT_HEADERS, "+good, -Authorization, +"));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "good", 4));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "Authorization", 13));
  CHECK(!edit(&r, REDACT_HEADERS, "-Cookie, -"));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "Cookie", 6));
  CHECK(!edit(&r, REDACT_HEADERS, "-Cookie, bad\x01name, ok2"));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "Cookie", 6));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "ok2", 3));
  CHECK(!redact_rules_has(&r, REDACT_HEADERS, "bad\x01name", 8));
  CHECK(!edit(&r, REDACT_HEADERS, "del\x7f"));
  CHECK(!redact_rules_edit(&r, REDACT_HEADERS, "-Cookie,a\0b", 11));
  CHECK(redact_rules_has(&r, REDACT_HEADERS, "Cookie", 6));
  /* 63 bytes fit, 64 do not. */
  memset(long_name, 'n', sizeof(long_name) - 1);
  long_name[REDACT_NAME_MAX] = '\0';
  CHECK(edit(&r, REDACT_FIELDS, long_name));
  CHECK(redact_rules_has(&r, REDACT_FIELDS, long_name, REDACT_NAME_MAX));
  long_name[REDACT_NAME_MAX] = 'n';
  long_name[REDACT_NAME_MAX + 1] = '\0';
  CHECK(!edit(&r, REDACT_FIELDS, long_name));
  CHECK(!redact_rules_has(&r, REDACT_FIELDS, long_name, REDACT_NAME_MAX + 1));
}

TEST(edit_full_list)
{
  struct redact_rules r;
  char name[16];
  redact_rules_default(&r);
  while(r.lists[REDACT_FIELDS].n < REDACT_NAMES_MAX) {
    snprintf(name, sizeof(name), "f%u", r.lists[REDACT_FIELDS].n);
    CHECK(edit(&r, REDACT_FIELDS, name));
  }
  /* Full: a new name does not fit, a present one is no change, and a
   * well-formed spec still removes. */
  CHECK(!edit(&r, REDACT_FIELDS, "one_more"));
  CHECK(!redact_rules_has(&r, REDACT_FIELDS, "one_more", 8));
  CHECK(edit(&r, REDACT_FIELDS, "TOKEN"));
  CHECK(!edit(&r, REDACT_FIELDS, "-f20, x1, x2"));
  CHECK(!redact_rules_has(&r, REDACT_FIELDS, "f20", 3));
  CHECK(redact_rules_has(&r, REDACT_FIELDS, "x1", 2));
  CHECK(!redact_rules_has(&r, REDACT_FIELDS, "x2", 2));
  CHECK(r.lists[REDACT_FIELDS].n == REDACT_NAMES_MAX);
  CHECK(redact_rules_has(&r, REDACT_FIELDS, "f63", 3));
}

/* ---- headers ---------------------------------------------------------------- */

TEST(header_listed_values)
{
  CHECK_STR(line("Authorization: Bearer "
                 "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG\r\n"),
            "Authorization: Bearer [redacted 51]\r\n");
  CHECK_STR(line("Authorization: Basic dXNlcjpwYXNzd29yZA==\r\n"),
            "Authorization: Basic [redacted 20]\r\n");
  CHECK_STR(line("Proxy-Authorization: Basic Zm9vOmJhcg==\n"),
            "Proxy-Authorization: Basic [redacted 12]\n");
  CHECK_STR(line("api-key: 0123456789abcdef\r\n"),
            "api-key: [redacted 16]\r\n");
  CHECK_STR(line("X-Api-Key: abc"), "X-Api-Key: [redacted 3]");
  CHECK_STR(line("x-goog-api-key: AIzaXYZ\r\n"),
            "x-goog-api-key: [redacted 7]\r\n");
  CHECK_STR(line("Cookie: a=b; session=xyz\r\n"),
            "Cookie: [redacted 16]\r\n");
  CHECK_STR(line("Set-Cookie: sid=1; Path=/; HttpOnly\r\n"),
            "Set-Cookie: [redacted 23]\r\n");
  /* HTTP/2 lowercase names, odd case, blanks before the colon, no blank
   * after it, blanks around the value kept. */
  CHECK_STR(line("authorization: bearer tok\r\n"),
            "authorization: bearer [redacted 3]\r\n");
  CHECK_STR(line("cOOkie :x=1\n"), "cOOkie :[redacted 3]\n");
  CHECK_STR(line("set-cookie:\t v=1 \t\r\n"),
            "set-cookie:\t [redacted 3] \t\r\n");
  /* A colon inside the value is data. */
  CHECK_STR(line("Cookie: a=b:c\r\n"), "Cookie: [redacted 5]\r\n");
}

TEST(header_authorization_edges)
{
  /* No value, blanks only: nothing to hide, kept. */
  SAME(line, "Authorization:\r\n");
  SAME(line, "Authorization:");
  SAME(line, "Authorization:   \r\n");
  SAME(line, "Cookie: \n");
  /* One word may be a bare token: redacted whole. */
  CHECK_STR(line("Authorization: abcdef\r\n"),
            "Authorization: [redacted 6]\r\n");
  CHECK_STR(line("Authorization: Bearer\r\n"),
            "Authorization: [redacted 6]\r\n");
  CHECK_STR(line("Authorization: Bearer   \r\n"),
            "Authorization: [redacted 6]   \r\n");
  /* The blanks after the scheme stay; the rest is one secret. */
  CHECK_STR(line("Authorization: Bearer   a b\r\n"),
            "Authorization: Bearer   [redacted 3]\r\n");
  CHECK_STR(line("Authorization: Digest username=\"u\", response=\"r\"\r\n"),
            "Authorization: Digest [redacted 26]\r\n");
  CHECK_STR(line("Authorization: AWS4-HMAC-SHA256 Credential=x, Signature=y"),
            "Authorization: AWS4-HMAC-SHA256 [redacted 25]");
  CHECK_STR(line("proxy-authorization: NEGOTIATE YII=\r\n"),
            "proxy-authorization: NEGOTIATE [redacted 4]\r\n");
  /* Another first word may be a token: no scheme is kept. */
  CHECK_STR(line("Authorization: sk-abc123 extra\r\n"),
            "Authorization: [redacted 15]\r\n");
  CHECK_STR(line("Authorization: Custom x\r\n"),
            "Authorization: [redacted 8]\r\n");
  CHECK_STR(line("Authorization: Bearerx y\r\n"),
            "Authorization: [redacted 9]\r\n");
  /* Only the two credential headers keep a scheme. */
  CHECK_STR(line("x-api-key: Bearer tok\r\n"), "x-api-key: [redacted 10]\r\n");
}

TEST(header_other_lines_exact)
{
  static const char *const same[] = {
    "HTTP/1.1 200 OK\r\n", "HTTP/2 200\r\n", "HTTP/1.1 301 Moved: here\r\n",
    "\r\n", "\n", "", "Content-Type: application/json\r\n",
    "content-length: 12\r\n", "X-Authorization: Bearer x\r\n",
    "Authorization-Hint: x\r\n", "Cookies: x\r\n", "no colon here\r\n",
    "  continued: line\r\n", "\tfolded\r\n", ": empty name\r\n",
    "Bad Name: v\r\n", "X: \xff\xfe\x01 bytes\r\n", "Host: example.com\r\n",
    "User-Agent: curl/8.5.0\r\n", "Accept: */*\r\n", "Location:\r\n",
    "Location: /just/a/path\r\n",
  };
  for(size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
    SAME(line, same[i]);
  /* NUL bytes are data: the line is n bytes, not a C string. */
  static const char nul[] = "X-A: a\0b\r\n";
  buf_reset(&out);
  CHECK(redact_header_line(&R, nul, sizeof(nul) - 1, &out));
  CHECK_MEM(out.ptr, out.len, nul, sizeof(nul) - 1);
  static const char nul2[] = "Cookie: a\0b\r\n";
  buf_reset(&out);
  CHECK(redact_header_line(&R, nul2, sizeof(nul2) - 1, &out));
  CHECK_STR(result(true, &out), "Cookie: [redacted 3]\r\n");
}

TEST(header_repeated_lines)
{
  /* A block handled line by line: every Cookie line, each alone. */
  static const char block[] =
      "GET /v1/models HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\n"
      "Accept: */*\r\ncookie: b=22\r\nCOOKIE: c=333\r\n\r\n";
  const char *p = block, *end = block + sizeof(block) - 1;
  struct buf b;
  buf_init(&b);
  while(p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    CHECK(redact_header_line(&R, p, n, &b));
    p += n;
  }
  CHECK_STR(buf_cstr(&b),
            "GET /v1/models HTTP/1.1\r\nHost: h\r\nCookie: [redacted 3]\r\n"
            "Accept: */*\r\ncookie: [redacted 4]\r\nCOOKIE: [redacted 5]\r\n"
            "\r\n");
  buf_free(&b);
}

TEST(header_urls)
{
  CHECK_STR(line("Location: https://u:p@h.example/cb?code=1&token=abc\r\n"),
            "Location: https://[redacted]@h.example/cb?code=1&token=[redacted 3]\r\n");
  CHECK_STR(line("location: /next?sig=xyz#frag\r\n"),
            "location: /next?sig=[redacted 3]#frag\r\n");
  CHECK_STR(line("Content-Location: https://h/x?api-key=k\r\n"),
            "Content-Location: https://h/x?api-key=[redacted 1]\r\n");
  CHECK_STR(line("Referer: https://h/page?password=pw\r\n"),
            "Referer: https://h/page?password=[redacted 2]\r\n");
  /* Request lines: the target is a URL. */
  CHECK_STR(line("POST /openai/deployments/o3/chat/completions?api-version=1&api-key=K HTTP/1.1\r\n"),
            "POST /openai/deployments/o3/chat/completions?api-version=1&api-key=[redacted 1] HTTP/1.1\r\n");
  CHECK_STR(line("GET http://user:pw@h/?key=1 HTTP/1.1\r\n"),
            "GET http://[redacted]@h/?key=[redacted 1] HTTP/1.1\r\n");
  CHECK_STR(line("GET /x?token=t HTTP/2\r\n"),
            "GET /x?token=[redacted 1] HTTP/2\r\n");
  SAME(line, "CONNECT h.example:443 HTTP/1.1\r\n");
  SAME(line, "GET /plain HTTP/1.1\r\n");
  SAME(line, "GET HTTP/1.1\r\n");
}

TEST(header_value_pairs)
{
  CHECK_STR(hvalue("Authorization", "Bearer abc"), "Bearer [redacted 3]");
  CHECK_STR(hvalue("authorization", " Bearer abc \r\n"),
            " Bearer [redacted 3] \r\n");
  CHECK_STR(hvalue("Cookie", "a=b"), "[redacted 3]");
  CHECK_STR(hvalue("Cookie", ""), "");
  CHECK_STR(hvalue("Content-Type", "application/json"), "application/json");
  CHECK_STR(hvalue("Location", "https://a:b@h/?access_token=x"),
            "https://[redacted]@h/?access_token=[redacted 1]");
  CHECK_STR(hvalue("X-Location", "https://a:b@h/"), "https://a:b@h/");
  /* Edited lists. */
  struct redact_rules r;
  redact_rules_default(&r);
  CHECK(edit(&r, REDACT_HEADERS, "-Cookie, X-Session"));
  CHECK_STR(hvalue_r(&r, "Cookie", "a=b"), "a=b");
  CHECK_STR(hvalue_r(&r, "x-session", "s1"), "[redacted 2]");
  CHECK(edit(&r, REDACT_HEADERS, "-Authorization"));
  CHECK_STR(hvalue_r(&r, "Authorization", "Bearer abc"), "Bearer abc");
  CHECK_STR(line_r(&r, "authorization: Bearer abc\r\n"),
            "authorization: Bearer abc\r\n");
}

/* ---- URLs ------------------------------------------------------------------- */

TEST(url_userinfo)
{
  CHECK_STR(url("https://user:pass@host/x"), "https://[redacted]@host/x");
  CHECK_STR(url("https://user@host/x"), "https://[redacted]@host/x");
  CHECK_STR(url("https://user:pass@host"), "https://[redacted]@host");
  CHECK_STR(url("https://:pass@host:8443/"), "https://[redacted]@host:8443/");
  CHECK_STR(url("https://@host/"), "https://[redacted]@host/");
  /* The last '@' of the authority ends the userinfo. */
  CHECK_STR(url("http://us@er:p@ss@host/"), "http://[redacted]@host/");
  CHECK_STR(url("HTTPS://u:p@[::1]:8080/p"), "HTTPS://[redacted]@[::1]:8080/p");
  CHECK_STR(url("//u:p@host/x"), "//[redacted]@host/x");
  /* libcurl takes a URL without a scheme. */
  CHECK_STR(url("user:pw@host/x"), "[redacted]@host/x");
  CHECK_STR(url("user:pw@host"), "[redacted]@host");
  /* '@' outside the authority is data. */
  SAME(url, "https://host/path@x/y");
  SAME(url, "https://host/p?q=a@b&r=@");
  SAME(url, "https://host?x=u@h");
  SAME(url, "https://host#me@here");
  SAME(url, "/a@b/c");
  SAME(url, "?a=b@c");
  SAME(url, "https://host/");
  SAME(url, "https://host");
  SAME(url, "");
  SAME(url, "host:8080/x");
  SAME(url, "mailto-ish:nothing");
  /* A NUL is data, not an end of the authority. */
  static const char nul[] = "https://u:p\0w@host/";
  buf_reset(&out);
  CHECK(redact_url(&R, nul, sizeof(nul) - 1, &out));
  CHECK_STR(result(true, &out), "https://[redacted]@host/");
}

TEST(url_query)
{
  CHECK_STR(url("https://h/p?api-version=2024&api-key=secret123"),
            "https://h/p?api-version=2024&api-key=[redacted 9]");
  CHECK_STR(url("https://h/?TOKEN=a&Key=bb&x=1&sig=ccc&signature=dddd"),
            "https://h/?TOKEN=[redacted 1]&Key=[redacted 2]&x=1&"
            "sig=[redacted 3]&signature=[redacted 4]");
  /* Keys are percent-decoded ('+' is a space); values redacted raw. */
  CHECK_STR(url("https://h/?api%5Fkey=a%20b&acc%65ss_token=z"),
            "https://h/?api%5Fkey=[redacted 5]&acc%65ss_token=[redacted 1]");
  SAME(url, "https://h/?api%5key=a");
  SAME(url, "https://h/?api+key=a");
  /* Repeated keys, a value with '=', empty values and bare keys. */
  CHECK_STR(url("https://h/?token=1&token=22&token=a=b"),
            "https://h/?token=[redacted 1]&token=[redacted 2]&token=[redacted 3]");
  SAME(url, "https://h/?token=&token&=token&&");
  CHECK_STR(url("https://h/?&&token=x&"), "https://h/?&&token=[redacted 1]&");
  /* Only '&' separates: after ';' it is one value. */
  CHECK_STR(url("https://h/?a=1;token=2"), "https://h/?a=1;token=2");
  CHECK_STR(url("https://h/?token=1;a=2"), "https://h/?token=[redacted 5]");
  /* The fragment is kept, its key=value pairs redacted too. */
  CHECK_STR(url("https://h/?x=1#frag"), "https://h/?x=1#frag");
  CHECK_STR(url("https://h/cb#access_token=abc&token_type=bearer"),
            "https://h/cb#access_token=[redacted 3]&token_type=bearer");
  CHECK_STR(url("https://h/#/route?token=abc"),
            "https://h/#/route?token=[redacted 3]");
  CHECK_STR(url("https://h/?a=1#token=2?x=y"),
            "https://h/?a=1#token=[redacted 5]");
  /* '?' inside the fragment does not start a query. */
  CHECK_STR(url("https://h/p#x?key=1"), "https://h/p#x?key=[redacted 1]");
  /* Unlisted keys that contain listed ones are kept. */
  SAME(url, "https://h/?tokens=1&my_token=2&keyword=3&passwords=4");
  CHECK_STR(url("https://u:p@h/a@b?key=k#sig=s"),
            "https://[redacted]@h/a@b?key=[redacted 1]#sig=[redacted 1]");
}

/* ---- JSON --------------------------------------------------------------------- */

TEST(json_members)
{
  CHECK_STR(json("{\"model\":\"gpt\",\"api_key\":\"sk-123\"}"),
            "{\"model\":\"gpt\",\"api_key\":\"[redacted 6]\"}");
  /* Any depth, inside arrays, whitespace and order kept. */
  CHECK_STR(json("{ \"a\" : [ {\"b\": {\"password\" :\n \"pw\" } }, 1 ],\n"
                 "  \"c\": [[[{\"token\":\"t\"}]]] }"),
            "{ \"a\" : [ {\"b\": {\"password\" :\n \"[redacted 2]\" } }, 1 ],\n"
            "  \"c\": [[[{\"token\":\"[redacted 1]\"}]]] }");
  /* Non-string values. */
  CHECK_STR(json("{\"secret\":42,\"token\":true,\"id_token\":null,"
                 "\"api_key\":-1.5e3,\"password\":false}"),
            "{\"secret\":\"[redacted]\",\"token\":\"[redacted]\","
            "\"id_token\":\"[redacted]\",\"api_key\":\"[redacted]\","
            "\"password\":\"[redacted]\"}");
  CHECK_STR(json("{\"client_secret\":{\"a\":[1,{\"b\":\"}\"}]},\"x\":1}"),
            "{\"client_secret\":\"[redacted]\",\"x\":1}");
  CHECK_STR(json("{\"refresh_token\":[\"a\",\"b\"] , \"x\":[]}"),
            "{\"refresh_token\":\"[redacted]\" , \"x\":[]}");
  CHECK_STR(json("{\"token\":{}}"), "{\"token\":\"[redacted]\"}");
  /* N is the raw length between the quotes, escapes as written. */
  CHECK_STR(json("{\"token\":\"a\\\"b\\u00e9\"}"),
            "{\"token\":\"[redacted 10]\"}");
  CHECK_STR(json("{\"token\":\"caf\xc3\xa9\"}"),
            "{\"token\":\"[redacted 5]\"}");
  /* Empty strings stay. */
  SAME(json, "{\"password\":\"\",\"token\" : \"\"}");
  /* Repeated keys: every one. */
  CHECK_STR(json("{\"token\":\"a\",\"token\":\"bb\"}"),
            "{\"token\":\"[redacted 1]\",\"token\":\"[redacted 2]\"}");
}

TEST(json_names_decoded_and_case)
{
  CHECK_STR(json("{\"api\\u005fkey\":\"k\"}"),
            "{\"api\\u005fkey\":\"[redacted 1]\"}");
  CHECK_STR(json("{\"\\u0070assword\":\"p\",\"t\\u006Fken\":\"t\"}"),
            "{\"\\u0070assword\":\"[redacted 1]\",\"t\\u006Fken\":\"[redacted 1]\"}");
  CHECK_STR(json("{\"PASSWORD\":\"p\",\"ApiKey\":\"k\",\"APIKEY\":\"k\"}"),
            "{\"PASSWORD\":\"[redacted 1]\",\"ApiKey\":\"[redacted 1]\","
            "\"APIKEY\":\"[redacted 1]\"}");
  CHECK_STR(json("{\"\\/token\":\"a\",\"tok\\\"en\":\"b\",\"token\\u0000\":\"c\"}"),
            "{\"\\/token\":\"a\",\"tok\\\"en\":\"b\",\"token\\u0000\":\"c\"}");
  /* Listed words as values or inside names are data. */
  SAME(json, "{\"name\":\"password\",\"list\":[\"token\",\"secret\"],"
             "\"tokens\":1,\"my_token\":\"x\",\"x\":{\"password_hint\":\"h\"}}");
  /* A listed name inside a redacted container is gone with it. */
  CHECK_STR(json("{\"secret\":{\"token\":\"t\"},\"b\":{\"token\":\"u\"}}"),
            "{\"secret\":\"[redacted]\",\"b\":{\"token\":\"[redacted 1]\"}}");
  /* Names longer than any listed one never match. */
  SAME(json, "{\"tokentokentokentokentokentokentokentokentokentokentokentokentokentoken\":1}");
}

TEST(json_documents_kept)
{
  static const char *const same[] = {
    "{}", "[]", "1", "\"token\"", "null", "[1,\"password\",{}]",
    " \n{\"a\" :\t1 }\r\n", "{\"a\":\"\\u00e9\\n\\\\\"}",
    "[[[[[[[[[[]]]]]]]]]]", "{\"\":\"\"}",
  };
  for(size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
    SAME(json, same[i]);
}

TEST(json_not_json)
{
  static const char *const bad[] = {
    "", " ", "abc", "{", "{\"token\":\"x\"", "{\"token\":\"x\"} x",
    "{} {}", "{\"a\":1,}", "\xEF\xBB\xBF{}", "{'token':'x'}",
    "{\"token\":\"a\nb\"}", "[1,2", "{\"token\" \"x\"}",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    /* False, and out exactly as on entry. */
    buf_reset(&out);
    buf_puts(&out, "prefix");
    CHECK(!redact_json(&R, bad[i], strlen(bad[i]), &out));
    CHECK_MEM(out.ptr, out.len, "prefix", 6);
    CHECK(!out.oom);
  }
}

/* n nested arrays around {"token":"secret"}. */
static char *nested(size_t n)
{
  static const char mid[] = "{\"token\":\"secret\"}";
  char *s = malloc(2 * n + sizeof(mid));
  if(!s)
    return NULL;
  memset(s, '[', n);
  memcpy(s + n, mid, sizeof(mid) - 1);
  memset(s + n + sizeof(mid) - 1, ']', n);
  s[2 * n + sizeof(mid) - 1] = '\0';
  return s;
}

TEST(json_depth_limit)
{
  /* Up to JSON_MAX_DEPTH levels is JSON; deeper is not (json.h). */
  char *ok = nested(JSON_MAX_DEPTH - 1), *deep = nested(JSON_MAX_DEPTH);
  if(!ok || !deep) {
    free(ok);
    free(deep);
    CHECK(0);
    return;
  }
  const char *r = json(ok);
  CHECK(strstr(r, "\"[redacted 6]\"") && !strstr(r, "secret"));
  CHECK_STR(json(deep), "(false)");
  /* A body still gets the lenient pass. */
  r = body("application/json", deep);
  CHECK(strstr(r, "\"[redacted 6]\"") && !strstr(r, "secret"));
  CHECK(strlen(r) == strlen(deep) - 6 + 12);
  free(ok);
  free(deep);
}

TEST(json_linear_on_deep_and_wide)
{
  /* 255 levels of nesting, each with many members: one pass. */
  struct buf in;
  buf_init(&in);
  for(int d = 0; d < 255; d++) {
    buf_puts(&in, "{\"a\":[1,2,3],\"token\":\"xyz\",\"b\":");
  }
  buf_puts(&in, "0");
  for(int d = 0; d < 255; d++)
    buf_puts(&in, "}");
  buf_reset(&out);
  CHECK(redact_json(&R, in.ptr, in.len, &out));
  CHECK(out.len == in.len + 255 * (12 - 3));
  buf_free(&in);
}

/* ---- forms and bodies --------------------------------------------------------- */

TEST(form_bodies)
{
  CHECK_STR(form("grant_type=refresh_token&refresh_token=r1&client_id=c&"
                 "client_secret=s3cr"),
            "grant_type=refresh_token&refresh_token=[redacted 2]&client_id=c&"
            "client_secret=[redacted 4]");
  CHECK_STR(form("user=bob&PASSWORD=hunter2"),
            "user=bob&PASSWORD=[redacted 7]");
  CHECK_STR(form("pass%77ord=p%40ss&api%5Fkey=k"),
            "pass%77ord=[redacted 6]&api%5Fkey=[redacted 1]");
  SAME(form, "password=&token&a=b&&");
  SAME(form, "");
  SAME(form, "no pairs at all");
  struct redact_rules r;
  redact_rules_default(&r);
  CHECK(edit(&r, REDACT_FIELDS, "my key"));
  buf_reset(&out);
  CHECK(redact_form(&r, "my+key=v&my%20key=w", 19, &out));
  CHECK_STR(result(true, &out), "my+key=[redacted 1]&my%20key=[redacted 1]");
}

/* body() with text/plain, for SAME. */
static const char *body_plain(const char *in)
{
  return body("text/plain", in);
}

TEST(body_dispatch)
{
  static const char js[] = "{\"password\":\"pw\"}";
  static const char want[] = "{\"password\":\"[redacted 2]\"}";
  /* A JSON value whatever the type. */
  CHECK_STR(body("application/json", js), want);
  CHECK_STR(body("Application/JSON; charset=utf-8", js), want);
  CHECK_STR(body("application/vnd.api+json", js), want);
  CHECK_STR(body("text/plain", js), want);
  CHECK_STR(body(NULL, js), want);
  CHECK_STR(body("application/x-www-form-urlencoded", js), want);  /* curl -d */
  /* Forms by type only. */
  CHECK_STR(body("application/x-www-form-urlencoded", "a=1&token=t"),
            "a=1&token=[redacted 1]");
  CHECK_STR(body(" application/x-www-form-urlencoded ; charset=utf-8",
                 "token=t"), "token=[redacted 1]");
  SAME(body_plain, "a=1&token=t");
  /* Other text is copied. */
  CHECK_STR(body("text/plain", "password: hunter2"), "password: hunter2");
  static const char bin[] = "\x00\x01token=x\xff{";
  buf_reset(&out);
  CHECK(redact_body(&R, "application/octet-stream", bin, sizeof(bin) - 1,
                    &out));
  CHECK_MEM(out.ptr, out.len, bin, sizeof(bin) - 1);
  SAME(body_plain, "");
}

TEST(body_lenient_json)
{
  /* Cut short (a capture limit), with a JSON type or a JSON look. */
  CHECK_STR(body("application/json", "{\"a\":1,\"token\":\"abcdef"),
            "{\"a\":1,\"token\":\"[redacted 6]\"");
  CHECK_STR(body(NULL, "  {\"a\":[{\"password\":\"abc"),
            "  {\"a\":[{\"password\":\"[redacted 3]\"");
  CHECK_STR(body("application/x-www-form-urlencoded",
                 "{\"secret\":{\"a\":[1,2"),
            "{\"secret\":\"[redacted]\"");
  /* A form type: both rules. */
  CHECK_STR(body("application/x-www-form-urlencoded",
                 "{&client_secret=cs&x={\"token\":\"t\""),
            "{&client_secret=[redacted 2]&x={\"token\":\"[redacted 1]\"");
  CHECK_STR(body("text/plain", "\xEF\xBB\xBF{\"token\":\"t\"}"),
            "\xEF\xBB\xBF{\"token\":\"[redacted 1]\"}");
  CHECK_STR(body("application/json", "{\"token\":"), "{\"token\":");
  CHECK_STR(body("application/json", "{\"token\":\"\""), "{\"token\":\"\"");
  /* NDJSON and event streams. */
  CHECK_STR(body("application/x-ndjson",
                 "{\"token\":\"a\"}\n{\"x\":1}\n{\"secret\":2}\n"),
            "{\"token\":\"[redacted 1]\"}\n{\"x\":1}\n{\"secret\":\"[redacted]\"}\n");
  CHECK_STR(body("text/event-stream; charset=utf-8",
                 "event: x\ndata: {\"access_token\":\"at\"}\n\n"
                 "data: \"oops\ndata: {\"token\":\"t\"}\n\ndata: [DONE]\n\n"),
            "event: x\ndata: {\"access_token\":\"[redacted 2]\"}\n\n"
            "data: \"oops\ndata: {\"token\":\"[redacted 1]\"}\n\ndata: [DONE]\n\n");
  /* A string that runs to a line end stops there. */
  CHECK_STR(body("application/json", "{\"token\":\"abc\n\"x\":1}"),
            "{\"token\":\"[redacted 3]\"\n\"x\":1}");
  /* Text of a JSON type that has no members is copied. */
  CHECK_STR(body("application/json", "not json at all"), "not json at all");
}

TEST(off_copies_everything)
{
  struct redact_rules r;
  redact_rules_default(&r);
  r.off = true;
  CHECK_STR(line_r(&r, "Authorization: Bearer x\r\n"),
            "Authorization: Bearer x\r\n");
  CHECK_STR(hvalue_r(&r, "Cookie", "a=b"), "a=b");
  CHECK_STR(url_r(&r, "https://u:p@h/?token=t"), "https://u:p@h/?token=t");
  CHECK_STR(json_r(&r, "{\"token\":\"t\"}"), "{\"token\":\"t\"}");
  CHECK_STR(json_r(&r, "{\"token\":"), "{\"token\":");
  CHECK_STR(body_r(&r, "application/json", "{\"token\":\"t\"}"),
            "{\"token\":\"t\"}");
  buf_reset(&out);
  CHECK(redact_form(&r, "token=t", 7, &out));
  CHECK_STR(result(true, &out), "token=t");
}

TEST(appends_and_oom)
{
  struct buf b;
  buf_init(&b);
  buf_puts(&b, "head|");
  CHECK(redact_url(&R, "https://h/?key=k", 16, &b));
  CHECK(redact_header_line(&R, "Cookie: c", 9, &b));
  CHECK_STR(buf_cstr(&b), "head|https://h/?key=[redacted 1]Cookie: [redacted 1]");
  /* Out of memory: false, nothing appended, oom kept for the caller. */
  size_t len = b.len;
  b.oom = true;
  CHECK(!redact_url(&R, "https://h/?key=k", 16, &b));
  CHECK(!redact_header_line(&R, "Cookie: c", 9, &b));
  CHECK(!redact_header_value(&R, "Cookie", 6, "c", 1, &b));
  CHECK(!redact_json(&R, "{}", 2, &b));
  CHECK(!redact_form(&R, "a=b", 3, &b));
  CHECK(!redact_body(&R, NULL, "x", 1, &b));
  CHECK(b.len == len && b.oom);
  buf_free(&b);
}

/* ---- properties on random inputs ---------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

/* The secret's bytes: 'Z' appears nowhere else in what is generated. */
#define SECRET "ZQXsecretZ"

static const char *const field_names[] = {
  "api_key", "apiKey", "password", "secret", "client_secret", "refresh_token",
  "access_token", "id_token", "token",
};
static const char *const plain_names[] = {
  "model", "messages", "tokens", "passwords", "api", "key_id", "content",
  "max_tokens", "role", "x",
};
static const char *const plain_words[] = {
  "gpt-4o", "password", "token", "", "a\\\"b", "caf\xc3\xa9", "\\u00e9",
  "hello world", "{[", "]}", ":", ",",
};

static void put_ws(struct buf *b)
{
  static const char *const ws[] = { "", "", " ", "\n  ", "\t", "\r\n" };
  buf_puts(b, ws[rnd(6)]);
}

/* A listed name as a JSON key: random case, maybe a \u escape. */
static void put_listed_key(struct buf *b)
{
  const char *n = field_names[rnd(9)];
  size_t len = strlen(n), esc = rnd(3) == 0 ? rnd((unsigned)len) : len;
  buf_puts(b, "\"");
  for(size_t i = 0; i < len; i++) {
    char c = n[i];
    if(rnd(4) == 0 && c >= 'a' && c <= 'z')
      c = (char)(c - 32);
    if(i == esc) {
      char e[8];
      snprintf(e, sizeof(e), "\\u%04x", (unsigned char)c);
      buf_puts(b, e);
    }
    else
      buf_append(b, &c, 1);
  }
  buf_puts(b, "\"");
}

static void gen_value(struct buf *b, int depth, bool secret, bool plant);

/* A secret-bearing value: a string with the secret, or a container with
 * the secret somewhere inside. */
static void gen_secret_value(struct buf *b, int depth)
{
  switch(depth > 3 ? 0 : rnd(4)) {
  case 0: buf_puts(b, "\"" SECRET "\""); break;
  case 1: buf_puts(b, "\"x\\n" SECRET "\\\"\""); break;
  case 2:
    buf_puts(b, "[1,");
    gen_value(b, depth + 1, true, false);
    buf_puts(b, "]");
    break;
  default:
    buf_puts(b, "{\"model\":");
    gen_value(b, depth + 1, true, false);
    buf_puts(b, "}");
  }
}

/* A random value; secret: this value is inside a redacted one (may hold
 * the secret anywhere); plant: listed members may appear. */
static void gen_value(struct buf *b, int depth, bool secret, bool plant)
{
  unsigned k = depth > 5 ? 2 + rnd(3) : rnd(5);
  if(k == 0) {
    unsigned n = rnd(4);
    buf_puts(b, "{");
    for(unsigned i = 0; i < n; i++) {
      if(i)
        buf_puts(b, ",");
      put_ws(b);
      bool listed = plant && rnd(3) == 0;
      if(listed)
        put_listed_key(b);
      else {
        buf_puts(b, "\"");
        buf_puts(b, plain_names[rnd(10)]);
        buf_puts(b, "\"");
      }
      put_ws(b);
      buf_puts(b, ":");
      put_ws(b);
      if(listed)
        gen_secret_value(b, depth + 1);
      else
        gen_value(b, depth + 1, secret, plant);
      put_ws(b);
    }
    buf_puts(b, "}");
  }
  else if(k == 1) {
    unsigned n = rnd(4);
    buf_puts(b, "[");
    for(unsigned i = 0; i < n; i++) {
      if(i)
        buf_puts(b, ",");
      put_ws(b);
      gen_value(b, depth + 1, secret, plant);
    }
    buf_puts(b, "]");
  }
  else if(k == 2) {
    buf_puts(b, "\"");
    buf_puts(b, secret && rnd(2) ? SECRET : plain_words[rnd(12)]);
    buf_puts(b, "\"");
  }
  else if(k == 3)
    buf_puts(b, rnd(2) ? "-12.5e3" : "0");
  else
    buf_puts(b, rnd(2) ? "true" : "null");
}

static bool has_z(const struct buf *b)
{
  return b->len && memchr(b->ptr, 'Z', b->len);
}

TEST(property_json_secret_never_survives)
{
  struct buf in, o;
  buf_init(&in);
  buf_init(&o);
  unsigned planted = 0;
  for(int round = 0; round < 3000; round++) {
    struct json_span sp;
    buf_reset(&in);
    buf_reset(&o);
    buf_puts(&in, "{");
    put_listed_key(&in);
    buf_puts(&in, ":\"" SECRET "\",\"m\":");
    gen_value(&in, 0, false, true);
    buf_puts(&in, "}");
    planted += memchr(in.ptr, 'Z', in.len) != NULL;
    CHECK(json_parse(in.ptr, in.len, &sp));
    CHECK(redact_json(&R, in.ptr, in.len, &o));
    CHECK(!has_z(&o));
    CHECK(json_parse(o.ptr, o.len, &sp));  /* still JSON */
    /* The body path agrees; and every prefix (a capture limit) and the
     * text as an event stream leak nothing either. */
    struct buf o2;
    buf_init(&o2);
    CHECK(redact_body(&R, "application/json", in.ptr, in.len, &o2));
    CHECK(same_buf(&o, &o2));
    size_t cut = rnd((unsigned)in.len + 1);
    buf_reset(&o2);
    CHECK(redact_body(&R, "application/json", in.ptr, cut, &o2));
    CHECK(!has_z(&o2));
    buf_free(&o2);
  }
  CHECK(planted == 3000);
  buf_free(&in);
  buf_free(&o);
}

TEST(property_json_unlisted_unchanged)
{
  struct buf in, o;
  buf_init(&in);
  buf_init(&o);
  for(int round = 0; round < 2000; round++) {
    buf_reset(&in);
    buf_reset(&o);
    gen_value(&in, 0, false, false);
    CHECK(redact_json(&R, in.ptr, in.len, &o));
    CHECK(same_buf(&in, &o));
    buf_reset(&o);
    CHECK(redact_body(&R, "application/json", in.ptr, in.len, &o));
    CHECK(same_buf(&in, &o));
  }
  buf_free(&in);
  buf_free(&o);
}

static const char *const header_names[] = {
  "Authorization", "Proxy-Authorization", "api-key", "x-api-key",
  "x-goog-api-key", "Cookie", "Set-Cookie",
};
static const char *const plain_headers[] = {
  "Host", "Content-Type", "Accept", "X-Request-Id", "authorization-x",
  "User-Agent", "x-api-keys",
};

/* A name in random case ('z' stays: 'Z' marks the secret). */
static void put_cased(struct buf *b, const char *n)
{
  for(; *n; n++) {
    char c = *n;
    if(rnd(2) && c >= 'a' && c < 'z')
      c = (char)(c - 32);
    else if(rnd(2) && c >= 'A' && c <= 'Z')
      c = (char)(c + 32);
    buf_append(b, &c, 1);
  }
}

TEST(property_headers)
{
  static const char *const seps[] = { ":", ": ", ":\t", " : ", ":  " };
  static const char *const ends[] = { "\r\n", "\n", "", " \r\n", "\t\n" };
  static const char *const values[] = {
    SECRET, "Bearer " SECRET, "Basic  " SECRET "==", "a=" SECRET "; b=" SECRET,
    SECRET " " SECRET, "Digest u=\"" SECRET "\"",
  };
  struct buf in, o;
  buf_init(&in);
  buf_init(&o);
  for(int round = 0; round < 3000; round++) {
    bool listed = rnd(2);
    buf_reset(&in);
    buf_reset(&o);
    put_cased(&in, listed ? header_names[rnd(7)] : plain_headers[rnd(7)]);
    buf_puts(&in, seps[rnd(5)]);
    if(listed)
      buf_puts(&in, values[rnd(6)]);
    else
      buf_puts(&in, plain_words[rnd(12)]);
    buf_puts(&in, ends[rnd(5)]);
    CHECK(redact_header_line(&R, in.ptr, in.len, &o));
    if(listed)
      CHECK(!has_z(&o));
    else
      CHECK(same_buf(&in, &o));
  }
  buf_free(&in);
  buf_free(&o);
}

TEST(property_urls_and_forms)
{
  static const char *const keys[] = {
    "key", "api_key", "api-key", "apikey", "token", "access_token", "sig",
    "signature", "password", "secret", "api%5Fkey", "TOKEN",
  };
  static const char *const plain_keys[] = {
    "api-version", "q", "tokens", "x", "", "a@b", "my_key",
  };
  static const char *const fields[] = {
    "password", "token", "client_secret", "refresh_token", "pass%77ord",
  };
  struct buf in, o, form_in;
  buf_init(&in);
  buf_init(&o);
  buf_init(&form_in);
  for(int round = 0; round < 3000; round++) {
    bool secret = rnd(2);
    buf_reset(&in);
    buf_reset(&o);
    buf_reset(&form_in);
    buf_puts(&in, rnd(2) ? "https://" : "http://");
    if(secret && rnd(2))
      buf_puts(&in, rnd(2) ? "u:" SECRET "@" : SECRET "@");
    buf_puts(&in, "host.example");
    buf_puts(&in, rnd(2) ? "/p/a@b" : "/");
    unsigned n = rnd(5);
    for(unsigned i = 0; i < n; i++) {
      buf_puts(&in, i ? "&" : "?");
      bool s = secret && rnd(2);
      buf_puts(&in, s ? keys[rnd(12)] : plain_keys[rnd(7)]);
      buf_puts(&in, "=");
      buf_puts(&in, s ? SECRET "%20" SECRET : "v@l");
      buf_puts(&form_in, i ? "&" : "");
      buf_puts(&form_in, s ? fields[rnd(5)] : plain_keys[rnd(7)]);
      buf_puts(&form_in, s ? "=" SECRET : "=v");
    }
    if(secret && rnd(3) == 0)
      buf_puts(&in, "#access_token=" SECRET);
    else if(rnd(2))
      buf_puts(&in, "#frag@x");
    CHECK(redact_url(&R, in.ptr, in.len, &o));
    if(secret)
      CHECK(!has_z(&o));
    else
      CHECK(same_buf(&in, &o));
    buf_reset(&o);
    CHECK(redact_form(&R, form_in.ptr, form_in.len, &o));
    CHECK(!has_z(&o));
    if(!memchr(form_in.ptr ? form_in.ptr : "", 'Z', form_in.len))
      CHECK(same_buf(&form_in, &o));
  }
  buf_free(&in);
  buf_free(&o);
  buf_free(&form_in);
}

int main(void)
{
  redact_rules_default(&R);
  buf_init(&out);
  RUN(default_lists);
  RUN(edit_add_remove);
  RUN(edit_malformed_keeps_removals_out);
  RUN(edit_full_list);
  RUN(header_listed_values);
  RUN(header_authorization_edges);
  RUN(header_other_lines_exact);
  RUN(header_repeated_lines);
  RUN(header_urls);
  RUN(header_value_pairs);
  RUN(url_userinfo);
  RUN(url_query);
  RUN(json_members);
  RUN(json_names_decoded_and_case);
  RUN(json_documents_kept);
  RUN(json_not_json);
  RUN(json_depth_limit);
  RUN(json_linear_on_deep_and_wide);
  RUN(form_bodies);
  RUN(body_dispatch);
  RUN(body_lenient_json);
  RUN(off_copies_everything);
  RUN(appends_and_oom);
  RUN(property_json_secret_never_survives);
  RUN(property_json_unlisted_unchanged);
  RUN(property_headers);
  RUN(property_urls_and_forms);
  buf_free(&out);
  return check_done();
}
