/*
 * plugins.h: loading plugins (shared objects) and the core API they call.
 *
 * At start-up every *.so in the plugins folder that is not disabled is
 * dlopen()ed; its `stoa_plugin_create` must return a vtable with our API
 * version and every mandatory callback, or the file is skipped with a clear
 * log line. The registry is written on the main thread before transports
 * start and is read-only afterwards, so lookups take no lock.
 */
#ifndef STOA_CORE_PLUGINS_H
#define STOA_CORE_PLUGINS_H

#include <stddef.h>

#include "stoa/plugin.h"

/* Loads the plugins in `folder`; `disable` is a comma-separated list of file
 * names or packages to skip (may be NULL). Returns how many were loaded.
 * Main thread. */
int stoa_plugins_load(const char *folder, const char *configs_folder, const char *disable);

/* Calls destroy() on every plugin and unloads them. Main thread; after every
 * session is gone. */
void stoa_plugins_unload(void);

/* The plugin with this package name, or NULL. Any thread. */
const stoa_plugin *stoa_plugins_find(const char *package);

/* Calls fn for every plugin, in load order. Any thread. */
void stoa_plugins_foreach(void (*fn)(const stoa_plugin *p, void *ud), void *ud);

/* Checks a vtable before use; exposed for unit tests. Returns NULL if fine,
 * else a static description of what is wrong. */
const char *stoa_plugin_check(const stoa_plugin *p);

/* The core API given to plugins. */
const stoa_core_api *stoa_plugins_core_api(void);

#endif
