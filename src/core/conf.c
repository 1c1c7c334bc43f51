/*
 * conf.c: schema-driven reading of libconfig (.jcfg) files.
 *
 * Design: libconfig parses the whole file into a tree; we then walk the
 * caller's key table, look each key up in the tree and convert what we find
 * into the target struct, and finally walk the tree once more to warn about
 * settings no key claims. We inspect each setting's libconfig type ourselves
 * instead of using libconfig's typed lookups (or its auto-conversion option),
 * because Janus accepts spellings libconfig would not convert: "8088" for an
 * integer, "yes" for a boolean, 8088 for a string.
 *
 * A list key (STOA_CONF_LIST) holds records: a libconfig list of groups,
 * each read with its own small key table by the same converters, so a
 * record's members are checked and reported like any other key
 * ("rest_api.tokens[1].token: must be a string").
 *
 * Known limit: libconfig 1.5 stores an unsuffixed integer literal past 32
 * bits wrapped (4294967297 arrives as 1), before we can see it. Literals with
 * an L suffix and quoted numbers are range-checked exactly.
 *
 * Runs on the main thread at start-up and from plugins' init(); it keeps no
 * state of its own, so concurrent loads of different targets are safe.
 */
#define STOA_LOG_MODULE "config"

#include "core/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <libconfig.h>

#include "core/log.h"
#include "stoa/conf_words.h"

/* What a load is working on; `name` is the file name used in messages.
 * `prefix` names the record being read ("rest_api.tokens[1]"), NULL at the
 * top of the file. */
typedef struct conf_ctx {
	const char *name;
	const stoa_conf_key *keys;
	size_t nkeys;
	void *target;
	char *err;
	size_t errlen;
	const char *prefix;
} conf_ctx;

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

/* Settings from an @include'd file carry that file's name; others get ours. */
static const char *setting_file(const conf_ctx *ctx, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);

	return f != NULL ? f : ctx->name;
}

/* Writes "section.name" (or "name" for a top-level key, "record.name" for
 * a member of a list record) into buf. */
static const char *key_path(const conf_ctx *ctx, const stoa_conf_key *k, char *buf, size_t size)
{
	if (ctx->prefix != NULL)
		snprintf(buf, size, "%s.%s", ctx->prefix, k->name);
	else if (k->section != NULL)
		snprintf(buf, size, "%s.%s", k->section, k->name);
	else
		snprintf(buf, size, "%s", k->name);
	return buf;
}

static int key_error(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s,
		     const char *what)
{
	char path[256];

	set_err(ctx->err, ctx->errlen, "%s:%u: %s: %s", setting_file(ctx, s),
		config_setting_source_line(s), key_path(ctx, k, path, sizeof(path)), what);
	return -1;
}

void stoa_conf_set_string(char **field, const char *value)
{
	/* Copy before freeing: `value` may be the old string itself. */
	char *copy = g_strdup(value);

	g_free(*field);
	*field = copy;
}

/* Frees the records of a list field and the array itself. */
static void list_free(const stoa_conf_list *spec, GPtrArray **field)
{
	if (*field == NULL)
		return;
	for (guint i = 0; i < (*field)->len; i++) {
		stoa_conf_free(spec->keys, spec->nkeys, (*field)->pdata[i]);
		g_free((*field)->pdata[i]);
	}
	g_ptr_array_free(*field, TRUE);
	*field = NULL;
}

void stoa_conf_free(const stoa_conf_key *keys, size_t nkeys, void *target)
{
	for (size_t i = 0; i < nkeys; i++) {
		void *field = (char *)target + keys[i].offset;

		if (keys[i].type == STOA_CONF_LIST) {
			list_free(keys[i].list, (GPtrArray **)field);
		} else if (keys[i].type == STOA_CONF_STRING) {
			g_free(*(char **)field);
			*(char **)field = NULL;
		}
	}
}

