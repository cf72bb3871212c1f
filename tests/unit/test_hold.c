/* test_hold.c - unit tests for hooks/hold.c, the hold-and-transform
 * mechanism, driven as a stage drives it, with a stand-in for the core.
 *
 * The transform is a toy of the reverse direction's shape (a program that
 * does not stream, a model that only streams): an event stream in, one
 * JSON array of its data values out, complete only when the transfer
 * ends or at "data: [DONE]". That it plugs in with no change to hold.c
 * is the point. The stand-in core records what reaches "the program"
 * (each header line, each body call), pauses when told (the piece is
 * taken, nothing more may come until resume) and logs into a buffer. */
#include "check.h"

#include <stdarg.h>
#include <stdlib.h>

#include "hold.h"
#include "log.h"
#include "pure/headers.h"

/* ---- the stand-in core ---- */

struct ss_xfer {
  struct buf order;      /* 'H' per header line, 'B' per body call */
  struct buf headers;    /* the header lines passed on */
  struct buf body;       /* the body calls passed on, each ended by '|' */
  int calls;             /* deliveries so far */
  int pause_at;          /* the delivery that pauses (0: none) */
  int paces;             /* xfer_pace calls */
  int pace_pause_at;     /* the pace that pauses (0: none) */
  unsigned pace_ms;      /* the last pace asked */
  bool paused;
  int while_paused;      /* deliveries or paces while paused: a bug */
  bool replaced;          /* xfer_answer_replaced was called */
  bool decodes;          /* xfer_shim_decodes */
  int failed;            /* xfer_fail_status's status */
  CURLcode fail_code;    /* xfer_fail's code (CURLE_OK: not called) */
  bool fails_on_error;   /* the program asked CURLOPT_FAILONERROR */
};

static struct buf logged;  /* every log line, '\n'-separated */

enum ss_log_level ss_log_level(void)
{
  return SS_LOG_DEBUG;
}

void ss_log(enum ss_log_level level, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  (void)level;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  buf_puts(&logged, line);
  buf_puts(&logged, "\n");
}

static enum ss_flow deliver(struct ss_xfer *x, char kind, const char *p,
                            size_t n)
{
  if(x->paused)
    x->while_paused++;
  buf_append(&x->order, &kind, 1);
  buf_append(kind == 'H' ? &x->headers : &x->body, p, n);
  if(kind == 'B')
    buf_puts(&x->body, "|");
  if(++x->calls == x->pause_at) {
    x->paused = true;
    return SS_PAUSED;  /* taken: the client keeps it */
  }
  return SS_OK;
}

enum ss_flow xfer_pass_header(struct ss_xfer *x, const char *p, size_t n)
{
  return deliver(x, 'H', p, n);
}

enum ss_flow xfer_pass_body(struct ss_xfer *x, const char *p, size_t n)
{
  return deliver(x, 'B', p, n);
}

enum ss_flow xfer_pace(struct ss_xfer *x, unsigned ms)
{
  if(x->paused)
    x->while_paused++;
  x->pace_ms = ms;
  if(++x->paces == x->pace_pause_at) {
    x->paused = true;
    return SS_PAUSED;
  }
  return SS_OK;
}

void xfer_answer_replaced(struct ss_xfer *x)
{
  x->replaced = true;
}

bool xfer_shim_decodes(const struct ss_xfer *x)
{
  return x->decodes;
}

void xfer_note(struct ss_xfer *x, const char *action, const char *why)
{
  (void)x;
  ss_log(SS_LOG_DEBUG, "note %s: %s", action, why);
}

bool xfer_fails_on_status(const struct ss_xfer *x, int status)
{
  return x->fails_on_error && status >= 400;
}

enum ss_flow xfer_fail_status(struct ss_xfer *x, int status)
{
  x->failed = status;
  return SS_FAILED;
}

enum ss_flow xfer_fail(struct ss_xfer *x, CURLcode code, const char *text)
{
  x->fail_code = code;
  ss_log(SS_LOG_INFO, "transfer failed: %s", text);
  return SS_FAILED;
}

/* ---- the toy transform: an event stream in, one JSON array out ---- */

struct join {
  char line[16];      /* the scanned line so far (its first bytes) */
  size_t line_len;
  bool started;       /* a byte was scanned */
  int opens, nexts, closes;
  bool next_fails;    /* next runs out of memory */
};

struct joined {       /* the output being produced */
  struct join *j;
  const char *p, *end;  /* the input not yet read */
  int values;           /* values out */
  bool closed;          /* "]" is out */
};

