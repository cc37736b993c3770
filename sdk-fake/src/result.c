/* result: the SDK's return codes as text, and the free functions for what it returns;
 * shared by the fake and the vendor adapter. */
#include <stdint.h>
#include <stdlib.h>

#include "zone_sdk.h"

const char *zone_strerror(int code)
{
    switch (code) {
#define ZONE_RESULT_CASE(name, c, text)                                                            \
    case c:                                                                                        \
        return text;
        ZONE_RESULTS(ZONE_RESULT_CASE)
#undef ZONE_RESULT_CASE
    }
    return "unknown code";
}

void zone_string_free(char *s)
{
    free(s);
}

void zone_reply_free(zone_reply *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n_headers; i++) {
        /* the reply owns these; zone_header holds them as const for the caller's sake */
        free((void *)(uintptr_t)r->headers[i].name);
        free((void *)(uintptr_t)r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    free(r);
}