static int convert_bool(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s)
{
	int v = -1;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_BOOL:
		v = config_setting_get_bool(s) ? 1 : 0;
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: {
		long long n = config_setting_get_int64(s);
		if (n == 0 || n == 1)
			v = (int)n;
		break;
	}
	case CONFIG_TYPE_STRING:
		v = stoa_parse_bool_word(config_setting_get_string(s));
		break;
	default:
		break;
	}
	if (v < 0)
		return key_error(ctx, k, s, "must be a boolean");
	*(bool *)((char *)ctx->target + k->offset) = v == 1;
	return 0;
}

/* Strict decimal: optional sign, then digits only. 0, or -1 (-2 on overflow). */
static int parse_decimal(const char *s, long long *out)
{
	const char *p = s;
	char *end = NULL;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++)
		if (!g_ascii_isdigit(*p))
			return -1;
	errno = 0;
	*out = g_ascii_strtoll(s, &end, 10);
	return errno == ERANGE ? -2 : 0;
}

static int convert_int(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s)
{
	/* The field is an int, so the table's bounds cannot widen it. */
	long long lo = MAX(k->min, (long long)INT_MIN), hi = MIN(k->max, (long long)INT_MAX);
	long long v = 0;
	bool ok = false, range_ok = true;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		ok = true;
		break;
	case CONFIG_TYPE_STRING: {
		int rc = parse_decimal(config_setting_get_string(s), &v);
		ok = rc != -1;
		range_ok = rc == 0;
		break;
	}
	default:
		break;
	}
	if (!ok || !range_ok || v < lo || v > hi) {
		char what[128];
		snprintf(what, sizeof(what), "must be an integer between %lld and %lld", lo, hi);
		return key_error(ctx, k, s, what);
	}
	*(int *)(void *)((char *)ctx->target + k->offset) = (int)v;
	return 0;
}

static int convert_string(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s)
{
	char **field = (char **)(void *)((char *)ctx->target + k->offset);
	char num[G_ASCII_DTOSTR_BUF_SIZE];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		stoa_conf_set_string(field, config_setting_get_string(s));
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(num, sizeof(num), "%lld", config_setting_get_int64(s));
		stoa_conf_set_string(field, num);
		return 0;
	case CONFIG_TYPE_FLOAT:
		/* Shortest text that reads back as the same double, locale-free. */
		g_ascii_dtostr(num, sizeof(num), config_setting_get_float(s));
		stoa_conf_set_string(field, num);
		return 0;
	case CONFIG_TYPE_BOOL:
		stoa_conf_set_string(field, config_setting_get_bool(s) ? "true" : "false");
		return 0;
	default:
		return key_error(ctx, k, s, "must be a string");
	}
}

/* The group a key lives in: the root for top-level keys, NULL if absent. */
static int find_section(const conf_ctx *ctx, const config_t *cfg, const char *section,
			const config_setting_t **out)
{
	const config_setting_t *sec = config_root_setting(cfg);

	if (section != NULL)
		sec = config_setting_get_member(sec, section);
	*out = sec;
	if (sec == NULL || config_setting_is_group(sec))
		return 0;
	/* `general = 1` is a mistake an operator wants to hear about. */
	set_err(ctx->err, ctx->errlen, "%s:%u: %s: must be a section (%s: { ... })",
		setting_file(ctx, sec), config_setting_source_line(sec), section, section);
	return -1;
}

static int convert(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s);

/* Reads one record (a group) into a fresh struct appended to `out`, with
 * the record's own keys; unknown members get the usual warning. */
