/* defer.h - work on a multi handle's transfers that must wait for the
 * program's next call into libcurl, outside every callback.
 *
 * Two kinds: a retry (the first attempt was refused: take the handle out
 * of its multi handle and add it back, rewritten, before the program can
 * see the attempt end) and a paced resume (the replay paused itself to
 * wait between events: unpause when due). The drive hooks
 * (hooks_drive.c) run what is due when the program calls
 * curl_multi_perform, curl_multi_socket_action, curl_multi_info_read, and
 * shorten curl_multi_poll/wait timeouts to the next deadline.
 *
 * Also here: which entry point is driving libcurl on this thread, so that
 * a stage inside a callback knows whether it may sleep (the easy
 * interface: one transfer), must pause (a perform loop) or must not wait
 * at all (a socket_action loop, whose timers the shim does not own). */
#ifndef SS_DEFER_H
#define SS_DEFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

struct ss_handle;

enum ss_defer_kind {
  SS_DEFER_RETRY = 0,
  SS_DEFER_RESUME
};

struct ss_deferred {
  struct ss_handle *h;
  enum ss_defer_kind kind;
};

/* Queue work for h in multi handle m, due at due_ms (defer_now_ms clock;
 * 0: at once). One entry per handle: a newer one replaces it. False when
 * memory runs out. */
int defer_add(struct ss_handle *h, CURLM *m, enum ss_defer_kind kind,
              uint64_t due_ms);
/* Take one entry of m due at now_ms whose kind is in kinds (bits
 * 1u << kind) into *out; false when there is none. */
bool defer_take_due(CURLM *m, uint64_t now_ms, unsigned kinds,
                    struct ss_deferred *out);
/* Milliseconds until m's next entry is due (0 if one is), or -1 for none. */
long defer_wait_ms(CURLM *m, uint64_t now_ms);
/* Is work of this kind queued for h? */
bool defer_pending(const struct ss_handle *h, enum ss_defer_kind kind);
/* Is anything queued at all (in any multi handle)? One load: the drive
 * hooks ask before reading the clock. */
bool defer_queued(void);
/* Drop h's entry, if any (its transfer ends, or the handle goes). */
void defer_forget(const struct ss_handle *h);
/* A monotonic clock in milliseconds. */
uint64_t defer_now_ms(void);

/* Who drives libcurl on this thread right now. */
enum ss_driver {
  SS_DRIVE_OTHER = 0,   /* unknown: a program's own curl_easy_pause, ... */
  SS_DRIVE_EASY,        /* curl_easy_perform */
  SS_DRIVE_PERFORM,     /* curl_multi_perform */
  SS_DRIVE_SOCKET       /* curl_multi_socket_action */
};

/* A frame of the thread's drive stack: one per call of the shim's that
 * runs program code (a real perform, socket_action or easy perform, or
 * the shim delivering held bytes itself), innermost on top. Frames live
 * on the hooks' stacks. */
struct ss_drive {
  enum ss_driver d;
  CURLM *m;                 /* the multi handle driven; NULL: none, or
                               libcurl's own under curl_easy_perform */
  bool delivering;          /* the shim calls the program outside libcurl
                               (what it held, once libcurl ended) */
  struct ss_drive *up;      /* the frame this one runs in */
};

/* Push frame f for a real call driving m with d (f lives until the
 * matching defer_drive_end). */
void defer_drive_begin(struct ss_drive *f, enum ss_driver d, CURLM *m);
/* Push frame f: the shim is about to call the program itself for a
 * transfer of m (NULL: of curl_easy_perform) outside libcurl; calls that
 * libcurl refuses inside its callbacks must be refused there too. */
void defer_deliver_begin(struct ss_drive *f, CURLM *m);
void defer_drive_end(struct ss_drive *f);
/* The innermost driver (SS_DRIVE_OTHER outside every frame). */
enum ss_driver defer_driver(void);
/* Is this thread outside every frame (the program's own code, not a
 * callback)? */
bool defer_outside_callbacks(void);
/* Is this thread inside a frame of m, so that the program code running
 * now is one of m's callbacks? libcurl refuses to add, remove or clean up
 * there (CURLM_RECURSIVE_API_CALL): the shim must not act as if those
 * calls had succeeded. */
bool defer_in_callback_of(CURLM *m);
/* Is the shim delivering for m (or, with NULL, for curl_easy_perform)
 * right now? Then the hooks refuse what libcurl would refuse in one of
 * its callbacks, since libcurl itself is not in a callback to refuse. */
bool defer_delivering(CURLM *m);
/* How many retries are queued for m. */
size_t defer_count(CURLM *m, enum ss_defer_kind kind);

#endif
