/*
 * conf_words.h: Janus's spellings of a boolean in its configuration files.
 *
 * Janus reads a boolean setting with janus_is_true(), and its own writer
 * stores every value as a string ("yes", "no"), so a .jcfg file Janus wrote
 * or a Janus user edited may say is_private = "yes". The core's config
 * reader and plugins that read such files (the VideoRoom's rooms) accept
 * the same words, from this one table. Pure; any thread.
 */
#ifndef STOA_CONF_WORDS_H
#define STOA_CONF_WORDS_H

#include <glib.h>

/* "true"/"yes"/"1" → 1, "false"/"no"/"0" → 0 (any case), else (or NULL) -1. */
static inline int stoa_parse_bool_word(const char *s)
{
	static const char *const yes[] = { "true", "yes", "1" };
	static const char *const no[] = { "false", "no", "0" };

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(s, yes[i]) == 0)
			return 1;
		if (g_ascii_strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

#endif
