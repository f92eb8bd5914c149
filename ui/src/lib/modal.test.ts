import { describe, expect, it } from "vitest";
import { holdBackground, type Inertable } from "./modal";

const el = (attrs: Record<string, string> = {}): Inertable => ({
  inert: false,
  getAttribute: (name: string) => attrs[name] ?? null,
});

describe("holdBackground", () => {
  it("makes everything beside the dialog inert, but live regions, and undoes it", () => {
    const [sidebar, main, toast, dialog] = [el(), el(), el({ role: "status", "aria-live": "polite" }), el()];
    const release = holdBackground(dialog, [sidebar, main, dialog, toast]);
    expect([sidebar.inert, main.inert, dialog.inert, toast.inert]).toEqual([true, true, false, false]);
    release();
    expect([sidebar.inert, main.inert]).toEqual([false, false]);
  });

  it("keeps the page inert until the last of two stacked dialogs closes", () => {
    const [main, editor, scope] = [el(), el(), el()];
    const closeEditor = holdBackground(editor, [main, editor]);
    const closeScope = holdBackground(scope, [main, editor, scope]);
    expect([main.inert, editor.inert]).toEqual([true, true]);
    closeScope();
    // The editor is usable again; the page behind it is not.
    expect([main.inert, editor.inert]).toEqual([true, false]);
    closeScope(); // undone once only
    expect(main.inert).toBe(true);
    closeEditor();
    expect(main.inert).toBe(false);
  });
});
