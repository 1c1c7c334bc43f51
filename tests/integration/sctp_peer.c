/*
 * sctp_peer.c: a stoa_sctp association carried over plain UDP on loopback
 * instead of DTLS, driven by JSON lines, so a real SCTP stack (aiortc's,
 * in test_sctp_aiortc.py) can talk to ours without a DTLS handshake.
 *
 *   sctp_peer LOCAL_UDP_PORT REMOTE_UDP_PORT client|server [MAX_SEND]
 *
 * client|server is our DTLS role (it picks the channel id parity). Events
 * go to stdout, one JSON object per line: {"event":"state"|"open"|"message"|
 * "close"|"sent"|"shutdown", ...}. Every message received is echoed back on
 * its channel. Commands come on stdin, one JSON object per line:
 *   {"cmd":"open","label":..,"protocol":..,"ordered":..,"pr":0|1|2,"value":..}
 *   {"cmd":"send","id":..,"text":..}   {"cmd":"close_channel","id":..}
 *   {"cmd":"close"}   {"cmd":"quit"}
 * Everything runs on the main thread's default GMainContext, which is also
 * where the SCTP stack's timers run.
 */
#define STOA_LOG_MODULE "sctp-peer"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>

#include "core/log.h"
#include "media/sctp/sctp.h"

static int udp_fd = -1;
static struct sockaddr_in remote;
static stoa_sctp *sctp;
static GMainLoop *loop;
static int exit_code;

static void emit(json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT);

	printf("%s\n", line);
	fflush(stdout);
	free(line);
	json_decref(o);
}

static void post(void *ud, GSourceFunc fn, void *arg, GDestroyNotify destroy)
{
	GSource *src = g_idle_source_new();

	g_source_set_callback(src, fn, arg, destroy);
	g_source_attach(src, NULL);
	g_source_unref(src);
}

static void send_lower(void *ud, const uint8_t *buf, size_t len)
{
	if (sendto(udp_fd, buf, len, 0, (struct sockaddr *)&remote, sizeof(remote)) < 0)
		STOA_LOG(STOA_LOG_WARN, "sendto: %s", g_strerror(errno));
}

static void on_state(void *ud, stoa_sctp_state state)
{
	const char *name = "connecting";

	if (state == STOA_SCTP_OPEN)
		name = "open";
	else if (state == STOA_SCTP_CLOSED)
		name = "closed";

	emit(json_pack("{s:s, s:s}", "event", "state", "state", name));
}

static void on_open(void *ud, uint16_t id, const stoa_sctp_channel_info *info)
{
	emit(json_pack("{s:s, s:i, s:b, s:s, s:s, s:b, s:i, s:I}", "event", "open", "id", id,
		       "local", info->local, "label", info->label, "protocol", info->protocol,
		       "ordered", info->ordered, "pr", info->pr, "value",
		       (json_int_t)info->pr_value));
}

static void on_message(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len)
{
	char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, buf, len);
	json_t *o = json_pack("{s:s, s:i, s:b, s:I, s:s}", "event", "message", "id", id, "binary",
			      binary, "len", (json_int_t)len, "sha256", sha);

	if (!binary && len < 256)
		json_object_set_new(o, "text", json_stringn((const char *)buf, len));
	emit(o);
	g_free(sha);
	/* Echo. */
	if (stoa_sctp_send(sctp, id, binary, buf, len) < 0)
		emit(json_pack("{s:s, s:i}", "event", "echo-failed", "id", id));
}

static void on_close(void *ud, uint16_t id)
{
	emit(json_pack("{s:s, s:i}", "event", "close", "id", id));
}

