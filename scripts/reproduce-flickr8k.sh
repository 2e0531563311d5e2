#!/usr/bin/env bash
# Reproduces docs/results.md on Flickr8k from ../shared (or $IMAGESENT_SHARED): region features,
# the alignment models (two 20-region seeds and the whole image) and their fusion, retrieval, the
# chain MRF's train snippets and a gallery, two full-frame generators and the region one, caption
# metrics, the synthetic-world beta grid and the packaged bundle. Every step resumes where it
# stopped when the script is rerun after a kill. About four and a half hours on 2 cores. Runs go
# to runs/flickr8k, features to features/ (both outside git).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${IMAGESENT_SHARED:-../shared}"
DATA="$SHARED/data/flickr8k"
MODELS="$SHARED/models"
STORE=features/flickr8k-mnv2-yolox
# The bundle's regions: YOLOX-Nano's low-score boxes, person parts, people groups, wide boxes.
PROPOSALS=features/flickr8k-proposals
ENTITIES="$SHARED/data/flickr30k-entities"
RUNS=runs/flickr8k
cli() { node bin/imagesent.js "$@"; }
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

npm run --silent build
mkdir -p "$RUNS" docs/results docs/alignment

step "features: 20 regions per image"
cli features --dataset "$DATA" --images "$DATA/images" --out "$STORE" --detector yolox-nano \
  --encoder-model "$MODELS/mobilenetv2-12-int8.onnx" --detector-model "$MODELS/yolox_nano.onnx"

step "features: the yolox-nano-proposals regions the bundle describes and grounds with"
cli features --dataset "$DATA" --images "$DATA/images" --out "$PROPOSALS" \
  --encoder-model "$MODELS/mobilenetv2-12-int8.onnx" --detector-model "$MODELS/yolox_nano.onnx"

step "alignment model, 20 regions"
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r20" --max-minutes 45
step "alignment model, 20 regions, fine-tuned with hardest negatives (VSE++)"
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r20-hard" \
  --init "$RUNS/align-r20/best.ckpt" --loss hardest --lr 2e-4 --warmup 0 --epochs 5
# The model the MRF, search and the bundle use: the fine-tuned one, better on val (R@1+5+10).
ALIGN="$RUNS/align-r20-hard/best.ckpt"
step "alignment model, whole image only"
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r1" --regions 1 --epochs 10
step "alignment model, whole image only, fine-tuned with hardest negatives"
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r1-hard" --regions 1 \
  --init "$RUNS/align-r1/best.ckpt" --loss hardest --lr 2e-4 --warmup 0 --epochs 5
step "a second 20-region model (seed 2), fine-tuned the same way"
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r20-s2" --seed 2
cli train-align --dataset "$DATA" --features "$STORE" --out "$RUNS/align-r20-s2-hard" \
  --init "$RUNS/align-r20-s2/best.ckpt" --loss hardest --lr 2e-4 --warmup 0 --epochs 5
step "fusion of the 20-region models and the whole-image one, weights tuned on val"
FUSED="$RUNS/align-fused.json"
cli fuse-align --model "$ALIGN" --model "$RUNS/align-r1-hard/best.ckpt" \
  --model "$RUNS/align-r20-s2-hard/best.ckpt" --dataset "$DATA" --features "$STORE" --out "$FUSED"
step "retrieval on test"
cli eval-retrieval --model "$RUNS/align-r20/best.ckpt" --model "$ALIGN" --model "$RUNS/align-r1/best.ckpt" \
  --model "$RUNS/align-r1-hard/best.ckpt" --model "$RUNS/align-r20-s2-hard/best.ckpt" --model "$FUSED" \
  --dataset "$DATA" --features "$STORE" --split test --markdown docs/results/retrieval.md

step "chain MRF: train and val snippets, and a test gallery"
for split in train val; do
  cli align --model "$ALIGN" --dataset "$DATA" --features "$STORE" \
    --split "$split" --out "$RUNS/snippets-$split.jsonl"
done
cat "$RUNS/snippets-train.jsonl" "$RUNS/snippets-val.jsonl" > "$RUNS/snippets.jsonl"
cli show-alignment --model "$ALIGN" --features "$STORE" --images "$DATA/images" \
  --dataset "$DATA" --gallery 4 --split test --beta 0,1 --out "$RUNS/flickr8k-test.html" \
  --title "Flickr8k test images: phrase-to-region alignment, beta 0 and 1"

