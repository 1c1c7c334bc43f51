/*
 * ice.c: the libnice agent wrapper (see ice.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <nice/agent.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "media/ice/ice.h"

#define STOA_LOG_MODULE "ice"

struct stoa_ice {
	NiceAgent *agent;
	guint stream_id;
	GMainContext *ctx;
	stoa_ice_callbacks cb;
	void *ud;
	stoa_ice_state state;
	bool gathered;
	int relays;		/* TURN servers added with stoa_ice_add_relay */
	char *ufrag, *pwd;
	/* The fast path for media: the selected pair's UDP socket and the
	 * peer's address, so a packet goes out with one sendto() instead of
	 * nice_agent_send()'s agent lock, component lookup and GSocket
	 * wrapping. Set when a UDP pair without TURN is selected, dropped on
	 * restart, failure and free (libnice still owns the socket; our ref
	 * keeps it open). Loop thread only, like everything here. */
	GSocket *direct_sock;
	int direct_fd;
	struct sockaddr_storage direct_addr;
	socklen_t direct_len;
};

/* Server-wide settings, written once on the main thread before any agent. */
static struct {
	char **enforce, **ignore;
	char *stun_server;
	int stun_port;
	char *nat_1_1;
	int min_port, max_port;
	bool lite, tcp, ipv6, force_relay;
	stoa_ice_relay turn;	/* turn.ip NULL when there is no static TURN server */
} conf;

static char **split_list(const char *s)
{
	if (s == NULL || *s == '\0')
		return NULL;
	char **items = g_strsplit(s, ",", -1);
	for (char **p = items; *p != NULL; p++)
		g_strstrip(*p);
	return items;
}

int stoa_ice_relay_type_parse(const char *s)
{
	if (s == NULL || *s == '\0' || g_ascii_strcasecmp(s, "udp") == 0)
		return STOA_ICE_TURN_UDP;
	if (g_ascii_strcasecmp(s, "tcp") == 0)
		return STOA_ICE_TURN_TCP;
	if (g_ascii_strcasecmp(s, "tls") == 0)
		return STOA_ICE_TURN_TLS;
	return -1;
}

/* The first address of `host` in a family we gather on, as text; NULL if it
 * does not resolve. Blocking: start-up only. */
static char *resolve_host(const char *host, char *err, size_t errlen)
{
	NiceAddress a;
	if (nice_address_set_from_string(&a, host))
		return g_strdup(host);
	GError *e = NULL;
	GResolver *resolver = g_resolver_get_default();
	GList *addrs = g_resolver_lookup_by_name(resolver, host, NULL, &e);
	g_object_unref(resolver);
	if (addrs == NULL) {
		g_snprintf(err, errlen, "nat.turn_server: cannot resolve '%s': %s", host,
			   e != NULL ? e->message : "no address");
		g_clear_error(&e);
		return NULL;
	}
	char *ip = NULL;
	for (GList *l = addrs; l != NULL && ip == NULL; l = l->next) {
		GSocketFamily fam = g_inet_address_get_family(l->data);
		if (fam == G_SOCKET_FAMILY_IPV4 || (fam == G_SOCKET_FAMILY_IPV6 && conf.ipv6))
			ip = g_inet_address_to_string(l->data);
	}
	g_resolver_free_addresses(addrs);
	if (ip == NULL)
		g_snprintf(err, errlen, "nat.turn_server: '%s' has no IPv4 address%s", host,
			   conf.ipv6 ? " or IPv6" : " (and media.ipv6 is off)");
	return ip;
}

static int configure_turn(const stoa_ice_config *cfg, char *err, size_t errlen)
{
	if (cfg->turn_server == NULL || *cfg->turn_server == '\0')
		return 0;
	int type = stoa_ice_relay_type_parse(cfg->turn_type);
	if (type < 0) {
		g_snprintf(err, errlen, "nat.turn_type: '%s' is not udp, tcp or tls", cfg->turn_type);
		return -1;
	}
	conf.turn.ip = resolve_host(cfg->turn_server, err, errlen);
	if (conf.turn.ip == NULL)
		return -1;
	conf.turn.port = cfg->turn_port > 0 ? cfg->turn_port : 3478;
	conf.turn.user = g_strdup(cfg->turn_user != NULL ? cfg->turn_user : "");
	conf.turn.pwd = g_strdup(cfg->turn_pwd != NULL ? cfg->turn_pwd : "");
	conf.turn.type = type;
	STOA_LOG(STOA_LOG_INFO, "TURN server %s (%s) port %d, %s", cfg->turn_server, conf.turn.ip,
		 conf.turn.port, type == STOA_ICE_TURN_UDP ? "udp" : type == STOA_ICE_TURN_TCP ? "tcp" : "tls");
	return 0;
}

