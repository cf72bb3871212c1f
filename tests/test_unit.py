"""Run the C unit tests of the pure parts (JSON reader, body surgery, SSE
encoder, config, ...). Each binary prints TAP; any 'not ok' fails."""

import pytest

from conftest import BUILD_DIR, ROOT, run

UNITS = sorted(p.name for p in (ROOT / "tests" / "unit").glob("test_*.c"))

# Review repros of known defects: they fail until fixed.
KNOWN_DEFECTS = {
    "test_hold_oom_pause": "hold_pass_header drops a line it could not queue "
                           "when the pump pauses (r == SS_OK ? pass : r)",
    "test_getinfo_oom": "view_getinfo answers CURLE_OUT_OF_MEMORY for every "
                        "CURLINFO when the block record lost lines, even "
                        "ones it never replaces (CURLINFO_PRIVATE, TOTAL_TIME)",
}


def _param(name):
    if name in KNOWN_DEFECTS:
        return pytest.param(name, marks=pytest.mark.xfail(
            strict=True, reason=KNOWN_DEFECTS[name]))
    return name


@pytest.mark.parametrize("name", [_param(u[:-2]) for u in UNITS])
def test_unit(name):
    binary = BUILD_DIR / "unit" / name
    assert binary.is_file(), f"{binary} is not built (make unit)"
    r = run([binary], timeout=300)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0 and "not ok" not in out, out + r.stderr.decode(errors="replace")
    assert "1..0" not in out
