#!/usr/bin/env python3
"""The shell completions (dist/completion/: bash, zsh, fish) complete what the program takes.

Each shell runs its completion for real: bash calls the function the script registers
(bash_complete.sh, with bash-completion's helpers), zsh runs its completion system in a
pseudo-terminal (zsh_complete.zsh), fish answers `complete -C`. For each shell:

- the options offered after `-` are exactly the options `mailscope --help` prints;
- the values of --format, --protocols, --auth-mech and --require are exactly those the
  program names in its usage error for a wrong value, and the program accepts each one;
- --forbid offers the --require items and every finding code, --explain every code and
  `all`: the codes of the binary being completed (`--explain all --format json`);
- lists complete after a comma, `--opt=value` completes, and file options offer files;
- `mailscope serve` is offered first, and after it exactly the options of
  `mailscope serve --help` (file options offer files).

Environment: MAILSCOPE (the binary), MS_SOURCE (the source tree).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = pathlib.Path(os.environ.get("MS_SOURCE", pathlib.Path(__file__).resolve().parents[2]))
MAILSCOPE = os.path.abspath(os.environ.get("MAILSCOPE", "mailscope"))
COMPLETION = SOURCE / "dist" / "completion"
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(SOURCE / "tests" / "docs"))
from check_man import help_options  # noqa: E402  (the same reading of --help as docs.man)

WORDBREAKS = "\"'><=;|&(:"


def run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60, **kw)


def program_values(option):
    """The values OPTION takes, as the program lists them when given a wrong one."""
    p = run([MAILSCOPE, option, "no-such-value", "--version"])
    line = p.stderr.decode().splitlines()[0]
    m = re.search(r"valid items: (.*)", line) or re.search(r"\((?:use )?([^()]*)\)\s*$", line)
    if p.returncode != 3 or not m:
        raise AssertionError("%s: no list of values in the usage error: %r" % (option, line))
    values = set()
    for tok in re.split(r"[,()]|\bor\b", m.group(1)):
        tok = tok.strip()
        cap = re.fullmatch(r"([a-z0-9]+):[A-Z]+", tok)  # imap:CAPABILITY -> imap:
        if cap:
            values.add(cap.group(1) + ":")
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_+]*", tok):
            values.add(tok)
    return values


def accepted(option, value):
    if value.endswith(":"):  # imap: takes a capability name
        value += "IDLE"
    return run([MAILSCOPE, option, value, "--version"]).returncode == 0


def finding_codes():
    p = run([MAILSCOPE, "--explain", "all", "--format", "json"])
    return {row["code"] for row in json.loads(p.stdout)}


def bash_words(line):
    """The words readline makes of LINE: blanks separate, COMP_WORDBREAKS characters are words
    of their own; a line ending in a blank has an empty last word."""
    words = []
    for tok in line.split():
        words += [w for w in re.split(r"([%s]+)" % re.escape(WORDBREAKS), tok) if w]
    if line.endswith(" ") or not words:
        words.append("")
    return words


def normalize(items):
    """What a candidate completes in the current item: fish's `--opt=` and descriptions,
    the part of a comma-separated list before the last comma, a directory's slash."""
    out = set()
    for it in items:
        it = it.split("\t")[0]
        if it.startswith("--") and "=" in it:
            it = it.split("=", 1)[1]
        it = it.rsplit(",", 1)[-1]
        if len(it) > 1:
            it = it.rstrip("/")
        out.add(it)
    return out


class Shell:
    name = None

    def complete(self, line):
        raise NotImplementedError


class Bash(Shell):
    name = "bash"

    def complete(self, line):
        p = run(["bash", "--norc", "--noprofile", str(HERE / "bash_complete.sh"),
                 str(COMPLETION / "mailscope.bash"), line] + bash_words(line))
        if p.returncode:
            raise AssertionError("bash %r: rc=%d %s" % (line, p.returncode, p.stderr.decode()))
        return [l for l in p.stdout.decode().splitlines()]


class Zsh(Shell):
    name = "zsh"
    dump = None

    def complete(self, line):
        p = run(["zsh", "-f", str(HERE / "zsh_complete.zsh"), str(COMPLETION),
                 str(Zsh.dump), line])
        if p.returncode:
            raise AssertionError("zsh %r: rc=%d %s" % (line, p.returncode, p.stderr.decode()))
        return [l for l in p.stdout.decode().splitlines() if l]


class Fish(Shell):
    name = "fish"

    def complete(self, line):
        script = "source %s; complete -C%s" % (
            shlex_quote(str(COMPLETION / "mailscope.fish")), shlex_quote(line))
        p = run(["fish", "--no-config", "-c", script])
        if p.returncode:
            raise AssertionError("fish %r: rc=%d %s" % (line, p.returncode, p.stderr.decode()))
        return [l for l in p.stdout.decode().splitlines() if l]


