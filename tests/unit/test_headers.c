/* test_headers.c - unit tests for hooks/pure/headers.c: status lines, header
 * names, field values in a line and in a block, and rewriting a header
 * block for a replayed SSE answer. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "headers.h"

#define SSE "text/event-stream; charset=utf-8"

/* header_status on a NUL-terminated line. */
static int status(const char *s)
{
  return header_status(s, strlen(s));
}

/* header_is on a NUL-terminated line. */
static bool is(const char *s, const char *name)
{
  return header_is(s, strlen(s), name);
}

/* header_value on a NUL-terminated line: does it give want (NULL: no
 * value at all)? */
static bool value_is(const char *s, const char *name, const char *want)
{
  size_t n = 99;
  const char *v = header_value(s, strlen(s), name, &n);
  if(!want)
    return v == NULL && n == 99;  /* *vlen untouched on a miss */
  return v && n == strlen(want) && !memcmp(v, want, n);
}

/* headers_field on a NUL-terminated block, as value_is(). */
static bool field_is(const char *block, const char *name, const char *want)
{
  size_t n = 99;
  const char *v = headers_field(block, strlen(block), name, &n);
  if(!want)
    return v == NULL;
  return v && n == strlen(want) && !memcmp(v, want, n);
}

/* Rewrite block with SSE and compare with want, byte for byte. */
static void expect_rewrite(const char *block, const char *want)
{
  struct buf out;
  buf_init(&out);
  CHECK(headers_rewrite_for_sse(block, strlen(block), SSE, &out));
  CHECK_MEM(out.ptr ? out.ptr : "", out.len, want, strlen(want));
  buf_free(&out);
}

TEST(status_lines)
{
  CHECK(status("HTTP/1.1 200 OK\r\n") == 200);
  CHECK(status("HTTP/1.0 404 Not Found\r\n") == 404);
  CHECK(status("HTTP/1.1 100 Continue\r\n") == 100);
  CHECK(status("HTTP/2 200 \r\n") == 200);
  CHECK(status("HTTP/2 429\r\n") == 429);
  CHECK(status("HTTP/3 503\n") == 503);
  CHECK(status("HTTP/1.1 599") == 599);
  CHECK(status("HTTP/1.1   201   Created\r\n") == 201);
  CHECK(status("HTTP/1.1 000 zero\r\n") == 0);
  /* Only n bytes are read: the code must lie inside them. */
  CHECK(header_status("HTTP/1.1 200 OK", 12) == 200);
  CHECK(header_status("HTTP/1.1 200 OK", 11) == -1);
  CHECK(header_status("HTTP/1.1 200 OK", 4) == -1);
  CHECK(header_status("HTTP/", 5) == -1);
  CHECK(header_status("", 0) == -1);
}

TEST(status_bad_lines)
{
  CHECK(status("HTTP/1.1\r\n") == -1);
  CHECK(status("HTTP/1.1") == -1);
  CHECK(status("HTTP/1.1 \r\n") == -1);
  CHECK(status("HTTP/1.1 OK\r\n") == -1);
  CHECK(status("HTTP/1.1 20 OK\r\n") == -1);
  CHECK(status("HTTP/1.1 20") == -1);
  CHECK(status("HTTP/1.1 2x0 OK\r\n") == -1);
  CHECK(status("HTTP/1.1 -200 OK\r\n") == -1);
  CHECK(status("HTTPX 200 OK\r\n") == -1);
  CHECK(status("HTTPX/1.1 200 OK\r\n") == -1);
  CHECK(status("HTTP 200 OK\r\n") == -1);
  CHECK(status("http/1.1 200 OK\r\n") == -1);
  CHECK(status(" HTTP/1.1 200 OK\r\n") == -1);
  CHECK(status("Content-Type: HTTP/1.1 200\r\n") == -1);
  CHECK(status("\r\n") == -1);
}

/* Regression: a status code is exactly three digits (RFC 9112
 * status-line: version SP 3DIGIT SP reason); a longer number was once read
 * as its first three digits. */
