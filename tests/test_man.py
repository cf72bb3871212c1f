"""The man pages (scripts/man): streamshim(1), streamshim.conf(5) and
streamshim-capture(5).

Every page renders without a warning, through man-db (`man --warnings=w
-l`: all of groff's warnings, as a reader's `man` formats it at 80
columns) and through groff itself (`groff -man -ww -z`). And the pages
keep up with the code, by what the code says rather than by a list kept
here:

- every option and every command the wrapper's --help prints is in
  streamshim(1) (the synopsis, OPTIONS or COMMANDS), and the commands of
  the --help's Usage forms, of the README and of the page are the same;
- every variable the library reads (shim/config_load.c's env_keys, the
  STREAMSHIM_* strings of the C sources, those of the wrapper) has an
  entry in streamshim(1)'s ENVIRONMENT;
- every key the configuration parser accepts, global or in a
  [refusal "name"] section, has an entry in streamshim.conf(5), and every
  entry is a key the parser accepts: a small C program asks the parser
  itself (config_set, refusal_rule_set, hooks/pure) about every string
  literal of the parser's sources, and prints the defaults config_init and
  refusal_rules_begin set, which both pages must state.

Roff is read by a small reader here (requests, quoted arguments, the
escapes the pages use); what a reader sees is checked by the rendering
tests."""

import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import ROOT, plain_env, run

MAN_DIR = ROOT / "scripts" / "man"
PAGES = sorted(p for p in MAN_DIR.iterdir() if re.fullmatch(r".+\.[1-8]", p.name))
WRAPPER = ROOT / "scripts" / "streamshim"
README = ROOT / "README.md"
PAGE1 = MAN_DIR / "streamshim.1"
PAGE5 = MAN_DIR / "streamshim.conf.5"
PURE = ROOT / "hooks" / "pure"
CONFIG_LOAD = ROOT / "shim" / "config_load.c"
# The variables the library reads outside env_keys, and the wrapper's own.
OTHER_VARS = {"STREAMSHIM_CONFIG", "STREAMSHIM_LOG", "STREAMSHIM_LIBRARY"}


def man_env():
    return plain_env(LC_ALL="C.UTF-8", MANWIDTH="80", MANPAGER="cat", PAGER="cat",
                     MAN_KEEP_FORMATTING=None, MANOPT=None, GROFF_TMAC_PATH=None)


# ---------------------------------------------------------------------------
# Rendering


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_renders_with_man_without_a_warning(page):
    assert shutil.which("man"), "man-db is missing (scripts/install-deps installs it)"
    r = run(["man", "--warnings=w", "-l", page], env=man_env())
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode(errors="replace")
    text = r.stdout.decode()
    assert text.startswith(page.name.rsplit(".", 1)[0].upper()), text[:200]
    assert "NAME" in text and "SEE ALSO" in text
    assert max(len(line) for line in text.splitlines()) <= 80, \
        [line for line in text.splitlines() if len(line) > 80]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_renders_with_groff_without_a_warning(page):
    assert shutil.which("groff"), "groff-base is missing (scripts/install-deps installs it)"
    r = run(["groff", "-man", "-ww", "-z", "-Tutf8", page], env=man_env())
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode(errors="replace")


def test_the_warnings_are_on():
    """The options above do report a page's mistakes (here an unknown
    macro), so that their silence means something."""
    bad = ".TH BAD 1\n.SH NAME\nbad \\- a page\n.XX unknown\n"
    for cmd in (["man", "--warnings=w", "-l", "-"], ["groff", "-man", "-ww", "-z", "-Tutf8"]):
        r = run(cmd, env=man_env(), input=bad)
        assert b"XX" in r.stderr, (cmd, r.stderr)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_names_the_version_of_the_wrapper(page):
    r = run(["bash", WRAPPER, "--version"])
    assert r.returncode == 0, r.stderr
    version = r.stdout.decode().strip()  # "streamshim 0.1.0"
    th = next(line for line in page.read_text().splitlines() if line.startswith(".TH "))
    assert version in roff_args(th[4:]), (th, version)


# ---------------------------------------------------------------------------
# A small roff reader


ESCAPES = [
    (r"\(aq", "'"), (r"\(dq", '"'), (r"\(lq", '"'), (r"\(rq", '"'), (r"\(bu", "*"),
    (r"\(em", "--"), (r"\(en", "-"), (r"\(rs", "\\"), (r"\-", "-"), (r"\~", " "),
    (r"\ ", " "), (r"\&", ""), (r"\c", ""), (r"\%", ""), (r"\e", "\\"),
]
FONT = re.compile(r"\\f(?:[BIRP]|\(..|\[[^]]*\])")


