/*
 * settings.c: a VideoRoom room's settings — validation of `create` bodies,
 * `edit`'s new_* fields and config sections, the `list` entry, and the
 * config file (janus.plugin.videoroom.jcfg).
 *
 * Design: one table (room_keys) names every room key with its kind (bool,
 * bounded int, bitrate, string, description, codec list) and its place in
 * vr_settings. The same table validates a `create` body, validates a config
 * section (a libconfig group is first turned into a JSON object, so there
 * is one validation path), and writes a room back to the file; edit_keys
 * maps `edit`'s new_* fields onto the same kinds. Validation works on a
 * copy, so a rejected body leaves the caller's settings untouched.
 *
 * Saving reads the whole file, replaces (or drops) one room-<id> group and
 * writes everything to a temporary file in the same folder; fsync, rename
 * over the file, fsync of the folder. After a crash the path names either
 * the old file or the new one. libconfig keeps no comments, so comments in
 * a file we rewrite are lost; the other sections' settings are kept.
 *
 * Threads: none of its own and no locks. Two saves to the same file must not
 * run at the same time (each would rewrite from its own read and the last
 * rename would win); the caller serialises them.
 */
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "stoa/conf_words.h"

#define ROOM_PREFIX "room-"

static const char *const audio_codecs[] = {
	"opus", "multiopus", "isac32", "isac16", "pcmu", "pcma", "g722", "l16-48", "l16", NULL,
};
static const char *const video_codecs[] = { "vp8", "vp9", "h264", "av1", "h265", NULL };

typedef enum key_kind {
	KEY_BOOL,	 /* bool */
	KEY_INT,	 /* int within [min, max] */
	KEY_BITRATE,	 /* uint32_t; 1..63999 is raised to 64000 afterwards */
	KEY_STRING,	 /* char *, NULL when unset; stored as given */
	KEY_DESCRIPTION, /* char *; an empty string leaves the old value */
	KEY_ACODECS,	 /* char *[VR_MAX_CODECS + 1] from a comma list */
	KEY_VCODECS,
} key_kind;

typedef struct room_key {
	const char *name;
	key_kind kind;
	size_t off;
	long long min, max; /* KEY_INT only */
} room_key;

#define KEY(n, k, f) { (n), (k), offsetof(vr_settings, f), 0, 0 }
#define KEY_RANGE(n, f, lo, hi) { (n), KEY_INT, offsetof(vr_settings, f), (lo), (hi) }

/* The room keys of a `create` body and a room-<id> section, in the order
 * they are checked (so the first bad one is reported) and written. */
static const room_key room_keys[] = {
	KEY("description", KEY_DESCRIPTION, description),
	KEY("is_private", KEY_BOOL, is_private),
	KEY("secret", KEY_STRING, secret),
	KEY("pin", KEY_STRING, pin),
	KEY("require_pvtid", KEY_BOOL, require_pvtid),
	KEY("signed_tokens", KEY_BOOL, signed_tokens),
	KEY("require_e2ee", KEY_BOOL, require_e2ee),
	KEY("notify_joining", KEY_BOOL, notify_joining),
	KEY_RANGE("publishers", publishers, 1, INT_MAX),
	KEY("bitrate", KEY_BITRATE, bitrate),
	KEY("bitrate_cap", KEY_BOOL, bitrate_cap),
	KEY_RANGE("fir_freq", fir_freq, 0, INT_MAX),
	KEY("audiocodec", KEY_ACODECS, acodec),
	KEY("videocodec", KEY_VCODECS, vcodec),
	KEY("vp9_profile", KEY_STRING, vp9_profile),
	KEY("h264_profile", KEY_STRING, h264_profile),
	KEY("opus_fec", KEY_BOOL, opus_fec),
	KEY("opus_dtx", KEY_BOOL, opus_dtx),
	KEY("audiolevel_ext", KEY_BOOL, audiolevel_ext),
	KEY("audiolevel_event", KEY_BOOL, audiolevel_event),
	/* Packets per talking decision; 0 would never decide anything. */
	KEY_RANGE("audio_active_packets", audio_active_packets, 1, INT_MAX),
	/* An RFC 6464 level: 0 (loudest) .. 127 (silence) -dBov. */
	KEY_RANGE("audio_level_average", audio_level_average, 0, 127),
	KEY("videoorient_ext", KEY_BOOL, videoorient_ext),
	KEY("playoutdelay_ext", KEY_BOOL, playoutdelay_ext),
	KEY("transport_wide_cc_ext", KEY_BOOL, transport_wide_cc_ext),
	KEY("record", KEY_BOOL, record),
	KEY("rec_dir", KEY_STRING, rec_dir),
	KEY("lock_record", KEY_BOOL, lock_record),
	KEY("dummy_publisher", KEY_BOOL, dummy_publisher),
};