TEST(status_four_digit_code)
{
  CHECK(status("HTTP/1.1 2000 OK\r\n") == -1);
  CHECK(status("HTTP/2 4040\r\n") == -1);
}

TEST(is_names)
{
  CHECK(is("Content-Type: text/plain\r\n", "Content-Type"));
  CHECK(is("content-type: text/plain\r\n", "Content-Type"));
  CHECK(is("CONTENT-TYPE: text/plain\n", "content-type"));
  CHECK(is("cOnTeNt-TyPe:x", "Content-Type"));
  CHECK(is("Content-Type:", "Content-Type"));
  CHECK(is("Content-Type : text/plain\r\n", "Content-Type"));
  CHECK(is("Content-Type \t :x\r\n", "Content-Type"));
  /* A name that only starts like another one does not match. */
  CHECK(!is("Content-Type-Options: nosniff\r\n", "Content-Type"));
  CHECK(!is("X-Content-Type-Options: nosniff\r\n", "Content-Type-Options"));
  CHECK(is("X-Content-Type-Options: nosniff\r\n", "X-Content-Type-Options"));
  CHECK(!is("Content-Types: x\r\n", "Content-Type"));
  CHECK(!is("Content-Typ: x\r\n", "Content-Type"));
  CHECK(!is("Content-Length: 5\r\n", "Content-Type"));
  /* A name alone, a blank line, a folded line, a status line. */
  CHECK(!is("Content-Type\r\n", "Content-Type"));
  CHECK(!is("Content-Type", "Content-Type"));
  CHECK(!is("Content-Type x: y\r\n", "Content-Type"));
  CHECK(!is("\r\n", "Content-Type"));
  CHECK(!is("", "Content-Type"));
  CHECK(!is(" Content-Type: x\r\n", "Content-Type"));
  CHECK(!is("HTTP/1.1 200 OK\r\n", "Content-Type"));
  /* Only n bytes count: the colon must be inside them. */
  CHECK(!header_is("Content-Type: x", 12, "Content-Type"));
  CHECK(header_is("Content-Type: x", 13, "Content-Type"));
  CHECK(!header_is("Content-Type  : x", 14, "Content-Type"));
}

TEST(value_of_a_line)
{
  /* Names compare case-insensitively; HTTP/2 sends them lowercase. */
  CHECK(value_is("Content-Type: application/json\r\n", "Content-Type",
                 "application/json"));
  CHECK(value_is("content-type: application/json\r\n", "Content-Type",
                 "application/json"));
  CHECK(value_is("CONTENT-TYPE: a\n", "content-type", "a"));
  /* Blanks: before the colon, around the value; CRLF, LF or no end. */
  CHECK(value_is("Content-Length \t: \t 42  \r\n", "Content-Length", "42"));
  CHECK(value_is("Content-Length:42\n", "Content-Length", "42"));
  CHECK(value_is("Content-Length: 42", "Content-Length", "42"));
  CHECK(value_is("api-key: k", "api-key", "k"));
  /* Blanks inside the value stay; so does a trailing tab (as ever). */
  CHECK(value_is("X-A:  a b  c \r\n", "X-A", "a b  c"));
  CHECK(value_is("X-A: 5\t\r\n", "X-A", "5\t"));
  /* An empty value is a value. */
  CHECK(value_is("X-A:\r\n", "X-A", ""));
  CHECK(value_is("X-A:   \r\n", "X-A", ""));
  CHECK(value_is("X-A:", "X-A", ""));
  /* The value is everything after the first colon. */
  CHECK(value_is("Location: http://h:8080/x\r\n", "Location",
                 "http://h:8080/x"));
}