int stoa_ice_configure(const stoa_ice_config *cfg, char *err, size_t errlen)
{
	stoa_ice_cleanup();
	conf.enforce = split_list(cfg->enforce_list);
	conf.ignore = split_list(cfg->ignore_list);
	conf.stun_server = g_strdup(cfg->stun_server != NULL && *cfg->stun_server ? cfg->stun_server : NULL);
	conf.stun_port = cfg->stun_port > 0 ? cfg->stun_port : 3478;
	conf.nat_1_1 = g_strdup(cfg->nat_1_1 != NULL && *cfg->nat_1_1 ? cfg->nat_1_1 : NULL);
	conf.min_port = cfg->min_port;
	conf.max_port = cfg->max_port;
	conf.lite = cfg->ice_lite;
	conf.tcp = cfg->ice_tcp;
	conf.ipv6 = cfg->ipv6;
	conf.force_relay = cfg->force_relay;
	if (configure_turn(cfg, err, errlen) < 0)
		return -1;
	if (conf.nat_1_1 != NULL) {
		NiceAddress a;
		if (!nice_address_set_from_string(&a, conf.nat_1_1)) {
			g_snprintf(err, errlen, "nat.nat_1_1_mapping: '%s' is not an IP address", conf.nat_1_1);
			return -1;
		}
	}
	if (conf.min_port > conf.max_port) {
		g_snprintf(err, errlen, "media.rtp_port_range: minimum above maximum");
		return -1;
	}
	return 0;
}

void stoa_ice_cleanup(void)
{
	g_clear_pointer(&conf.enforce, g_strfreev);
	g_clear_pointer(&conf.ignore, g_strfreev);
	g_clear_pointer(&conf.stun_server, g_free);
	g_clear_pointer(&conf.nat_1_1, g_free);
	g_clear_pointer(&conf.turn.ip, g_free);
	g_clear_pointer(&conf.turn.user, g_free);
	g_clear_pointer(&conf.turn.pwd, g_free);
}

static bool list_matches(char **list, const char *ifname, const char *ip)
{
	for (char **p = list; p != NULL && *p != NULL; p++)
		if (**p && (strcmp(*p, ifname) == 0 || g_str_has_prefix(ip, *p)))
			return true;
	return false;
}

/* Whether candidates may be gathered on this interface address. */
static bool address_allowed(const struct ifaddrs *ifa, const char *ip)
{
	bool enforced = list_matches(conf.enforce, ifa->ifa_name, ip);
	if (conf.enforce != NULL && !enforced)
		return false;
	if (list_matches(conf.ignore, ifa->ifa_name, ip))
		return false;
	/* Loopback only when named: tests run where nothing else exists. */
	if ((ifa->ifa_flags & IFF_LOOPBACK) && !enforced)
		return false;
	if (ifa->ifa_addr->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr))
		return false;
	return true;
}

static int add_local_addresses(stoa_ice *ice)
{
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) < 0)
		return -1;
	int added = 0;
	for (struct ifaddrs *ifa = ifs; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP))
			continue;
		int fam = ifa->ifa_addr->sa_family;
		if (fam != AF_INET && !(fam == AF_INET6 && conf.ipv6))
			continue;
		char ip[INET6_ADDRSTRLEN];
		const void *src = fam == AF_INET ? (const void *)&((struct sockaddr_in *)ifa->ifa_addr)->sin_addr
						 : (const void *)&((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
		if (inet_ntop(fam, src, ip, sizeof(ip)) == NULL || !address_allowed(ifa, ip))
			continue;
		NiceAddress addr;
		nice_address_init(&addr);
		if (nice_address_set_from_string(&addr, ip) && nice_agent_add_local_address(ice->agent, &addr))
			added++;
	}
	freeifaddrs(ifs);
	return added;
}

static void direct_drop(stoa_ice *ice)
{
	g_clear_object(&ice->direct_sock);
	ice->direct_fd = -1;
}

