/* clock: the emulator's virtual clock, wall time plus an offset a scenario moves. */
#include "core/clock.h"

#include <stddef.h>
#include <time.h>

static int64_t real_wall(void *ud)
{
    struct timespec ts;

    (void)ud;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zl_clock_init(zl_clock *c, zl_wall_fn wall, void *ud)
{
    c->wall = wall ? wall : real_wall;
    c->ud = ud;
    c->offset_ms = 0;
}

int64_t zl_clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t zl_clock_wall_ms(const zl_clock *c)
{
    return c->wall(c->ud);
}

int64_t zl_clock_now_ms(const zl_clock *c)
{
    return c->wall(c->ud) + c->offset_ms;
}

int64_t zl_clock_now(const zl_clock *c)
{
    return zl_clock_now_ms(c) / 1000;
}

int zl_clock_advance_ms(zl_clock *c, int64_t ms)
{
    int64_t now = zl_clock_now_ms(c);

    if (ms < 0)
        return -1;
    if (ms > ZL_CLOCK_MAX_MS - now)
        return -2;
    c->offset_ms += ms;
    return 0;
}

int zl_clock_set_ms(zl_clock *c, int64_t t_ms)
{
    int64_t now = zl_clock_now_ms(c);

    if (t_ms < now)
        return -1;
    if (t_ms > ZL_CLOCK_MAX_MS)
        return -2;
    c->offset_ms += t_ms - now;
    return 0;
}

void zl_clock_start_at(zl_clock *c, int64_t t_ms)
{
    c->offset_ms = t_ms - zl_clock_wall_ms(c);
}