TEST(value_misses)
{
  /* A name that is a prefix of another, and the other way round. */
  CHECK(value_is("Content-Types: x\r\n", "Content-Type", NULL));
  CHECK(value_is("Content-Type: x\r\n", "Content-Types", NULL));
  CHECK(value_is("X-Api-Key: k\r\n", "api-key", NULL));
  CHECK(value_is("api-key-2: k\r\n", "api-key", NULL));
  /* No colon, a status line, a blank line, nothing. */
  CHECK(value_is("Content-Type\r\n", "Content-Type", NULL));
  CHECK(value_is("Content-Type x\r\n", "Content-Type", NULL));
  CHECK(value_is("Content-Type", "Content-Type", NULL));
  CHECK(value_is("HTTP/1.1 200 OK\r\n", "Content-Type", NULL));
  CHECK(value_is("\r\n", "Content-Type", NULL));
  CHECK(value_is("", "Content-Type", NULL));
  CHECK(value_is(" Content-Type: x\r\n", "Content-Type", NULL));
  /* Only n bytes are read: the colon must lie inside them. */
  size_t n = 0;
  CHECK(!header_value("X-A: b", 3, "X-A", &n));
  const char *v = header_value("X-A: bc", 6, "X-A", &n);
  CHECK(v && n == 1 && v[0] == 'b');
  /* vlen may be NULL. */
  CHECK(header_value("X-A: b", 6, "X-A", NULL) != NULL);
}

TEST(field_of_a_block)
{
  static const char h1[] =
      "HTTP/1.1 200 OK\r\n"
      "Content-Types: no\r\n"
      "content-type: application/json \r\n"
      "Content-Length:  12\r\n"
      "Content-Type: second\r\n"
      "\r\n";
  CHECK(field_is(h1, "Content-Type", "application/json"));  /* the first */
  CHECK(field_is(h1, "CONTENT-LENGTH", "12"));
  CHECK(field_is(h1, "Content-Encoding", NULL));
  CHECK(field_is(h1, "HTTP/1.1 200 OK", NULL));
  static const char h2[] =
      "HTTP/2 429\n"
      "retry-after: 3\n"
      "x-ratelimit-remaining-requests: 0\n"
      "\n";
  CHECK(field_is(h2, "Retry-After", "3"));
  CHECK(field_is(h2, "x-ratelimit-remaining", NULL));
  /* The last line may have no end; an empty block has no field. */
  CHECK(field_is("A: 1\r\nB: 2", "b", "2"));
  CHECK(headers_field(NULL, 0, "A", NULL) == NULL);
  CHECK(field_is("", "A", NULL));
  /* Only n bytes count. */
  size_t n = 0;
  CHECK(headers_field("A: 1\r\nB: 2\r\n", 6, "B", &n) == NULL);
  CHECK(headers_has(h1, sizeof(h1) - 1, "content-length"));
  CHECK(!headers_has(h1, sizeof(h1) - 1, "Content-Encoding"));
}

TEST(rewrite_http1_crlf)
{
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "Content-Type: application/json\r\n"
      "Content-Length: 1234\r\n"
      "Content-Encoding: gzip\r\n"
      "Transfer-Encoding: chunked\r\n"
      "X-Request-Id: abc\r\n"
      "Set-Cookie: a=b; Path=/\r\n"
      "\r\n",
      "HTTP/1.1 200 OK\r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "Content-Type: " SSE "\r\n"
      "Transfer-Encoding: chunked\r\n"
      "X-Request-Id: abc\r\n"
      "Set-Cookie: a=b; Path=/\r\n"
      "\r\n");
}

TEST(rewrite_lf_only)
{
  expect_rewrite(
      "HTTP/1.1 200 OK\n"
      "Content-Length: 10\n"
      "Content-Type: application/json\n"
      "Server: x\n"
      "\n",
      "HTTP/1.1 200 OK\n"
      "Content-Type: " SSE "\n"
      "Server: x\n"
      "\n");
}