/* Takes the selected pair's socket for direct sends when it is plain UDP. */
static void direct_refresh(stoa_ice *ice)
{
	NiceCandidate *l = NULL, *r = NULL;

	direct_drop(ice);
	if (!nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &l, &r) ||
	    l->transport != NICE_CANDIDATE_TRANSPORT_UDP || l->type == NICE_CANDIDATE_TYPE_RELAYED ||
	    r->type == NICE_CANDIDATE_TYPE_RELAYED)
		return;
	GSocket *sock = nice_agent_get_selected_socket(ice->agent, ice->stream_id, 1);
	if (sock == NULL)
		return;
	memset(&ice->direct_addr, 0, sizeof(ice->direct_addr));
	nice_address_copy_to_sockaddr(&r->addr, (struct sockaddr *)&ice->direct_addr);
	ice->direct_len = ice->direct_addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								    : sizeof(struct sockaddr_in);
	ice->direct_sock = sock;
	ice->direct_fd = g_socket_get_fd(sock);
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component,
			     NiceCandidate *l, NiceCandidate *r, gpointer data)
{
	stoa_ice *ice = data;
	if (stream_id == ice->stream_id && component == 1)
		direct_refresh(ice);
}

static void set_state(stoa_ice *ice, stoa_ice_state s)
{
	if (ice->state == s)
		return;
	ice->state = s;
	if (ice->cb.on_state != NULL)
		ice->cb.on_state(ice->ud, s);
}

/* "a=candidate:..." from libnice -> "candidate:..." with nat_1_1 applied. */
static char *candidate_text(stoa_ice *ice, NiceCandidate *c)
{
	gchar *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, c);
	if (sdp == NULL)
		return NULL;
	const char *start = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
	char *out = g_strdup(start);
	g_free(sdp);
	if (conf.nat_1_1 != NULL && c->type == NICE_CANDIDATE_TYPE_HOST) {
		/* Field 5 is the connection address (RFC 8839 §5.1). */
		char **f = g_strsplit(out, " ", -1);
		if (g_strv_length(f) > 5) {
			g_free(f[4]);
			f[4] = g_strdup(conf.nat_1_1);
			g_free(out);
			out = g_strjoinv(" ", f);
		}
		g_strfreev(f);
	}
	return out;
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
	stoa_ice *ice = data;
	if (ice->cb.on_candidate == NULL || c->stream_id != ice->stream_id)
		return;
	char *text = candidate_text(ice, c);
	if (text != NULL)
		ice->cb.on_candidate(ice->ud, text);
	g_free(text);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
	stoa_ice *ice = data;
	ice->gathered = true;
	if (ice->state == STOA_ICE_GATHERING)
		set_state(ice, STOA_ICE_NEW);
	if (ice->cb.on_gathering_done != NULL)
		ice->cb.on_gathering_done(ice->ud);
}

static void on_component_state(NiceAgent *agent, guint stream_id, guint component,
			       guint state, gpointer data)
{
	stoa_ice *ice = data;
	if (state != NICE_COMPONENT_STATE_CONNECTED && state != NICE_COMPONENT_STATE_READY)
		direct_drop(ice);
	else if (ice->direct_fd < 0)
		direct_refresh(ice); /* the pair may have been chosen before this state */
	switch (state) {
	case NICE_COMPONENT_STATE_CONNECTING: set_state(ice, STOA_ICE_CONNECTING); break;
	case NICE_COMPONENT_STATE_CONNECTED: set_state(ice, STOA_ICE_CONNECTED); break;
	case NICE_COMPONENT_STATE_READY: set_state(ice, STOA_ICE_READY); break;
	case NICE_COMPONENT_STATE_FAILED: set_state(ice, STOA_ICE_FAILED); break;
	default: break;
	}
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component, guint len, gchar *buf,
		    gpointer data)
{
	stoa_ice *ice = data;
	if (ice->cb.on_recv != NULL && len > 0)
		ice->cb.on_recv(ice->ud, (uint8_t *)buf, len);
}

static void read_credentials(stoa_ice *ice)
{
	g_free(ice->ufrag);
	g_free(ice->pwd);
	ice->ufrag = ice->pwd = NULL;
	nice_agent_get_local_credentials(ice->agent, ice->stream_id, &ice->ufrag, &ice->pwd);
}

