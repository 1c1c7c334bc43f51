/*
 * pc_data.c: data channels of a peer connection — the SCTP association
 * (media/sctp) run over DTLS application data once DTLS is up, and the map
 * of channel ids to labels that plugins address channels by.
 *
 * Thread: the pc's loop. The SCTP module posts its callbacks to this loop
 * (stoa_loop_post has the contract it requires) and is closed before the pc
 * lets go of it, so no callback can outlive the pc. RFC 8831, 8832, 8841.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "media/pc_internal.h"
#include "media/sctp/sctp.h"

#define STOA_LOG_MODULE "pc"

typedef struct pc_channel {
	char *label;
	char *protocol;
} pc_channel;

static void channel_free(gpointer p)
{
	pc_channel *c = p;
	g_free(c->label);
	g_free(c->protocol);
	g_free(c);
}

static void sctp_post(void *ud, GSourceFunc fn, void *arg, GDestroyNotify destroy)
{
	stoa_pc *pc = ud;
	stoa_loop_post(pc->loop, fn, arg, destroy);
}

static void sctp_send_lower(void *ud, const uint8_t *buf, size_t len)
{
	stoa_pc *pc = ud;
	if (pc->dtls != NULL)
		stoa_dtls_send_app(pc->dtls, buf, len);
}

static void sctp_on_open(void *ud, uint16_t id, const stoa_sctp_channel_info *info)
{
	stoa_pc *pc = ud;
	pc_channel *c = g_new0(pc_channel, 1);
	c->label = g_strdup(info->label != NULL ? info->label : "");
	c->protocol = g_strdup(info->protocol != NULL ? info->protocol : "");
	g_hash_table_replace(pc->channels, GUINT_TO_POINTER(id), c);
	STOA_LOG_S(STOA_LOG_VERB, pc->session_id, pc->handle_id, "data channel %u '%s' open", id,
		   c->label);
	pc->owner->data_ready(pc->ud);
}

static void sctp_on_message(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len)
{
	stoa_pc *pc = ud;
	pc_channel *c = g_hash_table_lookup(pc->channels, GUINT_TO_POINTER(id));
	pc->owner->data(pc->ud, c != NULL ? c->label : "", c != NULL ? c->protocol : "", binary,
			(uint8_t *)buf, len);
}

static void sctp_on_close(void *ud, uint16_t id)
{
	stoa_pc *pc = ud;
	g_hash_table_remove(pc->channels, GUINT_TO_POINTER(id));
}

static const stoa_sctp_callbacks sctp_cbs = {
	.post = sctp_post,
	.send_lower = sctp_send_lower,
	.on_open = sctp_on_open,
	.on_message = sctp_on_message,
	.on_close = sctp_on_close,
};

void stoa__pc_data_start(stoa_pc *pc)
{
	if (pc->data_mid == NULL || pc->sctp != NULL)
		return;
	const stoa_sdp_media *rm = stoa_sdp_media_by_mid(pc->remote, pc->data_mid);
	stoa_sctp_config cfg = {
		.remote_port = rm != NULL && rm->sctp_port > 0 ? (uint16_t)rm->sctp_port : 0,
		.dtls_client = pc->role == STOA_DTLS_ROLE_ACTIVE,
		/* RFC 8841 §6: no a=max-message-size means 64 KiB. */
		.max_send_size = rm != NULL && rm->max_message_size > 0 ? (size_t)rm->max_message_size
									: STOA_SCTP_DEFAULT_MAX_MESSAGE_SIZE,
		.session_id = pc->session_id,
		.handle_id = pc->handle_id,
	};
	if (pc->channels == NULL)
		pc->channels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, channel_free);
	pc->sctp = stoa_sctp_new(&cfg, &sctp_cbs, pc);
	if (pc->sctp == NULL)
		STOA_LOG_S(STOA_LOG_ERR, pc->session_id, pc->handle_id, "cannot start SCTP");
}

void stoa__pc_data_incoming(stoa_pc *pc, const uint8_t *buf, size_t len)
{
	if (pc->sctp != NULL)
		stoa_sctp_incoming(pc->sctp, buf, len);
}

static int channel_for_label(stoa_pc *pc, const char *label, uint16_t *id)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, pc->channels);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (label == NULL || strcmp(((pc_channel *)v)->label, label) == 0) {
			*id = (uint16_t)GPOINTER_TO_UINT(k);
			return 0;
		}
	}
	/* A label the peer has not opened: open it ourselves (RFC 8832). */
	stoa_sctp_channel_info info = { .label = label, .protocol = "", .ordered = true };
	return stoa_sctp_open_channel(pc->sctp, &info, id);
}

void stoa__pc_send_data_now(stoa_pc *pc, const char *label, bool binary, const uint8_t *buf,
			    size_t len)
{
	if (pc->sctp == NULL || pc->channels == NULL)
		return;
	uint16_t id;
	if (channel_for_label(pc, label, &id) < 0)
		return;
	int rc = stoa_sctp_send(pc->sctp, id, binary, buf, len);
	if (rc < 0)
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 5, "data channel send failed (%s)", g_strerror(-rc));
}

void stoa__pc_data_close(stoa_pc *pc)
{
	if (pc->sctp != NULL) {
		stoa_sctp_close(pc->sctp);
		stoa_sctp_unref(pc->sctp);
		pc->sctp = NULL;
	}
	g_clear_pointer(&pc->channels, g_hash_table_unref);
}
