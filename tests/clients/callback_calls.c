/* callback_calls - a program that calls libcurl from inside its own write
 * callback, in every way libcurl allows (and a few it refuses), so that a
 * run under the shim can be compared with a run without it.
 *
 *   callback_calls ACTION easy|multi URL BODY [AT [HEADER]]
 *
 * One POST of BODY to URL (with the request header lines HEADER, '|'
 * between two). On call AT
 * (default 2) of the write callback the program does ACTION, records what
 * the call returned, and goes on:
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
 *   perform_self   curl_easy_perform(self)                 (refused)
 *   nested_add     curl_easy_perform(spare), whose own write callback
 *                  tries curl_multi_add_handle(m, late) (refused: still
 *                  inside m's callback); `late` (an o3-mini stream whose
 *                  body comes from a read callback) is then added by the
 *                  loop: "late status <N> <first bytes>"
 *   cancel         nothing in the callback: the program stops the
 *                  transfer half a second after its request went out
 *                  (multi: curl_multi_remove_handle from the loop; easy:
 *                  the progress callback aborts); no callback may follow
 * (actions on m need the multi drive; with easy they use the internal
 * handle libcurl has none of, so they are not offered.)
 *
 * stderr: "call <ACTION> -> <code>" for the call made, then
 * "result <CURLcode> status <N> dones <D> calls <W> bytes <B>" for the
 * main transfer (W write calls of either callback, B bytes), for
 * add_other "other status <N>", for cancel "late <N>": callbacks after
 * the transfer was stopped. Exit 0 when the program ran to
 * its end (no crash, no hang: the caller uses a timeout). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *action;
static CURL *self, *other, *spare, *late_h;
static const char late_body[] = "{\"model\":\"o3-mini\",\"messages\":[{\"role\":"
  "\"user\",\"content\":\"late\"}],\"stream\":true}";
static size_t late_off;
static char late_first[16];
static long nested_rc = -999;
static CURLM *m, *m2;
static int calls, acted, paused, dones;
static size_t bytes;
static long call_rc = -999;
static int at = 2, stopped, late, multi;
static double sent_at;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cancel: half a second after the request went out */
static int time_to_stop(void)
{
  long req = 0;
  if(strcmp(action, "cancel") || stopped)
    return 0;
  if(!sent_at && !curl_easy_getinfo(self, CURLINFO_REQUEST_SIZE, &req) &&
     req > 0)
    sent_at = now_s();
  return sent_at && now_s() - sent_at > 0.5;
}

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

static size_t late_read(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)ud;
  size_t left = sizeof(late_body) - 1 - late_off, n = size * nmemb;
  n = n < left ? n : left;
  memcpy(p, late_body + late_off, n);
  late_off += n;
  return n;
}

static size_t late_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)ud;
  if(!late_first[0])
    memcpy(late_first, p, size * nmemb < 15 ? size * nmemb : 15);
  return size * nmemb;
}

/* spare's write callback, inside self's (nested_add) */
static size_t spare_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p; (void)ud;
  if(nested_rc == -999)
    nested_rc = curl_multi_add_handle(m, late_h);
  return size * nmemb;
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
  else if(!strcmp(action, "perform_self"))
    call_rc = curl_easy_perform(self);
  else if(!strcmp(action, "nested_add")) {
    curl_easy_setopt(spare, CURLOPT_WRITEFUNCTION, spare_write);
    curl_easy_perform(spare);
    call_rc = nested_rc;
  }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p; (void)ud;
  late += stopped;
  return size * nmemb;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
  (void)p; (void)ud;
  calls++;
  late += stopped;
  bytes += size * nmemb;
  if(calls == at && !acted) {
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
  if(!multi && time_to_stop()) {
    stopped = acted = 1;
    return 1;  /* abort: CURLE_ABORTED_BY_CALLBACK */
  }
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
    if(mm == m && main_handle && time_to_stop()) {
      stopped = acted = 1;  /* no callback from here on */
      call_rc = curl_multi_remove_handle(m, self);
      dones = 1;  /* it ends here */
      break;
    }
    if(running)
      curl_multi_poll(mm, NULL, 0, 100, NULL);
  }
}

int main(int argc, char **argv)
{
  if(argc < 5 || argc > 7)
    return 2;
  if(argc > 5)
    at = atoi(argv[5]);
  action = argv[1];
  multi = !strcmp(argv[2], "multi");
  const char *url = argv[3];
  curl_global_init(CURL_GLOBAL_ALL);
  struct curl_slist *hdrs =
    curl_slist_append(NULL, "Content-Type: application/json");
  self = curl_easy_init();
  curl_easy_setopt(self, CURLOPT_URL, url);
  /* HEADER: one or more request header lines, separated by '|' */
  for(char *h = argc > 6 ? strtok(argv[6], "|") : NULL; h; h = strtok(NULL, "|"))
    hdrs = curl_slist_append(hdrs, h);
  curl_easy_setopt(self, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(self, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(self, CURLOPT_POSTFIELDS, argv[4]);
  curl_easy_setopt(self, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(self, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(self, CURLOPT_NOPROGRESS, 0L);
  other = side_handle(url);
  spare = side_handle(url);
  late_h = curl_easy_init();
  curl_easy_setopt(late_h, CURLOPT_URL, url);
  curl_easy_setopt(late_h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(late_h, CURLOPT_POST, 1L);
  curl_easy_setopt(late_h, CURLOPT_POSTFIELDSIZE, (long)sizeof(late_body) - 1);
  curl_easy_setopt(late_h, CURLOPT_READFUNCTION, late_read);
  curl_easy_setopt(late_h, CURLOPT_WRITEFUNCTION, late_write);
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
    if(!stopped)
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
  if(!strcmp(action, "nested_add") && multi) {
    long st = 0;
    curl_multi_add_handle(m, late_h);
    drive_multi(m, NULL);
    curl_easy_getinfo(late_h, CURLINFO_RESPONSE_CODE, &st);
    curl_multi_remove_handle(m, late_h);
    fprintf(stderr, "late status %ld %s\n", st, late_first);
  }
  long status = 0;
  curl_easy_getinfo(self, CURLINFO_RESPONSE_CODE, &status);
  fprintf(stderr, "call %s -> %ld\n", action, call_rc);
  fprintf(stderr, "result %d status %ld dones %d acted %d\n",
          multi ? -1 : (int)result, status, dones, acted);
  fprintf(stderr, "calls %d bytes %zu\n", calls, bytes);
  if(!strcmp(action, "cancel"))
    fprintf(stderr, "late %d\n", late);
  curl_easy_cleanup(self);
  curl_easy_cleanup(other);
  curl_easy_cleanup(late_h);
  if(spare)
    curl_easy_cleanup(spare);
  curl_multi_cleanup(m);
  curl_multi_cleanup(m2);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  return 0;
}
