/*
 * plugins.c: the plugin loader and the core API offered to plugins.
 *
 * Threads: load/unload on the main thread; the core API functions may be
 * called by plugins from any thread (they only touch refcounted handles and
 * the session's thread-safe send path).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <string.h>

#include "core/plugins.h"

#include "core/handle.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/session.h"

#define STOA_LOG_MODULE "plugins"

typedef struct loaded_plugin {
	const stoa_plugin *plugin;
	void *dl;
	char *file;
} loaded_plugin;

static GPtrArray *loaded; /* loaded_plugin*, in load order */
static stoa_core_api core_api;

const char *stoa_plugin_check(const stoa_plugin *p)
{
	if (p == NULL)
		return "stoa_plugin_create returned NULL";
	if (p->api_version != STOA_PLUGIN_API_VERSION)
		return "built for another plugin API version";
	if (p->package == NULL || *p->package == '\0')
		return "no package name";
	if (p->init == NULL || p->destroy == NULL || p->create_session == NULL ||
	    p->handle_message == NULL || p->destroy_session == NULL)
		return "a mandatory callback is missing (init, destroy, create_session, "
		       "handle_message, destroy_session)";
	return NULL;
}

static bool disabled(const char *disable, const char *name)
{
	if (disable == NULL || *disable == '\0')
		return false;
	char **items = g_strsplit(disable, ",", -1);
	bool found = false;
	for (int i = 0; items[i] != NULL && !found; i++)
		found = strcmp(g_strstrip(items[i]), name) == 0;
	g_strfreev(items);
	return found;
}

static void unload_one(loaded_plugin *lp)
{
	if (lp->dl != NULL)
		dlclose(lp->dl);
	g_free(lp->file);
	g_free(lp);
}

static int load_one(const char *folder, const char *file, const char *configs_folder,
		    const char *disable)
{
	char *path = g_build_filename(folder, file, NULL);
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	g_free(path);
	if (dl == NULL) {
		STOA_LOG(STOA_LOG_ERR, "cannot load %s: %s", file, dlerror());
		return -1;
	}
	stoa_plugin_create_fn create = (stoa_plugin_create_fn)dlsym(dl, STOA_PLUGIN_CREATE_SYMBOL);
	const stoa_plugin *p = create != NULL ? create() : NULL;
	const char *problem = create == NULL ? "no " STOA_PLUGIN_CREATE_SYMBOL " symbol"
					     : stoa_plugin_check(p);
	if (problem == NULL && stoa_plugins_find(p->package) != NULL)
		problem = "a plugin with the same package is already loaded";
	if (problem == NULL && disabled(disable, p->package)) {
		STOA_LOG(STOA_LOG_INFO, "%s (%s) is disabled", p->package, file);
		dlclose(dl);
		return 0;
	}
	if (problem != NULL) {
		STOA_LOG(STOA_LOG_ERR, "skipping %s: %s", file, problem);
		dlclose(dl);
		return -1;
	}
	char *config_path = g_strdup_printf("%s/%s.jcfg", configs_folder, p->package);
	int rc = p->init(stoa_plugins_core_api(), config_path);
	g_free(config_path);
	if (rc < 0) {
		STOA_LOG(STOA_LOG_ERR, "%s refused to start (%d)", p->package, rc);
		dlclose(dl);
		return -1;
	}
	loaded_plugin *lp = g_new0(loaded_plugin, 1);
	lp->plugin = p;
	lp->dl = dl;
	lp->file = g_strdup(file);
	g_ptr_array_add(loaded, lp);
	STOA_LOG(STOA_LOG_INFO, "loaded %s %s (%s)", p->package,
		 p->version_string != NULL ? p->version_string : "", file);
	return 1;
}

int stoa_plugins_load(const char *folder, const char *configs_folder, const char *disable)
{
	if (loaded == NULL)
		loaded = g_ptr_array_new();
	core_api.configs_folder = configs_folder; /* lives until shutdown (the config's) */
	DIR *dir = opendir(folder);
	if (dir == NULL) {
		STOA_LOG(STOA_LOG_WARN, "no plugins folder %s: running without plugins", folder);
		return 0;
	}
	/* Sorted, so the load order (and server_info) is stable. */
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		if (g_str_has_suffix(de->d_name, ".so") && !disabled(disable, de->d_name))
			g_ptr_array_add(files, g_strdup(de->d_name));
	closedir(dir);
	g_ptr_array_sort(files, (GCompareFunc)g_ascii_strcasecmp);
	int count = 0;
	for (guint i = 0; i < files->len; i++)
		if (load_one(folder, files->pdata[i], configs_folder, disable) > 0)
			count++;
	g_ptr_array_unref(files);
	return count;
}

void stoa_plugins_unload(void)
{
	if (loaded == NULL)
		return;
	/* Reverse order: later plugins may depend on earlier ones. */
	for (guint i = loaded->len; i > 0; i--) {
		loaded_plugin *lp = loaded->pdata[i - 1];
		STOA_LOG(STOA_LOG_INFO, "destroying %s", lp->plugin->package);
		lp->plugin->destroy();
		unload_one(lp);
	}
	g_ptr_array_unref(loaded);
	loaded = NULL;
}

const stoa_plugin *stoa_plugins_find(const char *package)
{
	if (loaded == NULL || package == NULL)
		return NULL;
	for (guint i = 0; i < loaded->len; i++) {
		const stoa_plugin *p = ((loaded_plugin *)loaded->pdata[i])->plugin;
		if (strcmp(p->package, package) == 0)
			return p;
	}
	return NULL;
}