/* `edit`'s fields: the same kinds under Janus's new_* names. */
static const room_key edit_keys[] = {
	KEY("new_description", KEY_DESCRIPTION, description),
	KEY("new_is_private", KEY_BOOL, is_private),
	KEY("new_secret", KEY_STRING, secret),
	KEY("new_pin", KEY_STRING, pin),
	KEY("new_require_pvtid", KEY_BOOL, require_pvtid),
	KEY("new_bitrate", KEY_BITRATE, bitrate),
	KEY_RANGE("new_fir_freq", fir_freq, 0, INT_MAX),
	KEY_RANGE("new_publishers", publishers, 1, INT_MAX),
	KEY("new_lock_record", KEY_BOOL, lock_record),
	KEY("new_rec_dir", KEY_STRING, rec_dir),
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int type_error(const char *name, const char *kind, char *err, size_t errlen)
{
	set_err(err, errlen, "Invalid element type (%s should be %s)", name, kind);
	return VR_ERR_INVALID_ELEMENT;
}

static void codecs_free(char **list)
{
	for (int i = 0; i < VR_MAX_CODECS && list[i] != NULL; i++) {
		g_free(list[i]);
		list[i] = NULL;
	}
}

static bool codecs_have(char *const *list, const char *name)
{
	for (int i = 0; i < VR_MAX_CODECS && list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

void vr_settings_init(vr_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->publishers = 3;
	s->acodec[0] = g_strdup("opus");
	s->vcodec[0] = g_strdup("vp8");
	s->opus_fec = true;
	s->audiolevel_ext = true;
	s->audio_active_packets = 100;
	s->audio_level_average = 25;
	s->videoorient_ext = true;
	s->playoutdelay_ext = true;
	s->transport_wide_cc_ext = true;
}

void vr_settings_clear(vr_settings *s)
{
	g_free(s->description);
	g_free(s->secret);
	g_free(s->pin);
	g_free(s->vp9_profile);
	g_free(s->h264_profile);
	g_free(s->rec_dir);
	codecs_free(s->acodec);
	codecs_free(s->vcodec);
	memset(s, 0, sizeof(*s));
}

void vr_settings_copy(vr_settings *dst, const vr_settings *src)
{
	*dst = *src;
	dst->description = g_strdup(src->description);
	dst->secret = g_strdup(src->secret);
	dst->pin = g_strdup(src->pin);
	dst->vp9_profile = g_strdup(src->vp9_profile);
	dst->h264_profile = g_strdup(src->h264_profile);
	dst->rec_dir = g_strdup(src->rec_dir);
	for (int i = 0; i < VR_MAX_CODECS; i++) {
		dst->acodec[i] = g_strdup(src->acodec[i]);
		dst->vcodec[i] = g_strdup(src->vcodec[i]);
	}
	dst->acodec[VR_MAX_CODECS] = NULL;
	dst->vcodec[VR_MAX_CODECS] = NULL;
}

/* Parses "opus, PCMU" into `list` (replacing it): trimmed, lower-cased,
 * duplicates dropped, every name in `allowed`, 1..VR_MAX_CODECS of them. */
static int parse_codecs(const char *name, json_t *v, const char *const *allowed, char **list,
			char *err, size_t errlen)
{
	char *parsed[VR_MAX_CODECS + 1] = { NULL };
	gchar **items;
	int n = 0, rc = 0;

	if (!json_is_string(v))
		return type_error(name, "a string", err, errlen);
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		set_err(err, errlen, "Invalid element (%s)", name);
		return VR_ERR_INVALID_ELEMENT;
	}
	items = g_strsplit(json_string_value(v), ",", -1);
	for (int i = 0; items[i] != NULL && rc == 0; i++) {
		char *item = g_ascii_strdown(g_strstrip(items[i]), -1);
		const char *known = NULL;

		for (int j = 0; allowed[j] != NULL; j++)
			if (strcmp(item, allowed[j]) == 0)
				known = allowed[j];
		g_free(item);
		if (items[i][0] == '\0' || (known != NULL && codecs_have(parsed, known)))
			continue;
		if (known == NULL) {
			set_err(err, errlen, "Invalid element (%s)", name);
			rc = VR_ERR_INVALID_ELEMENT;
		} else if (n == VR_MAX_CODECS) {
			set_err(err, errlen, "Invalid element (%s has more than %d codecs)", name,
				VR_MAX_CODECS);
			rc = VR_ERR_INVALID_ELEMENT;
		} else {
			parsed[n++] = g_strdup(known);
		}
	}
	g_strfreev(items);
	if (rc == 0 && n == 0) {
		set_err(err, errlen, "Invalid element (%s)", name);
		rc = VR_ERR_INVALID_ELEMENT;
	}
	if (rc != 0) {
		codecs_free(parsed);
		return rc;
	}
	codecs_free(list);
	memcpy(list, parsed, sizeof(parsed));
	return 0;
}

/* Checks a JSON integer against [min, max]; Janus's "positive" means >= 0. */
static int get_int(const char *name, json_t *v, long long min, long long max, long long *out,
		   char *err, size_t errlen)
{
	long long n;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return type_error(name, "a positive integer", err, errlen);
	n = json_integer_value(v);
	if (n < min) {
		set_err(err, errlen, "Invalid value (%s should be at least %lld)", name, min);
		return VR_ERR_INVALID_ELEMENT;
	}
	if (n > max) {
		set_err(err, errlen, "Invalid value (%s should be at most %lld)", name, max);
		return VR_ERR_INVALID_ELEMENT;
	}
	*out = n;
	return 0;
}

/* Sets one field of `s` from `v` (never NULL) as key `k` says. */
static int apply_key(vr_settings *s, const room_key *k, json_t *v, char *err, size_t errlen)
{
	char *base = (char *)s + k->off;
	long long n;
	int rc;

	switch (k->kind) {
	case KEY_BOOL:
		if (!json_is_boolean(v))
			return type_error(k->name, "a boolean", err, errlen);
		*(bool *)base = json_is_true(v);
		return 0;
	case KEY_INT:
		rc = get_int(k->name, v, k->min, k->max, &n, err, errlen);
		if (rc == 0)
			*(int *)base = (int)n;
		return rc;
	case KEY_BITRATE:
		rc = get_int(k->name, v, 0, UINT32_MAX, &n, err, errlen);
		if (rc == 0)
			*(uint32_t *)base = (uint32_t)n;
		return rc;
	case KEY_STRING:
	case KEY_DESCRIPTION:
		if (!json_is_string(v))
			return type_error(k->name, "a string", err, errlen);
		/* A NUL inside would silently shorten a secret or a pin. */
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			set_err(err, errlen, "Invalid value (%s contains a NUL character)",
				k->name);
			return VR_ERR_INVALID_ELEMENT;
		}
		if (k->kind == KEY_DESCRIPTION && json_string_length(v) == 0)
			return 0;
		g_free(*(char **)base);
		*(char **)base = g_strdup(json_string_value(v));
		return 0;
	case KEY_ACODECS:
		return parse_codecs(k->name, v, audio_codecs, (char **)base, err, errlen);
	case KEY_VCODECS:
		return parse_codecs(k->name, v, video_codecs, (char **)base, err, errlen);
	}
	return VR_ERR_UNKNOWN;
}

/* The rules that tie keys together, after any change. */
static void settings_fixup(vr_settings *s)
{
	if (s->bitrate > 0 && s->bitrate < 64000)
		s->bitrate = 64000;
	if (!codecs_have(s->acodec, "opus"))
		s->opus_fec = false;
}

/* Checks the keys only the API has; none of them is stored here. */
static int check_api_keys(vr_settings *s, json_t *obj, char *err, size_t errlen)
{
	json_t *room = json_object_get(obj, "room");
	json_t *permanent = json_object_get(obj, "permanent");
	json_t *allowed = json_object_get(obj, "allowed");
	size_t i;
	json_t *item;

	/* Room 0 means "pick one", as in Janus: the caller's s->room stays. */
	if (room != NULL) {
		if (!json_is_integer(room) || json_integer_value(room) < 0)
			return type_error("room", "a positive integer", err, errlen);
		if (json_integer_value(room) > 0)
			s->room = (guint64)json_integer_value(room);
	}
	if (permanent != NULL && !json_is_boolean(permanent))
		return type_error("permanent", "a boolean", err, errlen);
	if (allowed != NULL) {
		if (!json_is_array(allowed))
			return type_error("allowed", "an array", err, errlen);
		json_array_foreach(allowed, i, item) {
			if (!json_is_string(item))
				return type_error("allowed", "an array of strings", err, errlen);
		}
	}
	return 0;
}

/* Room options Stoa does not implement. Accepting one and ignoring it would
 * mislead: a room asking for signed tokens would let anyone in, a recorded
 * room would record nothing. So `true` is refused with the reason (430, as
 * Janus refuses a bad element); `false`, their default, is accepted. */
static const struct {
	size_t off;
	const char *name, *why;
} unsupported[] = {
	{ offsetof(vr_settings, signed_tokens), "signed_tokens",
	  "room tokens are not checked by this server; use pin, allowed or the core's token_auth" },
	{ offsetof(vr_settings, record), "record", "this server does not record" },
	{ offsetof(vr_settings, dummy_publisher), "dummy_publisher",
	  "this server has no dummy publishers" },
};

static int check_unsupported(const vr_settings *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < G_N_ELEMENTS(unsupported); i++) {
		if (!*(const bool *)((const char *)s + unsupported[i].off))
			continue;
		set_err(err, errlen, "Invalid value (%s = true is not supported: %s)",
			unsupported[i].name, unsupported[i].why);
		return VR_ERR_INVALID_ELEMENT;
	}
	return 0;
}

