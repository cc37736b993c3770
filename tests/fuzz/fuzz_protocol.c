/* libFuzzer target: the ability protocol check (a world's examples and every request_data and
 * program reply are checked by it). Input: flags byte, then example and data split at the
 * first NUL; the flags byte picks the options. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wecom/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1, *nul;
    size_t len, ex_len;
    zl_protocol_options opt = {0};
    zl_protocol_diag d;
    cJSON *example;

    if (size < 1)
        return 0;
    len = size - 1;
    nul = memchr(text, '\0', len);
    ex_len = nul ? (size_t)(nul - text) : len;
    opt.distinguish_integers = data[0] & 1;
    opt.skip_array_contents = (data[0] >> 1) & 1;
    opt.top_level_only = (data[0] >> 2) & 1;
    opt.null_matches_any = (data[0] >> 3) & 1;
    opt.input_mismatch_code = data[0] & 16 ? 710647 : 790016;
    if (zl_protocol_check_example(text, ex_len, &d) != 0)
        return 0;
    example = cJSON_ParseWithLength(text, ex_len);
    if (nul) {
        zl_protocol_check_request(example, nul + 1, len - ex_len - 1, &opt, &d);
        zl_protocol_check_response(example, nul + 1, len - ex_len - 1, &opt, &d);
    }
    cJSON_Delete(example);
    return 0;
}