static enum tf_scan join_scan(void *ctx, const char *p, size_t n, size_t *at,
                              const char **why)
{
  struct join *j = ctx;
  for(size_t i = 0; i < n; i++) {
    if(!j->started && (p[i] == '{' || p[i] == '[')) {
      *why = "not an event stream";
      return TF_BAD;
    }
    j->started = true;
    if(p[i] == '\n') {
      bool done = j->line_len == 12 && !memcmp(j->line, "data: [DONE]", 12);
      j->line_len = 0;
      if(done) {
        *at = i + 1;
        return TF_DONE;
      }
    }
    else if(p[i] != '\r' && j->line_len < sizeof(j->line))
      j->line[j->line_len++] = p[i];
  }
  return TF_MORE;
}

/* The next data value from *p on (not [DONE]); false when none is left. */
static bool next_value(const char **p, const char *end, const char **v,
                       size_t *vn)
{
  while(*p < end) {
    const char *line = *p;
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    const char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if(stop > line && stop[-1] == '\r')
      stop--;
    if(stop - line < 5 || memcmp(line, "data:", 5))
      continue;
    line += 5;
    if(line < stop && *line == ' ')
      line++;
    if(stop - line == 6 && !memcmp(line, "[DONE]", 6))
      continue;
    *v = line;
    *vn = (size_t)(stop - line);
    return true;
  }
  return false;
}

static void *join_open(void *ctx, const char *p, size_t n, const char **why)
{
  struct join *j = ctx;
  const char *cur = p, *v;
  size_t vn;
  j->opens++;
  if(!next_value(&cur, p + n, &v, &vn)) {
    *why = "no data lines";
    return NULL;
  }
  struct joined *s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  s->j = j;
  s->p = p;
  s->end = p + n;
  return s;
}

static int join_next(void *state, struct buf *out)
{
  struct joined *s = state;
  const char *v;
  size_t vn;
  s->j->nexts++;
  if(s->j->next_fails)
    return -1;
  if(s->closed)
    return 0;
  if(next_value(&s->p, s->end, &v, &vn)) {
    buf_puts(out, s->values++ ? "," : "[");
    buf_append(out, v, vn);
  }
  else {
    buf_puts(out, "]");
    s->closed = true;
  }
  return out->oom ? -1 : 1;
}

static void join_close(void *state)
{
  struct joined *s = state;
  s->j->closes++;
  free(s);
}

static bool join_rewrite(void *state, const char *block, size_t n,
                         struct buf *out)
{
  (void)state;
  return headers_rewrite_for_sse(block, n, "application/json", out);
}

static const struct ss_transform sse_join = {
  .scan = join_scan,
  .ends_with_transfer = true,
  .open = join_open,
  .next = join_next,
  .close = join_close,
  .rewrite_headers = join_rewrite
};

/* ---- helpers ---- */

static struct ss_xfer x;
static struct join toy;
static struct hold h;

static void setup(const struct ss_transform *t, size_t max, unsigned pace)
{
  buf_free(&x.order);
  buf_free(&x.headers);
  buf_free(&x.body);
  memset(&x, 0, sizeof(x));
  memset(&toy, 0, sizeof(toy));
  buf_free(&logged);
  hold_init(&h, t, t ? &toy : NULL, max, pace);
}

static void teardown(void)
{
  hold_free(&h);
}

static const char *got(struct buf *b)
{
  const char *s = buf_cstr(b);
  return s ? s : "(oom)";
}

static enum ss_flow hdr(const char *line)
{
  return hold_header(&x, &h, line, strlen(line));
}

static enum ss_flow body(const char *p)
{
  return hold_body(&x, &h, p, strlen(p));
}

static enum ss_flow resume(void)
{
  x.paused = false;
  return hold_pump(&x, &h);
}

static bool log_has(const char *s)
{
  const char *l = buf_cstr(&logged);
  return l && strstr(l, s);
}