static int apply_table(vr_settings *s, const room_key *keys, size_t nkeys, json_t *obj,
		       char *err, size_t errlen)
{
	for (size_t i = 0; i < nkeys; i++) {
		json_t *v = json_object_get(obj, keys[i].name);
		int rc;

		if (v == NULL)
			continue;
		rc = apply_key(s, &keys[i], v, err, errlen);
		if (rc != 0)
			return rc;
	}
	settings_fixup(s);
	return 0;
}

int vr_settings_apply(vr_settings *s, json_t *obj, bool from_config, const char *section,
		      char *err, size_t errlen)
{
	vr_settings t;
	int rc = 0;

	if (obj != NULL && !json_is_object(obj)) {
		set_err(err, errlen, "JSON error: not an object");
		return VR_ERR_INVALID_JSON;
	}
	vr_settings_copy(&t, s);
	if (!from_config)
		rc = check_api_keys(&t, obj, err, errlen);
	if (rc == 0)
		rc = apply_table(&t, room_keys, G_N_ELEMENTS(room_keys), obj, err, errlen);
	if (rc == 0)
		rc = check_unsupported(&t, err, errlen);
	if (rc != 0) {
		vr_settings_clear(&t);
		return rc;
	}
	if (t.description == NULL) {
		if (from_config && section != NULL)
			t.description = g_strdup(section);
		else if (t.room != 0)
			t.description = g_strdup_printf("Room %" G_GUINT64_FORMAT, t.room);
	}
	vr_settings_clear(s);
	*s = t;
	return 0;
}

