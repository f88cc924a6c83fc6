#!/usr/bin/env python3
"""One version, and build dependencies that scripts/deps.sh installs (a fast check; the
package itself is built by test_deb.sh, ctest package.deb):

- the CMake project version (CMakeLists.txt) is the version of the newest entry of
  debian/changelog and of CHANGELOG.md (`## VERSION`);
- every package of debian/control's Build-Depends is in scripts/deps.sh's demo or test
  group (debhelper-compat is debhelper's), so CI can build the package and a machine set
  up with `deps.sh test` has what `dpkg-buildpackage` checks for.

    check_release.py SOURCE_DIR
"""
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1])
failures = []

version = re.search(r"project\(mailscope\s+VERSION\s+([0-9.]+)",
                    (src / "CMakeLists.txt").read_text()).group(1)
deb = re.match(r"mailscope \(([^)]+)\)", (src / "debian/changelog").read_text()).group(1)
if deb != version:
    failures.append("debian/changelog's newest entry is %s, CMakeLists.txt says %s" % (deb, version))
m = re.search(r"^## ([0-9][^ ]*)", (src / "CHANGELOG.md").read_text(), re.M)
if not m or m.group(1) != version:
    failures.append("CHANGELOG.md's newest entry is %s, CMakeLists.txt says %s"
                    % (m.group(1) if m else "missing", version))

control = (src / "debian/control").read_text()
bd = re.search(r"^Build-Depends:(.*?)(?=^\S)", control, re.M | re.S).group(1)
wanted = set()
for item in bd.split(","):
    name = item.strip().split(" ")[0].split(":")[0]
    if name:
        wanted.add("debhelper" if name == "debhelper-compat" else name)

deps = (src / "scripts/deps.sh").read_text()
groups = {}
for g, body in re.findall(r"^(\w+)_PACKAGES=\((.*?)^\)", deps, re.M | re.S):
    groups[g] = {w for line in body.splitlines() for w in line.split("#")[0].split()}
have = groups.get("DEMO", set()) | groups.get("TEST", set())
if not have:
    failures.append("no DEMO_PACKAGES/TEST_PACKAGES arrays in scripts/deps.sh")
for name in sorted(wanted - have):
    failures.append("debian/control builds with %s, which scripts/deps.sh (demo or test) does "
                    "not install" % name)

for f in failures:
    print("check_release: " + f)
if failures:
    sys.exit(1)
print("check_release: version %s everywhere; %d build dependencies in deps.sh"
      % (version, len(wanted)))
