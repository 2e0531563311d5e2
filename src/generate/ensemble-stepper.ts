import type { Stepper } from "./caption-model.js";

/**
 * Several generators decoding as one: each step's word distribution is the mean of the members'
 * (log of the mean of their probabilities, computed stably), and the state is the members' states
 * side by side in every row. Any decoder (greedy, sampling, beam) runs on it unchanged. The
 * members must share one vocabulary; each keeps its own image projection and recurrence.
 */
export function ensembleStepper(members: readonly Stepper[]): Stepper {
  if (members.length === 0) throw new RangeError("ensembleStepper: no members");
  const V = members[0].vocabSize;
  for (const m of members) {
    if (m.vocabSize !== V) {
      throw new RangeError(
        `ensembleStepper: members predict ${m.vocabSize} and ${V} words; they need one vocabulary`,
      );
    }
  }
  if (members.length === 1) return members[0];
  const sizes = members.map((m) => m.stateSize);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const S = sizes.reduce((a, b) => a + b, 0);
  const logM = Math.log(members.length);
  return {
    vocabSize: V,
    stateSize: S,
    step(prev, tokens) {
      const rows = tokens.length;
      const next = new Float32Array(rows * S);
      const outs = members.map((member, m) => {
        const size = sizes[m];
        let own: Float32Array | null = null;
        if (prev !== null) {
          own = new Float32Array(rows * size);
          for (let r = 0; r < rows; r++) {
            own.set(prev.subarray(r * S + offsets[m], r * S + offsets[m] + size), r * size);
          }
        }
        const out = member.step(own, tokens);
        for (let r = 0; r < rows; r++) {
          next.set(out.next.subarray(r * size, (r + 1) * size), r * S + offsets[m]);
        }
        return out.logProbs;
      });
      const logProbs = new Float32Array(rows * V);
      for (let i = 0; i < logProbs.length; i++) {
        let max = Number.NEGATIVE_INFINITY;
        for (const lp of outs) max = Math.max(max, lp[i]);
        let sum = 0;
        for (const lp of outs) sum += Math.exp(lp[i] - max);
        logProbs[i] = max + Math.log(sum) - logM;
      }
      return { logProbs, next };
    },
  };
}