def unescape(s):
    s = FONT.sub("", s)
    for esc, plain in ESCAPES:
        s = s.replace(esc, plain)
    return s


def roff_args(s):
    """The arguments of a request: blank-separated, "quoted" ones may hold
    blanks, "" inside quotes is a quote."""
    args, i = [], 0
    while i < len(s):
        if s[i] in " \t":
            i += 1
            continue
        if s[i] == '"':
            i += 1
            arg = ""
            while i < len(s):
                if s[i] == '"' and s[i + 1:i + 2] == '"':
                    arg, i = arg + '"', i + 2
                elif s[i] == '"':
                    i += 1
                    break
                else:
                    arg, i = arg + s[i], i + 1
            args.append(arg)
        else:
            j = i
            while j < len(s) and s[j] not in " \t":
                j += 1
            args.append(s[i:j])
            i = j
    return args


ALTERNATING = {"BR", "RB", "BI", "IB", "IR", "RI"}
FONT_REQUESTS = {"B", "I", "SM", "SB"} | ALTERNATING


def line_text(line):
    """What a source line shows: its text, or a font request's arguments
    (alternating ones joined, as roff joins them)."""
    if not line.startswith((".", "'")):
        return unescape(line)
    parts = line[1:].split(None, 1)
    if not parts:
        return ""
    name, rest = parts[0], parts[1] if len(parts) > 1 else ""
    if name in FONT_REQUESTS or name == "SY":
        args = roff_args(rest)
        return unescape(("" if name in ALTERNATING else " ").join(args))
    return ""


class Page:
    """A man page's source: its sections (name -> lines), and per section
    the tags of its .TP and .TQ entries, as text."""

    def __init__(self, path):
        self.sections, self.tags = {}, {}
        name = None
        lines = [line for line in path.read_text().splitlines() if not line.startswith('.\\"')]
        for i, line in enumerate(lines):
            if line.startswith(".SH"):
                name = " ".join(roff_args(line[3:]))
                self.sections[name], self.tags[name] = [], []
                continue
            if name is None:
                continue
            self.sections[name].append(line)
            if line.strip() in (".TP", ".TQ") or line.startswith((".TP ", ".TQ ")):
                if i + 1 < len(lines):
                    self.tags[name].append(line_text(lines[i + 1]).strip())

    def text(self, *sections):
        """The text of these sections (all without a name), one line per
        source line."""
        names = sections or self.sections.keys()
        return "\n".join(line_text(line) for n in names for line in self.sections[n])

    def paragraph(self, section, tag_word):
        """The text of the entry of section whose tag starts with tag_word:
        its tag and its text up to the next entry, paragraph or indent,
        joined; None when there is no such entry."""
        lines = self.sections[section]
        for i, line in enumerate(lines[:-1]):
            if (line.strip() in (".TP", ".TQ") or line.startswith(".TP ")) and \
                    first_word(line_text(lines[i + 1])) == tag_word:
                out = [line_text(lines[i + 1])]
                for nxt in lines[i + 2:]:
                    if nxt.startswith((".TP", ".TQ", ".PP", ".IP", ".RS", ".RE", ".SS")):
                        break
                    out.append(line_text(nxt))
                return " ".join(" ".join(out).split())
        return None


def first_word(s):
    words = re.findall(r"[A-Za-z_][\w.-]*", s)
    return words[0] if words else None


@pytest.fixture(scope="module")
def page1():
    return Page(PAGE1)


@pytest.fixture(scope="module")
def page5():
    return Page(PAGE5)


def test_the_reader_reads_the_pages(page1, page5):
    assert {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "ENVIRONMENT",
            "EXIT STATUS", "FILES", "EXAMPLES", "BUGS", "SEE ALSO"} <= set(page1.sections)
    assert {"NAME", "SYNOPSIS", "DESCRIPTION", "FORMAT", "GLOBAL SETTINGS",
            "REFUSAL RULES", "SEE ALSO"} <= set(page5.sections)
    assert "--models GLOBS" in page1.tags["OPTIONS"]
    assert "-h, --help" in page1.tags["OPTIONS"]
    see_also = page1.text("SEE ALSO")
    for ref in ("streamshim.conf(5)", "streamshim-capture(5)", "curl(1)", "ld.so(8)"):
        assert ref in see_also