/* A 200 answer's block, as an SSE server sends it. */
static void block_200(void)
{
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK(hdr("Content-Type: text/event-stream\r\n") == SS_OK);
  CHECK(hdr("Content-Length: 38\r\n") == SS_OK);
  CHECK(hdr("X-Keep: 1\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
}

#define BLOCK_200 \
  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" \
  "Content-Length: 38\r\nX-Keep: 1\r\n\r\n"
#define BLOCK_JSON \
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Keep: 1\r\n\r\n"

/* ---- the transform path ---- */

/* Nothing reaches the program until the input is complete; at the end of
 * the transfer it is: the rewritten block, then one call per piece. */
TEST(joined_when_the_transfer_ends)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("data: 1\n\nda") == SS_OK);
  CHECK(body("ta: {\"a\":2}\n\n") == SS_OK);
  CHECK_STR(got(&x.order), "");
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.headers), BLOCK_JSON);
  CHECK_STR(got(&x.body), "[1|,{\"a\":2}|]|");
  CHECK_STR(got(&x.order), "HHHHBBB");
  CHECK(x.replaced);
  CHECK(x.paces == 2);  /* between pieces, never before the first */
  CHECK(toy.opens == 1 && toy.nexts == 4);
  teardown();
  CHECK(toy.closes == 1);
}

/* The terminal event completes it inside the body callback; what follows
 * is dropped (a warning when it is not blank). */
TEST(terminal_event_completes_it)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(body("data: 2\n\ndata: [DONE]\n\n") == SS_OK);
  CHECK_STR(got(&x.body), "[1|,2|]|");
  CHECK(body("\n") == SS_OK);
  CHECK(!log_has("dropped"));
  CHECK(body("junk") == SS_OK);
  CHECK(log_has("dropped 4 bytes after the replayed answer"));
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.body), "[1|,2|]|");
  CHECK(toy.opens == 1);
  teardown();
}

/* A pause stops the pieces; resume goes on where it stopped, nothing lost
 * or sent twice. */
TEST(pause_and_resume_in_the_output)
{
  setup(&sse_join, 1000, 0);
  x.pause_at = 6;  /* four header lines, then the second piece */
  block_200();
  CHECK(body("data: 1\n\ndata: 2\n\ndata: 3\n\n") == SS_OK);
  CHECK(body("data: [DONE]\n\n") == SS_PAUSED);
  CHECK_STR(got(&x.body), "[1|,2|");
  CHECK(resume() == SS_OK);
  CHECK_STR(got(&x.body), "[1|,2|,3|]|");
  CHECK(resume() == SS_OK);
  CHECK_STR(got(&x.order), "HHHHBBBB");
  CHECK(x.while_paused == 0);
  teardown();
}

TEST(pause_in_the_header_block)
{
  setup(&sse_join, 1000, 0);
  x.pause_at = 2;
  block_200();
  CHECK(body("data: 1\n\ndata: [DONE]\n\n") == SS_PAUSED);
  CHECK_STR(got(&x.order), "HH");
  CHECK(resume() == SS_OK);
  CHECK_STR(got(&x.headers), BLOCK_JSON);
  CHECK_STR(got(&x.body), "[1|]|");
  CHECK(x.while_paused == 0);
  teardown();
}

/* A pace that pauses holds the piece it was for: resume sends it without
 * pacing again, and each piece is produced once. */
TEST(paced_pieces)
{
  setup(&sse_join, 1000, 7);
  x.pace_pause_at = 2;
  block_200();
  CHECK(body("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: [DONE]\n") == SS_PAUSED);
  CHECK_STR(got(&x.body), "[1|,2|");
  CHECK(x.pace_ms == 7 && x.paces == 2);
  CHECK(resume() == SS_OK);
  CHECK_STR(got(&x.body), "[1|,2|,3|]|");
  CHECK(x.paces == 3);
  CHECK(toy.nexts == 5);
  CHECK(x.while_paused == 0);
  teardown();
}

TEST(out_of_memory_in_next_fails_the_transfer)
{
  setup(&sse_join, 1000, 0);
  toy.next_fails = true;
  block_200();
  CHECK(body("data: 1\n\ndata: [DONE]\n\n") == SS_FAILED);
  CHECK(log_has("out of memory while replaying"));
  CHECK_STR(got(&x.body), "");
  teardown();
}

/* ---- giving up: what was held goes out unchanged ---- */

TEST(give_up_on_input_the_scan_refuses)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("{\"not\":") == SS_OK);
  CHECK_STR(got(&x.headers), BLOCK_200);
  CHECK_STR(got(&x.body), "{\"not\":|");
  CHECK(body("\"sse\"}") == SS_OK);
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.body), "{\"not\":|\"sse\"}|");
  CHECK(log_has("answer passed through unchanged: not an event stream"));
  CHECK(!x.replaced && toy.opens == 0);
  teardown();
}

