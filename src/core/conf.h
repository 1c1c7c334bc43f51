/*
 * conf.h: schema-driven reading of libconfig (.jcfg) files.
 *
 * Every configuration file Stoa reads (the main stoa.jcfg/janus.jcfg, the
 * transports' and the plugins') is described by a table of keys: section,
 * name, type, bounds and where the value lands in a C struct. The loader
 * checks types and bounds and reports the first bad value with the file,
 * line and key, so an operator can fix it without reading our source.
 * Unknown keys and sections get a warning, not an error, because Janus
 * config folders hold many keys we do not implement.
 *
 * Janus stores every value as a string internally, so its users write both
 * `port = 8088` and `port = "8088"`, `http = true` and `http = "yes"`; we
 * accept the same spellings.
 *
 * Runs on the main thread at start-up (and from the plugin's init).
 */
#ifndef STOA_CORE_CONF_H
#define STOA_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum stoa_conf_type {
	STOA_CONF_BOOL,	  /* bool */
	STOA_CONF_INT,	  /* int, within [min, max] */
	STOA_CONF_STRING, /* char *, g_strdup'd; freed by stoa_conf_free */
	STOA_CONF_LIST,	  /* GPtrArray * of records; see stoa_conf_list */
} stoa_conf_type;

struct stoa_conf_key;

/*
 * The records of a STOA_CONF_LIST key: a libconfig list of groups,
 * `tokens = ( { token = "a"; scopes = "read"; }, { ... } );`. Each group
 * becomes one g_malloc0'd struct of `size` bytes read with `keys` (whose
 * section is NULL), so a record's members get the same type and range
 * checks as any key. Absent members stay zero; checking that a record is
 * complete is the caller's job. The field holds a GPtrArray of the
 * records, NULL when the file has no such key; stoa_conf_free frees it.
 */
typedef struct stoa_conf_list {
	const struct stoa_conf_key *keys;
	size_t nkeys;
	size_t size;
} stoa_conf_list;

typedef struct stoa_conf_key {
	const char *section; /* "general"; NULL for a top-level key */
	const char *name;
	stoa_conf_type type;
	size_t offset; /* offsetof(target struct, field) */
	long long min, max;
	const stoa_conf_list *list; /* STOA_CONF_LIST only */
} stoa_conf_key;

#define STOA_CONF_KEY_BOOL(sec, key, type, field) \
	{ (sec), (key), STOA_CONF_BOOL, offsetof(type, field), 0, 0, NULL }
#define STOA_CONF_KEY_INT(sec, key, type, field, lo, hi) \
	{ (sec), (key), STOA_CONF_INT, offsetof(type, field), (lo), (hi), NULL }
#define STOA_CONF_KEY_STR(sec, key, type, field) \
	{ (sec), (key), STOA_CONF_STRING, offsetof(type, field), 0, 0, NULL }
#define STOA_CONF_KEY_LIST(sec, key, type, field, spec) \
	{ (sec), (key), STOA_CONF_LIST, offsetof(type, field), 0, 0, &(spec) }

/*
 * Reads `path` into `target` according to `keys`. Keys absent from the file
 * keep the values already in `target` (the embedded defaults). Returns 0, or
 * -1 with a message like "stoa.jcfg:12: general.session_timeout: must be an
 * integer between 0 and 86400" in `err`. A missing file is not an error when
 * `optional` is true (returns 1).
 */
int stoa_conf_load(const char *path, bool optional, const stoa_conf_key *keys, size_t nkeys,
		   void *target, char *err, size_t errlen);

/* Same, from a string (for unit tests and fuzzing); `name` is used in messages. */
int stoa_conf_load_string(const char *text, const char *name, const stoa_conf_key *keys,
			  size_t nkeys, void *target, char *err, size_t errlen);

/* Replaces a string field, freeing the old value. */
void stoa_conf_set_string(char **field, const char *value);

/* Frees the string and list fields of `target` named by `keys`. */
void stoa_conf_free(const stoa_conf_key *keys, size_t nkeys, void *target);

#endif