int vr_settings_edit(vr_settings *s, json_t *body, char *err, size_t errlen)
{
	vr_settings t;
	int rc;

	if (!json_is_object(body)) {
		set_err(err, errlen, "JSON error: not an object");
		return VR_ERR_INVALID_JSON;
	}
	vr_settings_copy(&t, s);
	rc = apply_table(&t, edit_keys, G_N_ELEMENTS(edit_keys), body, err, errlen);
	if (rc != 0) {
		vr_settings_clear(&t);
		return rc;
	}
	vr_settings_clear(s);
	*s = t;
	return 0;
}

char *vr_settings_codecs(char *const *list)
{
	GString *out = g_string_new(NULL);

	for (int i = 0; list != NULL && i < VR_MAX_CODECS && list[i] != NULL; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append(out, list[i]);
	}
	return g_string_free(out, FALSE);
}

json_t *vr_settings_list_entry(const vr_settings *s)
{
	json_t *e = json_object();
	char *codecs;

	json_object_set_new(e, "room", json_integer((json_int_t)s->room));
	json_object_set_new(e, "description",
			    json_string(s->description != NULL ? s->description : ""));
	json_object_set_new(e, "pin_required", json_boolean(s->pin != NULL));
	json_object_set_new(e, "is_private", json_boolean(s->is_private));
	json_object_set_new(e, "max_publishers", json_integer(s->publishers));
	json_object_set_new(e, "bitrate", json_integer(s->bitrate));
	if (s->bitrate_cap)
		json_object_set_new(e, "bitrate_cap", json_true());
	json_object_set_new(e, "fir_freq", json_integer(s->fir_freq));
	json_object_set_new(e, "require_pvtid", json_boolean(s->require_pvtid));
	json_object_set_new(e, "require_e2ee", json_boolean(s->require_e2ee));
	json_object_set_new(e, "dummy_publisher", json_boolean(s->dummy_publisher));
	json_object_set_new(e, "notify_joining", json_boolean(s->notify_joining));
	codecs = vr_settings_codecs(s->acodec);
	json_object_set_new(e, "audiocodec", json_string(codecs));
	g_free(codecs);
	codecs = vr_settings_codecs(s->vcodec);
	json_object_set_new(e, "videocodec", json_string(codecs));
	g_free(codecs);
	if (s->opus_fec)
		json_object_set_new(e, "opus_fec", json_true());
	if (s->opus_dtx)
		json_object_set_new(e, "opus_dtx", json_true());
	json_object_set_new(e, "record", json_boolean(s->record));
	if (s->rec_dir != NULL)
		json_object_set_new(e, "rec_dir", json_string(s->rec_dir));
	json_object_set_new(e, "lock_record", json_boolean(s->lock_record));
	json_object_set_new(e, "audiolevel_ext", json_boolean(s->audiolevel_ext));
	json_object_set_new(e, "audiolevel_event", json_boolean(s->audiolevel_event));
	if (s->audiolevel_event) {
		json_object_set_new(e, "audio_active_packets",
				    json_integer(s->audio_active_packets));
		json_object_set_new(e, "audio_level_average",
				    json_integer(s->audio_level_average));
	}
	json_object_set_new(e, "videoorient_ext", json_boolean(s->videoorient_ext));
	json_object_set_new(e, "playoutdelay_ext", json_boolean(s->playoutdelay_ext));
	json_object_set_new(e, "transport_wide_cc_ext", json_boolean(s->transport_wide_cc_ext));
	return e;
}

