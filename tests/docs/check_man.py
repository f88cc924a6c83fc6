#!/usr/bin/env python3
"""The man pages (docs/man/*.scd, built by scdoc into BUILD/man) render without warnings and
stay in step with the programs:

- `groff -ww -z -man` and `man --warnings -l` (what lintian runs) say nothing;
- every option that `mailscope --help` prints is an option entry (a term line) of
  mailscope(1)'s OPTIONS section, and every option entry there is in --help;
- the same for the HTTP server, once it exists: `mailscope serve --help` (when it prints
  something else than `mailscope --help`) and every SERVE program given on the command line
  are checked against mailscope-serve(1) when that page exists, else mailscope(1);
- every finding family (the part of each code before the dot, from
  `mailscope --explain all --format json`) is a term of the FINDINGS section.
- the example configuration in mailscope-serve(1)'s CONFIGURATION FILE section is one the
  program accepts (`--check-config`, with its password file made to exist).

    check_man.py MAN_DIR MAILSCOPE [SERVE]
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

LONG = re.compile(r"(?<![\w-])--[a-z0-9][a-z0-9-]*(?![\w-])")
SHORT = re.compile(r"(?<![\w-])-[A-Za-z0-9](?![\w-])")

failures = []


def fail(msg):
    failures.append(msg)


def run(argv, env=None, check=True):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60)
    if check and p.returncode != 0:
        raise SystemExit("%s: exit %d\n%s" % (" ".join(argv), p.returncode, p.stderr.decode()))
    return p


def render_warnings(page):
    """What groff and man-db say while rendering PAGE (lintian's command for the latter)."""
    out = []
    p = run(["groff", "-ww", "-z", "-man", "-Tutf8", "-t", str(page)], check=False)
    if p.returncode or p.stderr:
        out.append("groff -ww: " + p.stderr.decode())
    env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
    p = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)], env=env,
            check=False)
    if p.returncode or p.stderr:
        out.append("man --warnings: " + p.stderr.decode())
    return out


def plain_text(page):
    """The page as a person reads it (ASCII, no overstrike), wide enough for no wrapping."""
    p = run(["groff", "-man", "-t", "-Tascii", "-P-cbou", "-rLL=200n", str(page)])
    return p.stdout.decode()


def sections(text):
    """{SECTION NAME: [lines]} of the rendered page."""
    out, name = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            name = line.strip()
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def term_lines(lines):
    """Entry terms: the lines at the page's base indentation (7 spaces), not body text."""
    return [l.strip() for l in lines if re.match(r"^ {7}\S", l)]


def man_options(page):
    text = plain_text(page)
    sec = sections(text).get("OPTIONS")
    if sec is None:
        fail("%s has no OPTIONS section" % page.name)
        return set(), text
    opts = set()
    for term in term_lines(sec):
        if term.startswith("-"):
            opts |= set(LONG.findall(term)) | set(SHORT.findall(term))
    return opts, text


def help_options(help_text):
    """Every --long option anywhere in the help, and the -X short options of the option
    column (lines that start with spaces and a dash)."""
    opts = set(LONG.findall(help_text))
    for line in help_text.splitlines():
        m = re.match(r"^\s+(-\S.*?)(?:\s{2,}|$)", line)
        if m:
            opts |= set(SHORT.findall(m.group(1)))
    return opts


def check_options(what, help_text, page):
    in_help = help_options(help_text)
    in_man, _ = man_options(page)
    if not in_help:
        fail("%s: no options found in its --help" % what)
    for o in sorted(in_help - in_man):
        fail("%s --help prints %s, but %s has no entry for it in OPTIONS (docs/man/%s.scd)"
             % (what, o, page.name, page.name))
    for o in sorted(in_man - in_help):
        fail("%s documents %s in OPTIONS, but %s --help does not print it" % (page.name, o, what))


def check_serve_example(page, serve):
    """The JSON example of PAGE's CONFIGURATION FILE section passes SERVE --check-config."""
    lines = sections(plain_text(page)).get("CONFIGURATION FILE", [])
    start = next((i for i, l in enumerate(lines) if l.strip() == "{"), None)
    if start is None:
        fail("%s: no example configuration in CONFIGURATION FILE" % page.name)
        return
    indent = lines[start].index("{")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() == " " * indent + "}"),
               None)
    if end is None:
        fail("%s: the example configuration does not end" % page.name)
        return
    text = "\n".join(l[indent:] for l in lines[start:end + 1])
    with tempfile.TemporaryDirectory(prefix="ms-man-") as d:
        # The files it names are the administrator's; stand-ins with the same content kind.
        for path in set(re.findall(r'"(/etc/[^"]+)"', text)):
            stand_in = os.path.join(d, os.path.basename(path))
            with open(stand_in, "w") as f:
                f.write("not-a-secret\n")
            os.chmod(stand_in, 0o600)
            text = text.replace('"%s"' % path, json.dumps(stand_in))
        config = os.path.join(d, "serve.json")
        with open(config, "w") as f:
            f.write(text)
        p = run([serve, "--check-config", config], check=False)
        if p.returncode != 0:
            fail("%s: the example configuration is refused: %s" % (page.name, p.stderr.decode()))


def main():
    man_dir = pathlib.Path(sys.argv[1])
    mailscope = sys.argv[2]
    serves = sys.argv[3:]
    pages = sorted(man_dir.glob("*.[1-9]"))
    if not pages:
        raise SystemExit("no man pages in %s" % man_dir)
    for page in pages:
        for w in render_warnings(page):
            fail("%s: %s" % (page.name, w))

    main_page = man_dir / "mailscope.1"
    main_help = run([mailscope, "--help"]).stdout.decode()
    check_options("mailscope", main_help, main_page)

    serve_page = man_dir / "mailscope-serve.1"
    if not serve_page.exists():
        serve_page = main_page
    p = run([mailscope, "serve", "--help"], check=False)
    if p.returncode == 0 and p.stdout.decode() != main_help:
        check_options("mailscope serve", p.stdout.decode(), serve_page)
    for serve in serves:
        check_options(os.path.basename(serve), run([serve, "--help"]).stdout.decode(),
                      serve_page)
        if serve_page.name == "mailscope-serve.1":
            check_serve_example(serve_page, serve)

    codes = json.loads(run([mailscope, "--explain", "all", "--format", "json"]).stdout)
    families = {c["code"].split(".")[0] for c in codes}
    terms = " ".join(term_lines(sections(plain_text(main_page)).get("FINDINGS", [])))
    for fam in sorted(families):
        if fam + ".*" not in terms:
            fail("finding family %s.* is not a term of mailscope(1)'s FINDINGS section" % fam)

    for f in failures:
        print("check_man: " + f.rstrip())
    if failures:
        return 1
    print("check_man: %d page(s) render cleanly; options and finding families in step"
          % len(pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
