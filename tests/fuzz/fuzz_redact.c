/* fuzz_redact.c - libFuzzer harness for hooks/pure/redact.c.
 *
 *   make build/fuzz/fuzz_redact && build/fuzz/fuzz_redact -max_total_time=60
 *
 * The input is used three ways:
 *  - as raw bytes given to every writer (a header line, a header value, a
 *    URL, JSON, a form, a body of several types): nothing crashes; each
 *    writer appends after what out held; redact_json() accepts exactly
 *    what json_parse() accepts and its output is JSON again; with
 *    redaction off, and with all three lists emptied, the output is the
 *    input byte for byte (for URLs and header lines: when the input has
 *    no '@', since userinfo is always redacted);
 *  - as a spec for redact_rules_edit(): the lists stay well-formed (at
 *    most 64 names of 1 to 63 bytes, no control byte, no two equal in any
 *    case) and a removal is never applied when the spec was refused for
 *    a malformed item;
 *  - with a marker secret planted where it must be redacted: after a
 *    listed header name, in a URL's userinfo and a listed query key, in a
 *    listed form key, and in listed members around the input when it is
 *    JSON (and, first byte odd, in a JSON document built from the input
 *    as a recipe, one byte per member, which raw bytes rarely reach; some
 *    nest deeper than json.h's limit, which the body's lenient pass
 *    covers); the marker never survives, in the whole text nor in any
 *    prefix of it (a body cut at the capture limit).
 * Without libFuzzer, -DSS_FUZZ_MAIN builds a main() that runs files. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "json.h"
#include "redact.h"

#define FUZZ_NAME "fuzz_redact"
#include "fuzz_util.h"

#define MARK "ZQXMARK"

static struct redact_rules defaults, empty, off;

static void rules_once(void)
{
  static bool done;
  if(done)
    return;
  done = true;
  redact_rules_default(&defaults);
  redact_rules_default(&off);
  off.off = true;
  memset(&empty, 0, sizeof(empty));
}

static bool has(const char *p, size_t n, const char *s)
{
  return memmem(p, n, s, strlen(s)) != NULL;
}

/* The writers, one shape. */
enum writer { W_LINE, W_VALUE, W_URL, W_JSON, W_FORM, W_BODY_JSON,
              W_BODY_FORM, W_BODY_SSE, W_BODY_OTHER, W_COUNT };

static bool run(const struct redact_rules *r, enum writer w, const char *p,
                size_t n, struct buf *out)
{
  switch(w) {
  case W_LINE: return redact_header_line(r, p, n, out);
  case W_VALUE: return redact_header_value(r, "Location", 8, p, n, out);
  case W_URL: return redact_url(r, p, n, out);
  case W_JSON: return redact_json(r, p, n, out);
  case W_FORM: return redact_form(r, p, n, out);
  case W_BODY_JSON: return redact_body(r, "application/json", p, n, out);
  case W_BODY_FORM:
    return redact_body(r, "application/x-www-form-urlencoded", p, n, out);
  case W_BODY_SSE: return redact_body(r, "text/event-stream", p, n, out);
  default: return redact_body(r, NULL, p, n, out);
  }
}

/* Run writer w on [p, p+n) after a prefix; the output (prefix dropped)
 * goes to res. False when the writer returned false. */
static bool run_checked(const struct redact_rules *r, enum writer w,
                        const char *p, size_t n, struct buf *res)
{
  struct buf out;
  buf_init(&out);
  buf_puts(&out, "<>");
  bool ok = run(r, w, p, n, &out);
  if(out.oom) {
    buf_free(&out);
    return false;
  }
  fuzz_assert(out.len >= 2 && !memcmp(out.ptr, "<>", 2), "prefix lost");
  fuzz_assert(ok || out.len == 2, "a refusal wrote");
  buf_reset(res);
  buf_append(res, out.ptr + 2, out.len - 2);
  buf_free(&out);
  return ok;
}

