/*
 * fuzz_vr_config.c: arbitrary text as the VideoRoom's room file
 * (janus.plugin.videoroom.jcfg), through vr_config_load() in
 * plugins/videoroom/settings.c: the libconfig parse, Janus's string forms
 * of values ("yes", "6"), and each room section's validation. A bad file
 * must give an error, a bad room a skip with its reason; never a crash or a
 * leak. Every room accepted is listed again (vr_settings_list_entry), the
 * way the plugin answers `list`.
 */
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "settings.h"
#include "fuzz.h"

static void on_room(const vr_settings *s, void *user)
{
	(void)user;
	json_decref(vr_settings_list_entry(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/stoa-fuzz-vr-config-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	vr_general g = { 0 };
	char err[512];
	vr_config_load(path, &g, on_room, NULL, NULL, err, sizeof(err));
	vr_general_clear(&g);
	unlink(path);
	return 0;
}
