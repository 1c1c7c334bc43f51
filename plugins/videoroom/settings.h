/*
 * settings.h: a VideoRoom room's settings — Janus's room keys (the `create`
 * request's fields are the config file's keys), their defaults and
 * validation, the `list` entry, `edit`'s new_* fields, and the config file
 * (`janus.plugin.videoroom.jcfg`: a `general` section and `room-<id>`
 * sections) read at start and rewritten atomically for `permanent` rooms.
 *
 * Plain data with one owner (the room, or the caller building one); no
 * locks, no core calls, so it is unit-tested on its own.
 */
#ifndef STOA_VIDEOROOM_SETTINGS_H
#define STOA_VIDEOROOM_SETTINGS_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Janus's VideoRoom error codes (janus_videoroom.c). */
enum {
	VR_ERR_UNKNOWN = 499,
	VR_ERR_NO_MESSAGE = 421,
	VR_ERR_INVALID_JSON = 422,
	VR_ERR_INVALID_REQUEST = 423,
	VR_ERR_JOIN_FIRST = 424,
	VR_ERR_ALREADY_JOINED = 425,
	VR_ERR_NO_SUCH_ROOM = 426,
	VR_ERR_ROOM_EXISTS = 427,
	VR_ERR_NO_SUCH_FEED = 428,
	VR_ERR_MISSING_ELEMENT = 429,
	VR_ERR_INVALID_ELEMENT = 430,
	VR_ERR_INVALID_SDP_TYPE = 431,
	VR_ERR_PUBLISHERS_FULL = 432,
	VR_ERR_UNAUTHORIZED = 433,
	VR_ERR_ALREADY_PUBLISHED = 434,
	VR_ERR_NOT_PUBLISHED = 435,
	VR_ERR_ID_EXISTS = 436,
	VR_ERR_INVALID_SDP = 437,
	VR_ERR_INVALID_FEED = 438,
};

#define VR_MAX_CODECS 5

typedef struct vr_settings {
	guint64 room;			/* the id (API `room`, config `room-<id>`) */
	char *description;
	char *secret, *pin;		/* NULL when unset */
	bool is_private;
	bool require_pvtid, signed_tokens, require_e2ee, notify_joining;
	int publishers;			/* max concurrent publishers (default 3) */
	uint32_t bitrate;		/* REMB cap, 0 = none; 1..63999 raised to 64000 */
	bool bitrate_cap;
	int fir_freq;			/* seconds, 0 = off */
	char *acodec[VR_MAX_CODECS + 1];	/* NULL-terminated, lower case: "opus", "pcmu", ... */
	char *vcodec[VR_MAX_CODECS + 1];	/* "vp8", "vp9", "h264", "av1", "h265" */
	char *vp9_profile, *h264_profile;
	bool opus_fec, opus_dtx;
	bool audiolevel_ext, audiolevel_event;
	int audio_active_packets, audio_level_average;
	bool videoorient_ext, playoutdelay_ext, transport_wide_cc_ext;
	bool record, lock_record;
	char *rec_dir;
	bool dummy_publisher;
} vr_settings;

/* Janus's defaults (publishers 3, opus / vp8, opus_fec on, the extensions
 * on, audio_active_packets 100, audio_level_average 25). */
void vr_settings_init(vr_settings *s);
void vr_settings_clear(vr_settings *s);
void vr_settings_copy(vr_settings *dst, const vr_settings *src);

/* Applies a `create` body (from_config false) or a config section
 * (from_config true: no `room`/`permanent`/`allowed`; `description`
 * defaults to the section name given as `section`) over `s`. Type errors,
 * unknown codecs and bad values give VR_ERR_INVALID_ELEMENT with Janus's
 * text in `err`; returns 0 on success. Unknown keys are ignored.
 * signed_tokens, record and dummy_publisher set to true are refused the
 * same way (Stoa does not implement them). */
int vr_settings_apply(vr_settings *s, json_t *obj, bool from_config, const char *section,
		      char *err, size_t errlen);

/* Applies `edit`'s new_* fields (new_description, new_is_private,
 * new_secret, new_pin, new_require_pvtid, new_bitrate, new_fir_freq,
 * new_publishers, new_lock_record, new_rec_dir). 0 or an error code. */
int vr_settings_edit(vr_settings *s, json_t *body, char *err, size_t errlen);

/* The `list` entry for the room (without num_participants). New ref. */
json_t *vr_settings_list_entry(const vr_settings *s);

/* "opus,pcmu": the codec lists as Janus prints them. g_free. */
char *vr_settings_codecs(char *const *list);

/* The plugin's `general` section. */
typedef struct vr_general {
	char *admin_key;		/* NULL if unset */
	bool lock_rtp_forward;
	bool events;
	bool string_ids;
} vr_general;

void vr_general_clear(vr_general *g);

/* Reads the config file: the general section into `g`, and every valid
 * `room-<id>` section as settings handed to `room_cb` (which takes
 * ownership with vr_settings_copy or may ignore it; the settings are
 * cleared afterwards). A missing file reads as the built-in default, the
 * sample's rooms (Janus's demo room 1234); a file that does not parse
 * returns -1 with "file:line: reason" in err. Values may also be Janus's
 * string forms ("yes", "6": Janus writes permanent rooms that way). A bad
 * room section is skipped with its reason passed to `skip_cb` (may be
 * NULL). */
typedef void (*vr_room_cb)(const vr_settings *s, void *user);
typedef void (*vr_skip_cb)(const char *section, const char *reason, void *user);
int vr_config_load(const char *path, vr_general *g, vr_room_cb room_cb, vr_skip_cb skip_cb,
		   void *user, char *err, size_t errlen);

/* Writes room `s` into the config file as section room-<id> (replacing one
 * of that id), or removes that section (vr_config_remove_room). The rest of
 * the file is kept. Atomic and durable: written to a temporary file in the
 * same folder, fsync'ed, renamed over the file, and the folder fsync'ed, so
 * a crash (kill -9) right after the call leaves either the old or the new
 * file, never a torn one. A missing file is created from the built-in
 * default plus the change, so room 1234 survives the next start. 0, or -1
 * with err. */
int vr_config_save_room(const char *path, const vr_settings *s, char *err, size_t errlen);
int vr_config_remove_room(const char *path, guint64 room, char *err, size_t errlen);

#endif
