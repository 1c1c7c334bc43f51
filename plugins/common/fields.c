/*
 * fields.c: request bodies against field tables (see fields.h).
 */
#include <stdio.h>

#include "common/fields.h"

static const char *type_words(stoa_field_type t)
{
	switch (t) {
	case STOA_FIELD_INT: return "an integer";
	case STOA_FIELD_POSINT: return "a positive integer";
	case STOA_FIELD_STRING: return "a string";
	case STOA_FIELD_BOOL: return "a boolean";
	case STOA_FIELD_ARRAY: return "an array";
	default: return "an object";
	}
}

static bool type_ok(json_t *v, stoa_field_type t)
{
	switch (t) {
	case STOA_FIELD_INT: return json_is_integer(v);
	case STOA_FIELD_POSINT: return json_is_integer(v) && json_integer_value(v) >= 0;
	case STOA_FIELD_STRING: return json_is_string(v);
	case STOA_FIELD_BOOL: return json_is_boolean(v);
	case STOA_FIELD_ARRAY: return json_is_array(v);
	default: return json_is_object(v);
	}
}

int stoa_fields_check(json_t *obj, const stoa_field *f, size_t n, int *present, char *err,
		      size_t errlen)
{
	if (present != NULL)
		*present = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, f[i].name);
		if (v == NULL) {
			if (!f[i].required)
				continue;
			snprintf(err, errlen, "Missing mandatory element (%s)", f[i].name);
			return STOA_FIELDS_MISSING;
		}
		if (!type_ok(v, f[i].type)) {
			snprintf(err, errlen, "Invalid element type (%s should be %s)", f[i].name,
				 type_words(f[i].type));
			return STOA_FIELDS_INVALID;
		}
		if (present != NULL)
			(*present)++;
	}
	return STOA_FIELDS_OK;
}
