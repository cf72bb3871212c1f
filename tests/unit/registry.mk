# The handle registry, a core file with no libcurl call: built alone.
REGISTRY_TEST_SRC := tests/unit/test_registry.c shim/registry.c
$(BUILD)/unit/test_registry: $(REGISTRY_TEST_SRC) tests/unit/check.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ $(REGISTRY_TEST_SRC) -lpthread
