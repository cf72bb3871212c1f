/* check.h - a tiny unit-test harness printing TAP.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_MEM(a, alen, b, blen); }
 *   int main(void) { RUN(name); return check_done(); }
 */
#ifndef SS_CHECK_H
#define SS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_case, check_cases, check_failures;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                       \
  do {                                                                    \
    if(!(cond)) {                                                         \
      printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      check_failed_case = 1;                                              \
    }                                                                     \
  } while(0)

/* Compare two byte ranges and show both on failure. */
#define CHECK_MEM(a, alen, b, blen)                                         \
  do {                                                                      \
    size_t la_ = (alen), lb_ = (blen);                                      \
    if(la_ != lb_ || memcmp((a), (b), la_)) {                               \
      printf("#   %s:%d: bytes differ\n#   got:  [%.*s]\n#   want: [%.*s]\n", \
             __FILE__, __LINE__, (int)la_, (const char *)(a), (int)lb_,     \
             (const char *)(b));                                            \
      check_failed_case = 1;                                                \
    }                                                                       \
  } while(0)

#define CHECK_STR(a, b) CHECK_MEM((a), strlen(a), (b), strlen(b))

#define RUN(name)                                                   \
  do {                                                              \
    check_failed_case = 0;                                          \
    name();                                                         \
    check_cases++;                                                  \
    if(check_failed_case)                                           \
      check_failures++;                                             \
    printf("%s %d - %s\n", check_failed_case ? "not ok" : "ok",     \
           check_cases, #name);                                     \
  } while(0)

static inline int check_done(void)
{
  printf("1..%d\n", check_cases);
  return check_failures ? 1 : 0;
}

#endif