TEST(give_up_when_open_refuses)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("event: ping\n") == SS_OK);
  CHECK(body("\n") == SS_OK);
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.headers), BLOCK_200);
  CHECK_STR(got(&x.body), "event: ping\n\n|");
  CHECK(log_has("answer passed through unchanged: no data lines"));
  CHECK(!x.replaced && toy.opens == 1 && toy.closes == 0);
  teardown();
}

TEST(give_up_when_cut_short)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("data: 1\n\n") == SS_OK);
  hold_end(&x, &h, CURLE_PARTIAL_FILE);
  CHECK_STR(got(&x.body), "data: 1\n\n|");
  CHECK(log_has("ended before the answer was complete"));
  teardown();
  /* an input the end does not complete (a JSON answer) */
  struct ss_transform t = sse_join;
  t.ends_with_transfer = false;
  setup(&t, 1000, 0);
  block_200();
  CHECK(body("data: 1\n\n") == SS_OK);
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.headers), BLOCK_200);
  CHECK_STR(got(&x.body), "data: 1\n\n|");
  CHECK(toy.opens == 0);
  teardown();
}

TEST(give_up_without_a_body)
{
  setup(&sse_join, 1000, 0);
  block_200();
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.headers), BLOCK_200);
  CHECK_STR(got(&x.order), "HHHHH");
  CHECK(log_has("the transfer ended without a body"));
  teardown();
}

/* Over the limit: the input so far goes out in write-sized calls, paused
 * and resumed like any other, and the rest passes through after it. */
TEST(give_up_over_the_limit_with_a_pause)
{
  static char big[10001];
  setup(&sse_join, 30000, 0);
  memset(big, 'x', 10000);
  memcpy(big, "data: ", 6);
  x.pause_at = 6;
  block_200();
  for(int i = 0; i < 3; i++)
    CHECK(body(big) == SS_OK);
  CHECK_STR(got(&x.order), "");
  CHECK(body(big) == SS_PAUSED);  /* 40000 > 30000 */
  CHECK_STR(got(&x.order), "HHHHHB");
  CHECK(log_has("the answer is larger than max_answer"));
  CHECK(x.body.len == CURL_MAX_WRITE_SIZE + 1);
  CHECK(resume() == SS_OK);
  CHECK(body("tail") == SS_OK);
  CHECK_STR(got(&x.order), "HHHHHBBBB");
  CHECK(x.body.len == 40000 + 4 + 4);
  CHECK(!memcmp(x.body.ptr + 40000 + 3, "tail|", 5));
  CHECK(x.while_paused == 0);
  teardown();
}

