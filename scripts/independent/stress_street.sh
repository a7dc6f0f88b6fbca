#!/usr/bin/env bash
# Stress runs of the independent check on the street GIS (docs/independent-check.md,
# "Where it breaks"): PGM voltages with quiet loads, 1 V rounding and meter calibration
# offsets, each analysed against truth.csv. Usage:
#   scripts/independent/stress_street.sh [LVTOPO_BINARY] [WORK_DIR]
# Takes ~15 s per run (Python) plus the analysis.
set -euo pipefail
bin=${1:-target/debug/lvtopo}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
run() {
  local name=$1; shift
  local d="$work/$name"
  python3 scripts/independent/pgm_voltages.py --sample sample-networks/street --out "$d" "$@" > "$d.log" 2>&1
  cp sample-networks/street/*.geojson sample-networks/street/truth.csv sample-networks/street/voltage.csv.gz.purpose.json "$d/"
  local row
  row=$("$bin" analyze --network "$d" --voltage "$d/voltage.csv.gz" --truth "$d/truth.csv" \
    --privacy-dir "$(mktemp -d)" --quiet --out "$d/assignments.csv" | grep -E 'this network|suggestions' | tr '\n' ' ')
  echo "$* :: $row"
}
run default-1v    --seed 7 --rounding 1
run nohpev-1v     --seed 7 --rounding 1 --hp-share 0 --ev-share 0
run quiet-1v      --seed 7 --rounding 1 --load-scale 0.6 --hp-share 0 --ev-share 0
run quiet-1v-g0   --seed 7 --rounding 1 --load-scale 0.6 --hp-share 0 --ev-share 0 --meter-gain-sigma 0
run quiet-0.1v-g2 --seed 7 --rounding 0.1 --load-scale 0.6 --hp-share 0 --ev-share 0 --meter-gain-sigma 0.002
echo "outputs in $work"
