/*
 * params.c: see params.h.
 */
#include <stdio.h>

#include "api/params.h"

const char *stoa_param_type_words(stoa_param_type type)
{
	switch (type) {
	case STOA_PARAM_STRING: return "a string";
	case STOA_PARAM_NONEMPTY_STRING: return "a non-empty string";
	case STOA_PARAM_INTEGER: return "an integer";
	case STOA_PARAM_POSITIVE: return "a positive integer";
	case STOA_PARAM_BOOL: return "a boolean";
	case STOA_PARAM_OBJECT: return "an object";
	case STOA_PARAM_ARRAY: return "an array";
	}
	return "valid";
}

int stoa_param_matches(json_t *v, stoa_param_type type)
{
	switch (type) {
	case STOA_PARAM_STRING: return json_is_string(v);
	case STOA_PARAM_NONEMPTY_STRING: return json_is_string(v) && json_string_length(v) > 0;
	case STOA_PARAM_INTEGER: return json_is_integer(v);
	case STOA_PARAM_POSITIVE: return json_is_integer(v) && json_integer_value(v) >= 0;
	case STOA_PARAM_BOOL: return json_is_boolean(v);
	case STOA_PARAM_OBJECT: return json_is_object(v);
	case STOA_PARAM_ARRAY: return json_is_array(v);
	}
	return 0;
}

int stoa_params_check(json_t *obj, const stoa_param *params, size_t n, int missing_code,
		      int invalid_code, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, params[i].name);
		if (v == NULL) {
			if (!params[i].required)
				continue;
			snprintf(err, errlen, "Missing mandatory element (%s)", params[i].name);
			return missing_code;
		}
		if (!stoa_param_matches(v, params[i].type)) {
			snprintf(err, errlen, "Invalid element type (%s should be %s)",
				 params[i].name, stoa_param_type_words(params[i].type));
			return invalid_code;
		}
	}
	return 0;
}
