/* libFuzzer target: filling an ability's input protocol (model and program tasks): a template
 * and values for {chat}, {chatcontent}, {knowledge}, {tagjson} and {$name$}, NUL-separated;
 * the first byte picks the escape type. Checks that what comes out is whole: with escape
 * type 1 a template that is a JSON object with a placeholder in a string stays JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "wecom/placeholder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"{chat}", "{chatcontent}", "{knowledge}", "{tagjson}",
                                        "{$city$}"};
    zl_placeholder ph[5];
    const char *part[6];
    size_t n = 0, off = 0, i;
    char *s, label[8];
    zl_sbuf out = {0};
    int escape;

    if (size < 1)
        return 0;
    escape = data[0] % 3 == 2 ? ZL_ESCAPE_NONE : data[0] % 3;
    if (!(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    while (n < 6 && off <= size - 1) {
        part[n++] = s + off;
        off += strlen(s + off) + 1;
    }
    for (i = 0; i + 1 < n; i++)
        ph[i] = (zl_placeholder){names[i], part[i + 1]};
    zl_placeholder_expand(part[0], ph, n - 1, escape, &out);
    if (escape == ZL_ESCAPE_BACKSLASH && !out.oom && n > 1 &&
        !strcmp(part[0], "{\"q\":\"{chat}\"}")) {
        cJSON *j = cJSON_Parse(out.s ? out.s : "");

        if (!j)
            abort(); /* an escaped value broke the JSON string it went into */
        cJSON_Delete(j);
    }
    zl_placeholder_label((size_t)data[0] * 997, label);
    free(out.s);
    free(s);
    return 0;
}
