/* jsoncheck: whether text is one JSON value, as cJSON 1.7.15 parses it, without a tree. */
#ifndef ZONE_JSONCHECK_H
#define ZONE_JSONCHECK_H

/*
 * 1 when cJSON_ParseWithOpts(text, NULL, 1) would succeed, 0 otherwise (also for NULL): the
 * same grammar and leniencies (any byte up to 32 is white space, a UTF-8 BOM first, numbers
 * as strtod reads what cJSON collects, \u with cJSON's surrogate rules, raw control bytes in
 * strings, nesting up to 1000), but nothing is allocated: a 0.5 MB reply is checked at the
 * speed of a scan, not of building and freeing its tree.
 */
int zone_json_check(const char *text);

#endif
