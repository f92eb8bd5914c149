export type ShortcutAction = "today" | "new" | "prev" | "next" | "search" | "settings" | "escape";

export type KeyLike = {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: unknown;
  /** An input method is composing (CJK and others): its keys are its own. */
  isComposing?: boolean;
  /** Something on the page already handled the key (a list's own Escape). */
  defaultPrevented?: boolean;
};

/** Is the element something the user types into? */
export function isTypingTarget(target: unknown): boolean {
  if (!target || typeof target !== "object") return false;
  const el = target as { tagName?: string; isContentEditable?: boolean };
  const tag = (el.tagName || "").toUpperCase();
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable === true;
}

/**
 * Map a key press to an app shortcut, or null when it must be ignored:
 * while typing in a form field or while a dialog is open (Escape always works), and
 * never while an input method composes: its Escape cancels the composition, which
 * closing the editor would take the whole form with.
 */
export function shortcutFor(e: KeyLike, dialogOpen: boolean): ShortcutAction | null {
  if (e.isComposing || e.defaultPrevented) return null;
  if (e.key === "Escape") return "escape";
  if (dialogOpen) return null;
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTypingTarget(e.target)) return null;
  switch (e.key) {
    case "t":
      return "today";
    case "n":
      return "new";
    case "ArrowLeft":
      return "prev";
    case "ArrowRight":
      return "next";
    case "/":
      return "search"; // reserved, no-op for now
    case ",":
      return "settings";
    default:
      return null;
  }
}
