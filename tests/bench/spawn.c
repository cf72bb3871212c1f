/* spawn - start a program N times under each of several LD_PRELOAD
 * settings, interleaved run by run (the first setting, the second, ...,
 * then the first again), timing each run, so that a machine whose load
 * changes slows every setting alike. The /bin/true case's wall ratio.
 *
 *   spawn N PROGRAM PRELOAD...      (PRELOAD "" runs without LD_PRELOAD)
 *
 * Prints one line per setting, in order: "median_ns=M total_ns=T". Exits
 * 1 when a run fails, 2 on a usage error. LD_PRELOAD is set for the
 * children only: this driver is never preloaded. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

/* environ with LD_PRELOAD replaced by preload (none when empty). */
static char **env_with(const char *preload)
{
  size_t n = 0, k = 0;
  while(environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  if(!env)
    exit(1);
  for(size_t i = 0; i < n; i++)
    if(strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
      env[k++] = environ[i];
  if(preload[0]) {
    size_t len = strlen(preload) + 12;
    env[k] = malloc(len);
    if(!env[k])
      exit(1);
    snprintf(env[k], len, "LD_PRELOAD=%s", preload);
  }
  return env;
}

int main(int argc, char **argv)
{
  if(argc < 4) {
    fprintf(stderr, "usage: spawn N PROGRAM PRELOAD...\n");
    return 2;
  }
  long n = atol(argv[1]);
  int sets = argc - 3;
  if(n < 1)
    return 2;
  char **envs[sets];
  long long *times[sets];
  for(int s = 0; s < sets; s++) {
    envs[s] = env_with(argv[3 + s]);
    times[s] = calloc((size_t)n, sizeof(long long));
    if(!times[s])
      return 1;
  }
  char *args[] = {argv[2], NULL};
  for(long i = 0; i < n; i++) {
    for(int s = 0; s < sets; s++) {
      pid_t pid;
      int status;
      long long t0 = now_ns();
      if(posix_spawn(&pid, argv[2], NULL, NULL, args, envs[s]) != 0 ||
         waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
      times[s][i] = now_ns() - t0;
    }
  }
  for(int s = 0; s < sets; s++) {
    long long total = 0;
    for(long i = 0; i < n; i++)
      total += times[s][i];
    qsort(times[s], (size_t)n, sizeof(long long), by_value);
    printf("median_ns=%lld total_ns=%lld\n", times[s][n / 2], total);
  }
  return 0;
}
