/* api_export: (being written) */
#include "sdk_api.h"

const zl_sdk_api zl_sdk_apis_export[] = {{NULL, NULL, false}};
