#!/usr/bin/env python3
"""The finding documentation is generated from the catalogue (report/catalogue.c) and kept
in step with it:

- report/FINDINGS.md's table (code, severity, when, why it matters, remedy) between the
  markers <!-- catalogue --> and <!-- /catalogue --> is exactly what
  `mailscope --explain all --format json` says;
- README.md's "Finding codes" table (the codes by family) likewise;
- every catalogue row is raised somewhere in report/*.c (no dead rows), and report/ raises
  no code outside the catalogue (codes are ids: MS_F_*).

    check_findings.py SOURCE_DIR MAILSCOPE           check (the docs.findings test)
    check_findings.py SOURCE_DIR MAILSCOPE --write   regenerate both tables
"""
import json
import pathlib
import re
import subprocess
import sys

FAMILIES = [  # (prefix, README label), in the order the README lists them
    ("dns", "DNS"), ("tcp", "TCP"), ("tls", "TLS"), ("starttls", "STARTTLS"),
    ("proto", "protocol"), ("auth", "sign-in"), ("submission", "sending"),
    ("account", "account"),
    ("autoconfig", "mail program setup"), ("autodiscover", "mail program setup"),
    ("require", "health checks"), ("forbid", "health checks"), ("perf", "health checks"),
    ("internal", "mailscope"),
]


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def findings_table(rows):
    out = ["| code | severity | when | why it matters | remedy |",
           "| --- | --- | --- | --- | --- |"]
    for r in rows:
        out.append("| `%s` | %s | %s | %s | %s |" % (
            r["code"], cell(r["severity_doc"]), cell(r["when"]), cell(r["why"]),
            cell(r["remedy"])))
    return "\n".join(out)


def readme_table(rows):
    labels = []
    codes = {}
    for prefix, label in FAMILIES:
        if label not in labels:
            labels.append(label)
        for r in rows:
            if r["code"].split(".")[0] == prefix:
                codes.setdefault(label, []).append("`%s`" % r["code"])
    out = ["| family | codes |", "| --- | --- |"]
    for label in labels:
        out.append("| %s | %s |" % (label, ", ".join(codes.get(label, []))))
    return "\n".join(out)


def replace_between(text, begin, end, body, what):
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise SystemExit("%s: markers %s ... %s not found" % (what, begin, end))
    return text[:i + len(begin)] + "\n" + body + "\n" + text[j:]


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    root, mailscope = pathlib.Path(sys.argv[1]), sys.argv[2]
    write = "--write" in sys.argv[3:]
    out = subprocess.run([mailscope, "--explain", "all", "--format", "json"],
                         stdout=subprocess.PIPE, check=True, text=True).stdout
    rows = json.loads(out)
    problems = []

    known = {r["code"] for r in rows}
    unknown_family = sorted(c for c in known if c.split(".")[0] not in {p for p, _ in FAMILIES})
    for c in unknown_family:
        problems.append("%s: its family has no row in README's family table (FAMILIES)" % c)

    # every row is raised by report/*.c (as its MS_F_ id), outside the catalogue itself
    sources = "".join(p.read_text() for p in sorted((root / "report").glob("*.c"))
                      if p.name != "catalogue.c")
    for c in sorted(known):
        ident = "MS_F_" + c.upper().replace(".", "_")
        if not re.search(r"\b%s\b" % ident, sources):
            problems.append("%s (%s) is in the catalogue but report/*.c never raises it"
                            % (c, ident))
    # no code spelled as a string outside the catalogue
    for p in sorted((root / "report").glob("*.c")):
        if p.name == "catalogue.c":
            continue
        for m in re.finditer(r'"((?:%s)\.[a-z0-9_]+)"' % "|".join(p for p, _ in FAMILIES),
                             p.read_text()):
            problems.append("%s spells the code %s as a string: use its MS_F_ id"
                            % (p.name, m.group(1)))

    md_path, readme_path = root / "report" / "FINDINGS.md", root / "README.md"
    md, readme = md_path.read_text(), readme_path.read_text()
    new_md = replace_between(md, "<!-- catalogue -->", "<!-- /catalogue -->",
                             findings_table(rows), "report/FINDINGS.md")
    new_readme = replace_between(readme, "<!-- finding codes -->", "<!-- /finding codes -->",
                                 readme_table(rows), "README.md")
    if write:
        md_path.write_text(new_md)
        readme_path.write_text(new_readme)
    else:
        if new_md != md:
            problems.append("report/FINDINGS.md's table differs from the catalogue: run "
                            "tests/docs/check_findings.py . build/mailscope --write")
        if new_readme != readme:
            problems.append("README.md's finding-code table differs from the catalogue: run "
                            "tests/docs/check_findings.py . build/mailscope --write")
    if len(rows) < 40:
        problems.append("only %d catalogue rows: the extraction is broken" % len(rows))
    for p in problems:
        print(p)
    print("%d finding codes checked" % len(rows))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
