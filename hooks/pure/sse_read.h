/* sse_read.h - reading a Server-Sent Events stream into events, as the
 * bytes come. Pure.
 *
 * The framing of the WHATWG "event stream" format, as the SDKs' decoders
 * read it: lines end in CRLF, LF or CR (a CR at the end of one piece and
 * an LF at the start of the next are one line end); a UTF-8 BOM at the
 * very start is skipped; a line starting with ':' is a comment; "name:
 * value" drops one space after the colon, a line without a colon is a
 * field with an empty value; "data" lines are joined with '\n'; "event"
 * names the event; other fields ("id", "retry", unknown) are ignored; a
 * blank line dispatches the event if it has data or a name, then starts
 * the next. Bytes after the last blank line are an unfinished event. */
#ifndef SS_SSE_READ_H
#define SS_SSE_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* One dispatched event. The bytes live in the reader until the next
 * call of sse_read_feed. */
struct sse_event {
  const char *name;   /* the event: line's value; "" when none */
  size_t name_len;
  const char *data;   /* the data lines joined with '\n', no final '\n' */
  size_t data_len;
};

/* Called for each complete event; returns false to stop reading (the
 * feed then returns at once, *used saying where). */
typedef bool (*sse_event_fn)(void *arg, const struct sse_event *ev);

struct sse_reader {
  struct buf line;     /* the line being read */
  struct buf name;     /* the event's name so far */
  struct buf data;     /* its data so far */
  bool has_data;       /* a data line came (data may still be empty) */
  bool cr;             /* the last byte was a CR: an LF next is the same end */
  bool started;        /* past the BOM check */
  size_t max_event;    /* an event (its line, name and data) larger than
                          this makes the feed fail (0: no limit) */
};

void sse_read_init(struct sse_reader *r, size_t max_event);
void sse_read_free(struct sse_reader *r);

/* sse_read_feed's results. */
#define SSE_READ_OK 0        /* all bytes read */
#define SSE_READ_STOPPED 1   /* fn returned false after the event that
                                ends at *used */
#define SSE_READ_TOO_BIG (-1)  /* an event over max_event */
#define SSE_READ_OOM (-2)

/* Read [p, p+n): fn is called for every event the bytes complete, in
 * order. *used gets the bytes taken (n unless stopped; after a stop, the
 * offset just past the event's blank line). */
int sse_read_feed(struct sse_reader *r, const char *p, size_t n,
                  sse_event_fn fn, void *arg, size_t *used);

/* The end of the stream: an unfinished last line is ended and an event
 * with data or a name is dispatched as if a blank line followed (a server
 * that closes right after "data: [DONE]\n"). Returns SSE_READ_OK,
 * SSE_READ_STOPPED (fn said stop) or an error, as sse_read_feed. */
int sse_read_end(struct sse_reader *r, sse_event_fn fn, void *arg);

/* Is an event still unfinished (a data line or a non-empty event name
 * read since the last dispatch, or a line begun that is not a comment)?
 * A stream that ends then was cut short. Whole lines of ignored fields
 * ("id", "retry") do not count: a blank line after them would dispatch
 * nothing. */
bool sse_read_pending(const struct sse_reader *r);

#endif
