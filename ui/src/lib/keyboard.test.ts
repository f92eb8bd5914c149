import { describe, expect, it } from "vitest";
import { isTypingTarget, shortcutFor } from "./keyboard";

const body = { tagName: "BODY" };

describe("shortcutFor", () => {
  it("maps keys", () => {
    expect(shortcutFor({ key: "t", target: body }, false)).toBe("today");
    expect(shortcutFor({ key: "n", target: body }, false)).toBe("new");
    expect(shortcutFor({ key: "ArrowLeft", target: body }, false)).toBe("prev");
    expect(shortcutFor({ key: "ArrowRight", target: body }, false)).toBe("next");
    expect(shortcutFor({ key: "/", target: body }, false)).toBe("search");
    expect(shortcutFor({ key: "x", target: body }, false)).toBeNull();
  });
  it("maps ',' to settings (unmodified, not while typing or in a dialog)", () => {
    expect(shortcutFor({ key: ",", target: body }, false)).toBe("settings");
    expect(shortcutFor({ key: ",", target: { tagName: "INPUT" } }, false)).toBeNull();
    expect(shortcutFor({ key: ",", target: body }, true)).toBeNull();
    expect(shortcutFor({ key: ",", ctrlKey: true, target: body }, false)).toBeNull();
  });
  it("ignores keys while typing", () => {
    for (const tagName of ["INPUT", "TEXTAREA", "SELECT", "input"]) {
      expect(shortcutFor({ key: "n", target: { tagName } }, false)).toBeNull();
    }
    expect(shortcutFor({ key: "t", target: { tagName: "DIV", isContentEditable: true } }, false)).toBeNull();
  });
  it("ignores keys while a dialog is open, except Escape", () => {
    expect(shortcutFor({ key: "t", target: body }, true)).toBeNull();
    expect(shortcutFor({ key: "Escape", target: body }, true)).toBe("escape");
    expect(shortcutFor({ key: "Escape", target: { tagName: "INPUT" } }, true)).toBe("escape");
  });
  it("ignores modified keys", () => {
    expect(shortcutFor({ key: "t", ctrlKey: true, target: body }, false)).toBeNull();
    expect(shortcutFor({ key: "n", metaKey: true, target: body }, false)).toBeNull();
  });
  it("isTypingTarget handles junk", () => {
    expect(isTypingTarget(null)).toBe(false);
    expect(isTypingTarget(undefined)).toBe(false);
  });
  it("leaves Escape to an input method composing, and to a handler that took it", () => {
    const input = { tagName: "INPUT" };
    expect(shortcutFor({ key: "Escape", target: input, isComposing: true }, true)).toBeNull();
    expect(shortcutFor({ key: "Escape", target: input, defaultPrevented: true }, true)).toBeNull();
    expect(shortcutFor({ key: "Escape", target: input }, true)).toBe("escape");
  });
});