void vr_general_clear(vr_general *g)
{
	g_free(g->admin_key);
	memset(g, 0, sizeof(*g));
}

/* ---------------------------------------------------------------- the file */

/* What a missing file reads as: the same rooms as the sample
 * (conf/janus.plugin.videoroom.jcfg.sample, a unit test checks they agree),
 * so Janus's demo room 1234 is there out of the box. A permanent create or
 * destroy with no file writes this plus its change, so room 1234 does not
 * vanish at the next start because a file now exists. */
static const char default_config[] =
	"general: {\n}\n"
	"room-1234: {\n"
	"\tdescription = \"Demo Room\"\n"
	"\tsecret = \"adminpwd\"\n"
	"\tpublishers = 6\n"
	"\tbitrate = 128000\n"
	"\tfir_freq = 10\n"
	"\trecord = false\n"
	"}\n";

/* Reads `path` into `cfg` (initialised here; the caller destroys it). A
 * missing file reads as default_config and sets *missing. -1 with
 * "file:line: why". */
static int config_read_path(const char *path, config_t *cfg, bool *missing, char *err,
			    size_t errlen)
{
	struct stat st;
	FILE *fp;
	int ok;

	config_init(cfg);
	*missing = false;
	/* Open it ourselves: libconfig does not tell "missing" from "unreadable". */
	fp = fopen(path, "re");
	if (fp == NULL) {
		if (errno == ENOENT) {
			*missing = true;
			if (config_read_string(cfg, default_config) != CONFIG_TRUE) {
				set_err(err, errlen, "the built-in default configuration: %s",
					config_error_text(cfg));
				return -1;
			}
			return 0;
		}
		set_err(err, errlen, "%s: cannot read: %s", path, g_strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: cannot read: %s", path, g_strerror(EISDIR));
		fclose(fp);
		return -1;
	}
	ok = config_read(cfg, fp);
	fclose(fp);
	if (ok != CONFIG_TRUE) {
		const char *file = config_error_file(cfg), *text = config_error_text(cfg);

		set_err(err, errlen, "%s:%d: %s", file != NULL ? file : path,
			config_error_line(cfg), text != NULL ? text : "error");
		return -1;
	}
	return 0;
}

/* The id of a "room-<id>" name: 1..INT64_MAX in decimal digits, else 0. */
static guint64 section_room_id(const char *name)
{
	const char *digits;
	guint64 id = 0;

	if (name == NULL || !g_str_has_prefix(name, ROOM_PREFIX))
		return 0;
	digits = name + strlen(ROOM_PREFIX);
	if (digits[0] == '\0')
		return 0;
	for (const char *p = digits; *p != '\0'; p++)
		if (!g_ascii_isdigit(*p))
			return 0;
	if (!g_ascii_string_to_unsigned(digits, 10, 1, G_MAXINT64, &id, NULL))
		return 0;
	return id;
}

/* A libconfig setting as JSON; NULL (with *bad set to the setting's name)
 * for a value JSON cannot hold (a string that is not UTF-8, an infinity). */
static json_t *setting_to_json(const config_setting_t *s, const char **bad)
{
	json_t *v = NULL;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		v = json_integer(config_setting_get_int(s));
		break;
	case CONFIG_TYPE_INT64:
		v = json_integer(config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		v = json_real(config_setting_get_float(s));
		break;
	case CONFIG_TYPE_STRING:
		v = json_string(config_setting_get_string(s));
		break;
	case CONFIG_TYPE_BOOL:
		v = json_boolean(config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: {
		bool group = config_setting_type(s) == CONFIG_TYPE_GROUP;

		v = group ? json_object() : json_array();
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
			json_t *mv = setting_to_json(m, bad);

			if (mv == NULL) {
				json_decref(v);
				return NULL;
			}
			if (group)
				json_object_set_new(v, config_setting_name(m), mv);
			else
				json_array_append_new(v, mv);
		}
		return v;
	}
	}
	if (v == NULL && *bad == NULL)
		*bad = config_setting_name(s);
	return v;
}

/* Janus's own writer (janus_config, used when it saves a permanent room)
 * stores every value as a string: is_private = "yes", publishers = "6".
 * Janus reads booleans with janus_is_true() and numbers with atoi(). In a
 * file, then, a boolean may also be "yes"/"no"/"true"/"false"/"1"/"0" (any
 * case) and a number a string of decimal digits. Anything else stays as it
 * is, so it fails validation with the usual "Invalid element type" reason.
 * The API's `create` keeps strict JSON types. */

/* The JSON value a string stands for as a `kind` key, or NULL. */
static json_t *config_string_value(key_kind kind, const char *v)
{
	guint64 n;

	if (kind == KEY_BOOL) {
		int b = stoa_parse_bool_word(v);
		return b >= 0 ? json_boolean(b) : NULL;
	}
	if (kind != KEY_INT && kind != KEY_BITRATE)
		return NULL;
	/* Digits only (no sign, no spaces): the range check comes later. */
	if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT64, &n, NULL) || !g_ascii_isdigit(v[0]))
		return NULL;
	return json_integer((json_int_t)n);
}

