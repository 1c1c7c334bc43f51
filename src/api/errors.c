/*
 * errors.c: the default reasons of Janus API error codes. Clients match on
 * the numbers; the texts are Janus's so logs and UIs read the same.
 */
#include <stddef.h>

#include "api/errors.h"

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{ STOA_OK, "Success" },
	{ STOA_ERR_UNAUTHORIZED, "Unauthorized request (wrong or missing secret/token)" },
	{ STOA_ERR_UNAUTHORIZED_PLUGIN, "Unauthorized access to plugin (token is not allowed to)" },
	{ STOA_ERR_TRANSPORT_SPECIFIC, "Transport specific error" },
	{ STOA_ERR_MISSING_REQUEST, "Missing request" },
	{ STOA_ERR_UNKNOWN_REQUEST, "Unknown request" },
	{ STOA_ERR_INVALID_JSON, "Invalid JSON" },
	{ STOA_ERR_INVALID_JSON_OBJECT, "Invalid JSON Object" },
	{ STOA_ERR_MISSING_MANDATORY_ELEMENT, "Missing mandatory element" },
	{ STOA_ERR_INVALID_REQUEST_PATH, "Invalid path for this request" },
	{ STOA_ERR_SESSION_NOT_FOUND, "Session not found" },
	{ STOA_ERR_HANDLE_NOT_FOUND, "Handle not found" },
	{ STOA_ERR_PLUGIN_NOT_FOUND, "Plugin not found" },
	{ STOA_ERR_PLUGIN_ATTACH, "Error attaching plugin" },
	{ STOA_ERR_PLUGIN_MESSAGE, "Error sending message to plugin" },
	{ STOA_ERR_PLUGIN_DETACH, "Error detaching from plugin" },
	{ STOA_ERR_JSEP_UNKNOWN_TYPE, "Unsupported JSEP type" },
	{ STOA_ERR_JSEP_INVALID_SDP, "Invalid SDP" },
	{ STOA_ERR_TRICKLE_INVALID_STREAM, "Invalid stream" },
	{ STOA_ERR_INVALID_ELEMENT_TYPE, "Invalid element type" },
	{ STOA_ERR_SESSION_CONFLICT, "Session ID already in use" },
	{ STOA_ERR_UNEXPECTED_ANSWER, "Unexpected ANSWER (no OFFER)" },
	{ STOA_ERR_TOKEN_NOT_FOUND, "Token not found" },
	{ STOA_ERR_WEBRTC_STATE, "Wrong WebRTC state" },
	{ STOA_ERR_NOT_ACCEPTING_SESSIONS, "Currently not accepting new sessions" },
	{ STOA_ERR_UNKNOWN, "Unknown error" },
};

const char *stoa_api_error_reason(int code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Unknown error";
}
