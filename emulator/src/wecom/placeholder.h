/* placeholder: how WeCom fills an ability's input protocol before it calls a model or a
 * program (sdk-api.md §6.4): {chat}, {chatcontent}, {knowledge}, {tagjson} and {$name$}
 * replaced in one pass, each inserted value escaped by the task's escape_type. */
#ifndef ZL_PLACEHOLDER_H
#define ZL_PLACEHOLDER_H

#include <stddef.h>

#include "core/sbuf.h"

/* escape_type 0 (WeCom's default): the characters " \ / \b \f \n \r \t of an inserted value
 * become spaces; 1: they are backslash-escaped. The other control characters U+0000..U+001F
 * become a space (0) or \u00XX (1), so that a value inside a JSON string keeps it JSON (the
 * spec lists only the eight; this is zonelab's choice). ZL_ESCAPE_NONE inserts values as they
 * are (the general model, which has no escape_type). */
enum { ZL_ESCAPE_SPACE = 0, ZL_ESCAPE_BACKSLASH = 1, ZL_ESCAPE_NONE = -1 };

/* One placeholder: its full name with the braces ("{chat}", "{$city$}") and its value. */
typedef struct zl_placeholder {
    const char *name;
    const char *value;
} zl_placeholder;

/* Appends value to out, escaped by escape_type. */
void zl_placeholder_escape(const char *value, int escape_type, zl_sbuf *out);

/*
 * Appends tpl to out with every occurrence of a placeholder of ph[0..n) replaced by its
 * escaped value. One left-to-right pass: text that a value brings in is never expanded again,
 * and names not in ph (also "{knowledge}" for a program task) stay as they are.
 */
void zl_placeholder_expand(const char *tpl, const zl_placeholder *ph, size_t n, int escape_type,
                           zl_sbuf *out);

/* A speaker label: 0 "A", 1 "B", ... 25 "Z", 26 "AA", ... (order of first appearance). */
void zl_placeholder_label(size_t n, char out[8]);

#endif
