/*
 * rest_fields.c: checking a JSON body against a table of fields.
 *
 * A handler declares its fields once ({name, type, required}); one call
 * then refuses, naming the field, anything the table does not know (a typo
 * must not be silently ignored the way Janus ignores unknown keys), a
 * required field that is missing, and a value of the wrong JSON type. The
 * VideoRoom still checks values (ranges, codec names); its errors name the
 * field too (rest_videoroom.c).
 *
 * Any thread; no state.
 */
#include <string.h>

#include <glib.h>

#include "api/rest_internal.h"

static const char *type_words(stoa_rest_type t)
{
	switch (t) {
	case STOA_REST_T_BOOL: return "a boolean";
	case STOA_REST_T_INT: return "an integer >= 0";
	case STOA_REST_T_ID: return "an integer >= 1";
	case STOA_REST_T_STRING: return "a string";
	case STOA_REST_T_STRINGS: return "an array of strings";
	case STOA_REST_T_OBJECTS: return "a non-empty array of objects";
	case STOA_REST_T_OBJECT: return "an object";
	}
	return "valid";
}

static bool all_of(json_t *array, int (*is)(const json_t *))
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v)
		if (!is(v))
			return false;
	return true;
}

static int is_string(const json_t *v)
{
	return json_is_string(v);
}

static int is_object(const json_t *v)
{
	return json_is_object(v);
}

static bool type_ok(json_t *v, stoa_rest_type t)
{
	switch (t) {
	case STOA_REST_T_BOOL: return json_is_boolean(v);
	case STOA_REST_T_INT: return json_is_integer(v) && json_integer_value(v) >= 0;
	case STOA_REST_T_ID: return json_is_integer(v) && json_integer_value(v) >= 1;
	case STOA_REST_T_STRING: return json_is_string(v);
	case STOA_REST_T_STRINGS: return json_is_array(v) && all_of(v, is_string);
	case STOA_REST_T_OBJECTS:
		return json_is_array(v) && json_array_size(v) > 0 && all_of(v, is_object);
	case STOA_REST_T_OBJECT: return json_is_object(v);
	}
	return false;
}

const stoa_rest_field *stoa__rest_field_find(const stoa_rest_field *fields, size_t n,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int stoa__rest_check_fields(stoa_rest_ctx *ctx, json_t *obj, const stoa_rest_field *fields,
			    size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const stoa_rest_field *f = stoa__rest_field_find(fields, n, key);
		if (f == NULL) {
			stoa__rest_error(ctx, STOA_REST_ERR_UNKNOWN_FIELD, key, "unknown field %s", key);
			return -1;
		}
		if (!type_ok(v, f->type)) {
			stoa__rest_error(ctx, STOA_REST_ERR_INVALID_FIELD, key, "%s must be %s", key,
					 type_words(f->type));
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].required && json_object_get(obj, fields[i].name) == NULL) {
			stoa__rest_error(ctx, STOA_REST_ERR_MISSING_FIELD, fields[i].name,
					 "%s is required", fields[i].name);
			return -1;
		}
	}
	return 0;
}