step "generator, full frame, and a second seed for the ensemble rows of the captions table"
cli train-gen --dataset "$DATA" --features "$STORE" --out "$RUNS/gen-ff" --epochs 20
cli train-gen --dataset "$DATA" --features "$STORE" --out "$RUNS/gen-ff-s2" --epochs 12 --seed 2
step "generator, full frame, LSTM cell"
cli train-gen --dataset "$DATA" --features "$STORE" --out "$RUNS/gen-ff-lstm" --cell lstm --epochs 12
step "phrase grounding without boxes: fitted on train, measured on val"
cli fit-grounding --dataset "$DATA" --features "$PROPOSALS" --out "$RUNS/grounding.json"
cli eval-grounding --model "$ALIGN" --features "$PROPOSALS" --dataset "$DATA" \
  --entities "$ENTITIES" --split val --grounding "$RUNS/grounding.json" \
  --markdown docs/results/grounding.md

step "region snippets: train and val noun phrases on their grounded regions, confidence >= 0.2"
for split in train val; do
  cli align --model "$ALIGN" --dataset "$DATA" --features "$PROPOSALS" --split "$split" \
    --phrases noun --min-confidence 0.2 --out "$RUNS/phrases-$split.jsonl"
done
cat "$RUNS/phrases-train.jsonl" "$RUNS/phrases-val.jsonl" > "$RUNS/phrases.jsonl"

step "generator, regions"
cli train-gen --mode region --snippets "$RUNS/phrases.jsonl" --dataset "$DATA" \
  --features "$PROPOSALS" --out "$RUNS/gen-region" --max-minutes 20 --val-captions 2000
step "region phrases' consensus with the snippets of the nearest train regions"
cli fit-consensus --dataset "$DATA" --features "$PROPOSALS" --snippets "$RUNS/phrases.jsonl" \
  --out "$RUNS/region-consensus.ckpt"
step "captions on test"
cli eval-gen --model "$RUNS/gen-ff/best.ckpt" --ensemble "$RUNS/gen-ff-s2/best.ckpt" \
  --dataset "$DATA" --features "$STORE" --split test \
  --beam 7 --length-norm 0.7 --rerank "$FUSED" --markdown docs/results/captions.md
cli eval-gen --model "$RUNS/gen-ff-lstm/best.ckpt" --dataset "$DATA" --features "$STORE" \
  --split test --beam 7 --length-norm 0.7 --rerank "$FUSED" --markdown docs/results/captions-lstm.md

step "beta grid on the synthetic world"
cli demo --out "$RUNS/demo"
cli mrf-grid --model "$RUNS/demo/align/best.ckpt" --world "$RUNS/demo/world" \
  --features "$RUNS/demo/features" --markdown docs/results/mrf.md

step "the Flickr8k bundle that ships in bundles/flickr8k"
cli models bundle create bundles/flickr8k --alignment "$FUSED" \
  --generator "$RUNS/gen-ff/best.ckpt" --region-generator "$RUNS/gen-region/best.ckpt" \
  --grounding "$RUNS/grounding.json" --detector yolox-nano-proposals \
  --rerank-weight 0.25 --rerank-beam 15 --region-rerank-weight 0.15 --region-rerank-beam 10 \
  --region-consensus "$RUNS/region-consensus.ckpt" --region-consensus-weight 0.6 \
  --region-consensus-neighbours 10 \
  --description "Flickr8k train split; MobileNetV2-int8 codes of the whole image and 19 regions from YOLOX-Nano (yolox-nano-proposals; the alignment models were trained on its top 19 boxes)"
step "the confidence below which describe hides a region phrase, chosen on val"
cli region-threshold --bundle bundles/flickr8k --features "$PROPOSALS" --dataset "$DATA" \
  --entities "$ENTITIES" --write
step "region descriptions on val (the paper's Table 3 rows)"
cli eval-regions --bundle bundles/flickr8k --dataset "$DATA" --images "$DATA/images" \
  --entities "$ENTITIES" --split val --markdown docs/results/regions.md

step "pages as PNG (headless Chromium, when installed)"
if command -v chromium >/dev/null 2>&1; then
  shoot() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$3" \
      --screenshot="$2" "file://$(realpath "$1")" 2>/dev/null
  }
  shoot "$RUNS/flickr8k-test.html" docs/alignment/flickr8k-test.png 800,1900
  shoot "$RUNS/demo/mrf/alignments.html" docs/alignment/world-test.png 800,1450
  # Six val images, their phrases grounded by the bundle's learned chooser, true boxes dashed.
  IMAGESENT_SHARED="$SHARED" FEATURES="$PROPOSALS" scripts/grounding-gallery.sh
else
  echo "chromium not found: docs/alignment/*.png left as they are"
fi

step "docs/results.md"
cli results --out docs/results.md
