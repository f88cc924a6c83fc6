#!/usr/bin/env bash
# The Prometheus configurations and alert rules shipped in docs/examples/prometheus/ are
# valid (promtool check config / check rules) and the rules alert as their tests say
# (promtool test rules). Usage: check_prometheus_examples.sh REPO_DIR
set -euo pipefail
dir=${1:-.}/docs/examples/prometheus
promtool=$(command -v promtool || echo /usr/bin/promtool)
cd "$dir"
for f in prometheus*.yml; do
  "$promtool" check config "$f"
done
"$promtool" check rules mailscope-alerts.yml
"$promtool" test rules mailscope-alerts.test.yml
echo "check_prometheus_examples: ok"
