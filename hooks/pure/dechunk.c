/* dechunk.c - decoding chunked framing (see dechunk.h). */
#include "dechunk.h"

#include "json.h"  /* json_hex_digit */

enum { DC_SIZE = 0, DC_EXT, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF,
       DC_TRAILER, DC_TRAILER_LINE, DC_DONE };

void dechunk_init(struct dechunk *d)
{
  d->state = DC_SIZE;
  d->left = 0;
  d->bad = false;
}

/* One framing byte (not payload); false when it breaks the framing. */
static bool frame_byte(struct dechunk *d, char c)
{
  int h;
  switch(d->state) {
  case DC_SIZE:
    if((h = json_hex_digit((unsigned char)c)) >= 0) {
      if(d->left >> 59)
        return false;  /* a size no body has */
      d->left = d->left * 16 + (uint64_t)h;
      return true;
    }
    if(c == ';' || c == ' ' || c == '\t')
      d->state = DC_EXT;
    else if(c == '\r')
      d->state = DC_SIZE_LF;
    else if(c == '\n')
      d->state = d->left ? DC_DATA : DC_TRAILER;
    else
      return false;
    return true;
  case DC_EXT:  /* chunk extensions, to the line end */
    if(c == '\n')
      d->state = d->left ? DC_DATA : DC_TRAILER;
    return true;
  case DC_SIZE_LF:
    if(c != '\n')
      return false;
    d->state = d->left ? DC_DATA : DC_TRAILER;
    return true;
  case DC_DATA_CR:  /* the line end after a chunk's data */
    if(c == '\r')
      d->state = DC_DATA_LF;
    else if(c == '\n')
      d->state = DC_SIZE;
    else
      return false;
    return true;
  case DC_DATA_LF:
    if(c != '\n')
      return false;
    d->state = DC_SIZE;
    return true;
  case DC_TRAILER:  /* the blank line ends the body; else a trailer */
    if(c == '\n')
      d->state = DC_DONE;
    else if(c != '\r')
      d->state = DC_TRAILER_LINE;
    return true;
  case DC_TRAILER_LINE:
    if(c == '\n')
      d->state = DC_TRAILER;
    return true;
  default:
    return true;  /* after the end: ignored */
  }
}

void dechunk_feed(struct dechunk *d, const char *p, size_t n,
                  void (*out)(void *arg, const char *p, size_t len),
                  void *arg)
{
  size_t i = 0;
  while(i < n && !d->bad) {
    if(d->state == DC_DATA) {
      size_t take = n - i;
      if((uint64_t)take > d->left)
        take = (size_t)d->left;
      out(arg, p + i, take);
      i += take;
      d->left -= take;
      if(!d->left)
        d->state = DC_DATA_CR;
      continue;
    }
    if(!frame_byte(d, p[i++]))
      d->bad = true;
  }
}