static NiceAgentOption agent_options(void)
{
	NiceAgentOption o = NICE_AGENT_OPTION_ICE_TRICKLE;
	if (conf.lite)
		o |= NICE_AGENT_OPTION_LITE_MODE;
	else
		o |= NICE_AGENT_OPTION_CONSENT_FRESHNESS;
	return o;
}

stoa_ice *stoa_ice_new(GMainContext *ctx, bool controlling, const stoa_ice_callbacks *cb, void *ud)
{
	stoa_ice *ice = g_new0(stoa_ice, 1);
	ice->ctx = ctx;
	ice->cb = *cb;
	ice->ud = ud;
	ice->direct_fd = -1;
	ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, agent_options());
	g_object_set(ice->agent, "controlling-mode", controlling && !conf.lite, "upnp", FALSE,
		     "ice-tcp", conf.tcp, NULL);
	if (conf.stun_server != NULL)
		g_object_set(ice->agent, "stun-server", conf.stun_server, "stun-server-port",
			     (guint)conf.stun_port, NULL);
	if (conf.force_relay)
		g_object_set(ice->agent, "force-relay", TRUE, NULL);
	ice->stream_id = nice_agent_add_stream(ice->agent, 1);
	if (conf.min_port > 0)
		nice_agent_set_port_range(ice->agent, ice->stream_id, 1, (guint)conf.min_port,
					  (guint)conf.max_port);
	g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
	g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
	g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_component_state), ice);
	g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
	nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ctx, on_recv, ice);
	read_credentials(ice);
	return ice;
}

static NiceRelayType nice_relay_type(stoa_ice_relay_type t)
{
	switch (t) {
	case STOA_ICE_TURN_TCP: return NICE_RELAY_TYPE_TURN_TCP;
	case STOA_ICE_TURN_TLS: return NICE_RELAY_TYPE_TURN_TLS;
	default: return NICE_RELAY_TYPE_TURN_UDP;
	}
}

static int set_relay(stoa_ice *ice, const stoa_ice_relay *r)
{
	if (!nice_agent_set_relay_info(ice->agent, ice->stream_id, 1, r->ip, (guint)r->port,
				       r->user, r->pwd, nice_relay_type(r->type))) {
		STOA_LOG_RATELIMITED(STOA_LOG_WARN, 10, "libnice refused TURN server %s:%d", r->ip,
				     r->port);
		return -1;
	}
	return 0;
}

int stoa_ice_add_relay(stoa_ice *ice, const stoa_ice_relay *relay)
{
	if (set_relay(ice, relay) < 0)
		return -1;
	ice->relays++;
	return 0;
}

int stoa_ice_gather(stoa_ice *ice)
{
	if (ice->relays == 0 && conf.turn.ip != NULL)
		set_relay(ice, &conf.turn);
	if (add_local_addresses(ice) <= 0) {
		STOA_LOG_RATELIMITED(STOA_LOG_ERR, 5,
				     "no usable address to gather candidates on (check nat.ice_enforce_list)");
		return -1;
	}
	set_state(ice, STOA_ICE_GATHERING);
	if (!nice_agent_gather_candidates(ice->agent, ice->stream_id))
		return -1;
	return 0;
}

bool stoa_ice_gathering_done(const stoa_ice *ice)
{
	return ice->gathered;
}

const char *stoa_ice_local_ufrag(const stoa_ice *ice)
{
	return ice->ufrag;
}

const char *stoa_ice_local_pwd(const stoa_ice *ice)
{
	return ice->pwd;
}

GPtrArray *stoa_ice_local_candidates(stoa_ice *ice)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream_id, 1);
	for (GSList *l = cands; l != NULL; l = l->next) {
		char *text = candidate_text(ice, l->data);
		if (text != NULL)
			g_ptr_array_add(out, text);
	}
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
	return out;
}

int stoa_ice_set_remote_credentials(stoa_ice *ice, const char *ufrag, const char *pwd)
{
	if (ufrag == NULL || pwd == NULL)
		return -1;
	return nice_agent_set_remote_credentials(ice->agent, ice->stream_id, ufrag, pwd) ? 0 : -1;
}

