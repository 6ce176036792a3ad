#!/bin/sh
# Re-render the committed reports, leaderboard.md and the LaTeX tables with the current report code, from
# the tables each report folder holds (per_image.csv, summary.csv, run.json, errors.csv). The runs behind
# them took hours on CPU; their SR images are not committed, so the visual-comparison crops already in
# each folder are kept (crops/*/crops.json). Run from the repository root:  sh reports/regenerate.sh
# The environment variables only end up in the "Regenerate with" line (they are what the runs need).
set -e
SRBENCH="${SRBENCH:-srbench}"
export SRBENCH_DATA="${SRBENCH_DATA:-../shared/datasets}" SRBENCH_SHARED="${SRBENCH_SHARED:-../shared}"
$SRBENCH report reports/x4 --out reports/x4 --markdown leaderboard.md --latex reports/x4/tables.tex
$SRBENCH report reports/x4-BSD100 --out reports/x4-BSD100 --markdown reports/x4-BSD100/leaderboard.md \
    --latex reports/x4-BSD100/tables.tex
$SRBENCH report reports/x4-Urban100 --out reports/x4-Urban100 --markdown reports/x4-Urban100/leaderboard.md \
    --latex reports/x4-Urban100/tables.tex
for run in x4-Facades x8-Facades; do
  $SRBENCH report reports/$run --out reports/$run --markdown reports/$run/leaderboard.md --latex reports/$run/tables.tex
done
