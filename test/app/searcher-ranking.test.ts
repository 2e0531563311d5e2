import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AlignmentFusion } from "../../src/align/score-fusion.js";
import { ImageIndex } from "../../src/app/image-index.js";
import type { ModelBundle } from "../../src/app/model-bundle.js";
import { Searcher } from "../../src/app/searcher.js";
import { Rng, type Tensor } from "../../src/core/index.js";
import { tinyAlignmentModel } from "../support/tiny-alignment-model.js";

const dir = mkdtempSync(join(tmpdir(), "imagesent-search-rank-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A one-model scorer whose score for image `broken` is NaN, as a diverged model's would be. */
class BrokenForOneImage extends AlignmentFusion {
  constructor(
    model: ReturnType<typeof tinyAlignmentModel>,
    private readonly broken: number,
  ) {
    super([{ model, checkpoint: "tiny", weight: 1 }]);
  }

  override scoreEmbedded(
    vs: readonly Tensor[],
    images: number,
    sentences: readonly (readonly string[])[],
  ): Float32Array {
    const S = super.scoreEmbedded(vs, images, sentences);
    S[this.broken] = Number.NaN;
    return S;
  }
}

test("search ranks an image whose score is NaN last, not first", () => {
  const model = tinyAlignmentModel(1);
  const { featureDim, regions } = model.config;
  const indexDir = join(dir, "index");
  const index = ImageIndex.openForWriting(indexDir, {
    encoder: "test",
    dim: featureDim,
    regionsPerImage: regions,
    detector: null,
  });
  const rng = new Rng(2);
  const box = { x1: 0, y1: 0, x2: 10, y2: 10 };
  index.append(
    Array.from({ length: 5 }, (_, i) => ({
      filename: `image-${i}`,
      id: i,
      width: 10,
      height: 10,
      regions: Array.from({ length: regions }, () => ({ box, source: "whole" as const })),
      features: Float32Array.from({ length: regions * featureDim }, () => rng.normal()),
    })),
  );
  index.close();
  // The first image: a comparator that reads NaN as "equal" kept it at the top.
  const bundle = { alignment: model, search: new BrokenForOneImage(model, 0) };
  const searcher = Searcher.open(bundle as unknown as ModelBundle, indexDir);
  const hits = searcher.search("a dog runs on the beach", 5, { withPhrases: 0 });
  assert.equal(hits.length, 5);
  assert.equal(hits[4].image, "image-0");
  assert.ok(Number.isNaN(hits[4].score));
  for (let i = 1; i < 4; i++) assert.ok(hits[i - 1].score >= hits[i].score, `hit ${i}`);
  assert.ok(!searcher.search("a dog", 4, { withPhrases: 0 }).some((h) => h.image === "image-0"));
});
