/* ctl_commands.h - the streamshim-ctl commands that have files of their
 * own (streamshim-ctl.c has models and learn). Each takes the arguments
 * after its name and returns the exit status. */
#ifndef SS_CTL_COMMANDS_H
#define SS_CTL_COMMANDS_H

/* `check-config [--quiet] [FILE]` (ctl_check.c) */
int cmd_check_config(int argc, char **argv);
/* `explain [-H HEADER]... [--config FILE] [--cache PATH|off] URL
 * [BODY-FILE]` (ctl_explain.c) */
int cmd_explain(int argc, char **argv);

#endif
