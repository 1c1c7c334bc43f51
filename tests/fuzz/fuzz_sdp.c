/*
 * fuzz_sdp.c: arbitrary bytes as a client's SDP. What parses is also
 * written back and answered, the way the core treats a client offer.
 * Invariants checked:
 *  - the parser either returns a model or a non-empty error;
 *  - what the writer produces from a parsed model parses again (unless the
 *    rewrite crosses a size limit, which adding a=rtpmap or c= lines can do);
 *  - every answer the server builds parses.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "media/sdp/sdp.h"

static const char *const audio[] = { "opus", "pcmu", "pcma", "g722", NULL };
static const char *const video[] = { "vp8", "vp9", "h264", "av1", NULL };
static const char *const cands[] = {
	"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", NULL,
};

/* Does `text` stay inside the parser's limits (bytes, lines, attributes per section)? */
static bool within_limits(const char *text)
{
	size_t len = strlen(text), lines = 0, attrs = 0, max_attrs = 0;
	if (len > STOA_SDP_MAX_LEN)
		return false;
	for (const char *l = text; *l != '\0';) {
		lines++;
		if (l[0] == 'm' && l[1] == '=')
			attrs = 0;
		else if (l[0] == 'a' && l[1] == '=' && ++attrs > max_attrs)
			max_attrs = attrs;
		const char *nl = strchr(l, '\n');
		if (nl == NULL)
			break;
		l = nl + 1;
	}
	return lines <= STOA_SDP_MAX_LINES && max_attrs <= STOA_SDP_MAX_ATTRS;
}

static void reparse(const char *text, bool must)
{
	char err[256];
	stoa_sdp *s = stoa_sdp_parse(text, strlen(text), err, sizeof(err));
	if (s == NULL && must && within_limits(text))
		abort();
	stoa_sdp_free(s);
}

static int keep_all(const stoa_sdp_media *m, unsigned index, void *user)
{
	(void)user;
	return index % 3 == 2 ? -1 : STOA_SDP_SENDRECV;
}

static void answer(const stoa_sdp *offer, uint8_t mode)
{
	stoa_sdp_answer_params p = {
		.ice_ufrag = "fuzz",
		.ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz",
		.fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
		.audio_codecs = audio,
		.video_codecs = video,
		.constraints = { .vp9_profile = (mode & 1) ? 0 : -1,
				 .h264_plid = (mode & 2) ? "42e01f" : NULL },
		.accept_data = (mode & 4) != 0,
		.direction = (mode & 8) ? keep_all : NULL,
		.candidates = cands,
		.end_of_candidates = true,
	};
	char err[256];
	stoa_sdp *a = stoa_sdp_answer(offer, &p, err, sizeof(err));
	if (a == NULL) {
		if (err[0] == '\0')
			abort();
		return;
	}
	char *text = stoa_sdp_write(a);
	reparse(text, true);
	g_free(text);
	stoa_sdp_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	stoa_sdp *s = stoa_sdp_parse((const char *)data, size, err, sizeof(err));
	if (s == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	for (guint i = 0; i < s->media->len; i++) {
		const stoa_sdp_media *m = g_ptr_array_index(s->media, i);
		(void)stoa_sdp_media_ice_ufrag(s, m);
		(void)stoa_sdp_media_fingerprint(s, m, NULL);
		(void)stoa_sdp_media_extmap_id(m, STOA_SDP_EXT_MID);
	}
	char *text = stoa_sdp_write(s);
	reparse(text, true);
	g_free(text);
	answer(s, size > 0 ? data[size - 1] : 0);
	stoa_sdp_free(s);
	return 0;
}
