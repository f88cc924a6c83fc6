#!/usr/bin/env bash
# tests/package/test_deb.sh SOURCE_DIR WORK_DIR - build the Debian package the way the README
# says, check it with lintian, and use it from a throwaway root, without touching the
# machine's installed packages:
#
#   1. copy the source tree to WORK_DIR/src/mailscope-VERSION: in a git checkout the files
#      git knows (tracked, and new ones not ignored: uncommitted work included; build/,
#      build-asan/ and any other ignored build tree left out), else every file outside a
#      CMake build tree (a directory with a CMakeCache.txt) and .git;
#   2. dpkg-buildpackage -us -uc -b there: mailscope_VERSION_ARCH.deb (the build
#      dependencies are checked by dpkg-checkbuilddeps);
#   3. lintian: no error and no warning (a warning can be kept only by an override, with
#      its reason, in debian/mailscope.lintian-overrides; none is needed today);
#   4. dpkg -x into WORK_DIR/root: --version says VERSION (no git describe: the copy has no
#      .git) and the libraries, and so does `mailscope serve --version` (with libmicrohttpd
#      and GnuTLS); man finds and renders mailscope(1) and mailscope-serve(1) without
#      warnings; the systemd unit of serve runs the packaged program; the example serve.json
#      passes --check-config; bash, zsh and fish pick up the completion from that root;
#   5. dpkg --root=WORK_DIR/dpkg (a dpkg database of its own) installs it (the unit is not
#      enabled) and purges it: the purge leaves no file behind.
# Exit 0 when all holds; the time of each step is printed.
set -euo pipefail

src=$(cd "$1" && pwd)
work=$2
t0=$SECONDS
step() { printf '\n=== %s (%ds) ===\n' "$*" $((SECONDS - t0)); }
fail() {
  echo "test_deb: FAIL: $*" >&2
  exit 1
}

for tool in dpkg-buildpackage dpkg-parsechangelog lintian dh man zsh fish; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh test installs it)"
done
[[ -f /usr/share/bash-completion/bash_completion ]] || fail "bash-completion is missing (scripts/deps.sh test)"

version=$(sed -n 's/^project(mailscope VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ -n $version ]] || fail "no project version in CMakeLists.txt"
arch=$(dpkg --print-architecture)
deb_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
[[ $deb_version == "$version" ]] || fail "debian/changelog says $deb_version, CMakeLists.txt $version"

step "copy the source tree"
rm -rf "$work"
mkdir -p "$work/src/mailscope-$version"
tree=$work/src/mailscope-$version
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1 &&
  [[ $(cd "$(git -C "$src" rev-parse --show-toplevel)" && pwd -P) == $(cd "$src" && pwd -P) ]]; then
  # tracked and new files, not the ignored ones; a tracked file deleted in the work tree is
  # left out (tar would fail on it)
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -C "$tree" -xf -
else
  (cd "$src" && find . -mindepth 1 \( -name .git -o -name 'obj-*' \) -prune -o \
    -type d -exec test -e '{}/CMakeCache.txt' \; -prune -o \( -type f -o -type l \) -print0 |
    tar --null -T - -cf -) | tar -C "$tree" -xf -
fi
[[ -f $tree/debian/control && -f $tree/CMakeLists.txt ]] || fail "the copy has no debian/control"
[[ ! -e $tree/.git && ! -e $tree/build/CMakeCache.txt ]] || fail "the copy has .git or build/"

step "dpkg-buildpackage -us -uc -b"
jobs=$(nproc 2>/dev/null || echo 2)
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs" dpkg-buildpackage -us -uc -b) \
  >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  fail "dpkg-buildpackage failed (log: $work/build.log)"
}
deb=$work/src/mailscope_${version}_${arch}.deb
[[ -f $deb ]] || fail "no $deb; built: $(ls "$work/src")"
changes=$work/src/mailscope_${version}_${arch}.changes
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
dpkg-deb -c "$deb"

step "lintian"
# --fail-on error,warning: a warning is kept only with a line (and its reason) in
# debian/mailscope.lintian-overrides; info and pedantic tags are shown, not fatal.
lintian --fail-on error,warning --display-info --suppress-tags-from-file /dev/null \
  --show-overrides "$changes" || fail "lintian reported errors or warnings (above)"

step "dpkg -x into a throwaway root"
root=$work/root
dpkg -x "$deb" "$root"
out=$("$root/usr/bin/mailscope" --version) || fail "mailscope --version failed"
echo "$out"
[[ $(head -n 1 <<<"$out") == "mailscope $version" ]] ||
  fail "--version's first line is not 'mailscope $version' (built from a copy without .git)"
for lib in OpenSSL c-ares jansson glibc libcurl expat libpsl; do
  grep -Eq "^  $lib +[0-9]" <<<"$out" || fail "--version names no $lib"
done

# mailscope serve runs mailscope-serve from mailscope's directory: its version and its own
# libraries (the HTTP server's).
out=$("$root/usr/bin/mailscope" serve --version) || fail "mailscope serve --version failed"
echo "$out"
[[ $(head -n 1 <<<"$out") == "mailscope-serve $version" ]] ||
  fail "mailscope serve --version's first line is not 'mailscope-serve $version'"