TEST(rewrite_http2_lowercase)
{
  expect_rewrite(
      "HTTP/2 200 \r\n"
      "date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "content-type: application/json; charset=utf-8\r\n"
      "content-length: 99\r\n"
      "content-encoding: br\r\n"
      "x-ratelimit-remaining-requests: 9\r\n"
      "\r\n",
      "HTTP/2 200 \r\n"
      "date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "content-type: " SSE "\r\n"
      "x-ratelimit-remaining-requests: 9\r\n"
      "\r\n");
  /* Odd spellings are kept too, and a space before the colon. */
  expect_rewrite(
      "HTTP/1.1 200 OK\r\nCONTENT-type : a/b\r\n\r\n",
      "HTTP/1.1 200 OK\r\nCONTENT-type : " SSE "\r\n\r\n");
}

TEST(rewrite_adds_missing_type)
{
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "Content-Length: 5\r\n"
      "Server: x\r\n"
      "\r\n",
      "HTTP/1.1 200 OK\r\n"
      "Server: x\r\n"
      "Content-Type: " SSE "\r\n"
      "\r\n");
  expect_rewrite(
      "HTTP/1.1 200 OK\n\n",
      "HTTP/1.1 200 OK\nContent-Type: " SSE "\n\n");
  /* Content-Type-Options is not a Content-Type. */
  expect_rewrite(
      "HTTP/2 200\r\n"
      "x-content-type-options: nosniff\r\n"
      "content-type-options: nosniff\r\n"
      "\r\n",
      "HTTP/2 200\r\n"
      "x-content-type-options: nosniff\r\n"
      "content-type-options: nosniff\r\n"
      "content-type: " SSE "\r\n"  /* HTTP/2 names are lowercase */
      "\r\n");
}

TEST(rewrite_keeps_similar_names)
{
  /* Only exactly Content-Length / Content-Encoding go. */
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "Content-Length-Hint: 3\r\n"
      "X-Content-Length: 4\r\n"
      "Content-Encodings: x\r\n"
      "Content-Language: en\r\n"
      "Content-Type: text/plain\r\n"
      "Accept-Encoding: gzip\r\n"
      "CONTENT-LENGTH: 7\r\n"
      "Content-Encoding : gzip\r\n"
      "\r\n",
      "HTTP/1.1 200 OK\r\n"
      "Content-Length-Hint: 3\r\n"
      "X-Content-Length: 4\r\n"
      "Content-Encodings: x\r\n"
      "Content-Language: en\r\n"
      "Content-Type: " SSE "\r\n"
      "Accept-Encoding: gzip\r\n"
      "\r\n");
}

TEST(rewrite_keeps_other_bytes)
{
  /* Odd but legal bytes in other lines survive untouched, in order. */
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "X-A:  spaced\t \r\n"
      "X-B:\r\n"
      "x-a: second\r\n"
      "Content-Type: application/json\r\n"
      "X-Utf8: \xc3\xa9\r\n"
      "\r\n",
      "HTTP/1.1 200 OK\r\n"
      "X-A:  spaced\t \r\n"
      "X-B:\r\n"
      "x-a: second\r\n"
      "Content-Type: " SSE "\r\n"
      "X-Utf8: \xc3\xa9\r\n"
      "\r\n");
}

TEST(rewrite_appends_and_oom_flag)
{
  struct buf out;
  buf_init(&out);
  buf_puts(&out, "prefix|");
  static const char b[] = "HTTP/1.1 200 OK\r\nContent-Type: a\r\n\r\n";
  CHECK(headers_rewrite_for_sse(b, sizeof(b) - 1, "text/event-stream", &out));
  static const char want[] =
      "prefix|HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
  CHECK_MEM(out.ptr, out.len, want, sizeof(want) - 1);
  /* The block is read by length: no NUL terminator needed. */
  char *exact = malloc(sizeof(b) - 1);
  if(exact) {
    memcpy(exact, b, sizeof(b) - 1);
    buf_reset(&out);
    CHECK(headers_rewrite_for_sse(exact, sizeof(b) - 1, "t/e", &out));
    static const char want2[] =
        "HTTP/1.1 200 OK\r\nContent-Type: t/e\r\n\r\n";
    CHECK_MEM(out.ptr, out.len, want2, sizeof(want2) - 1);
    free(exact);
  }
  /* An empty block gives nothing. */
  buf_reset(&out);
  CHECK(headers_rewrite_for_sse("", 0, SSE, &out));
  CHECK(out.len == 0);
  /* A buffer already out of memory reports false. */
  buf_reset(&out);
  out.oom = true;
  CHECK(!headers_rewrite_for_sse(b, sizeof(b) - 1, SSE, &out));
  buf_free(&out);
}

