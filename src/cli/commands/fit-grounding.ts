import { loadDataset } from "../../data/load.js";
import { InputError } from "../../errors.js";
import { fitGroundingKnowledge, saveGroundingKnowledge } from "../../mrf/grounding-knowledge.js";
import { FeatureStore } from "../../vision/feature-store.js";
import type { Command } from "../command.js";
import { numberFlag, parseCommandArgs } from "../flags.js";
import { renderHelp } from "../help.js";

const USAGE = renderHelp({
  usage: ["fit-grounding --dataset D --features STORE --out FILE [--regions N]"],
  description: `Fits what phrase grounding learns without boxes (docs/phrase-alignment.md, "A
    chooser learned without boxes") on the dataset's train split: the word-class association of
    its captions with the detector labels stored in the feature store (people groups included),
    the noun-phrase chunker's determiner rates, which head words name what is worn, several or a
    place, from the captions' word order, and a word probe from the whole images' CNN codes to
    the words their captions say (ridge regression). The file goes into a bundle (models bundle
    create --grounding), where describe and search ground phrases with it; eval-grounding takes
    it with --grounding. No box or phrase annotation is read.`,
  flags: [
    { flag: "--dataset D", text: "dataset.json or Flickr8k folder" },
    {
      flag: "--features STORE",
      text: "the feature store of the dataset's train images (imagesent features)",
    },
    { flag: "--out FILE", text: "the grounding file (JSON), written atomically" },
    { flag: "--regions N", text: "regions per image to read labels from, 1 to 20", default: 20 },
  ],
  examples: [
    "fit-grounding --dataset path/to/flickr8k --features features/flickr8k-mnv2 --out runs/flickr8k/grounding.json",
  ],
});

export const fitGroundingCommand: Command = {
  name: "fit-grounding",
  usage: USAGE,
  run(args) {
    const values = parseCommandArgs(
      args,
      {
        dataset: { type: "string" },
        features: { type: "string" },
        out: { type: "string" },
        regions: { type: "string" },
      },
      USAGE,
      { positionals: false },
    ).values as { dataset?: string; features?: string; out?: string; regions?: string };
    if (!values.dataset || !values.features || !values.out) {
      throw new InputError(`--dataset, --features and --out are required\n\n${USAGE}`);
    }
    const regions =
      numberFlag(values.regions, "--regions", { integer: true, min: 1, max: 20 }) ?? 20;
    const dataset = loadDataset(values.dataset);
    const store = FeatureStore.open(values.features);
    const train = dataset.images.filter((im) => im.split === "train");
    const stored = train.filter((im) => store.has(im.filename)).length;
    if (stored === 0) {
      throw new InputError(
        `${values.features}: holds none of the ${train.length} train images of ${values.dataset}`,
      );
    }
    const knowledge = fitGroundingKnowledge(dataset.images, store, regions);
    saveGroundingKnowledge(values.out, knowledge);
    console.log(
      `${values.out}: ${knowledge.association.words.size} words on ${knowledge.association.classes.length} classes from ${stored} train images; ${knowledge.rates.size} chunker rates, ${knowledge.worn.size} worn, ${knowledge.several.size} counted and ${knowledge.place.size} place head words; a word probe for ${knowledge.probe?.words.length ?? 0} words`,
    );
    return 0;
  },
};
