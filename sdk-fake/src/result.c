/* result: the SDK's return codes as text, and the free function for owned strings. */
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
