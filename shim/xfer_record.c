/* xfer_record.c - the memory of transfer records (see xfer.h). Each
 * thread keeps the last record it freed as a spare for its next transfer:
 * a record holds the attempt's judgment too (too large for malloc's
 * per-thread cache), and a transfer that no stage takes is judged and let
 * go at once, so most transfers would pay a malloc and a free for it. The
 * spare goes when its thread exits (a key's destructor). */
#include "xfer.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The thread's spare, and its state: 0, no destructor set up in this
 * thread yet; 1, set up; 2, the thread is exiting (or the key could not
 * be had): records are freed at once. */
static _Thread_local struct {
  struct ss_xfer *x;
  unsigned char state;
} spare __attribute__((tls_model("initial-exec")));  /* as registry.c's */
static pthread_key_t spare_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;

/* At the thread's exit: the spare goes, and records freed later in the
 * exit (another key's destructor running a transfer) go at once. */
static void drop_spare(void *unused)
{
  (void)unused;
  free(spare.x);
  spare.x = NULL;
  spare.state = 2;
}

static void make_key(void)
{
  key_ok = pthread_key_create(&spare_key, drop_spare) == 0;
}

/* May this thread keep a spare (its destructor is set up)? */
static bool may_keep(void)
{
  if(spare.state)
    return spare.state == 1;
  pthread_once(&key_once, make_key);
  spare.state = 2;
  if(!key_ok)
    return false;
  /* any value but NULL: the destructor runs for this thread */
  if(pthread_setspecific(spare_key, &spare))
    return false;
  spare.state = 1;
  return true;
}

struct ss_xfer *xfer_record_new(void)
{
  struct ss_xfer *x = spare.x;
  if(x)
    spare.x = NULL;
  else
    x = malloc(sizeof(*x) + ss_judgment_size);
  /* zeroed by hand (glibc's calloc skips its caches), but not the error
   * text (read only with fail_code set) nor the judgment's room (judged
   * says when it holds nothing) */
  if(x)
    memset(x, 0, offsetof(struct ss_xfer, fail_text));
  return x;
}

void xfer_record_free(struct ss_xfer *x)
{
  if(!spare.x && may_keep())
    spare.x = x;
  else
    free(x);
}