/* The raw input through every writer. */
static void check_raw(const char *p, size_t n)
{
  struct json_span doc;
  struct buf a, b;
  bool at = memchr(p, '@', n) != NULL;
  bool is_json = json_parse(p, n, &doc);
  buf_init(&a);
  buf_init(&b);
  for(int w = 0; w < W_COUNT; w++) {
    bool ok = run_checked(&defaults, (enum writer)w, p, n, &a);
    if(w == W_JSON) {
      fuzz_assert(ok == is_json, "redact_json and json_parse disagree");
      if(ok)
        fuzz_assert(json_parse(a.ptr ? a.ptr : "", a.len, &doc),
                    "redacted JSON is not JSON");
    }
    else
      fuzz_assert(ok, "a writer failed");
    /* Deterministic. */
    run_checked(&defaults, (enum writer)w, p, n, &b);
    fuzz_assert(fuzz_same_buf(&a, &b), "two runs differ");
    /* Off copies; empty lists copy (userinfo aside). */
    ok = run_checked(&off, (enum writer)w, p, n, &a);
    fuzz_assert(ok && a.len == n && (!n || !memcmp(a.ptr, p, n)),
                "off changed bytes");
    ok = run_checked(&empty, (enum writer)w, p, n, &a);
    if(ok && (!at || (w != W_LINE && w != W_VALUE && w != W_URL)))
      fuzz_assert(a.len == n && (!n || !memcmp(a.ptr, p, n)),
                  "empty lists changed bytes");
  }
  buf_free(&a);
  buf_free(&b);
}

/* The input as an edit spec. */
static void check_edit(const char *p, size_t n)
{
  struct redact_rules r;
  size_t items = 1;
  for(size_t i = 0; i < n; i++)
    items += p[i] == ',';
  for(int l = 0; l < REDACT_LISTS; l++) {
    redact_rules_default(&r);
    unsigned before = r.lists[l].n;
    bool ok = redact_rules_edit(&r, (enum redact_list)l, p, n);
    const struct redact_names *names = &r.lists[l];
    fuzz_assert(names->n <= REDACT_NAMES_MAX, "list overflow");
    for(unsigned i = 0; i < names->n; i++) {
      size_t len = strlen(names->v[i]);
      fuzz_assert(len >= 1 && len <= REDACT_NAME_MAX, "bad name length");
      for(size_t k = 0; k < len; k++)
        fuzz_assert((unsigned char)names->v[i][k] >= 0x20 &&
                    names->v[i][k] != 0x7f, "control byte in a name");
      for(unsigned j = 0; j < i; j++)
        fuzz_assert(strlen(names->v[j]) != len ||
                    strcasecmp(names->v[i], names->v[j]), "a name twice");
    }
    /* Fewer than 50 items never fill a list: refused means malformed,
     * and then nothing is removed. */
    if(!ok && items < 50) {
      struct redact_rules d;
      redact_rules_default(&d);
      fuzz_assert(names->n >= before, "a refused spec removed names");
      for(unsigned i = 0; i < d.lists[l].n; i++)
        fuzz_assert(redact_rules_has(&r, (enum redact_list)l,
                                     d.lists[l].v[i],
                                     strlen(d.lists[l].v[i])),
                    "a refused spec removed a built-in name");
    }
  }
}

/* Writer w on text and (prefixes) on its prefixes: each cut from 16
 * bytes before the first MARK to 16 after it, and 8 more spread over the
 * text. No MARK in any output. */
static void no_mark(enum writer w, const struct buf *text, bool prefixes)
{
  struct buf res;
  const char *m = memmem(text->ptr, text->len, MARK, strlen(MARK));
  size_t at = m ? (size_t)(m - text->ptr) : 0;
  size_t lo = at > 16 ? at - 16 : 0, hi = at + strlen(MARK) + 16;
  buf_init(&res);
  run_checked(&defaults, w, text->ptr, text->len, &res);
  fuzz_assert(!has(res.ptr ? res.ptr : "", res.len, MARK),
              "a planted secret survived");
  for(size_t cut = lo; prefixes && m && cut <= hi && cut < text->len; cut++) {
    run_checked(&defaults, w, text->ptr, cut, &res);
    fuzz_assert(!has(res.ptr ? res.ptr : "", res.len, MARK),
                "a planted secret survived a cut");
  }
  for(size_t k = 1; prefixes && k < 8; k++) {
    run_checked(&defaults, w, text->ptr, text->len * k / 8, &res);
    fuzz_assert(!has(res.ptr ? res.ptr : "", res.len, MARK),
                "a planted secret survived a cut");
  }
  buf_free(&res);
}

