/* at_fork.h - the core's fork handlers, registered together, once, by the
 * library's constructor (at_load.c). Each prepare takes a lock of its
 * module so that a fork never copies it held; after releases it, in the
 * parent and in the child. */
#ifndef SS_AT_FORK_H
#define SS_AT_FORK_H

void defer_fork_prepare(void);
void defer_fork_after(void);
void monitor_fork_child(void);
void real_fork_prepare(void);
void real_fork_after(void);
void registry_fork_prepare(void);
void registry_fork_after(void);

#endif
