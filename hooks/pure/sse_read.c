/* sse_read.c - the incremental Server-Sent Events reader (see
 * sse_read.h). Bytes are taken in runs up to the next CR or LF, so any
 * split of the input gives the same lines and the same events: a CR that
 * ends one piece is remembered (sse_reader.cr) and an LF that starts the
 * next is the same line end; the BOM is matched byte by byte across
 * pieces. An event is dispatched by a blank line when a data line came or
 * its name is not empty (openai-node's SSEDecoder, which also dispatches
 * an empty "data:" line as ""); the bytes after the last blank line stay
 * in the reader (sse_read_pending()). */
#include "sse_read.h"

#include <string.h>

static const unsigned char sse_bom[3] = {0xEF, 0xBB, 0xBF};

void sse_read_init(struct sse_reader *r, size_t max_event)
{
  memset(r, 0, sizeof(*r));
  buf_init(&r->line);
  buf_init(&r->name);
  buf_init(&r->data);
  r->max_event = max_event;
}

void sse_read_free(struct sse_reader *r)
{
  buf_free(&r->line);
  buf_free(&r->name);
  buf_free(&r->data);
}

/* Would n more bytes make the event larger than max_event? */
static bool sse_too_big(const struct sse_reader *r, size_t n)
{
  size_t have = r->line.len + r->name.len + r->data.len;
  return r->max_event && (n > r->max_event || have > r->max_event - n);
}

/* Take the field line in r->line (not blank, not a comment): "data"
 * appends its value (after a '\n' when data came before), "event" sets
 * the name, anything else is ignored. SSE_READ_OK, or SSE_READ_TOO_BIG
 * when the event's name and data would pass max_event, or SSE_READ_OOM. */
static int sse_field(struct sse_reader *r)
{
  const char *p = r->line.ptr, *colon = memchr(p, ':', r->line.len);
  size_t flen = colon ? (size_t)(colon - p) : r->line.len;
  const char *v = colon ? colon + 1 : p + r->line.len;
  size_t vlen = (size_t)(p + r->line.len - v);
  if(vlen && *v == ' ') {
    v++;
    vlen--;
  }
  if(flen == 4 && !memcmp(p, "data", 4)) {
    /* vlen <= line.len was counted when the line came: only the '\n'
     * joining two data lines can pass the limit here */
    size_t after = r->name.len + r->data.len + (r->has_data ? 1 : 0) + vlen;
    if(r->max_event && after > r->max_event)
      return SSE_READ_TOO_BIG;
    if(r->has_data)
      buf_append(&r->data, "\n", 1);
    buf_append(&r->data, v, vlen);
    r->has_data = true;
  }
  else if(flen == 5 && !memcmp(p, "event", 5)) {
    buf_reset(&r->name);
    buf_append(&r->name, v, vlen);
  }
  return r->data.oom || r->name.oom ? SSE_READ_OOM : SSE_READ_OK;
}

/* End of the line in r->line: a blank line dispatches the event (when it
 * has data or a name) and starts the next one. Returns SSE_READ_OK,
 * SSE_READ_STOPPED (fn said stop) or an error. */
static int sse_line_end(struct sse_reader *r, sse_event_fn fn, void *arg)
{
  int rc = SSE_READ_OK;
  if(r->line.len) {
    if(r->line.ptr[0] != ':')
      rc = sse_field(r);
    buf_reset(&r->line);
    return rc;
  }
  if(!r->has_data && !r->name.len)
    return SSE_READ_OK;
  struct sse_event ev = {
    r->name.len ? r->name.ptr : "", r->name.len,
    r->data.len ? r->data.ptr : "", r->data.len
  };
  bool go_on = fn(arg, &ev);
  buf_reset(&r->name);
  buf_reset(&r->data);
  r->has_data = false;
  return go_on ? SSE_READ_OK : SSE_READ_STOPPED;
}

/* Before the first byte of the stream is taken: match the BOM, which may
 * be split across pieces (its bytes wait in r->line). Returns the bytes
 * of p[0..n) it used; r->started is set once the BOM is dropped or ruled
 * out (the partial match then stays in r->line as text). */
static size_t sse_bom_skip(struct sse_reader *r, const char *p, size_t n)
{
  size_t i = 0;
  while(!r->started && i < n) {
    if((unsigned char)p[i] != sse_bom[r->line.len]) {
      r->started = true;  /* not a BOM: the byte is taken as text */
      break;
    }
    buf_append(&r->line, p + i++, 1);
    if(r->line.len == sizeof(sse_bom)) {
      buf_reset(&r->line);
      r->started = true;
    }
  }
  return i;
}

int sse_read_feed(struct sse_reader *r, const char *p, size_t n,
                  sse_event_fn fn, void *arg, size_t *used)
{
  size_t i = 0, ignored;
  int rc = SSE_READ_OK;
  if(!used)
    used = &ignored;
  if(!r->started)
    i = sse_bom_skip(r, p, n);
  while(i < n && rc == SSE_READ_OK) {
    char c = p[i];
    if(c == '\n' && r->cr) {  /* the LF of a CRLF */
      r->cr = false;
      i++;
      continue;
    }
    r->cr = false;
    if(c == '\r' || c == '\n') {
      r->cr = c == '\r';
      i++;
      rc = sse_line_end(r, fn, arg);
      continue;
    }
    size_t j = i;
    while(j < n && p[j] != '\r' && p[j] != '\n')
      j++;
    if(sse_too_big(r, j - i))
      rc = SSE_READ_TOO_BIG;
    else if(!buf_append(&r->line, p + i, j - i))
      rc = SSE_READ_OOM;
    else
      i = j;
  }
  *used = i;
  if(r->line.oom)
    rc = SSE_READ_OOM;
  return rc;
}

bool sse_read_pending(const struct sse_reader *r)
{
  return r->has_data || r->name.len ||
         (r->line.len && r->line.ptr[0] != ':');
}

int sse_read_end(struct sse_reader *r, sse_event_fn fn, void *arg)
{
  int rc = SSE_READ_OK;
  if(r->line.len)  /* the last line, without its line end */
    rc = sse_line_end(r, fn, arg);
  if(rc == SSE_READ_OK)
    rc = sse_line_end(r, fn, arg);  /* the blank line that did not come */
  return rc;
}