for lib in OpenSSL c-ares jansson glibc libcurl expat libpsl libmicrohttpd GnuTLS; do
  grep -Eq "^  $lib +[0-9]" <<<"$out" || fail "mailscope serve --version names no $lib"
done

for name in mailscope mailscope-serve; do
  page=$(MANPATH=$root/usr/share/man man -w "$name") || fail "man -w finds no $name(1)"
  [[ $page == "$root"/usr/share/man/man1/"$name".1* ]] || fail "man -w $name: $page"
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "man --warnings $name: $warnings"
  MANPATH=$root/usr/share/man MANWIDTH=80 man "$name" 2>/dev/null | grep -q 'EXIT STATUS' ||
    fail "man $name does not show the page"
done

# The HTTP server's systemd unit, where Debian 12's systemd reads packages' units, running
# the packaged program; installed, not enabled (debian/rules: dh_installsystemd --no-enable).
unit=$root/lib/systemd/system/mailscope-serve.service
[[ -f $unit ]] || fail "no /lib/systemd/system/mailscope-serve.service in the package"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $exec_start == "/usr/bin/mailscope-serve --config /etc/mailscope/serve.json" ]] ||
  fail "the unit's ExecStart is '$exec_start'"
[[ -x $root/usr/bin/mailscope-serve ]] || fail "the unit's program is not in the package"
! grep -q '@[A-Z_]*@' "$unit" || fail "the unit has an unreplaced @VARIABLE@"
# The example configuration is what the unit's comments tell to copy; the service accepts
# it once the file its login module names exists.
examples=$root/usr/share/doc/mailscope/examples
for f in serve.json prometheus/prometheus.yml prometheus/mailscope-alerts.yml targets.txt; do
  [[ -f $examples/$f ]] || fail "no examples/$f in /usr/share/doc/mailscope"
done
mkdir -p "$work/etc"
secret=$work/etc/monitor.password
(umask 077 && echo not-a-password >"$secret")
sed "s|/etc/mailscope/monitor.password|$secret|" "$examples/serve.json" >"$work/etc/serve.json"
"$root/usr/bin/mailscope" serve --check-config "$work/etc/serve.json" >/dev/null ||
  fail "mailscope serve --check-config rejects the packaged example serve.json"

# Each shell finds the completion where it looks for a package's own, under the root's
# /usr/share (XDG_DATA_DIRS for bash-completion and fish; fpath for zsh).
bash_spec=$(XDG_DATA_DIRS=$root/usr/share bash --norc --noprofile -c \
  'source /usr/share/bash-completion/bash_completion; __load_completion mailscope; complete -p mailscope') ||
  fail "bash-completion does not load the completion from $root"
[[ $bash_spec == *"-F _mailscope"* ]] || fail "bash: $bash_spec"
zsh_func=$(zsh -f -c "fpath=($root/usr/share/zsh/vendor-completions \$fpath); autoload -Uz compinit; compinit -u -D; print -r -- \$_comps[mailscope]")
[[ $zsh_func == _mailscope ]] || fail "zsh: compinit maps mailscope to '$zsh_func'"
# fish: its own share/config.fish sets the completion path (so no --no-config; an empty
# XDG_CONFIG_HOME keeps the user's configuration out), and it autoloads the completion of a
# command on PATH. The finding codes come from the root's binary.
mkdir -p "$work/fish-config"
fish_out=$(XDG_CONFIG_HOME=$work/fish-config XDG_DATA_DIRS=$root/usr/share PATH=$root/usr/bin:$PATH \
  fish -c 'complete -C"mailscope --form"; complete -C"mailscope --forbid tls.cert_ex"')
grep -q '^--format' <<<"$fish_out" || fail "fish: no --format from the root's completion: $fish_out"
grep -q '^tls.cert_expired' <<<"$fish_out" || fail "fish: no finding codes from the root's binary: $fish_out"
echo "man page, bash, zsh and fish completions found in the root"

step "dpkg --root: install and purge in a dpkg database of its own"
droot=$work/dpkg
mkdir -p "$droot/var/lib/dpkg/info" "$droot/var/lib/dpkg/updates" "$droot/tmp"
: >"$droot/var/lib/dpkg/status"
: >"$droot/var/lib/dpkg/available"
dpkg_root=(dpkg --root="$droot" --log=/dev/null --force-depends --force-not-root --force-script-chrootless)
"${dpkg_root[@]}" -i "$deb" >/dev/null
[[ -x $droot/usr/bin/mailscope ]] || fail "dpkg --root -i installed no /usr/bin/mailscope"
[[ -x $droot/usr/bin/mailscope-serve ]] || fail "dpkg --root -i installed no /usr/bin/mailscope-serve"
[[ -f $droot/lib/systemd/system/mailscope-serve.service ]] || fail "dpkg --root -i installed no unit"
[[ ! -e $droot/etc/systemd/system/multi-user.target.wants/mailscope-serve.service ]] ||
  fail "installing the package enabled mailscope-serve.service"
"${dpkg_root[@]}" --purge mailscope >/dev/null
left=$(cd "$droot" && find . -path ./var/lib/dpkg -prune -o -path ./tmp -prune -o ! -type d -print)
[[ -z $left ]] || fail "files left after the purge: $left"
echo "installed and purged; nothing left"

step "done"
echo "test_deb: the package builds, passes lintian, runs from a throwaway root ($((SECONDS - t0)) s)"