/* Plant MARK next to the input where it must be redacted. */
static void check_planted(const char *p, size_t n)
{
  struct json_span doc;
  struct buf t;
  bool clean = !has(p, n, MARK);
  buf_init(&t);
#define PLANT(w, pre, post, pfx)     \
  do {                               \
    buf_reset(&t);                   \
    buf_puts(&t, pre);               \
    buf_append(&t, p, n);            \
    buf_puts(&t, post);              \
    if(!t.oom)                       \
      no_mark(w, &t, pfx);           \
  } while(0)
  PLANT(W_LINE, "Cookie: ", MARK "\r\n", false);
  PLANT(W_LINE, "authorization: Bearer ", MARK, false);
  PLANT(W_LINE, "X-Api-Key:", MARK " ", false);
  if(clean) {
    PLANT(W_URL, "https://u:" MARK "@h.example/", "", false);
    PLANT(W_URL, "https://h.example/?", "&token=" MARK, false);
    PLANT(W_FORM, "", "&password=" MARK, false);
    PLANT(W_BODY_FORM, "", "&client_secret=" MARK, false);
  }
  if(clean && json_parse(p, n, &doc)) {
    PLANT(W_JSON, "[", ",{\"secret\":\"" MARK "\"}]", false);
    PLANT(W_BODY_JSON, "{\"k\":", ",\"Token\":{\"v\":[\"" MARK "\"]}}",
          true);
    PLANT(W_BODY_OTHER, "{\"api\\u005fkey\":\"" MARK "\",\"k\":", "}", true);
    PLANT(W_BODY_SSE, "data: {\"x\":", ",\"password\":\"" MARK "\"}\n\n",
          true);
  }
#undef PLANT
  buf_free(&t);
}

/* A JSON document from a recipe: each byte adds a member (an element in
 * an array), opens a container or closes one; listed members carry MARK. */
static size_t from_recipe(const uint8_t *d, size_t n, struct buf *b)
{
  static const char *const listed[] = {
    "\"token\"", "\"Pass\\u0077ord\"", "\"API_KEY\"", "\"client_secret\"",
    "\"secret\"", "\"apiKey\"", "\"id_token\"", "\"refresh_\\u0074oken\"",
  };
  static const char *const plain[] = {
    "\"model\"", "\"tokens\"", "\"x\"", "\"\"", "\"pass word\"",
    "\"tok\\\"en\"", "\"secret_hint\"", "\"a:b\"",
  };
  static const char *const ws[] = { "", " ", "\n  ", "\t\r\n" };
  static const char *const marked[] = {
    "\"" MARK "\"", "[1,\"" MARK "\",{\"a\":\"]\"}]", "{\"m\":\"x" MARK "\"}",
    "\"\\\"" MARK "\\u00e9\"",
  };
  unsigned char stack[400];  /* 1: object */
  size_t depth = 0, deepest = 1;
  bool first = true;
  buf_puts(b, "{");
  stack[depth++] = 1;
  for(size_t i = 0; i < n; i++) {
    unsigned op = d[i] & 7, arg = d[i] >> 3;
    if(op == 7) {
      if(depth > 1) {
        buf_puts(b, ws[arg & 3]);
        buf_puts(b, stack[--depth] ? "}" : "]");
        first = false;
      }
      continue;
    }
    if(!first)
      buf_puts(b, ",");
    buf_puts(b, ws[arg & 3]);
    first = false;
    bool in_object = stack[depth - 1];
    bool secret = op == 3 || op == 4;
    if(in_object) {
      buf_puts(b, secret ? listed[arg & 7] : plain[arg & 7]);
      buf_puts(b, ws[(arg >> 2) & 3]);
      buf_puts(b, ":");
    }
    else if(secret) {
      buf_puts(b, "{");
      buf_puts(b, listed[arg & 7]);
      buf_puts(b, ":");
    }
    if(secret)
      buf_puts(b, marked[(arg >> 1) & 3]);
    else if(op <= 1 && depth < sizeof(stack)) {
      buf_puts(b, op == 0 ? "{" : "[");
      stack[depth++] = op == 0;
      deepest = depth > deepest ? depth : deepest;
      first = true;
    }
    else
      buf_puts(b, op == 2 ? "\"v\\n\"" : op == 5 ? "-0.5e7" : "null");
    if(secret && !in_object)
      buf_puts(b, "}");
  }
  while(depth)
    buf_puts(b, stack[--depth] ? "}" : "]");
  return deepest;  /* a marked value nests up to 3 more */
}

static void check_recipe(const uint8_t *d, size_t n)
{
  struct json_span doc;
  struct buf t;
  buf_init(&t);
  size_t deepest = from_recipe(d, n, &t);
  if(!t.oom) {
    fuzz_assert(json_parse(t.ptr, t.len, &doc) ||
                deepest + 3 > JSON_MAX_DEPTH, "a recipe is not JSON");
    no_mark(W_JSON, &t, false);
    no_mark(W_BODY_JSON, &t, true);
    no_mark(W_BODY_SSE, &t, false);
  }
  buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data;
  rules_once();
  check_raw(p, size);
  check_edit(p, size);
  check_planted(p, size);
  if(size && (data[0] & 1))
    check_recipe(data + 1, size - 1);
  return 0;
}
