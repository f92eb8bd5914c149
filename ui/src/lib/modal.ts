/**
 * What a dialog makes of the page behind it: every element beside its backdrop is
 * made inert while it is open, so Tab, the mouse and assistive technology stay in the
 * dialog, as its `aria-modal` says (before, Tab walked out into the calendar behind).
 * Live regions (the toast) stay out of it: they must still be read out.
 */

/** The part of an element this needs (an `HTMLElement` in the page). */
export type Inertable = {
  inert: boolean;
  getAttribute(name: string): string | null;
};

/**
 * How many open dialogs hold each element inert: a dialog over a dialog (the
 * repeat-scope question over the editor) keeps what the first made inert when it
 * closes.
 */
const held = new Map<Inertable, number>();

function isLiveRegion(el: Inertable): boolean {
  const role = el.getAttribute("role");
  return role === "status" || role === "alert" || el.getAttribute("aria-live") !== null;
}

/** Makes `siblings` (but `backdrop` and live regions) inert; returns the undo. */
export function holdBackground<T extends Inertable>(backdrop: T, siblings: Iterable<T>): () => void {
  const others = Array.from(siblings).filter((el) => el !== backdrop && !isLiveRegion(el));
  for (const el of others) {
    held.set(el, (held.get(el) ?? 0) + 1);
    el.inert = true;
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    for (const el of others) {
      const n = (held.get(el) ?? 1) - 1;
      if (n > 0) {
        held.set(el, n);
      } else {
        held.delete(el);
        el.inert = false;
      }
    }
  };
}
