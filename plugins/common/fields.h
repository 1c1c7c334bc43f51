/*
 * fields.h: checking a request body against a table of its fields — the
 * one place the plugins spell Janus's "Missing mandatory element (x)" and
 * "Invalid element type (x should be a string)".
 *
 * Pure function over a borrowed JSON object: any thread. Linked into
 * plugins (libstoa_plugin_common); each plugin maps the two outcomes to its
 * own error codes.
 */
#ifndef STOA_PLUGIN_COMMON_FIELDS_H
#define STOA_PLUGIN_COMMON_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
	STOA_FIELD_INT,
	STOA_FIELD_POSINT,	/* an integer >= 0 */
	STOA_FIELD_STRING,
	STOA_FIELD_BOOL,
	STOA_FIELD_ARRAY,
	STOA_FIELD_OBJECT,
} stoa_field_type;

typedef struct stoa_field {
	const char *name;
	stoa_field_type type;
	bool required;
} stoa_field;

enum {
	STOA_FIELDS_OK = 0,
	STOA_FIELDS_MISSING = 1,	/* a required field is absent */
	STOA_FIELDS_INVALID = 2,	/* a present field has the wrong type */
};

/* Checks `obj` against the n fields, in table order; the first problem is
 * described in err. Returns one of STOA_FIELDS_*. `present` (may be NULL)
 * gets how many of the fields are present. */
int stoa_fields_check(json_t *obj, const stoa_field *f, size_t n, int *present, char *err,
		      size_t errlen);

#endif
