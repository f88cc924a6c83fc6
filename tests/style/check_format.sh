#!/usr/bin/env bash
# Every C source and header follows the repository's .clang-format (clang-format 14, from
# Debian's clang-format package). Fix a failure with:
#   clang-format -i $(git ls-files '*.c' '*.h')
set -euo pipefail
root=${1:?usage: check_format.sh SOURCE_DIR}
cd "$root"
if ! command -v clang-format >/dev/null 2>&1; then
    echo "check_format.sh: clang-format is not installed (scripts/deps.sh installs it)" >&2
    exit 1
fi
mapfile -t files < <(find cmd probe report tests -name '*.[ch]' -not -path '*/corpus/*' | sort)
if ! clang-format --dry-run -Werror "${files[@]}"; then
    echo "check_format.sh: the files above differ from .clang-format;" \
         "run: clang-format -i \$(git ls-files '*.c' '*.h')" >&2
    exit 1
fi
echo "check_format.sh: ${#files[@]} files formatted as .clang-format says"
