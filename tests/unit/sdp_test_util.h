/*
 * sdp_test_util.h: fixtures and comparison helpers shared by the SDP unit
 * tests (test_sdp.c: parsing, writing, hostile input; test_sdp_negotiate.c:
 * answers, offers and codec matching).
 */
#ifndef STOA_TEST_SDP_UTIL_H
#define STOA_TEST_SDP_UTIL_H

#include <glib.h>
#include <stdbool.h>

#include "media/sdp/sdp.h"

#define FP "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

char *fixture_text(const char *name);
stoa_sdp *parse_text(const char *text);
stoa_sdp *fixture(const char *name);
stoa_sdp_media *media(const stoa_sdp *s, guint i);
const char *str_at(const GPtrArray *a, guint i);
bool has_str(const GPtrArray *a, const char *v);
char *replace(const char *text, const char *from, const char *to);
void assert_codec(const stoa_sdp_media *m, int pt, const char *name, int clock, int channels);
void assert_strs_equal(const GPtrArray *a, const GPtrArray *b);
void assert_attrs_equal(const GPtrArray *a, const GPtrArray *b);
void assert_extmaps_equal(const GPtrArray *a, const GPtrArray *b);
void assert_codecs_equal(const GPtrArray *a, const GPtrArray *b);
void assert_ssrcs_equal(const stoa_sdp_media *a, const stoa_sdp_media *b);
void assert_media_equal(const stoa_sdp_media *a, const stoa_sdp_media *b);
void assert_sdp_equal(const stoa_sdp *a, const stoa_sdp *b);

#endif
