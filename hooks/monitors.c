/* monitors.c - the monitoring stage types (see shim/stage.h): the
 * capture. A test build adds one that checks the core's events
 * (tests/monitor/). */
#include "capture.h"

#ifdef SS_TEST_MONITOR
extern const struct ss_monitor test_monitor;
#endif

const struct ss_monitor *const ss_monitors[] = {
  &capture_monitor,
#ifdef SS_TEST_MONITOR
  &test_monitor,
#endif
  0
};

bool ss_monitors_idle(void)
{
#ifdef SS_TEST_MONITOR
  return false;  /* the test monitor watches every transfer */
#else
  return capture_idle();
#endif
}