static int convert_record(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *g,
			  unsigned index, GPtrArray *out)
{
	const stoa_conf_list *spec = k->list;
	char prefix[256], path[240];
	conf_ctx sub = *ctx;

	key_path(ctx, k, path, sizeof(path));
	snprintf(prefix, sizeof(prefix), "%s[%u]", path, index);
	g_ptr_array_add(out, g_malloc0(spec->size));
	if (!config_setting_is_group(g)) {
		set_err(ctx->err, ctx->errlen, "%s:%u: %s: must be a group { ... }",
			setting_file(ctx, g), config_setting_source_line(g), prefix);
		return -1;
	}
	sub.keys = spec->keys;
	sub.nkeys = spec->nkeys;
	sub.target = out->pdata[out->len - 1];
	sub.prefix = prefix;
	for (int j = 0; j < config_setting_length(g); j++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)j);
		bool known = false;
		for (size_t i = 0; i < spec->nkeys && !known; i++)
			known = strcmp(spec->keys[i].name, config_setting_name(m)) == 0;
		if (!known)
			STOA_LOG(STOA_LOG_WARN, "%s:%u: unknown setting %s.%s (ignored)",
				 setting_file(ctx, m), config_setting_source_line(m), prefix,
				 config_setting_name(m));
	}
	for (size_t i = 0; i < spec->nkeys; i++) {
		const config_setting_t *m = config_setting_get_member(g, spec->keys[i].name);
		if (m != NULL && convert(&sub, &spec->keys[i], m) < 0)
			return -1;
	}
	return 0;
}

/* A list of groups. An empty array `[]` is accepted as an empty list, as
 * the two look alike to an operator. The records replace any earlier value
 * (even on failure, so that stoa_conf_free frees what was read). */
static int convert_list(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s)
{
	GPtrArray **field = (GPtrArray **)(void *)((char *)ctx->target + k->offset);
	GPtrArray *out;
	int rc = 0;

	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && config_setting_length(s) == 0))
		return key_error(ctx, k, s, "must be a list of groups: ( { ... }, { ... } )");
	out = g_ptr_array_new();
	for (int i = 0; i < config_setting_length(s) && rc == 0; i++)
		rc = convert_record(ctx, k, config_setting_get_elem(s, (unsigned)i), (unsigned)i, out);
	list_free(k->list, field);
	*field = out;
	return rc;
}

static int convert(const conf_ctx *ctx, const stoa_conf_key *k, const config_setting_t *s)
{
	switch (k->type) {
	case STOA_CONF_BOOL:
		return convert_bool(ctx, k, s);
	case STOA_CONF_INT:
		return convert_int(ctx, k, s);
	case STOA_CONF_STRING:
		return convert_string(ctx, k, s);
	case STOA_CONF_LIST:
		return convert_list(ctx, k, s);
	}
	set_err(ctx->err, ctx->errlen, "%s: bad key type %d in the key table", k->name,
		(int)k->type);
	return -1;
}

static int apply_keys(const conf_ctx *ctx, const config_t *cfg)
{
	for (size_t i = 0; i < ctx->nkeys; i++) {
		const stoa_conf_key *k = &ctx->keys[i];
		const config_setting_t *sec, *s;

		if (find_section(ctx, cfg, k->section, &sec) < 0)
			return -1;
		s = sec != NULL ? config_setting_get_member(sec, k->name) : NULL;
		if (s == NULL)
			continue; /* keep the default already in target */
		if (convert(ctx, k, s) < 0)
			return -1;
	}
	return 0;
}

/* True if some key sits in `section` (NULL = top level) and, when `name` is
 * not NULL, is called `name`. */
static bool key_known(const conf_ctx *ctx, const char *section, const char *name)
{
	for (size_t i = 0; i < ctx->nkeys; i++) {
		const stoa_conf_key *k = &ctx->keys[i];
		if (g_strcmp0(k->section, section) != 0)
			continue;
		if (name == NULL || strcmp(k->name, name) == 0)
			return true;
	}
	return false;
}

static void warn_unknown(const conf_ctx *ctx, const config_setting_t *s, const char *section)
{
	const char *name = config_setting_name(s);

	STOA_LOG(STOA_LOG_WARN, "%s:%u: unknown setting %s%s%s (ignored)", setting_file(ctx, s),
		 config_setting_source_line(s), section != NULL ? section : "",
		 section != NULL ? "." : "", name != NULL ? name : "?");
}

