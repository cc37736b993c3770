/* placeholder: one-pass placeholder expansion and WeCom's escape_type (placeholder.h). */
#include "wecom/placeholder.h"

#include <stdio.h>
#include <string.h>

void zl_placeholder_escape(const char *value, int escape_type, zl_sbuf *out)
{
    const unsigned char *p = (const unsigned char *)value, *run = p;

    if (escape_type == ZL_ESCAPE_NONE) {
        zl_sbuf_str(out, value);
        return;
    }
    for (; *p; p++) {
        const char *esc = NULL;
        char u[8];

        if (*p >= 0x20 && *p != '"' && *p != '\\' && *p != '/')
            continue;
        zl_sbuf_add(out, (const char *)run, (size_t)(p - run));
        run = p + 1;
        if (escape_type == ZL_ESCAPE_SPACE) {
            zl_sbuf_add(out, " ", 1);
            continue;
        }
        switch (*p) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '/':
            esc = "\\/";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            snprintf(u, sizeof u, "\\u%04x", *p);
            esc = u;
        }
        zl_sbuf_str(out, esc);
    }
    zl_sbuf_add(out, (const char *)run, (size_t)(p - run));
}

void zl_placeholder_expand(const char *tpl, const zl_placeholder *ph, size_t n, int escape_type,
                           zl_sbuf *out)
{
    const char *p = tpl, *run = tpl;
    size_t i;

    while ((p = strchr(p, '{'))) {
        for (i = 0; i < n; i++)
            if (!strncmp(p, ph[i].name, strlen(ph[i].name)))
                break;
        if (i == n) {
            p++;
            continue;
        }
        zl_sbuf_add(out, run, (size_t)(p - run));
        zl_placeholder_escape(ph[i].value ? ph[i].value : "", escape_type, out);
        p += strlen(ph[i].name);
        run = p;
    }
    zl_sbuf_str(out, run);
}

void zl_placeholder_label(size_t n, char out[8])
{
    char tmp[8];
    size_t k = 0, i;

    do {
        tmp[k++] = (char)('A' + n % 26);
        n = n / 26;
    } while (n-- > 0 && k < 6);
    for (i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = '\0';
}