/* Replaces the string forms among a room section's values (`obj`). */
static void config_strings_to_json(json_t *obj)
{
	for (size_t i = 0; i < G_N_ELEMENTS(room_keys); i++) {
		json_t *v = json_object_get(obj, room_keys[i].name), *nv;

		if (!json_is_string(v))
			continue;
		nv = config_string_value(room_keys[i].kind, json_string_value(v));
		if (nv != NULL)
			json_object_set_new(obj, room_keys[i].name, nv);
	}
}

/* Reads the general section over `g`; -1 with "file:line: general.<key>: ...". */
static int load_general(const char *path, const config_setting_t *sec, vr_general *g,
			char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} bools[] = {
		{ "lock_rtp_forward", offsetof(vr_general, lock_rtp_forward) },
		{ "events", offsetof(vr_general, events) },
		{ "string_ids", offsetof(vr_general, string_ids) },
	};
	const config_setting_t *m;

	if (!config_setting_is_group(sec)) {
		set_err(err, errlen, "%s:%d: general: must be a section (general: { ... })", path,
			config_setting_source_line(sec));
		return -1;
	}
	m = config_setting_get_member(sec, "admin_key");
	if (m != NULL) {
		if (config_setting_type(m) != CONFIG_TYPE_STRING) {
			set_err(err, errlen, "%s:%d: general.admin_key: must be a string", path,
				config_setting_source_line(m));
			return -1;
		}
		g_free(g->admin_key);
		g->admin_key = g_strdup(config_setting_get_string(m));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bools); i++) {
		int b;

		m = config_setting_get_member(sec, bools[i].name);
		if (m == NULL)
			continue;
		if (config_setting_type(m) == CONFIG_TYPE_BOOL)
			b = config_setting_get_bool(m);
		else if (config_setting_type(m) != CONFIG_TYPE_STRING ||
			 (b = stoa_parse_bool_word(config_setting_get_string(m))) < 0) {
			set_err(err, errlen, "%s:%d: general.%s: must be a boolean", path,
				config_setting_source_line(m), bools[i].name);
			return -1;
		}
		*(bool *)((char *)g + bools[i].off) = b != 0;
	}
	return 0;
}

/* Validates one room-<id> section; 0 and `s` filled, or -1 and `reason`. */
static int load_room(const config_setting_t *sec, guint64 id, vr_settings *s, char *reason,
		     size_t reasonlen)
{
	const char *name = config_setting_name(sec), *bad = NULL;
	json_t *obj;
	int rc;

	if (!config_setting_is_group(sec)) {
		set_err(reason, reasonlen, "not a section");
		return -1;
	}
	obj = setting_to_json(sec, &bad);
	if (obj == NULL) {
		set_err(reason, reasonlen, "Invalid value (%s)", bad != NULL ? bad : "?");
		return -1;
	}
	config_strings_to_json(obj);
	vr_settings_init(s);
	s->room = id;
	rc = vr_settings_apply(s, obj, true, name, reason, reasonlen);
	json_decref(obj);
	if (rc != 0) {
		vr_settings_clear(s);
		return -1;
	}
	return 0;
}

