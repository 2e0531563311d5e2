import { writeFileAtomic } from "../core/atomic-file.js";
import type { ImageEntry } from "../data/dataset.js";
import { CorruptFileError, InputError } from "../errors.js";
import { inRange, JsonFields, readJsonFile, shown } from "../json-fields.js";
import type { FeatureStore } from "../vision/feature-store.js";
import { type DeterminerRates, determinerRates, type HeadShares } from "./noun-phrases.js";
import { packAssociation, unpackAssociation } from "./packed-word-table.js";
import { associationLabels, severalShares } from "./people-group.js";
import { placeShares } from "./place-phrases.js";
import {
  associationFromJSON,
  fitWordClassAssociation,
  type WordClassAssociation,
} from "./word-class-association.js";
import { fitWordProbe, packWordProbe, unpackWordProbe, type WordProbe } from "./word-probe.js";
import { wornShares } from "./worn-phrases.js";

/**
 * What phrase grounding learns from training captions and the detector's labels, with no box or
 * phrase annotation: the word-class table (word-class-association.ts), the noun-phrase
 * chunker's determiner rates (noun-phrases.ts), which words name what is worn (worn-phrases.ts)
 * which name several (people-group.ts), which name places (place-phrases.ts), and the word probe
 * on the CNN's codes (word-probe.ts). A bundle ships it as one JSON file:
 *
 *   {"format": "imagesent-grounding", "version": 5,
 *    "association": the packed table (packed-word-table.ts),
 *    "rates": {word: [uses, share after a determiner]},
 *    "worn": {word: share of its noun phrases after a verb of wearing},
 *    "several": {word: share of its noun phrases holding a number word},
 *    "place": {word: share of its noun phrases after a locative preposition},
 *    "probe": {"dim", "words", "weights"} (packWordProbe) or null}
 *
 * Version 1 files, whose association is {"classes": [...], "words": {word: {class: [naming,
 * lift, given]}}}, version 2 files, without "worn" and "several", version 3 files, without
 * "place", and version 4 files, without "probe", still read (no phrase then names what is worn,
 * several or, but after a locative preposition, a place; no probe).
 */
export interface GroundingKnowledge {
  readonly association: WordClassAssociation;
  readonly rates: DeterminerRates;
  /** Head word -> the share of its noun phrases after a verb of wearing (worn-phrases.ts). */
  readonly worn: HeadShares;
  /** Head word -> the share of its noun phrases that hold a number word (people-group.ts). */
  readonly several: HeadShares;
  /** Head word -> the share of its noun phrases after a locative preposition (place-phrases.ts). */
  readonly place: HeadShares;
  /** The word probe on the codes of the CNN the store was made with; null without one. */
  readonly probe: WordProbe | null;
}

export const GROUNDING_FORMAT = "imagesent-grounding";
/**
 * Version 2 packs the association (packed-word-table.ts), 3 adds "worn" and "several", 4
 * "place", 5 "probe".
 */
const VERSION = 5;

/**
 * Fits it all on the train images of `images`: the association from the captions of those
 * `store` holds and the labels of their first `regions` stored regions (associationLabels), the
 * rates and the worn, several and place shares from every train caption, and the word probe
 * from the whole-image codes of those it holds (fitWordProbe). Without train images in the store
 * the table is empty, there is no probe, and the learned chooser falls back to where boxes lie.
 */
export function fitGroundingKnowledge(
  images: readonly ImageEntry[],
  store: FeatureStore,
  regions: number,
): GroundingKnowledge {
  const train = images.filter((im) => im.split === "train");
  const { dim } = store.meta;
  const stored = train.flatMap((im) => {
    const entry = store.get(im.filename);
    return entry ? [{ entry, captions: im.sentences.map((s) => s.tokens) }] : [];
  });
  const association = fitWordClassAssociation(
    stored.map(({ entry, captions }) => ({
      labels: associationLabels(entry.regions.slice(0, regions)).flatMap((l) => (l ? [l] : [])),
      captions,
    })),
  );
  const captions = train.flatMap((im) => im.sentences.map((s) => s.tokens));
  const rates = determinerRates(captions);
  const coded = stored.flatMap(({ entry, captions }) => {
    const whole = entry.regions.findIndex((r) => r.source === "whole");
    if (whole < 0) return [];
    return [{ code: entry.features.subarray(whole * dim, (whole + 1) * dim), captions }];
  });
  return {
    association,
    rates,
    worn: wornShares(captions, rates),
    several: severalShares(captions, rates),
    place: placeShares(captions, rates),
    probe: coded.length > 0 ? fitWordProbe(coded, dim) : null,
  };
}

export function saveGroundingKnowledge(path: string, k: GroundingKnowledge): void {
  const rates = Object.fromEntries(
    [...k.rates].map(([w, r]) => [w, [r.uses, Math.round(r.rate * 1e4) / 1e4]]),
  );
  writeFileAtomic(
    path,
    `${JSON.stringify({
      format: GROUNDING_FORMAT,
      version: VERSION,
      association: packAssociation(k.association),
      rates,
      worn: sharesJson(k.worn),
      several: sharesJson(k.several),
      place: sharesJson(k.place),
      probe: k.probe ? packWordProbe(k.probe) : null,
    })}\n`,
  );
}

/** Head-word shares as a grounding file holds them: four decimals. */
function sharesJson(shares: HeadShares): Record<string, number> {
  return Object.fromEntries([...shares].map(([w, v]) => [w, Math.round(v * 1e4) / 1e4]));
}

export function loadGroundingKnowledge(path: string): GroundingKnowledge {
  const error = CorruptFileError;
  const root = JsonFields.of(readJsonFile(path, error), path, { error });
  if (root.get("format") !== GROUNDING_FORMAT) {
    throw new InputError(`${path}: not a grounding file (format ${GROUNDING_FORMAT})`);
  }
  const version = root.get("version");
  if (
    typeof version !== "number" ||
    !Number.isInteger(version) ||
    version < 1 ||
    version > VERSION
  ) {
    throw new InputError(
      `${path}: grounding file version ${shown(version)}; this imagesent reads 1 to ${VERSION}`,
    );
  }
  const read = version === 1 ? associationFromJSON : unpackAssociation;
  const association = read(root.get("association"), path, { path: "association", error });
  const table = root.child("rates", { want: "an object of words" });
  const rates = new Map<string, { uses: number; rate: number }>();
  for (const w of table.keys()) {
    const want = "[uses, share in 0..1]";
    const [uses, rate] = table.list(w, { length: 2, want });
    if (!inRange(uses, { integer: true, min: 0 }) || !inRange(rate, { min: 0, max: 1 })) {
      return table.fail(w, want);
    }
    rates.set(w, { uses, rate });
  }
  const shares = (key: string, since: number) => {
    const out = new Map<string, number>();
    if (version < since) return out;
    const table = root.child(key, { want: "an object of words" });
    for (const w of table.keys()) out.set(w, table.number(w, { min: 0, max: 1 }));
    return out;
  };
  return {
    association,
    rates,
    worn: shares("worn", 3),
    several: shares("several", 3),
    place: shares("place", 4),
    probe:
      version < 5 || root.get("probe") === null
        ? null
        : unpackWordProbe(root.get("probe"), path, { path: "probe", error }),
  };
}
