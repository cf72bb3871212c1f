/* callback_calls - a program that calls libcurl from inside its own write
 * callback, in every way libcurl allows (and a few it refuses), so that a
 * run under the shim can be compared with a run without it.
 *
 *   callback_calls ACTION easy|multi URL BODY
 *
 * One POST of BODY to URL. On the second call of the write callback the
 * program does ACTION, records what the call returned, and goes on:
 *   remove         curl_multi_remove_handle(m, self)      (libcurl refuses)
 *   reset          curl_easy_reset(self)
 *   pause          curl_easy_pause(self, CURLPAUSE_RECV); the loop (or the
 *                  progress callback, easy) unpauses it a little later
 *   setopt         CURLOPT_WRITEFUNCTION to a second callback (which keeps
 *                  counting), CURLOPT_LOW_SPEED_LIMIT/TIME
 *   add_same       curl_multi_add_handle(m, other)         (refused)
 *   add_other      curl_multi_add_handle(m2, other): a second multi handle,
 *                  driven to the end after the first
 *   remove_other   curl_multi_remove_handle(m, busy): another transfer in
 *                  the same multi handle                  (refused)
 *   cleanup_other  curl_easy_cleanup(spare): a handle in no multi handle
 *   multi_cleanup  curl_multi_cleanup(m)                   (refused)
 *   perform        curl_multi_perform(m)                   (refused)
 *   info_read      curl_multi_info_read(m)
 * (actions on m need the multi drive; with easy they use the internal
 * handle libcurl has none of, so they are not offered.)
 *
 * stderr: "call <ACTION> -> <code>" for the call made, then
 * "result <CURLcode> status <N> dones <D> calls <W> bytes <B>" for the
 * main transfer (W write calls of either callback, B bytes), and for
 * add_other "other <CURLcode> status <N>". Exit 0 when the program ran to
 * its end (no crash, no hang: the caller uses a timeout). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *action;
static CURL *self, *other, *spare;
static CURLM *m, *m2;
static int calls, acted, paused, dones;
static size_t bytes;
static long call_rc = -999;

/* A transfer in no callback's way: a GET of the same server. */
static CURL *side_handle(const char *url)
{
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                   "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
                   "\"content\":\"side\"}]}");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, NULL);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, stdout);
  return h;
}

static size_t second_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p; (void)ud;
  calls++;
  bytes += size * nmemb;
  return size * nmemb;
}

static void act(void)
{
  if(!strcmp(action, "remove"))
    call_rc = curl_multi_remove_handle(m, self);
  else if(!strcmp(action, "reset"))
    curl_easy_reset(self), call_rc = 0;
  else if(!strcmp(action, "pause")) {
    call_rc = curl_easy_pause(self, CURLPAUSE_RECV);
    paused = 1;
  }
  else if(!strcmp(action, "setopt")) {
    call_rc = curl_easy_setopt(self, CURLOPT_WRITEFUNCTION, second_write);
    call_rc |= curl_easy_setopt(self, CURLOPT_LOW_SPEED_LIMIT, 1L);
    call_rc |= curl_easy_setopt(self, CURLOPT_LOW_SPEED_TIME, 30L);
  }
  else if(!strcmp(action, "add_same"))
    call_rc = curl_multi_add_handle(m, other);
  else if(!strcmp(action, "add_other"))
    call_rc = curl_multi_add_handle(m2, other);
  else if(!strcmp(action, "remove_other"))
    call_rc = curl_multi_remove_handle(m, other);
  else if(!strcmp(action, "cleanup_other")) {
    curl_easy_cleanup(spare);
    spare = NULL;
    call_rc = 0;
  }
  else if(!strcmp(action, "multi_cleanup"))
    call_rc = curl_multi_cleanup(m);
  else if(!strcmp(action, "perform")) {
    int running;
    call_rc = curl_multi_perform(m, &running);
  }
  else if(!strcmp(action, "info_read")) {
    int left;
    call_rc = curl_multi_info_read(m, &left) != NULL;
  }
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p; (void)ud;
  calls++;
  bytes += size * nmemb;
  if(calls == 2 && !acted) {
    acted = 1;
    act();
  }
  return size * nmemb;
}

/* easy: unpause a little after the pause, from the progress callback */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
  (void)ud; (void)a; (void)b; (void)c; (void)d;
  if(paused && ++paused > 3) {
    paused = 0;
    curl_easy_pause(self, CURLPAUSE_CONT);
  }
  return 0;
}

static void drive_multi(CURLM *mm, CURL *main_handle)
{
  int running = 1;
  while(running) {
    if(curl_multi_perform(mm, &running) != CURLM_OK)
      break;
    CURLMsg *msg;
    int left;
    while((msg = curl_multi_info_read(mm, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      if(msg->easy_handle == main_handle)
        dones++;
      fprintf(stderr, "%s %d\n", msg->easy_handle == main_handle
              ? "done" : "done-other", (int)msg->data.result);
      if(msg->easy_handle == main_handle && mm == m)
        fprintf(stderr, "main-result %d\n", (int)msg->data.result);
    }
    if(paused && ++paused > 3) {
      paused = 0;
      curl_easy_pause(self, CURLPAUSE_CONT);
    }
    if(running)
      curl_multi_poll(mm, NULL, 0, 100, NULL);
  }
}

int main(int argc, char **argv)
{
  if(argc != 5)
    return 2;
  action = argv[1];
  int multi = !strcmp(argv[2], "multi");
  const char *url = argv[3];
  curl_global_init(CURL_GLOBAL_ALL);
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  self = curl_easy_init();
  curl_easy_setopt(self, CURLOPT_URL, url);
  curl_easy_setopt(self, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(self, CURLOPT_POSTFIELDS, argv[4]);
  curl_easy_setopt(self, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(self, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(self, CURLOPT_NOPROGRESS, 0L);
  other = side_handle(url);
  spare = side_handle(url);
  m = curl_multi_init();
  m2 = curl_multi_init();
  int other_in_m = 0;
  CURLcode result = CURLE_OK;
  if(multi) {
    curl_multi_add_handle(m, self);
    if(!strcmp(action, "remove_other")) {
      curl_multi_add_handle(m, other);
      other_in_m = 1;
    }
    drive_multi(m, self);
    curl_multi_remove_handle(m, self);
    if(other_in_m)
      curl_multi_remove_handle(m, other);
  }
  else {
    result = curl_easy_perform(self);
    dones = 1;
  }
  if(!strcmp(action, "add_other") && call_rc == CURLM_OK) {
    drive_multi(m2, NULL);
    long st = 0;
    curl_easy_getinfo(other, CURLINFO_RESPONSE_CODE, &st);
    curl_multi_remove_handle(m2, other);
    fprintf(stderr, "other status %ld\n", st);
  }
  long status = 0;
  curl_easy_getinfo(self, CURLINFO_RESPONSE_CODE, &status);
  fprintf(stderr, "call %s -> %ld\n", action, call_rc);
  fprintf(stderr, "result %d status %ld dones %d acted %d\n",
          multi ? -1 : (int)result, status, dones, acted);
  fprintf(stderr, "calls %d bytes %zu\n", calls, bytes);
  curl_easy_cleanup(self);
  curl_easy_cleanup(other);
  if(spare)
    curl_easy_cleanup(spare);
  curl_multi_cleanup(m);
  curl_multi_cleanup(m2);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  return 0;
}
