import { useEffect, type RefObject } from "react";
import { holdBackground } from "../lib/modal";

/**
 * Makes the dialog whose backdrop is `backdrop` modal for real (see lib/modal.ts):
 * the rest of the page inert while it is open. With `restoreFocus`, the element that
 * had focus before it opened gets it back when it closes. Call it before the
 * dialog's own effects: the page must be usable again before they move focus there.
 */
export function useModal(backdrop: RefObject<HTMLElement | null>, restoreFocus = false): void {
  useEffect(() => {
    const el = backdrop.current;
    const before = document.activeElement;
    const release = el?.parentElement ? holdBackground<HTMLElement>(el, el.parentElement.children as HTMLCollectionOf<HTMLElement>) : () => {};
    return () => {
      release();
      if (restoreFocus && before instanceof HTMLElement && before.isConnected) before.focus();
    };
  }, [backdrop, restoreFocus]);
}
