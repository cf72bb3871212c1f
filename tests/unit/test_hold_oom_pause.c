/* test_hold_oom_pause.c - regression test of a review finding: hold.c's
 * out-of-memory rule "a line that cannot be queued goes out after what
 * is queued" (hold_pass_header) lost the line when the program paused on
 * one of the queued lines: the pump returned SS_PAUSED and the line was
 * neither queued nor passed on, and nothing failed the transfer. Now the
 * transfer fails (hold_after_pump).
 *
 * The stand-in core is test_hold.c's (included). hold.c and buf.c are
 * built with realloc renamed to test_realloc (tests/unit/hold.mk), so a
 * real growth of a buffer fails on demand (no preset oom flag, which
 * would also mean "lines already lost"); nothing else is interposed, so
 * the sanitizers' own allocator stays in charge. */
int test_hold_main(void);
#define main test_hold_main
#include "test_hold.c"
#undef main

static int realloc_fail_in;  /* the Nth realloc from now fails; 0: none */

#undef realloc
void *realloc(void *p, size_t n);  /* <stdlib.h> named it test_realloc */
void *test_realloc(void *p, size_t n);
void *test_realloc(void *p, size_t n)
{
  if(realloc_fail_in && !--realloc_fail_in)
    return NULL;
  return realloc(p, n);
}

/* A proxy's CONNECT answer is held (a 2xx block); the origin's 404
 * status line releases it and, not being 2xx, is queued after it. The
 * queue (the held lines' buffer, 1024 bytes) has to grow for it, and
 * that allocation fails. The program's header callback pauses on the
 * first released line. */
TEST(a_line_that_cannot_be_queued_while_the_program_pauses_fails_it)
{
  static const char l1[] = "HTTP/1.1 200 Connection established\r\n";
  static const char nf[] = "HTTP/1.1 404 Not Found\r\n";
  char pad[1100];
  /* the held block: 1005 bytes, so that the 404 line does not fit */
  size_t padlen = 1005 - strlen(l1) - 2;
  memcpy(pad, "X-Pad: ", 7);
  memset(pad + 7, 'a', padlen - 9);
  memcpy(pad + padlen - 2, "\r\n", 3);
  CHECK(strlen(pad) == padlen);

  setup(&sse_join, 1000, 0);
  x.pause_at = 1;
  CHECK(hdr(l1) == SS_OK);
  CHECK(hdr(pad) == SS_OK);
  CHECK(hdr("\r\n") == SS_OK);
  CHECK(h.held.len == 1005 && h.held.cap == 1024);
  realloc_fail_in = 1;
  enum ss_flow r = hdr(nf);
  realloc_fail_in = 0;
  /* The 404 line reaches the program after the CONNECT block, or the
   * transfer fails: never a silent loss. The pump pauses on the first
   * released line, so the line cannot go out now: it fails. */
  CHECK(r == SS_FAILED);
  CHECK(x.fail_code == CURLE_OUT_OF_MEMORY);
  CHECK(log_has("out of memory keeping bytes while the program paused"));
  teardown();
}

int main(void)
{
  RUN(a_line_that_cannot_be_queued_while_the_program_pauses_fails_it);
  buf_free(&logged);
  return check_done();
}