int stoa_ice_add_remote_candidate(stoa_ice *ice, const char *candidate)
{
	if (candidate == NULL)
		return -1;
	char *line = g_str_has_prefix(candidate, "a=") ? g_strdup(candidate)
						       : g_strdup_printf("a=%s", candidate);
	g_strchomp(line);
	NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream_id, line);
	if (c == NULL) {
		/* mDNS (.local) names and unsupported transports land here too. */
		bool skipped = strstr(line, ".local") != NULL || strstr(line, " tcp ") != NULL ||
			       strstr(line, " TCP ") != NULL;
		STOA_LOG_RATELIMITED(STOA_LOG_VERB, 5, "remote candidate %s: %s",
				     skipped ? "skipped" : "does not parse", line);
		g_free(line);
		return skipped ? 1 : -1;
	}
	g_free(line);
	c->component_id = 1;
	GSList *list = g_slist_append(NULL, c);
	int added = nice_agent_set_remote_candidates(ice->agent, ice->stream_id, 1, list);
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	return added >= 0 ? 0 : -1;
}

void stoa_ice_remote_gathering_done(stoa_ice *ice)
{
	nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
}

int stoa_ice_restart(stoa_ice *ice)
{
	direct_drop(ice);
	if (!nice_agent_restart_stream(ice->agent, ice->stream_id))
		return -1;
	read_credentials(ice);
	return 0;
}

int stoa_ice_send(stoa_ice *ice, const uint8_t *buf, size_t len)
{
	if (ice->state != STOA_ICE_CONNECTED && ice->state != STOA_ICE_READY)
		return -1;
	if (ice->direct_fd >= 0) {
		ssize_t sent = sendto(ice->direct_fd, buf, len, MSG_DONTWAIT,
				      (const struct sockaddr *)&ice->direct_addr, ice->direct_len);
		if (G_LIKELY(sent == (ssize_t)len))
			return 0;
		return sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
				    errno == ENOMEM)
			       ? STOA_ICE_SEND_FULL
			       : -1;
	}
	/* libnice hides errno: on a connected pair (TCP, TURN) a short or
	 * failed send means its queue or the socket is full. */
	int n = nice_agent_send(ice->agent, ice->stream_id, 1, (guint)len, (const gchar *)buf);
	return G_LIKELY(n == (int)len) ? 0 : STOA_ICE_SEND_FULL;
}

stoa_ice_state stoa_ice_get_state(const stoa_ice *ice)
{
	return ice->state;
}

static const char *cand_type(NiceCandidateType t)
{
	switch (t) {
	case NICE_CANDIDATE_TYPE_HOST: return "host";
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
	case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
	}
	return "?";
}

char *stoa_ice_selected_pair(stoa_ice *ice)
{
	NiceCandidate *l = NULL, *r = NULL;
	if (!nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &l, &r))
		return NULL;
	char lip[NICE_ADDRESS_STRING_LEN], rip[NICE_ADDRESS_STRING_LEN];
	nice_address_to_string(&l->addr, lip);
	nice_address_to_string(&r->addr, rip);
	return g_strdup_printf("%s:%u [%s,%s] <-> %s:%u [%s,%s]", lip, nice_address_get_port(&l->addr),
			       cand_type(l->type), l->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp",
			       rip, nice_address_get_port(&r->addr), cand_type(r->type),
			       r->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp");
}

const char *stoa_ice_state_name(stoa_ice_state s)
{
	static const char *names[] = { "disconnected", "gathering", "connecting", "connected",
				       "ready", "failed", "closed" };
	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

typedef struct agent_release {
	NiceAgent *agent;
	guint stream_id;
} agent_release;

static gboolean release_agent(gpointer data)
{
	agent_release *r = data;
	nice_agent_remove_stream(r->agent, r->stream_id);
	g_object_unref(r->agent);
	g_free(r);
	return G_SOURCE_REMOVE;
}

void stoa_ice_free(stoa_ice *ice)
{
	if (ice == NULL)
		return;
	/* Callbacks stop now; the agent itself goes on the next loop iteration,
	 * because we may be inside one of its own callbacks (a DTLS alert read
	 * in the receive callback closes the peer connection). */
	nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->ctx, NULL, NULL);
	g_signal_handlers_disconnect_by_data(ice->agent, ice);
	direct_drop(ice);
	agent_release *r = g_new(agent_release, 1);
	r->agent = ice->agent;
	r->stream_id = ice->stream_id;
	GSource *src = g_idle_source_new();
	g_source_set_callback(src, release_agent, r, NULL);
	g_source_attach(src, ice->ctx);
	g_source_unref(src);
	g_free(ice->ufrag);
	g_free(ice->pwd);
	g_free(ice);
}
