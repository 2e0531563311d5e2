/**
 * Which of a COCO detector's classes a phrase may name, two ways: from the phrase's annotated
 * Flickr30k Entities type (an oracle: a system is not told the type), and from its words alone
 * (a baseline that needs no annotation). The phrase grounding benchmark (grounding-eval.ts) uses
 * both as rules that pick the largest detection of a fitting class.
 */

/** The COCO classes that are kinds of each grouped phrase type. */
const TYPE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  people: ["person"],
  animals: ["bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"],
  vehicles: ["bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"],
  clothing: ["tie", "backpack", "handbag"],
};

const GROUPED = new Set(Object.values(TYPE_GROUPS).flat());

/**
 * Whether a detection labelled `label` fits a phrase of any of `types`: people, animals, vehicles
 * and clothing by the groups above, "other" by any label outside them; body parts, instruments,
 * scene and notvisual by none (COCO has no such classes).
 */
export function labelFitsTypes(label: string, types: readonly string[]): boolean {
  return types.some((t) =>
    t === "other" ? !GROUPED.has(label) : (TYPE_GROUPS[t]?.includes(label) ?? false),
  );
}

/**
 * Words that name a COCO class, written by hand from the nouns of Flickr8k's captions (the most
 * frequent phrase heads: man, dog, boy, woman, girl, people, ball, bike, ...). Words that are
 * mostly something else in captions (orange, the colour; board; sign; glass) are left out.
 * WordNet's hypernyms would give a longer list but also its errors: "people" and "crowd" are
 * groups, not persons, and the first sense of "bike" is a motorcycle.
 */
const CLASS_WORDS: Readonly<Record<string, string>> = {
  person: [
    "man men woman women boy girl child children kid people person baby babies toddler guy",
    "lady ladies player skateboarder snowboarder skier surfer biker cyclist bicyclist rider",
    "swimmer climber runner crowd couple family someone teenager teen adult mother father mom",
    "dad son daughter brother sister friend worker dancer performer musician gentleman gentlemen",
    "infant student spectator audience tourist individual wrestler athlete hiker motorcyclist",
    "skater soldier officer policeman policemen cowboy team fan singer guitarist drummer",
    "photographer groom bride clown boxer jockey golfer goalie pitcher batter catcher",
  ].join(" "),
  dog: [
    "dog puppy pup poodle terrier retriever collie labrador beagle dachshund greyhound husky",
    "pitbull chihuahua spaniel hound pug corgi dalmatian rottweiler schnauzer bulldog mutt canine",
    "doberman sheepdog",
  ].join(" "),
  cat: "cat kitten kitty",
  horse: "horse pony foal stallion mare",
  sheep: "sheep lamb",
  cow: "cow cattle bull calf ox oxen",
  bird: "bird duck goose geese seagull gull pigeon parrot swan chicken hen rooster eagle hawk owl penguin flamingo crow",
  elephant: "elephant",
  bear: "bear",
  zebra: "zebra",
  giraffe: "giraffe",
  bicycle: "bicycle bike bmx",
  motorcycle: "motorcycle motorbike moped dirtbike",
  car: "car jeep taxi suv sedan racecar van convertible",
  bus: "bus",
  train: "train",
  truck: "truck lorry",
  boat: "boat canoe kayak raft sailboat ship yacht rowboat speedboat",
  airplane: "airplane plane jet aircraft",
  "traffic light": "stoplight",
  "fire hydrant": "hydrant",
  bench: "bench",
  backpack: "backpack knapsack",
  umbrella: "umbrella parasol",
  handbag: "handbag purse",
  tie: "tie necktie",
  suitcase: "suitcase luggage",
  frisbee: "frisbee",
  skis: "ski skis",
  snowboard: "snowboard",
  "sports ball": "ball football basketball baseball volleyball softball",
  kite: "kite",
  "baseball bat": "bat",
  "baseball glove": "mitt",
  skateboard: "skateboard",
  surfboard: "surfboard",
  "tennis racket": "racket racquet",
  bottle: "bottle",
  cup: "cup mug",
  fork: "fork",
  knife: "knife",
  spoon: "spoon",
  bowl: "bowl",
  banana: "banana",
  apple: "apple",
  sandwich: "sandwich",
  broccoli: "broccoli",
  carrot: "carrot",
  "hot dog": "hotdog",
  pizza: "pizza",
  donut: "donut doughnut",
  cake: "cake",
  chair: "chair",
  couch: "couch sofa",
  bed: "bed",
  "dining table": "table",
  toilet: "toilet",
  tv: "tv television",
  laptop: "laptop",
  remote: "remote",
  keyboard: "keyboard",
  "cell phone": "phone cellphone",
  microwave: "microwave",
  oven: "oven",
  sink: "sink",
  refrigerator: "refrigerator fridge",
  book: "book",
  clock: "clock",
  vase: "vase",
  scissors: "scissors",
  "teddy bear": "teddy",
  toothbrush: "toothbrush",
};

const WORD_CLASS: ReadonlyMap<string, string> = new Map(
  Object.entries(CLASS_WORDS).flatMap(([label, words]) =>
    words.split(" ").map((w) => [w, label] as const),
  ),
);

const NAMED_CLASSES: ReadonlySet<string> = new Set(WORD_CLASS.values());

/** Whether some word names class `label` (a COCO class the table covers; not, say, a colour). */
export function isNamedClass(label: string): boolean {
  return NAMED_CLASSES.has(label);
}

/** The class a word names, trying it as written and then as a regular plural. */
export function classOfWord(word: string): string | undefined {
  const direct = WORD_CLASS.get(word);
  if (direct) return direct;
  const singulars = [
    word.endsWith("ies") ? `${word.slice(0, -3)}y` : "",
    word.endsWith("es") ? word.slice(0, -2) : "",
    word.endsWith("s") ? word.slice(0, -1) : "",
  ];
  for (const s of singulars) {
    const label = s && WORD_CLASS.get(s);
    if (label) return label;
  }
  return undefined;
}

/**
 * The class a phrase's words name: its last word that names one, since an English noun phrase
 * ends in its head ("a baseball player" is a person, not a ball).
 */
export function classOfPhrase(words: readonly string[]): string | undefined {
  for (let j = words.length - 1; j >= 0; j--) {
    const label = classOfWord(words[j]);
    if (label) return label;
  }
  return undefined;
}