# ---------------------------------------------------------------------------
# The wrapper's options and commands


def help_text():
    r = run(["bash", WRAPPER, "--help"])
    assert r.returncode == 0 and r.stdout, r.stderr
    return r.stdout.decode()


LONG = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")
SHORT = re.compile(r"(?<![\w-])-[A-Za-z](?![\w-])")


def options_in(text):
    return set(LONG.findall(text)) | set(SHORT.findall(text))


def usage_forms(text):
    """The lines of the Usage block: `Usage: prog ...` and the indented
    `prog ...` lines under it (continuations of a form are kept with it)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Usage:"))
    prog = lines[start].split()[1]
    forms = []
    for line in lines[start:]:
        if not line.strip():
            break
        words = line.replace("Usage:", "", 1).split()
        if words and words[0] == prog:
            forms.append(words[1:])
        elif forms:
            forms[-1].extend(words)
    return prog, forms


def commands_of_forms(forms):
    """The subcommands: a form's first word when it is a lowercase word
    (not an option, a [bracket] or a COMMAND placeholder)."""
    return {f[0] for f in forms if f and re.fullmatch(r"[a-z][a-z0-9-]*", f[0])}


def test_help_has_usage_forms_and_options():
    prog, forms = usage_forms(help_text())
    assert prog == "streamshim" and len(forms) >= 2, forms
    opts = options_in(help_text())
    assert {"--models", "--help", "-h"} <= opts, opts  # the extraction works


def test_every_option_of_the_help_is_in_the_page(page1):
    """In the synopsis, or as the tag of an entry of OPTIONS or COMMANDS
    (not merely named in passing)."""
    documented = options_in(page1.text("SYNOPSIS")) | \
        options_in("\n".join(page1.tags["OPTIONS"] + page1.tags["COMMANDS"]))
    missing = sorted(options_in(help_text()) - documented)
    assert not missing, f"options of `streamshim --help` missing from {PAGE1.name}: {missing}"


def test_every_option_of_the_wrapper_has_an_entry(page1):
    """The wrapper's own options (the help's Options: block, before its
    first blank line) each have an entry in OPTIONS."""
    block = help_text().split("\nOptions:\n", 1)[1].split("\n\n", 1)[0]
    own = set()
    for line in block.splitlines():
        if re.match(r"\s{1,4}-", line):  # an option's line, not a continuation
            own |= options_in(re.split(r"\s{2,}", line.strip())[0])
    entries = options_in("\n".join(page1.tags["OPTIONS"]))
    assert {"--models", "--help"} <= own, own
    assert not own - entries, sorted(own - entries)


def page_commands(page1):
    synopsis = set()
    for line in page1.sections["SYNOPSIS"]:
        if line.startswith(".SY"):
            words = line_text(line).split()
            if words[:1] == ["streamshim"] and len(words) > 1:
                synopsis.add(words[1])
    entries = set()
    for tag in page1.tags["COMMANDS"]:
        words = tag.split()
        if words[:1] == ["streamshim"] and len(words) > 1:
            entries.add(words[1])
    return synopsis, entries


def test_the_page_lists_its_commands_in_the_synopsis_and_in_commands(page1):
    synopsis, entries = page_commands(page1)
    assert synopsis and synopsis == entries, (synopsis, entries)
    forms = [line_text(line).split() for line in page1.sections["SYNOPSIS"]
             if line.startswith(".SY")]
    assert all(f[0] == "streamshim" or f[0].startswith("LD_PRELOAD=") for f in forms), forms


def test_help_and_page_agree_on_the_commands(page1):
    _, forms = usage_forms(help_text())
    synopsis, _ = page_commands(page1)
    assert commands_of_forms(forms) == synopsis, \
        f"--help Usage forms: {sorted(commands_of_forms(forms))}, {PAGE1.name}: {sorted(synopsis)}"


def readme_commands():
    """The commands the README shows: `streamshim WORD` (or
    `scripts/streamshim WORD`, `$ streamshim WORD`) at the start of its
    code, a `span` or a line of an indented block, WORD a lowercase word."""
    text = README.read_text()
    code = re.findall(r"`([^`]+)`", text, re.S)
    code += [line for line in text.splitlines() if line.startswith("    ")]
    found = set()
    for c in code:
        m = re.match(r"\s*(?:\$\s+)?(?:\S*/)?streamshim\s+([a-z][a-z0-9-]*)(?![\w./])", c)
        if m:
            found.add(m.group(1))
    return found


def test_readme_and_page_agree_on_the_commands(page1):
    """Every command of the page is shown in the README (which also shows
    programs run under the wrapper: `streamshim curl ...`)."""
    synopsis, _ = page_commands(page1)
    missing = synopsis - readme_commands()
    assert not missing, f"commands of {PAGE1.name} the README never shows: {sorted(missing)}"


# ---------------------------------------------------------------------------
# The environment


def env_keys():
    """shim/config_load.c's env_keys table: {variable: config key}."""
    src = CONFIG_LOAD.read_text()
    m = re.search(r"\}\s*env_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    assert m, "the env_keys table of shim/config_load.c was not found"
    pairs = re.findall(r'\{\s*"(STREAMSHIM_\w+)"\s*,\s*"(\w+)"\s*\}', m.group(1))
    assert pairs and len(pairs) == m.group(1).count('"STREAMSHIM_'), m.group(1)
    return dict(pairs)


def variables_read():
    names = set(env_keys()) | OTHER_VARS
    for src in list((ROOT / "shim").glob("*.c")) + list((ROOT / "hooks").rglob("*.c")) + \
            list((ROOT / "scripts").glob("*.c")):
        names |= set(re.findall(r'"(STREAMSHIM_[A-Z][A-Z0-9_]*)"', src.read_text()))
    names |= set(re.findall(r"\b(STREAMSHIM_[A-Z][A-Z0-9_]*)", WRAPPER.read_text()))
    return names


def test_every_variable_has_an_entry_in_environment(page1):
    entries = set()
    for tag in page1.tags["ENVIRONMENT"]:
        entries |= set(re.findall(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b", tag))
    missing = sorted(variables_read() - entries)
    assert not missing, f"variables without an entry in {PAGE1.name} ENVIRONMENT: {missing}"
    for other in ("LD_PRELOAD", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME"):
        assert other in entries, other


# ---------------------------------------------------------------------------
# The configuration keys, by the parser itself

PROBE_C = r"""
#include <stdio.h>
#include <string.h>
#include "config.h"

/* For each argument: "global KEY" when config_set knows it (a value may
 * be bad, but the message is not that of an unknown key), "refusal KEY"
 * when refusal_rule_set does; then the defaults. */
int main(int argc, char **argv)
{
  const char *unknown_g, *unknown_r, *msg;
  struct ss_config c;
  struct refusal_rules r;
  config_init(&c);
  config_set(&c, "no such key at all", "x", false, &unknown_g);
  refusal_rules_init(&r);
  refusal_rules_begin(&r, "probe");
  refusal_rule_set(&r, "no such key at all", NULL, "x", &unknown_r);
  for(int i = 1; i < argc; i++) {
    struct ss_config t;
    struct refusal_rules rr;
    config_init(&t);
    if(config_set(&t, argv[i], "x", false, &msg) || (msg && strcmp(msg, unknown_g)))
      printf("global %s\n", argv[i]);
    config_free(&t);
    refusal_rules_init(&rr);
    refusal_rules_begin(&rr, "probe");
    if(refusal_rule_set(&rr, argv[i], NULL, "x", &msg) || (msg && strcmp(msg, unknown_r)))
      printf("refusal %s\n", argv[i]);
    refusal_rules_free(&rr);
  }
  printf("default mode %s\n", config_mode_name(c.mode));
  printf("default chunk %zu\n", c.chunk_chars);
  printf("default max_answer %zu\n", c.max_answer);
  printf("default pace %u\n", c.pace_ms);
  printf("default cache_ttl %lds\n", c.cache_ttl);
  printf("default capture_max_body %zu\n", c.capture_max_body);
  printf("default capture_redact %s\n", c.capture_redact.off ? "off" : "on");
  printf("default status %d\n", refusal_rule_status(&r, REFUSAL_BUILTINS));
  printf("default direction %s\n", refusal_dir_name(refusal_rule_dir(&r, REFUSAL_BUILTINS)));
  refusal_rules_free(&r);
  config_free(&c);
  return 0;
}
"""


@pytest.fixture(scope="module")
def parser(tmp_path_factory):
    """{"global": keys, "refusal": keys, "default": {key: value}} as the
    parser says."""
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.fail(f"no C compiler ({cc}): scripts/install-deps installs gcc", pytrace=False)
    d = tmp_path_factory.mktemp("probe")
    (d / "probe.c").write_text(PROBE_C)
    exe = d / "probe"
    r = run([cc, "-std=c11", "-D_GNU_SOURCE", f"-I{PURE}", "-o", exe, d / "probe.c",
             *sorted(PURE.glob("*.c"))])
    assert r.returncode == 0, r.stderr.decode()
    # every word-like string literal of the parser's sources is a candidate
    sources = [PURE / "config.c", PURE / "config_rules.c", PURE / "refusal.c",
               PURE / "config.h", CONFIG_LOAD]
    sources += sorted(PURE.glob("config_*.[ch]"))
    words = set()
    for src in sources:
        words |= set(re.findall(r'"([a-z][a-z0-9_-]*)"', src.read_text()))
    r = run([exe, *sorted(words)])
    assert r.returncode == 0, r.stderr.decode()
    out = {"global": set(), "refusal": set(), "default": {}}
    for line in r.stdout.decode().splitlines():
        kind, key, *value = line.split(" ", 2)
        if kind == "default":
            out["default"][key] = value[0]
        else:
            out[kind].add(key)
    # the probe works: keys everyone knows are found
    assert {"mode", "models", "stream_only", "capture_redact_fields"} <= out["global"], out
    assert {"status", "field", "direction"} <= out["refusal"], out
    return out


def entry_keys(page, section):
    return {first_word(tag) for tag in page.tags[section]} - {None}


def test_every_global_key_has_an_entry(page5, parser):
    entries = entry_keys(page5, "GLOBAL SETTINGS")
    missing = sorted(parser["global"] - entries)
    assert not missing, f"keys the parser accepts, not in {PAGE5.name}: {missing}"


def test_every_global_entry_is_a_key(page5, parser):
    unknown = sorted(entry_keys(page5, "GLOBAL SETTINGS") - parser["global"])
    assert not unknown, f"entries of {PAGE5.name} the parser does not accept: {unknown}"


def test_every_refusal_key_has_an_entry(page5, parser):
    entries = entry_keys(page5, "REFUSAL RULES")
    assert entries == parser["refusal"], (sorted(entries), sorted(parser["refusal"]))


def stated_default(paragraph, value):
    """Does the entry say value is the default ("default 24", "auto
    (default)", "no-stream (the default)")?"""
    if paragraph is None:
        return False
    text = paragraph.replace("(", " (")
    return bool(re.search(rf"default {re.escape(value)}\b", text) or
                re.search(rf"(?<![\w-]){re.escape(value)} +\((the )?default\b", text))


def shown(key, value):
    """A default as the pages write it: a duration in its largest whole
    unit ("604800s" is "7d")."""
    if key == "cache_ttl":
        s = int(value.rstrip("s"))
        for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
            if s and s % n == 0:
                return f"{s // n}{unit}"
        return str(s)
    return value


def test_the_conf_page_states_the_parser_defaults(page5, parser):
    wrong = []
    for key, value in parser["default"].items():
        section = "REFUSAL RULES" if key in parser["refusal"] else "GLOBAL SETTINGS"
        if not stated_default(page5.paragraph(section, key), shown(key, value)):
            wrong.append(f"{key}: default {shown(key, value)}")
    assert not wrong, f"{PAGE5.name} does not state these defaults: {wrong}"


def test_the_environment_states_the_parser_defaults(page1, parser):
    wrong = []
    for var, key in env_keys().items():
        if key in parser["default"]:
            value = shown(key, parser["default"][key])
            if not stated_default(page1.paragraph("ENVIRONMENT", var), value):
                wrong.append(f"{var}: default {value}")
    assert not wrong, f"{PAGE1.name} ENVIRONMENT does not state these defaults: {wrong}"


def test_the_conf_page_names_the_builtin_rules(page5):
    """The reserved names are those refusal_builtin_name() knows; the
    built-in rules' names are the string literals of refusal.c's table."""
    src = (PURE / "refusal.c").read_text()
    names = set(re.findall(r'static char \w+_name\[\] = "([^"]+)";', src))
    names |= set(re.findall(r'#define BUILTIN_NAME "([^"]+)"', src))
    assert len(names) >= 2, names
    entries = {tag.split()[0] for tag in page5.tags["BUILT-IN RULES"] if tag.split()}
    assert names == entries, (sorted(names), sorted(entries))
