/* safe_file.h - opening the shim's own files (configuration, log, the
 * learned-refusal cache and its lock) inside someone else's process.
 *
 * A path the user names, or one under a shared directory, may turn out to
 * be a FIFO (an open would block the host forever), a device, a
 * directory, a symlink planted by another user, or a file another user
 * owns. safe_open() never blocks in open (O_NONBLOCK, cleared again once
 * the file is known to be regular), never gives the host a controlling
 * terminal, never leaks the descriptor into an exec'ed child, and accepts
 * only a regular file, optionally not through a symlink, owned by the
 * effective user (or root, for files root may provide) and writable by
 * no one else. No libcurl. */
#ifndef SS_SAFE_FILE_H
#define SS_SAFE_FILE_H

#include <errno.h>
#include <sys/types.h>

enum ss_safe_open {
  SS_SAFE_NOFOLLOW = 1u << 0,  /* the last component is not a symlink */
  SS_SAFE_MINE = 1u << 1,      /* owned by the effective user */
  SS_SAFE_ROOT_OK = 1u << 2,   /* with MINE: owned by root is fine too */
  SS_SAFE_UNSHARED = 1u << 3   /* not writable by group or others (what
                                  ssh asks of its config): another user
                                  could rewrite it */
};

/* safe_open's errno for a file SS_SAFE_UNSHARED refuses: one open(2)
 * never gives for a path, so that safe_open_why can say why. */
#define SS_EWRITABLE ENOTUNIQ

/* open(2) path with flags (O_RDONLY, O_WRONLY|O_APPEND|O_CREAT, ...) and
 * mode, checked as `how` (enum ss_safe_open bits) asks. The descriptor, or
 * -1 with errno set: ENXIO for a FIFO without a reader when writing,
 * EISDIR for a directory, EINVAL for anything else not a regular file
 * (a FIFO, a device), EPERM for an owner not accepted, SS_EWRITABLE for
 * a file writable by group or others, ELOOP for a refused symlink. */
int safe_open(const char *path, int flags, mode_t mode, unsigned how);

/* A short reason for a safe_open() failure's errno ("is a symbolic
 * link", "is owned by another user", ...). */
const char *safe_open_why(int err);

/* write(2) that cannot kill the host: SIGPIPE (a log on a pipe nobody
 * reads) and SIGXFSZ (a file size limit) are blocked for the call, and one
 * the call raised is taken back, unless the program had it pending
 * already; the write then fails with EPIPE or EFBIG instead. */
ssize_t safe_write(int fd, const void *p, size_t n);

#endif