int vr_config_load(const char *path, vr_general *g, vr_room_cb room_cb, vr_skip_cb skip_cb,
		   void *user, char *err, size_t errlen)
{
	const config_setting_t *root;
	GHashTable *seen;
	config_t cfg;
	bool missing;

	/* `g` always ends up valid, so vr_general_clear() is right after any return. */
	memset(g, 0, sizeof(*g));
	g->events = true;
	if (config_read_path(path, &cfg, &missing, err, errlen) < 0) {
		config_destroy(&cfg);
		return -1;
	}
	root = config_root_setting(&cfg);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *sec = config_setting_get_elem(root, (unsigned)i);

		if (strcmp(config_setting_name(sec), "general") == 0 &&
		    load_general(path, sec, g, err, errlen) < 0) {
			config_destroy(&cfg);
			return -1;
		}
	}
	seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *sec = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(sec);
		guint64 id = section_room_id(name);
		char reason[256];
		vr_settings s;

		if (strcmp(name, "general") == 0)
			continue;
		if (id == 0) {
			set_err(reason, sizeof(reason), "not a room section "
				"(expected room-<id> with a positive decimal id)");
		} else if (g_hash_table_contains(seen, &id)) {
			set_err(reason, sizeof(reason),
				"room %" G_GUINT64_FORMAT " is defined twice", id);
		} else if (load_room(sec, id, &s, reason, sizeof(reason)) == 0) {
			gint64 *key = g_new(gint64, 1);

			*key = (gint64)id;
			g_hash_table_add(seen, key);
			if (room_cb != NULL)
				room_cb(&s, user);
			vr_settings_clear(&s);
			continue;
		}
		if (skip_cb != NULL)
			skip_cb(name, reason, user);
	}
	g_hash_table_destroy(seen);
	config_destroy(&cfg);
	return 0;
}

/* Adds one key of `s` to group `grp`: every key that is set, strings only
 * when not NULL. -1 if libconfig refuses. */
static int save_key(config_setting_t *grp, const room_key *k, const vr_settings *s)
{
	const char *base = (const char *)s + k->off;
	config_setting_t *m;
	char *codecs;
	int ok;

	switch (k->kind) {
	case KEY_BOOL:
		m = config_setting_add(grp, k->name, CONFIG_TYPE_BOOL);
		return m != NULL && config_setting_set_bool(m, *(const bool *)base) ? 0 : -1;
	case KEY_INT:
		m = config_setting_add(grp, k->name, CONFIG_TYPE_INT);
		return m != NULL && config_setting_set_int(m, *(const int *)base) ? 0 : -1;
	case KEY_BITRATE: {
		uint32_t v = *(const uint32_t *)base;

		/* libconfig's int is 32-bit signed; larger values need an int64. */
		if (v > INT_MAX) {
			m = config_setting_add(grp, k->name, CONFIG_TYPE_INT64);
			return m != NULL && config_setting_set_int64(m, v) ? 0 : -1;
		}
		m = config_setting_add(grp, k->name, CONFIG_TYPE_INT);
		return m != NULL && config_setting_set_int(m, (int)v) ? 0 : -1;
	}
	case KEY_STRING:
	case KEY_DESCRIPTION:
		if (*(char *const *)base == NULL)
			return 0;
		m = config_setting_add(grp, k->name, CONFIG_TYPE_STRING);
		return m != NULL && config_setting_set_string(m, *(char *const *)base) ? 0 : -1;
	case KEY_ACODECS:
	case KEY_VCODECS:
		if (((char *const *)base)[0] == NULL)
			return 0;
		codecs = vr_settings_codecs((char *const *)base);
		m = config_setting_add(grp, k->name, CONFIG_TYPE_STRING);
		ok = m != NULL && config_setting_set_string(m, codecs);
		g_free(codecs);
		return ok ? 0 : -1;
	}
	return -1;
}

/* Removes every top-level setting that names room `id` (room-1234 and
 * room-01234 alike); returns how many. */
static int remove_room_sections(config_setting_t *root, guint64 id)
{
	int removed = 0;

	for (int i = config_setting_length(root) - 1; i >= 0; i--) {
		config_setting_t *sec = config_setting_get_elem(root, (unsigned)i);

		if (section_room_id(config_setting_name(sec)) == id &&
		    config_setting_remove_elem(root, (unsigned)i) == CONFIG_TRUE)
			removed++;
	}
	return removed;
}

