/* test_sse_read.c - the incremental SSE reader (hooks/pure/sse_read.c).
 *
 * Each case writes out the events a stream must give, as
 * "[name|data]" records, and checks them for the whole input and for
 * every split of it: in two pieces at every offset, byte by byte, and in
 * pieces of every size up to 17. Then: stopping after an event and
 * resuming where *used says, max_event, and what is pending at the end. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "sse_read.h"

/* ---- recording events ---- */

struct rec {
  struct buf out;    /* "[name|data]" per event */
  long stop_after;   /* return false after this many events (-1: never) */
  long count;
};

/* The reader's callback: record the event. */
static bool rec_event(void *arg, const struct sse_event *ev)
{
  struct rec *r = arg;
  buf_puts(&r->out, "[");
  buf_append(&r->out, ev->name, ev->name_len);
  buf_puts(&r->out, "|");
  buf_append(&r->out, ev->data, ev->data_len);
  buf_puts(&r->out, "]");
  r->count++;
  return r->stop_after < 0 || r->count < r->stop_after;
}

/* Feed s (n bytes) at the cut points cuts[0..ncuts) (increasing) into a
 * new reader; the records in out, whether an event is pending. */
static bool feed_cuts(const char *s, size_t n, const size_t *cuts,
                      size_t ncuts, struct buf *out)
{
  struct sse_reader rd;
  struct rec r = {{0}, -1, 0};
  size_t at = 0, used;
  sse_read_init(&rd, 0);
  buf_init(&r.out);
  for(size_t i = 0; i <= ncuts; i++) {
    size_t to = i < ncuts ? cuts[i] : n;
    CHECK(sse_read_feed(&rd, s + at, to - at, rec_event, &r, &used) ==
          SSE_READ_OK);
    CHECK(used == to - at);
    at = to;
  }
  bool pending = sse_read_pending(&rd);
  buf_append(out, r.out.ptr, r.out.len);
  buf_free(&r.out);
  sse_read_free(&rd);
  return pending;
}

/* Check that s gives exactly the records want, and the pending state,
 * however it is split. */
static void expect_split(const char *s, size_t n, const char *want,
                         bool pending)
{
  struct buf got;
  size_t *cuts = malloc((n + 1) * sizeof(*cuts));
  buf_init(&got);
  CHECK(feed_cuts(s, n, NULL, 0, &got) == pending);
  CHECK_MEM(got.ptr, got.len, want, strlen(want));
  for(size_t at = 0; at <= n; at++) {  /* two pieces */
    buf_reset(&got);
    cuts[0] = at;
    CHECK(feed_cuts(s, n, cuts, 1, &got) == pending);
    CHECK_MEM(got.ptr, got.len, want, strlen(want));
  }
  for(size_t step = 1; step <= 17; step++) {  /* even pieces */
    size_t k = 0;
    for(size_t at = step; at < n; at += step)
      cuts[k++] = at;
    buf_reset(&got);
    CHECK(feed_cuts(s, n, cuts, k, &got) == pending);
    CHECK_MEM(got.ptr, got.len, want, strlen(want));
  }
  free(cuts);
  buf_free(&got);
}

#define EXPECT(s, want, pending) expect_split(s, sizeof(s) - 1, want, pending)

/* ---- framing ---- */

TEST(one_event)
{
  EXPECT("data: {\"a\":1}\n\n", "[|{\"a\":1}]", false);
}

TEST(space_after_colon_is_optional)
{
  EXPECT("data:x\n\ndata: x\n\ndata:  x\n\n", "[|x][|x][| x]", false);
}

TEST(multi_line_data_joined_with_lf)
{
  EXPECT("data: a\ndata:\ndata: c\n\n", "[|a\n\nc]", false);
}

TEST(event_names)
{
  EXPECT("event: error\ndata: {}\n\nevent:ping\nevent: last\ndata: 1\n\n",
         "[error|{}][last|1]", false);
}

TEST(name_without_data_dispatches)
{
  /* openai-node dispatches an event that has a name and no data; an
   * empty name with no data is nothing */
  EXPECT("event: ping\n\nevent:\n\n", "[ping|]", false);
}

TEST(empty_data_line_dispatches_empty_data)
{
  EXPECT("data\n\ndata:\n\n", "[|][|]", false);
}

TEST(comments_and_blank_lines)
{
  EXPECT(": keep-alive\n\n:\n\n\n\n: x\ndata: 1\n: y\n\n", "[|1]", false);
}

TEST(other_fields_ignored)
{
  EXPECT("id: 7\nretry: 100\nfoo: bar\nfoo\n\nid: 8\ndata: z\n\n", "[|z]",
         false);
}

