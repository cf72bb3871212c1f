"""Run the C unit tests of the pure parts (JSON reader, body surgery, SSE
encoder, config, ...). Each binary prints TAP; any 'not ok' fails."""

import pytest

from conftest import BUILD_DIR, ROOT, run

UNITS = sorted(p.name for p in (ROOT / "tests" / "unit").glob("test_*.c"))

@pytest.mark.parametrize("name", [u[:-2] for u in UNITS])
def test_unit(name):
    binary = BUILD_DIR / "unit" / name
    assert binary.is_file(), f"{binary} is not built (make unit)"
    r = run([binary], timeout=300)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0 and "not ok" not in out, out + r.stderr.decode(errors="replace")
    assert "1..0" not in out
