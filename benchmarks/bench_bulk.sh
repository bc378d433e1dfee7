#!/usr/bin/env bash
# Bulk scoring: `ada-atsc absa --input` over N reviews of the shipped Zomato corpus with --workers W; prints
# wall seconds (model loading included) and the peak RSS summed over the process and its workers (sampled every
# 0.5 s with ps). The figures in docs/inference.md ("Scoring large inputs") come from this script.
#
#   flock /tmp/ada-heavy.lock benchmarks/bench_bulk.sh EXTRACTOR CLASSIFIER WORKERS [REVIEWS=1000]
set -u  # not -e: pgrep exits 1 when a process has no children
cd "$(dirname "$0")/.."
EXTRACTOR=$1; CLASSIFIER=$2; W=$3; N=${4:-1000}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head -n "$N" data/corpora/restaurant_reviews_zomato.txt > "$work/reviews.txt"
start=$(date +%s.%N)
.venv/bin/python -m ada_atsc absa --extractor "$EXTRACTOR" --classifier "$CLASSIFIER" --input "$work/reviews.txt" \
    --output "$work/out.jsonl" --workers "$W" --no_progress 2>/dev/null &
pid=$!
peak=0
while kill -0 $pid 2>/dev/null; do
  pids="$pid $(pgrep -P $pid | tr '\n' ' ')"
  for c in $(pgrep -P $pid); do pids="$pids $(pgrep -P "$c" | tr '\n' ' ')"; done
  rss=$(ps -o rss= -p "$(echo $pids | tr ' ' ',')" 2>/dev/null | awk '{s+=$1} END {print s+0}')
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 0.5
done
wait $pid
end=$(date +%s.%N)
echo "{\"workers\": $W, \"reviews\": $N, \"seconds\": $(echo "$end - $start" | bc), \"peak_rss_mb\": $((peak/1024)), \"records\": $(wc -l < "$work/out.jsonl")}"
