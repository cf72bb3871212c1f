/* monitors.c - the monitoring stage types (see shim/stage.h). A test
 * build adds one that checks the core's events (tests/monitor/). */
#include "../shim/stage.h"

#ifdef SS_TEST_MONITOR
extern const struct ss_monitor test_monitor;
#endif

const struct ss_monitor *const ss_monitors[] = {
#ifdef SS_TEST_MONITOR
  &test_monitor,
#endif
  0
};
