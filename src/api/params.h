/*
 * params.h: table-driven validation of JSON request fields.
 *
 * A handler declares its fields once ({name, type, required}) and one call
 * checks them all, producing Janus's texts: "Missing mandatory element (x)"
 * and "Invalid element type (x should be a positive integer)". Plugins get the
 * same through their own copies of these tables (their codes differ).
 */
#ifndef STOA_API_PARAMS_H
#define STOA_API_PARAMS_H

#include <jansson.h>
#include <stddef.h>

typedef enum stoa_param_type {
	STOA_PARAM_STRING,
	STOA_PARAM_NONEMPTY_STRING,
	STOA_PARAM_INTEGER,
	STOA_PARAM_POSITIVE,	/* integer >= 0, as Janus means "positive" */
	STOA_PARAM_BOOL,
	STOA_PARAM_OBJECT,
	STOA_PARAM_ARRAY,
} stoa_param_type;

typedef struct stoa_param {
	const char *name;
	stoa_param_type type;
	int required;
} stoa_param;

/* Checks `obj` against `params`. Returns 0, or `missing_code` /
 * `invalid_code` with the Janus text in `err`. */
int stoa_params_check(json_t *obj, const stoa_param *params, size_t n, int missing_code,
		      int invalid_code, char *err, size_t errlen);

/* The "a string" / "a positive integer" / ... words for a type. */
const char *stoa_param_type_words(stoa_param_type type);

/* Does `v` have `type`? */
int stoa_param_matches(json_t *v, stoa_param_type type);

#define STOA_PARAMS_CHECK(obj, table, miss, inval, err, errlen) \
	stoa_params_check((obj), (table), sizeof(table) / sizeof((table)[0]), (miss), (inval), \
			  (err), (errlen))

#endif
