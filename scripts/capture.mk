# The readers of a capture file: `streamshim har` and `streamshim stats`
# (scripts/streamshim-capture.c, scripts/capture_*.c; the format is
# scripts/man/streamshim-capture.5). Included by the Makefile; built next
# to the library, where the wrapper looks for it. cJSON is Debian's
# libcjson-dev (scripts/install-deps); the pure parts they use: the JSON
# reader (a line is one valid JSON value), body_inspect (the model),
# endpoint (the Azure deployment) and escape (the table's cells).
CAPTOOL      := $(BUILD)/streamshim-capture
CAPTOOL_SRC  := scripts/streamshim-capture.c $(wildcard scripts/capture_*.c)
CAPTOOL_PURE := hooks/pure/body.c hooks/pure/body_scan.c hooks/pure/cpu_avx2.c \
                hooks/pure/json.c \
                hooks/pure/json_shape.c \
                hooks/pure/buf.c hooks/pure/escape.c hooks/pure/endpoint.c
CAPTOOL_HDR  := $(wildcard scripts/capture_*.h) hooks/pure/body.h \
                hooks/pure/body_scan.h hooks/pure/cpu_avx2.h \
                hooks/pure/json.h hooks/pure/json_lex.h hooks/pure/buf.h hooks/pure/escape.h \
                hooks/pure/endpoint.h
# The version the wrapper prints, for the HAR's creator.
CAPTOOL_VERSION := $(shell sed -n 's/^VERSION=\([0-9A-Za-z.+-]*\)$$/\1/p' scripts/streamshim)

all: $(CAPTOOL)

$(CAPTOOL): $(CAPTOOL_SRC) $(CAPTOOL_PURE) $(CAPTOOL_HDR) scripts/streamshim
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ihooks/pure -Iscripts -DSS_VERSION='"$(CAPTOOL_VERSION)"' \
	  $(LDFLAGS) -o $@ $(CAPTOOL_SRC) $(CAPTOOL_PURE) -lcjson -lm