TEST(give_up_drops_encoding_the_shim_decoded)
{
  setup(&sse_join, 1000, 0);
  x.decodes = true;
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK(hdr("Content-Encoding: gzip\r\n") == SS_OK);
  CHECK(hdr("Content-Length: 10\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("[1]") == SS_OK);
  CHECK_STR(got(&x.headers), "HTTP/1.1 200 OK\r\n\r\n");
  CHECK_STR(got(&x.body), "[1]|");
  teardown();
}

/* ---- which blocks are held ---- */

/* 1xx and error blocks go out at once; a 2xx block followed by another
 * (a proxy's CONNECT answer) was not final and goes out unchanged, before
 * the final one (with it: nothing is sent from a status line). */
TEST(only_the_final_2xx_block_is_held)
{
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 100 Continue\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK_STR(got(&x.order), "HH");
  CHECK(hdr("HTTP/1.1 200 Connection established\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK_STR(got(&x.order), "HH");
  block_200();
  CHECK_STR(got(&x.headers), "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(body("data: 1\n\ndata: [DONE]\n\n") == SS_OK);
  CHECK_STR(got(&x.headers), "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 Connection established\r\n\r\n"
                             BLOCK_JSON);
  CHECK_STR(got(&x.body), "[1|]|");
  teardown();
}

TEST(an_error_answer_passes_untouched)
{
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 404 Not Found\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(body("data: [DONE]\n\n") == SS_OK);
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.order), "HHBB");
  CHECK_STR(got(&x.body), "data: 1\n\n|data: [DONE]\n\n|");
  CHECK(toy.opens == 0 && !x.replaced);
  teardown();
}

/* Trailers follow whatever body the program gets. */
TEST(trailers_follow_the_output)
{
  setup(&sse_join, 1000, 0);
  block_200();
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(hdr("X-Trailer: 1\r\n") == SS_OK);
  CHECK_STR(got(&x.order), "");
  hold_end(&x, &h, CURLE_OK);
  CHECK_STR(got(&x.order), "HHHHBBH");
  CHECK(x.headers.len >= 14 &&
        !memcmp(x.headers.ptr + x.headers.len - 14, "X-Trailer: 1\r\n", 14));
  teardown();
}

/* ---- the parts a judging stage uses (fallback.c) ---- */

TEST(kept_lines_and_the_last_block)
{
  size_t n;
  setup(NULL, 0, 0);
  CHECK(hold_keep(&h, "HTTP/1.1 301 Moved\r\n", 20));
  CHECK(hold_keep(&h, "Content-Type: text/html\r\n", 25));
  CHECK(hold_keep(&h, "\r\n", 2));
  CHECK(hold_keep(&h, "HTTP/1.1 400 Bad\r\n", 18));
  CHECK(!hold_field(&h, "Content-Type", &n));
  CHECK(hold_keep(&h, "Content-Length: 5\r\n", 19));
  const char *v = hold_field(&h, "Content-Length", &n);
  CHECK(v && n == 1 && *v == '5');
  CHECK(h.holding);
  CHECK(hold_pump(&x, &h) == SS_OK);
  CHECK_STR(got(&x.order), "");
  teardown();
}

/* A refusal: nothing of it, not even the block, reaches the program. */
TEST(swallow_sends_nothing)
{
  size_t n;
  setup(NULL, 0, 0);
  CHECK(hold_keep(&h, "HTTP/1.1 400 Bad\r\n", 18));
  CHECK(hold_keep(&h, "\r\n", 2));
  CHECK(hold_collect(&h, "{\"error\":1}", 11));
  CHECK(hold_input(&h, &n) && n == 11 && h.state == HOLD_COLLECT);
  hold_swallow(&h);
  CHECK(hold_pump(&x, &h) == SS_OK);
  CHECK(h.state == HOLD_SWALLOW && !h.holding);
  CHECK_STR(got(&x.order), "");
  teardown();
}

TEST(fail_sends_the_block_only)
{
  setup(NULL, 0, 0);
  CHECK(hold_keep(&h, "HTTP/1.1 400 Bad\r\n", 18));
  CHECK(hold_keep(&h, "\r\n", 2));
  CHECK(hold_collect(&h, "{\"error\":1}", 11));
  CHECK(hold_fail(&x, &h, 400) == SS_FAILED);
  CHECK(x.failed == 400);
  CHECK_STR(got(&x.headers), "HTTP/1.1 400 Bad\r\n\r\n");
  CHECK_STR(got(&x.order), "HH");
  teardown();
}

/* Not a refusal: the held blocks go out, then the body, in order, also
 * when the program pauses in between. */
TEST(pass_body_releases_what_is_held_first)
{
  setup(NULL, 0, 0);
  x.pause_at = 1;
  CHECK(hold_keep(&h, "HTTP/1.1 200 OK\r\n", 17));
  CHECK(hold_keep(&h, "\r\n", 2));
  CHECK(hold_pass_body(&x, &h, "abc", 3) == SS_PAUSED);
  CHECK_STR(got(&x.order), "H");
  CHECK(resume() == SS_OK);
  CHECK(hold_pass_body(&x, &h, "def", 3) == SS_OK);
  CHECK(hold_pass_header(&x, &h, "X-Trailer: 1\r\n", 14) == SS_OK);
  CHECK_STR(got(&x.order), "HHBBH");
  CHECK_STR(got(&x.body), "abc|def|");
  CHECK(x.while_paused == 0);
  teardown();
}

TEST(give_up_releases_the_held_input)
{
  setup(NULL, 0, 0);
  CHECK(hold_keep(&h, "HTTP/1.1 400 Bad\r\n", 18));
  CHECK(hold_keep(&h, "\r\n", 2));
  CHECK(hold_collect(&h, "{\"err", 5));
  CHECK(hold_collect(&h, "or\":1}", 6));
  CHECK_STR(got(&x.order), "");
  CHECK(hold_give_up(&x, &h, "not a refusal") == SS_OK);
  CHECK_STR(got(&x.headers), "HTTP/1.1 400 Bad\r\n\r\n");
  CHECK_STR(got(&x.body), "{\"error\":1}|");
  CHECK(log_has("answer passed through unchanged: not a refusal"));
  teardown();
}

/* Out of memory keeping a line (make torture found it lost): a preset
 * oom makes the next append fail as a failed realloc does. What is held
 * goes out unchanged, then the line, then the rest as it comes. */
TEST(a_line_that_cannot_be_held_goes_out_in_order)
{
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK_STR(got(&x.order), "");
  h.held.oom = true;
  CHECK(hdr("Content-Type: text/event-stream\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK_STR(got(&x.headers), "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/event-stream\r\n\r\n");
  CHECK_STR(got(&x.body), "data: 1\n\n|");
  CHECK(log_has("answer passed through unchanged: out of memory"));
  teardown();
}

TEST(a_line_that_cannot_be_queued_goes_out_in_order)
{
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 100 Continue\r\n") == SS_OK);
  h.queue.oom = true;
  CHECK(hdr("\r\n") == SS_OK);
  CHECK_STR(got(&x.order), "HH");
  CHECK_STR(got(&x.headers), "HTTP/1.1 100 Continue\r\n\r\n");
  teardown();
}

/* Lines lost where they cannot be passed on at once (trailers behind a
 * body still going out): the transfer fails, it never ends without them. */
TEST(lost_trailers_fail_the_transfer)
{
  setup(NULL, 0, 0);
  CHECK(hold_keep(&h, "HTTP/1.1 400 Bad\r\n", 18));
  CHECK(hold_keep(&h, "\r\n", 2));
  h.trailers.oom = true;
  CHECK(hold_give_up(&x, &h, "not a refusal") == SS_FAILED);
  CHECK(log_has("out of memory holding header lines"));
  teardown();
}

/* The input is reserved from the block's Content-Length at its first
 * byte (no doubling overshoot), not for an encoded body nor beyond the
 * limit, and freed once the output is complete. */
TEST(input_reserved_from_content_length)
{
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK(hdr("Content-Type: text/event-stream\r\n") == SS_OK);
  CHECK(hdr("Content-Length: 200\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(h.input.cap == 201);
  teardown();
  setup(&sse_join, 1000, 0);
  block_200();  /* Content-Length: 38, under the first allocation's 64 */
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(h.input.cap == 64);
  CHECK(body("data: 2\n\ndata: [DONE]\n\n") == SS_OK);
  CHECK_STR(got(&x.body), "[1|,2|]|");
  CHECK(h.state == HOLD_DONE && !h.input.ptr && !h.piece.ptr);
  teardown();
  setup(&sse_join, 1000, 0);
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK(hdr("Content-Type: text/event-stream\r\n") == SS_OK);
  CHECK(hdr("Content-Length: 5000\r\n") == SS_OK);
  CHECK(hdr("Content-Encoding: gzip\r\n") == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(h.input.cap == 64);  /* decoded bytes may be more: not reserved */
  teardown();
  setup(&sse_join, 100, 0);
  CHECK(hdr("HTTP/1.1 200 OK\r\n") == SS_OK);
  CHECK(hdr("Content-Type: text/event-stream\r\n") == SS_OK);
  CHECK(hdr("Content-Length: 200\r\n") == SS_OK);  /* over the limit */
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(body("data: 1\n\n") == SS_OK);
  CHECK(h.input.cap == 64);
  teardown();
}

int main(void)
{
  RUN(joined_when_the_transfer_ends);
  RUN(terminal_event_completes_it);
  RUN(pause_and_resume_in_the_output);
  RUN(pause_in_the_header_block);
  RUN(paced_pieces);
  RUN(out_of_memory_in_next_fails_the_transfer);
  RUN(give_up_on_input_the_scan_refuses);
  RUN(give_up_when_open_refuses);
  RUN(give_up_when_cut_short);
  RUN(give_up_without_a_body);
  RUN(give_up_over_the_limit_with_a_pause);
  RUN(give_up_drops_encoding_the_shim_decoded);
  RUN(only_the_final_2xx_block_is_held);
  RUN(an_error_answer_passes_untouched);
  RUN(trailers_follow_the_output);
  RUN(kept_lines_and_the_last_block);
  RUN(swallow_sends_nothing);
  RUN(fail_sends_the_block_only);
  RUN(pass_body_releases_what_is_held_first);
  RUN(give_up_releases_the_held_input);
  RUN(a_line_that_cannot_be_held_goes_out_in_order);
  RUN(a_line_that_cannot_be_queued_goes_out_in_order);
  RUN(lost_trailers_fail_the_transfer);
  RUN(input_reserved_from_content_length);
  buf_free(&logged);
  return check_done();
}
