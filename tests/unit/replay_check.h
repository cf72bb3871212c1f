/* replay_check.h - the encoders' unit tests share their replay loop: any
 * encoder through the common interface (hooks/pure/sse_encoder.h). Include after
 * check.h. */
#ifndef SS_REPLAY_CHECK_H
#define SS_REPLAY_CHECK_H

#include <string.h>

#include "check.h"
#include "json.h"
#include "sse_encoder.h"

/* Is ev (n bytes, the index-th event of its stream) a good event? */
typedef int (*replay_event_ok)(const char *ev, size_t n, long index);

/* Replay answer [ans, ans+alen) with enc and o into all, checking that
 * each call appends exactly one event that ok accepts, of at most maxev
 * bytes (0: any), and that the stream then stays complete. The event
 * count; -1 when the encoder refused the answer (with a reason). */
static inline long replay_checked(const struct replay_encoder *enc,
                                  const char *ans, size_t alen,
                                  const struct replay_opts *o, size_t maxev,
                                  replay_event_ok ok, struct buf *all)
{
  const char *why = NULL;
  struct buf ev;
  long count = 0;
  int r;
  void *e = enc->open(ans, alen, o, &why);
  if(!e) {
    CHECK(why != NULL);
    return -1;
  }
  buf_init(&ev);
  while((r = enc->next(e, &ev)) == 1) {
    CHECK(ok(ev.ptr, ev.len, count));
    CHECK(maxev == 0 || ev.len <= maxev);
    buf_append(all, ev.ptr, ev.len);
    buf_reset(&ev);
    count++;
  }
  CHECK(r == 0);
  CHECK(ev.len == 0);
  CHECK(enc->next(e, &ev) == 0);  /* stays complete */
  enc->close(e);
  buf_free(&ev);
  return count;
}

/* Does all end with the bytes of s? */
static inline int replay_ends_with(const struct buf *all, const char *s)
{
  size_t n = strlen(s);
  return all->len >= n && !memcmp(all->ptr + all->len - n, s, n);
}

/* Append the raw text of string s (quotes dropped) to raw; to list with
 * a "|" after it when given; decoded to dec when given. */
static inline void replay_collect(struct json_span s, struct buf *raw,
                                  struct buf *dec, struct buf *list)
{
  buf_append(raw, s.ptr + 1, s.len - 2);
  if(list) {
    buf_append(list, s.ptr + 1, s.len - 2);
    buf_append(list, "|", 1);
  }
  if(dec) {
    static char tmp[8192];
    size_t got = 0;
    CHECK(json_string_decode(s, tmp, sizeof(tmp), &got));
    buf_append(dec, tmp, got);
  }
}

/* Decode escaped string text (as it stands between the quotes) into out
 * (cap bytes); its decoded length. */
static inline size_t replay_decode_text(const char *text, char *out,
                                        size_t cap)
{
  struct buf q;
  size_t got = 0;
  buf_init(&q);
  buf_puts(&q, "\"");
  buf_puts(&q, text);
  buf_puts(&q, "\"");
  struct json_span s = {q.ptr, q.len, JSON_STRING};
  CHECK(json_string_decode(s, out, cap, &got));
  buf_free(&q);
  return got;
}

#endif