TEST(line_ends_crlf_cr_lf)
{
  EXPECT("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\ndata: e\r\n\n",
         "[|a][|b][|c][|d\ne]", false);
}

TEST(cr_then_lf_is_one_line_end_across_pieces)
{
  /* "\r" "\n" "\r" "\n": two line ends, however split; "\n\r" is two */
  EXPECT("data: a\r\n\r\n", "[|a]", false);
  EXPECT("data: a\n\rdata: b\n\r", "[|a][|b]", false);
}

TEST(bom_skipped_once)
{
  EXPECT("\xEF\xBB\xBF" "data: a\n\n", "[|a]", false);
  /* only at the very start: later it is text (here in the field name) */
  EXPECT("data: a\n\n\xEF\xBB\xBF" "data: b\n\n", "[|a]", false);
  /* a BOM-like start that is not one is text */
  EXPECT("\xEF\xBB" "data: a\n\ndata: b\n\n", "[|b]", false);
  EXPECT("\xEF\n\ndata: b\n\n", "[|b]", false);
}

TEST(bom_then_data_value_keeps_bytes)
{
  EXPECT("data: \xEF\xBB\xBF" "x\n\n", "[|\xEF\xBB\xBFx]", false);
}

TEST(colon_in_value_kept)
{
  EXPECT("data: {\"a\":\"b:c\"}\n\n", "[|{\"a\":\"b:c\"}]", false);
}

TEST(final_event_without_blank_line_is_pending)
{
  EXPECT("data: a\n\ndata: b\n", "[|a]", true);
  EXPECT("data: a\n\ndata: b", "[|a]", true);
  EXPECT("data: a\n\nevent: x\n", "[|a]", true);
  EXPECT("data: a\n\nda", "[|a]", true);
}

TEST(nothing_pending_after_comments_and_ignored_fields)
{
  EXPECT("data: a\n\n: keep-alive\n", "[|a]", false);
  EXPECT("data: a\n\n: keep-al", "[|a]", false);
  EXPECT("data: a\n\nid: 3\n", "[|a]", false);
  EXPECT("data: a\n\n\n\n", "[|a]", false);
  EXPECT("", "", false);
}

TEST(real_stream_mixed)
{
  EXPECT(": OPENROUTER PROCESSING\r\n\r\n"
         "data: {\"choices\":[{\"delta\":{\"content\":\"a\\n\\nb\"}}]}\r\n\r\n"
         "event: message\r\ndata: [DONE]\r\n\r\n",
         "[|{\"choices\":[{\"delta\":{\"content\":\"a\\n\\nb\"}}]}]"
         "[message|[DONE]]", false);
}

/* ---- stopping, limits ---- */

TEST(stop_after_event_then_resume)
{
  static const char s[] = "data: 1\r\n\r\ndata: 2\n\ndata: 3\r\r";
  struct sse_reader rd;
  struct rec r = {{0}, 1, 0};
  size_t at = 0, used;
  int rc;
  sse_read_init(&rd, 0);
  buf_init(&r.out);
  /* stops after each event; *used is just past the blank line's end */
  rc = sse_read_feed(&rd, s, sizeof(s) - 1, rec_event, &r, &used);
  CHECK(rc == SSE_READ_STOPPED);
  CHECK(used == 10);  /* after "\r\n\r": the LF is the same line end */
  at += used;
  r.stop_after = 2;
  rc = sse_read_feed(&rd, s + at, sizeof(s) - 1 - at, rec_event, &r, &used);
  CHECK(rc == SSE_READ_STOPPED);
  CHECK(at + used == 20);
  at += used;
  r.stop_after = -1;
  rc = sse_read_feed(&rd, s + at, sizeof(s) - 1 - at, rec_event, &r, &used);
  CHECK(rc == SSE_READ_OK);
  CHECK(at + used == sizeof(s) - 1);
  CHECK_MEM(r.out.ptr, r.out.len, "[|1][|2][|3]", 12);
  CHECK(!sse_read_pending(&rd));
  buf_free(&r.out);
  sse_read_free(&rd);
}

/* Feed s whole into a reader with max_event limit; the result. */
static int feed_limited(const char *s, size_t limit, struct buf *out)
{
  struct sse_reader rd;
  struct rec r = {{0}, -1, 0};
  size_t used;
  sse_read_init(&rd, limit);
  buf_init(&r.out);
  int rc = sse_read_feed(&rd, s, strlen(s), rec_event, &r, &used);
  buf_append(out, r.out.ptr, r.out.len);
  buf_free(&r.out);
  sse_read_free(&rd);
  return rc;
}

