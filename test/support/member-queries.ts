import type { MemberQuery } from "../../src/app/region-vectors.js";
import type { Rng } from "../../src/core/index.js";

/** A query of `rows` random word vectors for each member (rows x its embed values). */
export function randomMemberQuery(
  members: readonly { embed: number }[],
  rows: number,
  rng: Rng,
): MemberQuery[] {
  return members.map((m) => ({
    rows,
    vectors: Float32Array.from({ length: rows * m.embed }, () => rng.normal()),
  }));
}
