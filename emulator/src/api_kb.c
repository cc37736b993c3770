/* api_kb: (being written) */
#include "sdk_api.h"

const zl_sdk_api zl_sdk_apis_kb[] = {{NULL, NULL, false}};