TEST(rewrite_mixed_line_ends)
{
  /* Each written line takes the ending of the line it replaces; an added
   * Content-Type takes the blank line's. */
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: a\n"
      "Server: x\r\n"
      "\r\n",
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: " SSE "\n"
      "Server: x\r\n"
      "\r\n");
  expect_rewrite(
      "HTTP/1.1 200 OK\r\n"
      "Server: x\r\n"
      "\n",
      "HTTP/1.1 200 OK\r\n"
      "Server: x\r\n"
      "Content-Type: " SSE "\n"
      "\n");
}

/* headers_rewrite_for_json of block, with status and length. */
static void json_rewrite_is(const char *block, int status, size_t len,
                            const char *want)
{
  struct buf out;
  buf_init(&out);
  CHECK(headers_rewrite_for_json(block, strlen(block), status, len, &out));
  CHECK_MEM(out.ptr ? out.ptr : "", out.len, want, strlen(want));
  buf_free(&out);
}

TEST(json_rewrite_of_a_stream_block)
{
  json_rewrite_is("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; "
                  "charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Encoding: gzip\r\nx-request-id: r1\r\n\r\n",
                  200, 1234,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "x-request-id: r1\r\nContent-Length: 1234\r\n\r\n");
  /* HTTP/2: lowercase names, a length replaced, a type added */
  json_rewrite_is("HTTP/2 200 \r\ncontent-length: 99\r\ndate: d\r\n\r\n",
                  200, 0,
                  "HTTP/2 200 \r\ndate: d\r\ncontent-type: application/json"
                  "\r\ncontent-length: 0\r\n\r\n");
  json_rewrite_is("HTTP/1.1 200 OK\nContent-Type: text/event-stream\n\n",
                  200, 7,
                  "HTTP/1.1 200 OK\nContent-Type: application/json\n"
                  "Content-Length: 7\n\n");
}

TEST(json_rewrite_carries_an_error_status)
{
  json_rewrite_is("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n",
                  529, 12,
                  "HTTP/1.1 529 \r\nContent-Type: application/json\r\n"
                  "Content-Length: 12\r\n\r\n");
  json_rewrite_is("HTTP/1.1 200 OK\r\n\r\n", 500, 3,
                  "HTTP/1.1 500 Internal Server Error\r\n"
                  "Content-Type: application/json\r\nContent-Length: 3\r\n\r\n");
  json_rewrite_is("HTTP/2 200\r\n\r\n", 429, 3,
                  "HTTP/2 429 \r\ncontent-type: application/json\r\n"
                  "content-length: 3\r\n\r\n");
}

int main(void)
{
  RUN(status_lines);
  RUN(status_bad_lines);
  RUN(status_four_digit_code);
  RUN(is_names);
  RUN(value_of_a_line);
  RUN(value_misses);
  RUN(field_of_a_block);
  RUN(rewrite_http1_crlf);
  RUN(rewrite_lf_only);
  RUN(rewrite_http2_lowercase);
  RUN(rewrite_adds_missing_type);
  RUN(rewrite_keeps_similar_names);
  RUN(rewrite_keeps_other_bytes);
  RUN(rewrite_appends_and_oom_flag);
  RUN(rewrite_mixed_line_ends);
  RUN(json_rewrite_of_a_stream_block);
  RUN(json_rewrite_carries_an_error_status);
  return check_done();
}