def shlex_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Parse(unittest.TestCase):
    def test_zsh_parses(self):
        p = run(["zsh", "-n", str(COMPLETION / "_mailscope")])
        self.assertEqual(p.returncode, 0, p.stderr.decode())

    def test_fish_parses(self):
        p = run(["fish", "--no-config", "--no-execute", str(COMPLETION / "mailscope.fish")])
        self.assertEqual(p.returncode, 0, p.stderr.decode())

    def test_bash_parses(self):
        p = run(["bash", "-n", str(COMPLETION / "mailscope.bash")])
        self.assertEqual(p.returncode, 0, p.stderr.decode())


class Completion:
    """Mixed into one TestCase per shell (SHELL)."""
    shell = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ms-completion-")
        Zsh.dump = pathlib.Path(cls.tmp.name) / "zcompdump"
        cls.codes = finding_codes()
        cls.help = run([MAILSCOPE, "--help"]).stdout.decode()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def offered(self, line):
        return normalize(self.shell.complete(MAILSCOPE + " " + line))

    def test_options_are_the_help_options(self):
        self.assertEqual(self.offered("-"), help_options(self.help))

    def test_option_prefix(self):
        self.assertEqual(self.offered("--for"), {"--format", "--forbid"})

    def test_values(self):
        for option in ("--format", "--protocols", "--auth-mech", "--require"):
            with self.subTest(option=option):
                got = self.offered(option + " ")
                self.assertEqual(got, program_values(option))
                for value in got:
                    self.assertTrue(accepted(option, value), "%s %s is refused" % (option, value))

    def test_equals_form(self):
        self.assertEqual(self.offered("--format=js"), {"json", "jsonl"})

    def test_forbid_offers_items_and_codes(self):
        self.assertTrue(self.codes)
        self.assertEqual(self.offered("--forbid "), program_values("--require") | self.codes)

    def test_explain_offers_codes(self):
        self.assertEqual(self.offered("--explain "), self.codes | {"all"})

    def test_list_after_a_comma(self):
        want = {c for c in self.codes if c.startswith("tls.cert_ex")}
        self.assertTrue(want)
        self.assertEqual(self.offered("--forbid imap,tls.cert_ex"), want)
        self.assertIn("pop3", self.offered("--protocols imap,"))
        self.assertEqual(self.offered("--ports imap=10143,po"), {"pop3=", "pop3s="})

    def test_files(self):
        d = pathlib.Path(self.tmp.name) / "files"
        d.mkdir(exist_ok=True)
        (d / "ca-one.pem").write_text("x")
        (d / "ca-two.pem").write_text("x")
        (d / "other").write_text("x")
        for option in ("--ca-file", "--password-file", "--oauth2-token-file", "--targets-file"):
            with self.subTest(option=option):
                got = self.offered("%s %s/ca-" % (option, d))
                # zsh's matches are the names; bash and fish give the whole path
                self.assertEqual({os.path.basename(f) for f in got}, {"ca-one.pem", "ca-two.pem"})


    # `mailscope serve ...`: the HTTP service's options, from its own --help.

    def serve_help(self):
        p = run([MAILSCOPE, "serve", "--help"])
        if p.returncode != 0:
            self.skipTest("mailscope serve is not built: %s" % p.stderr.decode().strip())
        return p.stdout.decode()

    def test_serve_subcommand(self):
        self.assertIn("serve", self.offered("ser"))
        self.assertNotIn("serve", self.offered("imaps://mail.example.com ser"))

    def test_serve_options_are_its_help_options(self):
        want = help_options(self.serve_help())
        self.assertIn("--listen", want)
        self.assertEqual(self.offered("serve -"), want)
        self.assertEqual(self.offered("serve --listen 127.0.0.1:11995 -"), want)

    def test_serve_files(self):
        self.serve_help()
        d = pathlib.Path(self.tmp.name) / "serve-files"
        d.mkdir(exist_ok=True)
        (d / "serve-a.json").write_text("{}")
        (d / "serve-b.json").write_text("{}")
        (d / "other").write_text("x")
        for option in ("--config", "--check-config", "--tls-cert", "--tls-key", "--ca-file"):
            with self.subTest(option=option):
                got = self.offered("serve %s %s/serve-" % (option, d))
                self.assertEqual({os.path.basename(f) for f in got}, {"serve-a.json", "serve-b.json"})


class BashCompletion(Completion, unittest.TestCase):
    shell = Bash()


class ZshCompletion(Completion, unittest.TestCase):
    shell = Zsh()


class FishCompletion(Completion, unittest.TestCase):
    shell = Fish()


if __name__ == "__main__":
    for tool in ("bash", "zsh", "fish"):
        if not shutil.which(tool):
            sys.exit("test_completion: %s is not installed (scripts/deps.sh installs it)" % tool)
    if not pathlib.Path("/usr/share/bash-completion/bash_completion").exists():
        sys.exit("test_completion: bash-completion is not installed (scripts/deps.sh installs it)")
    unittest.main(verbosity=2)
