#!/usr/bin/env python3
"""Every finding code the report can raise is documented: in report/FINDINGS.md (severity,
when, remedy) and named in README.md's "Finding codes" section; and every code documented
there is one the code can raise (no stale rows)."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
FAMILIES = "dns|tcp|tls|starttls|proto|auth|account|internal|require|forbid|perf"
code_re = re.compile(r'"((?:%s)\.[a-z0-9_]+)"' % FAMILIES)

raised = set()
for src in sorted((root / "report").glob("*.c")):
    raised |= set(code_re.findall(src.read_text()))

findings_md = (root / "report" / "FINDINGS.md").read_text()
rows = set(re.findall(r"^\| `((?:%s)\.[a-z0-9_]+)` \|" % FAMILIES, findings_md, re.M))
readme = (root / "README.md").read_text()
section = readme.split("## Finding codes", 1)[-1].split("\n## ", 1)[0]
in_readme = set(re.findall(r"`((?:%s)\.[a-z0-9_]+)`" % FAMILIES, section))

problems = []
for c in sorted(raised - rows):
    problems.append("%s is raised by report/*.c but has no row in report/FINDINGS.md" % c)
for c in sorted(rows - raised):
    problems.append("%s has a row in report/FINDINGS.md but report/*.c never raises it" % c)
for c in sorted(rows - in_readme):
    problems.append("%s is not named in README.md's Finding codes section" % c)
if len(raised) < 40:
    problems.append("only %d codes found in report/*.c: the extraction is broken" % len(raised))
for p in problems:
    print(p)
print("%d finding codes checked" % len(raised))
sys.exit(1 if problems else 0)
