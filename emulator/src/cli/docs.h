/* cli_docs: the WeCom pages zonelab follows and their "last updated" dates. */
#ifndef ZL_CLI_DOCS_H
#define ZL_CLI_DOCS_H

#include <stddef.h>

typedef struct zl_vendor_doc {
    int doc_id;          /* WeCom's doc id, as the spec cites it: [vendor doc N] */
    int path;            /* https://developer.work.weixin.qq.com/document/path/<path> */
    const char *updated; /* the page's own "last updated" date, YYYY-MM-DD */
    const char *title;   /* in English */
} zl_vendor_doc;

extern const zl_vendor_doc zl_vendor_docs[];
extern const size_t zl_vendor_docs_count;

#endif
