/*
 * Preloaded into sipp by the benches (bench/sipp-clock.ts builds it into .tmp/): sipp 3.6 reads every time,
 * including the start and stop of a response-time measurement (-trace_rtt), from CLOCK_MONOTONIC_COARSE, which
 * advances once per kernel tick (4 ms with HZ=250), so its INVITE->200 times come in 4 ms steps. This answers a
 * request for the coarse clock from the precise one; every other clock is passed through unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts) {
  static clock_gettime_fn next;
  if (next == 0) next = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
  if (id == CLOCK_MONOTONIC_COARSE) id = CLOCK_MONOTONIC;
  return next(id, ts);
}
