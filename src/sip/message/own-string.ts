/**
 * A copy of `s` that holds on to nothing else. Header values are cut from the text of the whole header block,
 * and V8 keeps a cut (and every string concatenated from cuts) pointing at that text: a key kept for 32 s by a
 * lingering transaction would keep its request's whole header block alive with it, through every scavenge.
 * Concatenating flattens into a new string and the cut of that holds one character more than `s`.
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}
