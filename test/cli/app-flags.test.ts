import assert from "node:assert/strict";
import { join } from "node:path";
import test from "node:test";
import { BundleCache, PACKAGED_BUNDLES } from "../../src/app/model-bundle.js";
import { bundleLabel } from "../../src/cli/app-flags.js";
import { describeCommand } from "../../src/cli/commands/describe.js";
import { indexCommand } from "../../src/cli/commands/index-images.js";
import { searchCommand } from "../../src/cli/commands/search.js";
import { serveCommand } from "../../src/cli/commands/serve.js";

test("the bundle label names what was loaded: 'default' with an empty cache is the packaged flickr8k", () => {
  const empty = new BundleCache(join(PACKAGED_BUNDLES, "no-such-cache"));
  assert.equal(bundleLabel("default", empty.resolve("default")), "flickr8k (packaged)");
  assert.equal(bundleLabel("flickr8k", empty.resolve("flickr8k")), "flickr8k (packaged)");
  assert.equal(bundleLabel("world", "/home/u/.cache/imagesent/bundles/world"), "world");
  assert.equal(bundleLabel("runs/demo/bundle", "/work/runs/demo/bundle"), "runs/demo/bundle");
});

test("every command that takes --bundle says what runs without it", () => {
  for (const command of [describeCommand, indexCommand, searchCommand, serveCommand]) {
    const text = command.usage.replace(/\s+/g, " ");
    assert.match(
      text,
      /--bundle B .*\(default: the bundle cached as 'default', else the packaged 'flickr8k'/,
      command.name,
    );
  }
});
