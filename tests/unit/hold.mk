# test_hold drives hooks/hold.c with a toy transform and its own stand-in
# for the core (tests/unit/test_hold.c defines the xfer_* and ss_log
# functions hold.c calls): it links the mechanism and the pure parts it
# uses, not $(NOCURL_SRC). An explicit rule: it wins over the pattern rule.
HOLD_TEST_SRC := tests/unit/test_hold.c hooks/hold.c hooks/pure/headers.c \
                 hooks/pure/json_write.c \
                 hooks/pure/buf.c
$(BUILD)/unit/test_hold: $(HOLD_TEST_SRC) tests/unit/check.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ $(HOLD_TEST_SRC)

# The hold's out-of-memory rule under a pause (a review finding):
# test_hold.c's stand-in core included, realloc renamed so that the test
# can fail one (no interposition: works under the sanitizers).
HOLD_OOM_TEST_SRC := tests/unit/test_hold_oom_pause.c hooks/hold.c \
                     hooks/pure/headers.c hooks/pure/json_write.c hooks/pure/buf.c
$(BUILD)/unit/test_hold_oom_pause: $(HOLD_OOM_TEST_SRC) tests/unit/test_hold.c tests/unit/check.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -Drealloc=test_realloc -o $@ $(HOLD_OOM_TEST_SRC)
