/* options: the one table of the emulator's options (every behaviour WeCom leaves open, every
 * protocol-check option, every timeout): names, types, sources, meanings, and setting them by
 * name from a world file, `zonelab serve --set`, a scenario and the control face. */
#ifndef ZL_OPTIONS_H
#define ZL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "emu/emu.h"

typedef enum zl_opt_type {
    ZL_OPT_BOOL, /* true or false */
    ZL_OPT_INT,  /* an integer from min to max */
    ZL_OPT_ENUM, /* one of names[], kept as its index */
    ZL_OPT_CODE  /* one of the errcodes codes[] */
} zl_opt_type;

/* One option. Its default is what zl_emu_options_default gives the field. */
typedef struct zl_opt {
    const char *name; /* dotted: "token_ttl_s", "app_callbacks.tries" */
    zl_opt_type type;
    long long min, max;       /* ZL_OPT_INT */
    bool nonzero;             /* ZL_OPT_INT: 0 is refused (an errcode) */
    const char *const *names; /* ZL_OPT_ENUM, NULL-terminated */
    const int *codes;         /* ZL_OPT_CODE, 0-terminated */
    long long example;        /* a valid value other than the default (an enum's index; unused
                                 for a bool, whose example is the default's negation) */
    const char *source;       /* the vendor page ("doc 42543"), "unknown" or "zonelab" */
    const char *meaning;      /* one line */
    bool live;                /* POST /_zonelab/options may change it while running */
    size_t offset, size;      /* the field in zl_emu_options (size 1: bool, 4: int, 8: 64 bits) */
} zl_opt;

/* The table, in the order of its generated section in docs/emulator.md; *count its length. */
const zl_opt *zl_opt_table(size_t *count);
/* The option named name, or NULL. */
const zl_opt *zl_opt_find(const char *name);
/* o's value of d: a bool as 0/1, an integer, an enum's index, an errcode. */
long long zl_opt_get(const zl_emu_options *o, const zl_opt *d);
/* Sets o's value of d to v, a value zl_opt_check accepts. */
void zl_opt_put(zl_emu_options *o, const zl_opt *d, long long v);
/* A valid value of d other than its default (what the tests set). */
long long zl_opt_example(const zl_opt *d);
/* "bool", "int", "enum" or "errcode". */
const char *zl_opt_type_name(const zl_opt *d);
/* What d takes, as a phrase for errors and docs: "true or false", "an integer from 1 to 10",
 * "\"sticky\" or \"any\"", "710642 or 790023". */
void zl_opt_values_text(const zl_opt *d, char *out, size_t len);
/* v as JSON (true/false, a number, an enum's name); owned by the caller, NULL out of memory. */
cJSON *zl_opt_to_json(const zl_opt *d, long long v);
/* v as `--set` takes it: true/false, a decimal, an enum's name. */
void zl_opt_to_text(const zl_opt *d, long long v, char *out, size_t len);
/*
 * d's row as the listings give it (GET /_zonelab/options, zonelab options --json): name, type,
 * min/max or values, default, value (when now is not NULL), example, source, meaning, live.
 * Owned by the caller.
 */
cJSON *zl_opt_row(const zl_opt *d, const zl_emu_options *now);

/*
 * Sets in o the options of obj, an object of name: value; a nested object joins names with
 * dots ({"app_callbacks": {"tries": 2}} is app_callbacks.tries). Every one is checked before
 * any is set. path names obj in errors ("options", "scenario{}.options"; "" for none).
 * Returns 0; -1 with err naming the option and what it takes, or the names that exist, for an
 * unknown name or a bad value; with only_live, -2 for an option that is fixed at start.
 */
int zl_emu_options_set_json(zl_emu_options *o, const cJSON *obj, const char *path, bool only_live,
                            char *err, size_t errlen);
/* A new object (the caller deletes it; NULL out of memory) of obj's members under their dotted
 * names: a nested object that is not an option's value is opened ({"a":{"b":1}} is {"a.b":1}).
 * Names are not checked. */
cJSON *zl_emu_options_flat(const cJSON *obj);
/* Sets one option from "NAME=VALUE" (zonelab serve --set): 0, or -1 with err. */
int zl_emu_options_set_text(zl_emu_options *o, const char *assignment, char *err, size_t errlen);
/* Sets the world's options (its "options" object; nothing when it has none): 0, or -1 with
 * err naming the option as options.NAME. */
int zl_emu_options_set_world(zl_emu_options *o, const zl_world *w, char *err, size_t errlen);

/* GET /_zonelab/options: {"ok": true, "options": [row, ...]} with emu's values; owned by the
 * caller. */
cJSON *zl_emu_options_list(const zl_emu *emu);
/*
 * POST /_zonelab/options with body {name: value, ...}: sets the live options at once (none
 * when one is refused) and journals them ({"face":"control","kind":"options","set":{...}}).
 * Returns 200 with *reply {"ok":true,"set":{name: value}} (owned), 400 for an unknown name or
 * a bad value, 409 for an option fixed at start, with why.
 */
unsigned zl_emu_options_post(zl_emu *emu, const cJSON *body, cJSON **reply, char *why,
                             size_t whylen);
/* Hands emu->opt to what keeps a copy (the app callbacks' notifier) after it changed. */
void zl_emu_options_changed(zl_emu *emu);

#endif
