/* api_names: the SDK API names the zone SDK accepts (spec sdk-api.md section 2). */
#ifndef ZONE_API_NAMES_H
#define ZONE_API_NAMES_H

#include <stddef.h>

/* 1 when name is an SDK API name (current or legacy alias), matched exactly. */
int zone_api_name_known(const char *name);

/* The i-th name in sorted order, NULL past the end. */
const char *zone_api_name_at(size_t i);

/* The invoke name zone_open_debug_mode uses; no program can invoke it directly. */
#define ZONE_API_OPEN_DEBUG_MODE "zonelab.open_debug_mode"

#endif