TEST(max_event_bounds_lines_and_data)
{
  struct buf out;
  buf_init(&out);
  /* "data: 12345" is 11 bytes; its data 5 */
  CHECK(feed_limited("data: 12345\n\n", 11, &out) == SSE_READ_OK);
  CHECK_STR(buf_cstr(&out), "[|12345]");
  buf_reset(&out);
  CHECK(feed_limited("data: 12345\n\n", 10, &out) == SSE_READ_TOO_BIG);
  CHECK(out.len == 0);
  /* data lines add up: 5 + 1 + 5 kept, the second line counted with them */
  buf_reset(&out);
  CHECK(feed_limited("data: 12345\ndata: 12345\n\n", 16, &out) ==
        SSE_READ_OK);
  buf_reset(&out);
  CHECK(feed_limited("data: 12345\ndata: 12345\n\n", 15, &out) ==
        SSE_READ_TOO_BIG);
  /* a limit is per event: many small events pass */
  buf_reset(&out);
  CHECK(feed_limited("data: 1\n\ndata: 2\n\ndata: 3\n\n", 8, &out) ==
        SSE_READ_OK);
  CHECK_STR(buf_cstr(&out), "[|1][|2][|3]");
  /* comments count while their line is read */
  buf_reset(&out);
  CHECK(feed_limited(": a very long comment line\n\n", 8, &out) ==
        SSE_READ_TOO_BIG);
  buf_free(&out);
}

TEST(big_event_unlimited)
{
  struct buf s, want, got;
  buf_init(&s);
  buf_init(&want);
  buf_init(&got);
  buf_puts(&s, "data: ");
  buf_puts(&want, "[|");
  for(int i = 0; i < 200000; i++) {
    buf_append(&s, "x", 1);
    buf_append(&want, "x", 1);
  }
  buf_puts(&s, "\n\n");
  buf_puts(&want, "]");
  size_t cuts[3] = {1, 70001, 200007};
  CHECK(!feed_cuts(s.ptr, s.len, cuts, 3, &got));
  CHECK(got.len == want.len && !memcmp(got.ptr, want.ptr, got.len));
  buf_free(&s);
  buf_free(&want);
  buf_free(&got);
}

/* Feed s whole, then end the stream: the records, in order. */
static void expect_at_end(const char *s, const char *want)
{
  struct sse_reader r;
  struct rec rc = {{0}, -1, 0};
  buf_init(&rc.out);
  sse_read_init(&r, 0);
  CHECK(sse_read_feed(&r, s, strlen(s), rec_event, &rc, NULL) == SSE_READ_OK);
  CHECK(sse_read_end(&r, rec_event, &rc) == SSE_READ_OK);
  CHECK(!sse_read_pending(&r));
  CHECK_MEM(rc.out.ptr ? rc.out.ptr : "", rc.out.len, want, strlen(want));
  sse_read_free(&r);
  buf_free(&rc.out);
}

TEST(end_dispatches_the_last_event_without_its_blank_line)
{
  expect_at_end("data: a\n\ndata: [DONE]\n", "[|a][|[DONE]]");
  expect_at_end("data: a\n\ndata: [DONE]", "[|a][|[DONE]]");
  expect_at_end("data: a\n\nevent: e\r\ndata: x\r", "[|a][e|x]");
  expect_at_end("data: a\n\n", "[|a]");               /* nothing left */
  expect_at_end("data: a\n\n: keep-alive", "[|a]");   /* a comment */
  expect_at_end("data: a\n\nid: 7\n", "[|a]");        /* no data, no name */
  expect_at_end("", "");
}

int main(void)
{
  RUN(one_event);
  RUN(space_after_colon_is_optional);
  RUN(multi_line_data_joined_with_lf);
  RUN(event_names);
  RUN(name_without_data_dispatches);
  RUN(empty_data_line_dispatches_empty_data);
  RUN(comments_and_blank_lines);
  RUN(other_fields_ignored);
  RUN(line_ends_crlf_cr_lf);
  RUN(cr_then_lf_is_one_line_end_across_pieces);
  RUN(bom_skipped_once);
  RUN(bom_then_data_value_keeps_bytes);
  RUN(colon_in_value_kept);
  RUN(final_event_without_blank_line_is_pending);
  RUN(nothing_pending_after_comments_and_ignored_fields);
  RUN(real_stream_mixed);
  RUN(stop_after_event_then_resume);
  RUN(max_event_bounds_lines_and_data);
  RUN(big_event_unlimited);
  RUN(end_dispatches_the_last_event_without_its_blank_line);
  return check_done();
}
