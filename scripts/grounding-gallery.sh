#!/usr/bin/env bash
# docs/alignment/flickr8k-grounding-val.png: the first six Flickr8k val images, each with its
# annotated caption's phrases put on regions by the learned chooser (no boxes; the packaged
# bundle's alignment model and grounding file), their Flickr30k Entities boxes dashed and each
# phrase marked right or wrong by eval-grounding's protocol. Needs a build (npm run build),
# ../shared (or $IMAGESENT_SHARED), the feature store features/flickr8k-proposals and chromium.
# GROUNDING, FEATURES, BUNDLE and IMAGESENT_CLI override the inputs and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${IMAGESENT_SHARED:-../shared}"
DATA="$SHARED/data/flickr8k"
BUNDLE="${BUNDLE:-bundles/flickr8k}"
GROUNDING="${GROUNDING:-$BUNDLE/grounding.json}"
FEATURES="${FEATURES:-features/flickr8k-proposals}"
CLI="${IMAGESENT_CLI:-node bin/imagesent.js}"
PAGE=runs/flickr8k/grounding-val.html
PNG=docs/alignment/flickr8k-grounding-val.png

mkdir -p runs/flickr8k docs/alignment
$CLI show-alignment --model "$BUNDLE/alignment.ckpt" --features "$FEATURES" \
  --images "$DATA/images" --dataset "$DATA/dataset_flickr8k.json" \
  --entities "$SHARED/data/flickr30k-entities" --grounding "$GROUNDING" \
  --gallery 6 --split val --size 300 --out "$PAGE" \
  --title "Flickr8k val: phrases grounded without boxes, their true boxes dashed"
# Three 300 px figures a row, two rows.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1120 \
  --screenshot="$PNG" "file://$(realpath "$PAGE")" 2>/dev/null
echo "$PNG: $(($(stat -c %s "$PNG") / 1024)) KiB"