/* fsyncs the folder holding `path`, so a rename in it is durable. */
static int sync_folder(const char *path, char *err, size_t errlen)
{
	char *dir = g_path_get_dirname(path);
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: cannot open: %s", dir, g_strerror(errno));
		g_free(dir);
		return -1;
	}
	/* Some file systems cannot sync a folder (EINVAL); nothing more to do there. */
	if (fsync(fd) != 0 && errno != EINVAL) {
		set_err(err, errlen, "%s: cannot sync: %s", dir, g_strerror(errno));
		rc = -1;
	}
	close(fd);
	g_free(dir);
	return rc;
}

/* Writes `cfg` over `path` through a temporary file in the same folder. A
 * symbolic link is followed, so the file it names is replaced, not the link. */
static int write_atomic(const char *path, const config_t *cfg, char *err, size_t errlen)
{
	char *real = NULL, *tmp;
	struct stat st;
	bool have_mode, renamed = false;
	FILE *fp;
	int fd, rc = -1;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		real = realpath(path, NULL);
		if (real == NULL) {
			set_err(err, errlen, "%s: cannot resolve the link: %s", path,
				g_strerror(errno));
			return -1;
		}
		path = real;
	}
	have_mode = stat(path, &st) == 0;
	tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd >= 0) /* programs the server may spawn need not inherit it */
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: cannot create a temporary file: %s", tmp,
			g_strerror(errno));
		g_free(tmp);
		free(real);
		return -1;
	}
	/* Keep the old file's permissions; a new file stays 0600 (mkstemp's
	 * mode), as it may hold secrets. */
	if (have_mode && fchmod(fd, st.st_mode & 07777) != 0) {
		set_err(err, errlen, "%s: cannot set permissions: %s", tmp, g_strerror(errno));
		close(fd);
		goto out;
	}
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		set_err(err, errlen, "%s: cannot open: %s", tmp, g_strerror(errno));
		close(fd);
		goto out;
	}
	config_write(cfg, fp);
	if (ferror(fp) || fflush(fp) != 0 || fsync(fd) != 0) {
		set_err(err, errlen, "%s: cannot write: %s", tmp, g_strerror(errno));
		fclose(fp);
		goto out;
	}
	if (fclose(fp) != 0) {
		set_err(err, errlen, "%s: cannot write: %s", tmp, g_strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		set_err(err, errlen, "%s: cannot replace: %s", path, g_strerror(errno));
		goto out;
	}
	renamed = true;
	rc = sync_folder(path, err, errlen);
out:
	if (!renamed)
		unlink(tmp);
	g_free(tmp);
	free(real);
	return rc;
}

/* Reads `path`, drops room `id`, adds `s` as its section if not NULL, and
 * writes the file back when something changed. */
static int rewrite_room(const char *path, guint64 id, const vr_settings *s, char *err,
			size_t errlen)
{
	config_setting_t *root, *grp;
	char name[64];
	bool missing;
	config_t cfg;
	int removed, rc = -1;

	if (id == 0 || id > G_MAXINT64) {
		set_err(err, errlen, "Invalid room id %" G_GUINT64_FORMAT, id);
		return -1;
	}
	if (config_read_path(path, &cfg, &missing, err, errlen) < 0)
		goto out;
	config_set_options(&cfg, CONFIG_OPTION_SEMICOLON_SEPARATORS |
					 CONFIG_OPTION_COLON_ASSIGNMENT_FOR_GROUPS);
	root = config_root_setting(&cfg);
	removed = remove_room_sections(root, id);
	if (s == NULL && removed == 0) {
		rc = 0; /* nothing to remove: leave the file (or its absence) alone */
		goto out;
	}
	if (s != NULL) {
		snprintf(name, sizeof(name), ROOM_PREFIX "%" G_GUINT64_FORMAT, id);
		grp = config_setting_add(root, name, CONFIG_TYPE_GROUP);
		if (grp == NULL) {
			set_err(err, errlen, "%s: cannot add section %s", path, name);
			goto out;
		}
		for (size_t i = 0; i < G_N_ELEMENTS(room_keys); i++) {
			if (save_key(grp, &room_keys[i], s) < 0) {
				set_err(err, errlen, "%s: cannot write %s.%s", path, name,
					room_keys[i].name);
				goto out;
			}
		}
	}
	rc = write_atomic(path, &cfg, err, errlen);
out:
	config_destroy(&cfg);
	return rc;
}

int vr_config_save_room(const char *path, const vr_settings *s, char *err, size_t errlen)
{
	return rewrite_room(path, s->room, s, err, errlen);
}

int vr_config_remove_room(const char *path, guint64 room, char *err, size_t errlen)
{
	return rewrite_room(path, room, NULL, err, errlen);
}
