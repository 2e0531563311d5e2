/**
 * English function words for METEOR's content/function distinction (its δ parameter). METEOR 1.5
 * ships a list of the words above a relative frequency of 10⁻³ in a large English corpus; that
 * file is not available here, so this is the closed-class core of such a list: articles,
 * pronouns, prepositions, conjunctions, auxiliaries, common punctuation, and the pieces METEOR's
 * normalizer leaves of the PTB clitics (`'s` → `' s`, `n't` → `n 't`).
 */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also am an and any are as at be because been before
  being below between both but by can could did do does doing down during each few for from
  further had has have having he her here hers herself him himself his how i if in into is it
  its itself just me more most my myself no nor not now of off on once only or other our ours
  ourselves out over own same she should so some such than that the their theirs them
  themselves then there these they this those through to too under until up very was we were
  what when where which while who whom why will with would you your yours yourself yourselves
  ' s re ve ll d m n 't t ca wo . , " - : ; ? ! ( )`.split(/\s+/),
);
