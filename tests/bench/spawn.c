/* spawn - run a program N times, one after the other, with LD_PRELOAD set
 * to PRELOAD for the children only (empty: unset), so that the /bin/true
 * case times start-up without this driver or Python in the figure.
 *
 *   spawn N PRELOAD PROGRAM [ARGS...]
 *
 * Exits 1 when a run fails, 2 on a usage error. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
  if(argc < 4) {
    fprintf(stderr, "usage: spawn N PRELOAD PROGRAM [ARGS...]\n");
    return 2;
  }
  long n = atol(argv[1]);
  if(argv[2][0])
    setenv("LD_PRELOAD", argv[2], 1);
  else
    unsetenv("LD_PRELOAD");
  for(long i = 0; i < n; i++) {
    pid_t pid;
    int status;
    if(posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ) != 0 ||
       waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return 1;
  }
  return 0;
}
