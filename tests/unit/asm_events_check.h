/* asm_events_check.h - for the unit tests of the assemblers of typed
 * event streams (test_assemble_responses.c, test_assemble_messages.c): a
 * small event splitter standing in for the SSE reader, a run of an
 * assembler over a whole stream, and the round trip of every fixture
 * through its encoder and back, event by event. The fixtures and the JSON
 * comparison are fixture_json.h's. Include after check.h. */
#ifndef SS_ASM_EVENTS_CHECK_H
#define SS_ASM_EVENTS_CHECK_H

#include <stdio.h>
#include <string.h>

#include "assemble.h"
#include "check.h"
#include "fixture_json.h"
#include "sse_encoder.h"
#include "sse_piece.h"

/* ---- splitting a stream into events ---- */

/* Does line [p, p+n) hold field f ("event", "data")? *v gets its value
 * (one space after the colon dropped). */
static inline int asm_field(const char *p, size_t n, const char *f,
                            const char **v, size_t *vn)
{
  size_t fl = strlen(f);
  if(n < fl || memcmp(p, f, fl) || (n > fl && p[fl] != ':'))
    return 0;
  *v = p + (n > fl ? fl + 1 : fl);
  *vn = n - (size_t)(*v - p);
  if(*vn && **v == ' ') {
    (*v)++;
    (*vn)--;
  }
  return 1;
}

/* Split [p, p+n) into events as the SSE framing has them (lines end in
 * LF or CRLF; ':' starts a comment; data lines join with '\n'; a blank
 * line dispatches an event with data or a name) and feed each to a's
 * state st until a result other than ASM_MORE. That result (ASM_MORE
 * when every event was taken); *count (when given) adds the events fed. */
static inline enum asm_result asm_feed(const struct assembler *a, void *st,
                                       const char *p, size_t n,
                                       const char **why, long *count)
{
  struct buf name, data;
  const char *end = p + n, *v;
  size_t vn;
  int has_data = 0;
  enum asm_result r = ASM_MORE;
  buf_init(&name);
  buf_init(&data);
  while(p < end && r == ASM_MORE) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t len = (size_t)(le - p);
    if(len && p[len - 1] == '\r')
      len--;
    if(len == 0 && (has_data || name.len)) {
      struct sse_event ev = {name.len ? name.ptr : "", name.len,
                             data.len ? data.ptr : "", data.len};
      r = a->event(st, &ev, why);
      if(count)
        (*count)++;
      buf_reset(&name);
      buf_reset(&data);
      has_data = 0;
    }
    else if(len && p[0] == ':')
      ;
    else if(asm_field(p, len, "event", &v, &vn)) {
      buf_reset(&name);
      buf_append(&name, v, vn);
    }
    else if(asm_field(p, len, "data", &v, &vn)) {
      if(has_data)
        buf_append(&data, "\n", 1);
      buf_append(&data, v, vn);
      has_data = 1;
    }
    p = nl ? nl + 1 : end;
  }
  buf_free(&name);
  buf_free(&data);
  return r;
}

#ifdef ASM_DUMP
/* Built with -DASM_DUMP='"dir"': write each stream asm_run() is given to
 * dir/N.sse and its status and answer to dir/N.out, for checking them
 * against the official SDKs' accumulators (tests/judge) by hand. */
static inline void asm_dump(const char *s, size_t n, int status,
                            const struct buf *out)
{
  static int seq;
  char path[4096];
  FILE *f;
  seq++;
  snprintf(path, sizeof(path), "%s/%03d.sse", ASM_DUMP, seq);
  if((f = fopen(path, "wb"))) {
    fwrite(s, 1, n, f);
    fclose(f);
  }
  snprintf(path, sizeof(path), "%s/%03d.out", ASM_DUMP, seq);
  if((f = fopen(path, "wb"))) {
    fprintf(f, "%d\n", status);
    fwrite(out->ptr ? out->ptr : "", 1, out->len, f);
    fclose(f);
  }
}
#endif

/* Run a over a whole stream: open, feed, finish(eof) into out, close.
 * finish's status; *last gets the last event's result, *why the reason. */
