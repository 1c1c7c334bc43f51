# stoa-load: the load-testing client (docs/load-testing.md). Included from
# the top Makefile.am. It shares no code with the server: its own include
# path (no -I$(top_srcdir)/src) keeps server headers out of reach.

bin_PROGRAMS += stoa-load
stoa_load_SOURCES = \
	src/tools/load/main.c \
	src/tools/load/load.h src/tools/load/log.c \
	src/tools/load/options.c src/tools/load/options.h \
	src/tools/load/run.c src/tools/load/run.h \
	src/tools/load/worker.c src/tools/load/worker.h \
	src/tools/load/ws.c src/tools/load/ws.h \
	src/tools/load/janus.c src/tools/load/janus.h \
	src/tools/load/peer.c src/tools/load/peer.h \
	src/tools/load/publisher.c src/tools/load/publisher.h \
	src/tools/load/viewer.c src/tools/load/viewer.h \
	src/tools/load/transport.c src/tools/load/transport.h \
	src/tools/load/dtls.c src/tools/load/dtls.h \
	src/tools/load/srtp_session.c src/tools/load/srtp_session.h \
	src/tools/load/sdp.c src/tools/load/sdp.h \
	src/tools/load/rtp.c src/tools/load/rtp.h \
	src/tools/load/media.h src/tools/load/ivf.c src/tools/load/ogg.c \
	src/tools/load/vp8.c src/tools/load/vp8.h \
	src/tools/load/stats.c src/tools/load/stats.h src/tools/load/summary.c \
	src/tools/load/procstat.c src/tools/load/procstat.h
stoa_load_CPPFLAGS = -I$(top_srcdir)/src/tools/load
stoa_load_CFLAGS = $(STOA_CFLAGS) $(GLIB_CFLAGS) $(NICE_CFLAGS) $(SRTP_CFLAGS) $(SSL_CFLAGS) \
	$(LWS_CFLAGS) $(JANSSON_CFLAGS)
stoa_load_LDFLAGS = $(STOA_LDFLAGS)
stoa_load_LDADD = $(GLIB_LIBS) $(NICE_LIBS) $(SRTP_LIBS) $(SSL_LIBS) $(LWS_LIBS) \
	$(JANSSON_LIBS) -lm

TESTS += tests/integration/test_stoa_load.py
EXTRA_DIST += tests/bench/make-media.py tests/integration/test_stoa_load.py
dist_doc_DATA += docs/load-testing.md