/* Warns once per top-level setting no key claims, and once per unclaimed
 * member of a known section. Never fails: Janus folders hold many keys we
 * do not implement. */
static void warn_unknowns(const conf_ctx *ctx, const config_t *cfg)
{
	const config_setting_t *root = config_root_setting(cfg);

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);

		if (key_known(ctx, NULL, name))
			continue;
		if (!key_known(ctx, name, NULL)) {
			warn_unknown(ctx, s, NULL);
			continue;
		}
		if (!config_setting_is_group(s))
			continue; /* a known section that is not one: apply_keys() fails */
		for (int j = 0; j < config_setting_length(s); j++) {
			const config_setting_t *m = config_setting_get_elem(s, (unsigned)j);
			if (!key_known(ctx, name, config_setting_name(m)))
				warn_unknown(ctx, m, name);
		}
	}
}

/* Reports a failed config_read*(); `cfg` holds libconfig's error. */
static int read_error(const conf_ctx *ctx, const config_t *cfg)
{
	const char *file = config_error_file(cfg) != NULL ? config_error_file(cfg) : ctx->name;
	const char *text = config_error_text(cfg) != NULL ? config_error_text(cfg) : "unknown error";

	if (config_error_type(cfg) != CONFIG_ERR_PARSE)
		set_err(ctx->err, ctx->errlen, "%s:%d: %s", file, config_error_line(cfg), text);
	else if (strcmp(text, "syntax error") == 0)
		/* libconfig's usual text; do not say it twice. */
		set_err(ctx->err, ctx->errlen, "%s:%d: syntax error", file, config_error_line(cfg));
	else
		set_err(ctx->err, ctx->errlen, "%s:%d: syntax error: %s", file,
			config_error_line(cfg), text);
	return -1;
}

/* Applies a parsed tree. On failure `target` may be partly updated; its
 * strings are still owned by it, so stoa_conf_free() cleans up either way. */
static int load_parsed(const conf_ctx *ctx, const config_t *cfg)
{
	warn_unknowns(ctx, cfg);
	return apply_keys(ctx, cfg);
}

int stoa_conf_load(const char *path, bool optional, const stoa_conf_key *keys, size_t nkeys,
		   void *target, char *err, size_t errlen)
{
	conf_ctx ctx = { path, keys, nkeys, target, err, errlen, NULL };
	config_t cfg;
	struct stat st;
	FILE *fp;
	int rc;

	/* Open it ourselves: libconfig does not tell "missing" from "unreadable",
	 * and only a missing optional file is fine. */
	fp = fopen(path, "re");
	if (fp == NULL) {
		if (errno == ENOENT && optional)
			return 1;
		set_err(err, errlen, "%s: cannot read: %s", path, g_strerror(errno));
		return -1;
	}
	/* fopen() opens a directory happily and libconfig then reads it as an
	 * empty file; a config path that names a folder is a mistake. */
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: cannot read: %s", path, g_strerror(EISDIR));
		fclose(fp);
		return -1;
	}
	config_init(&cfg);
	if (config_read(&cfg, fp) == CONFIG_TRUE)
		rc = load_parsed(&ctx, &cfg);
	else
		rc = read_error(&ctx, &cfg);
	config_destroy(&cfg);
	fclose(fp);
	return rc;
}

int stoa_conf_load_string(const char *text, const char *name, const stoa_conf_key *keys,
			  size_t nkeys, void *target, char *err, size_t errlen)
{
	conf_ctx ctx = { name, keys, nkeys, target, err, errlen, NULL };
	config_t cfg;
	int rc;

	config_init(&cfg);
	if (config_read_string(&cfg, text) == CONFIG_TRUE)
		rc = load_parsed(&ctx, &cfg);
	else
		rc = read_error(&ctx, &cfg);
	config_destroy(&cfg);
	return rc;
}