static inline int asm_run(const struct assembler *a, const char *s, size_t n,
                          struct buf *out, enum asm_result *last,
                          const char **why)
{
  void *st = a->open();
  CHECK(st != NULL);
  if(!st)
    return -1;
  *why = NULL;
  *last = asm_feed(a, st, s, n, why, NULL);
  int status = a->finish(st, true, out, why);
  a->close(st);
#ifdef ASM_DUMP
  asm_dump(s, n, status, out);
#endif
  return status;
}

/* ---- the round trip ---- */

/* What one round trip found. */
struct asm_trip {
  int refused;     /* the encoder refused the answer */
  int status;      /* finish's status */
  long events;     /* events fed */
  int same;        /* the answer equals the fixture as JSON */
  int identical;   /* ... and byte for byte its compact form */
};

/* Encode answer [p, p+n) with enc (piece characters per text piece), feed
 * every event through the splitter to a, finish, and compare. Events are
 * fed as they are made (a 1 MiB text in 1-character pieces is a million
 * events; the stream is never held whole). */
static inline struct asm_trip asm_round_trip(const struct replay_encoder *enc,
                                             const struct assembler *a,
                                             const char *p, size_t n,
                                             size_t piece)
{
  struct asm_trip t = {0, 0, 0, 0, 0};
  struct replay_opts o = {piece, true};
  struct buf ev, out, compact;
  struct json_span root;
  const char *why = NULL;
  enum asm_result r = ASM_MORE;
  void *e = enc->open(p, n, &o, &why);
  if(!e) {
    t.refused = 1;
    return t;
  }
  void *st = a->open();
  buf_init(&ev);
  buf_init(&out);
  buf_init(&compact);
  while(r == ASM_MORE && enc->next(e, &ev) == 1) {
    r = asm_feed(a, st, ev.ptr, ev.len, &why, &t.events);
    buf_reset(&ev);
  }
  CHECK(r == ASM_END);
  if(r != ASM_END)
    printf("#   the assembler stopped with %d: %s\n", (int)r, why ? why : "");
  t.status = a->finish(st, true, &out, &why);
  CHECK(json_parse(p, n, &root));
  sse_put_value(&compact, root);
  t.same = same_json_text(p, n, out.ptr, out.len, NULL, NULL);
  t.identical = out.len == compact.len &&
                !memcmp(out.ptr, compact.ptr, out.len);
  a->close(st);
  enc->close(e);
  buf_free(&ev);
  buf_free(&out);
  buf_free(&compact);
  return t;
}

/* Round-trip every fixture of tests/fixtures/<sub> (at least min_files of
 * them) with pieces of 1, 7 and 64 characters. Each must come back the
 * same as JSON and byte for byte compact, except the answers in refused (a
 * NULL-terminated list of file names), which the encoder must refuse. */
static inline void asm_round_trip_all(const char *sub,
                                      const struct replay_encoder *enc,
                                      const struct assembler *a,
                                      const char *const *refused,
                                      long min_files)
{
  static const size_t pieces[] = {1, 7, 64};
  char **list;
  size_t files = fixture_list(sub, &list);
  long trips = 0;
  for(size_t k = 0; k < files; k++) {
    const char *name = strrchr(list[k], '/') + 1;
    const char *const *r = refused;
    struct buf f;
    while(*r && strcmp(*r, name))
      r++;
    buf_init(&f);
    CHECK(read_whole_file(list[k], &f));
    for(size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
      struct asm_trip t = asm_round_trip(enc, a, f.ptr, f.len, pieces[i]);
      int ok = *r ? t.refused
                  : !t.refused && t.status == 200 && t.same && t.identical;
      if(!ok)
        printf("#   %s (pieces of %zu): refused %d status %d same %d "
               "identical %d\n", name, pieces[i], t.refused, t.status,
               t.same, t.identical);
      CHECK(ok);
      trips++;
    }
    buf_free(&f);
  }
  fixture_list_free(list, files);
  printf("# %zu fixtures, %ld round trips\n", files, trips);
  CHECK(files >= (size_t)min_files);
  CHECK(trips == (long)(files * (sizeof(pieces) / sizeof(pieces[0]))));
}

#endif
