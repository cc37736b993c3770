/* clock: the emulator's virtual clock, wall time plus an offset a scenario moves. */
#ifndef ZL_CLOCK_H
#define ZL_CLOCK_H

#include <stdint.h>

/* Seam: where wall time comes from (milliseconds since the epoch). NULL uses CLOCK_REALTIME. */
typedef int64_t (*zl_wall_fn)(void *ud);

/* The virtual clock ends at 9999-12-31T23:59:59.999Z: every time it gives, and every sum of
 * it with a step, stays far inside int64_t. */
#define ZL_CLOCK_MAX_MS 253402300799999LL

typedef struct zl_clock {
    zl_wall_fn wall;
    void *ud;
    int64_t offset_ms; /* virtual = wall + offset */
} zl_clock;

void zl_clock_init(zl_clock *c, zl_wall_fn wall, void *ud);
/* Real wall time in milliseconds. */
int64_t zl_clock_wall_ms(const zl_clock *c);
/* Virtual time in milliseconds / seconds. */
int64_t zl_clock_now_ms(const zl_clock *c);
int64_t zl_clock_now(const zl_clock *c);
/* Real milliseconds on CLOCK_MONOTONIC, for waits, deadlines and durations: never the
 * virtual clock, and not moved by changes to the system's wall time. */
int64_t zl_clock_mono_ms(void);
/* Starts virtual time at t_ms (any value, also in the past): for the emulator's start only. */
void zl_clock_start_at(zl_clock *c, int64_t t_ms);
/* Moves virtual time forward by ms. 0; -1 for a negative step (the clock never goes back:
 * timers and tokens assume it); -2 when it would pass ZL_CLOCK_MAX_MS. Nothing moves on -1/-2. */
int zl_clock_advance_ms(zl_clock *c, int64_t ms);
/* Sets virtual time to t_ms. 0; -1 when t_ms is in the past; -2 past ZL_CLOCK_MAX_MS. */
int zl_clock_set_ms(zl_clock *c, int64_t t_ms);

#endif