static const stoa_sctp_callbacks callbacks = {
	.post = post,
	.send_lower = send_lower,
	.on_state = on_state,
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

static gboolean on_udp(gint fd, GIOCondition cond, gpointer data)
{
	uint8_t buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		if (sctp)
			stoa_sctp_incoming(sctp, buf, (size_t)n);
	return G_SOURCE_CONTINUE;
}

static void quit(void)
{
	stoa_sctp_close(sctp);
	stoa_sctp_unref(sctp);
	sctp = NULL;
	exit_code = stoa_sctp_shutdown() == 0 ? 0 : 1;
	emit(json_pack("{s:s, s:i}", "event", "shutdown", "rc", exit_code));
	g_main_loop_quit(loop);
}

static void command(json_t *c)
{
	const char *cmd = json_string_value(json_object_get(c, "cmd"));
	int id = (int)json_integer_value(json_object_get(c, "id"));

	if (!cmd)
		return;
	if (!strcmp(cmd, "open")) {
		stoa_sctp_channel_info info = {
			.label = json_string_value(json_object_get(c, "label")),
			.protocol = json_string_value(json_object_get(c, "protocol")),
			.ordered = json_is_true(json_object_get(c, "ordered")),
			.pr = (stoa_sctp_pr)json_integer_value(json_object_get(c, "pr")),
			.pr_value = (uint32_t)json_integer_value(json_object_get(c, "value")),
		};
		uint16_t sid = 0;
		int rc = stoa_sctp_open_channel(sctp, &info, &sid);

		emit(json_pack("{s:s, s:i, s:i}", "event", "opening", "rc", rc, "id", sid));
	} else if (!strcmp(cmd, "send")) {
		const char *text = json_string_value(json_object_get(c, "text"));
		int rc = stoa_sctp_send(sctp, (uint16_t)id, false, (const uint8_t *)text,
					text ? strlen(text) : 0);

		emit(json_pack("{s:s, s:i}", "event", "sent", "rc", rc));
	} else if (!strcmp(cmd, "close_channel")) {
		emit(json_pack("{s:s, s:i}", "event", "closing",
			       "rc", stoa_sctp_close_channel(sctp, (uint16_t)id)));
	} else if (!strcmp(cmd, "close")) {
		stoa_sctp_close(sctp);
		emit(json_pack("{s:s}", "event", "closed"));
	} else if (!strcmp(cmd, "quit")) {
		quit();
	}
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	char *line = NULL;
	gsize len;
	GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);
	json_t *c;

	if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR) {
		if (sctp)
			quit();
		return G_SOURCE_REMOVE;
	}
	c = line ? json_loads(line, 0, NULL) : NULL;
	if (c)
		command(c);
	json_decref(c);
	g_free(line);
	return G_SOURCE_CONTINUE;
}

static int open_udp(int port)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("udp");
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	stoa_log_options log = { .level = STOA_LOG_WARN, .colors = 0, .to_stdout = false };
	stoa_sctp_config cfg = { 0 };
	GIOChannel *in;

	if (argc < 4) {
		fprintf(stderr,
			"usage: %s LOCAL_UDP_PORT REMOTE_UDP_PORT client|server [MAX_SEND]\n",
			argv[0]);
		return 2;
	}
	if (g_getenv("STOA_TEST_LOG_LEVEL"))
		log.level = atoi(g_getenv("STOA_TEST_LOG_LEVEL"));
	stoa_log_init(&log);
	udp_fd = open_udp(atoi(argv[1]));
	remote.sin_family = AF_INET;
	remote.sin_port = htons((uint16_t)atoi(argv[2]));
	remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.dtls_client = !strcmp(argv[3], "client");
	cfg.max_send_size = argc > 4 ? (size_t)atol(argv[4]) : STOA_SCTP_DEFAULT_MAX_MESSAGE_SIZE;

	loop = g_main_loop_new(NULL, FALSE);
	if (stoa_sctp_init(NULL) < 0)
		return 1;
	sctp = stoa_sctp_new(&cfg, &callbacks, NULL);
	if (!sctp)
		return 1;
	g_unix_fd_add(udp_fd, G_IO_IN, on_udp, NULL);
	in = g_io_channel_unix_new(STDIN_FILENO);
	g_io_add_watch(in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
	g_main_loop_run(loop);
	g_io_channel_unref(in);
	g_main_loop_unref(loop);
	close(udp_fd);
	stoa_log_close();
	return exit_code;
}
