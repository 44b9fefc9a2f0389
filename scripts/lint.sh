#!/usr/bin/env bash
# `npm run lint`: formatting and lint checks, non-zero on any finding (a suite of `npm test`, so of CI):
#   TypeScript/JavaScript: Biome (biome.jsonc; an npm devDependency), formatter + recommended lint rules;
#   C++ (native/): clang-format (.clang-format);
#   Python (models/, test/, examples/): ruff (ruff.toml), formatter + its default lint rules.
# `npm run format` (--write): applies the three formatters and ruff's import sorting; idempotent.
# Lint fixes are not applied by either; `npx biome lint --write` and `.venv/bin/ruff check --fix` apply the safe ones.
# ruff and clang-format come from PyPI into .venv (scripts/requirements-lint.txt, via setup-python.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
write=
case "${1:-}" in
  --write) write=1 ;;
  '') ;;
  *) echo "usage: scripts/lint.sh [--write]" >&2; exit 2 ;;
esac
bash scripts/setup-python.sh || exit 1

# C++ sources: tracked, or new and not ignored (build/, prebuilds/ and node_modules/ are ignored)
cxx=()
while IFS= read -r f; do [ -f "$f" ] && cxx+=("$f"); done < <(git ls-files -co --exclude-standard -- 'native/*.cc' 'native/*.cpp' 'native/*.h' 'native/*.hpp' | sort -u)

failed=()
step() {
  local name=$1
  shift
  echo "== $name"
  "$@" || failed+=("$name")
}
if [ -n "$write" ]; then
  step biome npx biome format --write --no-errors-on-unmatched .
  [ ${#cxx[@]} -eq 0 ] || step clang-format .venv/bin/clang-format -i "${cxx[@]}"
  step "ruff (imports)" .venv/bin/ruff check --quiet --select I --fix .
  step "ruff format" .venv/bin/ruff format --quiet .
else
  step "biome" npx biome ci --error-on-warnings .
  [ ${#cxx[@]} -eq 0 ] || step clang-format .venv/bin/clang-format --dry-run --Werror "${cxx[@]}"
  step "ruff format" .venv/bin/ruff format --check --diff .
  step "ruff check" .venv/bin/ruff check .
fi
if [ ${#failed[@]} -gt 0 ]; then
  if [ -n "$write" ]; then
    echo "format: failed: $(IFS=,; echo "${failed[*]}")" >&2
  else
    echo "lint: findings from $(IFS=,; echo "${failed[*]}"); \`npm run format\` applies the formatters, lint findings are fixed by hand" >&2
  fi
  exit 1
fi
if [ -n "$write" ]; then what='format: applied'; else what='lint: clean'; fi
echo "$what (Biome, clang-format on ${#cxx[@]} C++ files, ruff)"