void stoa_plugins_foreach(void (*fn)(const stoa_plugin *p, void *ud), void *ud)
{
	if (loaded == NULL)
		return;
	for (guint i = 0; i < loaded->len; i++)
		fn(((loaded_plugin *)loaded->pdata[i])->plugin, ud);
}

/* ---- the core API ---- */

static bool usable(const stoa_plugin_session *ps)
{
	return ps != NULL && ps->core_handle != NULL && !g_atomic_int_get(&ps->stopped);
}

static int core_push_event(stoa_plugin_session *ps, const char *transaction, json_t *message,
			   json_t *jsep)
{
	if (!usable(ps) || !json_is_object(message))
		return -1;
	stoa_handle *h = stoa_handle_from_ps(ps);
	if (jsep != NULL) {
		const char *type = json_string_value(json_object_get(jsep, "type"));
		if (type == NULL || !json_is_string(json_object_get(jsep, "sdp")))
			return -2;
		if (g_ascii_strcasecmp(type, "offer") == 0) {
			g_mutex_lock(&h->lock);
			h->sent_offer = true;
			g_mutex_unlock(&h->lock);
		}
	}
	json_t *ev = json_pack("{s:s}", "janus", "event");
	if (transaction != NULL)
		json_object_set_new(ev, "transaction", json_string(transaction));
	json_object_set_new(ev, "plugindata",
			    json_pack("{s:s,s:O}", "plugin", h->plugin->package, "data", message));
	if (jsep != NULL)
		json_object_set(ev, "jsep", jsep);
	stoa_handle_send(h, ev);
	json_decref(ev);
	return 0;
}

static void core_close_pc(stoa_plugin_session *ps)
{
	if (usable(ps))
		stoa_handle_hangup(stoa_handle_from_ps(ps), "Close PC", true);
}

/* end_session may be called from inside a plugin callback that holds the
 * plugin's locks; detaching there would re-enter the plugin
 * (destroy_session) and deadlock, so the detach runs on the main loop. */
static gboolean end_session_idle(gpointer data)
{
	stoa_handle *h = data;
	stoa_handle_detach(h, true);
	return G_SOURCE_REMOVE;
}

static void core_end_session(stoa_plugin_session *ps)
{
	if (!usable(ps))
		return;
	g_idle_add_full(G_PRIORITY_DEFAULT, end_session_idle,
			stoa_handle_ref(stoa_handle_from_ps(ps)), (GDestroyNotify)stoa_handle_unref);
}

static void core_session_ref(stoa_plugin_session *ps)
{
	stoa_handle_ref(stoa_handle_from_ps(ps));
}

static void core_session_unref(stoa_plugin_session *ps)
{
	stoa_handle_unref(stoa_handle_from_ps(ps));
}

static void core_log(int level, const stoa_plugin_session *ps, const char *fmt, ...)
{
	if (!stoa_log_enabled(level))
		return;
	uint64_t sid = 0, hid = 0;
	const char *module = "plugin";
	if (ps != NULL && ps->core_handle != NULL) {
		stoa_handle *h = stoa_handle_from_ps(ps);
		sid = h->session->id;
		hid = h->id;
		module = h->plugin->package;
	}
	va_list ap;
	va_start(ap, fmt);
	stoa_log_writev(level, module, sid, hid, fmt, ap);
	va_end(ap);
}

static int core_log_enabled(int level)
{
	return stoa_log_enabled(level);
}

json_t *stoa__core_generate_answer(stoa_plugin_session *ps, json_t *prefs, char *err, size_t errlen);
int stoa__core_relay_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);
void stoa__core_relay_rtcp(stoa_plugin_session *ps, stoa_plugin_rtcp *pkt);
void stoa__core_relay_data(stoa_plugin_session *ps, stoa_plugin_data *msg);
void stoa__core_send_pli(stoa_plugin_session *ps, int mindex);
void stoa__core_send_remb(stoa_plugin_session *ps, uint32_t bitrate);
json_t *stoa__core_media_stats(stoa_plugin_session *ps);
json_t *stoa__core_generate_offer(stoa_plugin_session *ps, json_t *desc, char *err, size_t errlen);
int stoa__core_media_loop(stoa_plugin_session *ps);
int stoa__core_current_loop(void);
int stoa__core_loop_post(int loop, void (*fn)(void *data), void *data, void (*free_fn)(void *data));
void stoa__core_resend_rtp(stoa_plugin_session *ps, stoa_plugin_rtp *pkt);

static int core_secret_equal(const char *a, const char *b)
{
	return stoa_secret_equal(a, b);
}

static stoa_core_api core_api = {
	.generate_answer = stoa__core_generate_answer,
	.relay_rtp = stoa__core_relay_rtp,
	.relay_rtcp = stoa__core_relay_rtcp,
	.relay_data = stoa__core_relay_data,
	.send_pli = stoa__core_send_pli,
	.send_remb = stoa__core_send_remb,
	.media_stats = stoa__core_media_stats,
	.generate_offer = stoa__core_generate_offer,
	.media_loop = stoa__core_media_loop,
	.current_loop = stoa__core_current_loop,
	.loop_post = stoa__core_loop_post,
	.resend_rtp = stoa__core_resend_rtp,
	.secret_equal = core_secret_equal,
	.push_event = core_push_event,
	.close_pc = core_close_pc,
	.end_session = core_end_session,
	.session_ref = core_session_ref,
	.session_unref = core_session_unref,
	.log = core_log,
	.log_enabled = core_log_enabled,
};

const stoa_core_api *stoa_plugins_core_api(void)
{
	return &core_api;
}
