import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { AppError, toAppError } from "./ipc";

describe("toAppError", () => {
  it("converts a backend payload", () => {
    const e = toAppError({ code: "not_found", message: "No such event" });
    expect(e).toBeInstanceOf(AppError);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.message]).toEqual(["not_found", "No such event"]);
  });
  it("wraps strings and errors as internal", () => {
    expect(toAppError("boom").code).toBe("internal");
    expect(toAppError(new Error("x")).message).toBe("x");
  });
});

describe("platform rule", () => {
  it("only src/platform imports @tauri-apps", () => {
    const root = join(__dirname, "..");
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|tsx)$/.test(name) && !relative(root, p).startsWith("platform")) {
          if (/from\s+["']@tauri-apps\//.test(readFileSync(p, "utf8")) || /import\(["']@tauri-apps/.test(readFileSync(p, "utf8")))
            offenders.push(relative(root, p));
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
  it("never uses dangerouslySetInnerHTML", () => {
    const root = join(__dirname, "..");
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx$/.test(name) && readFileSync(p, "utf8").includes("dangerouslySetInnerHTML")) hits.push(p);
      }
    };
    walk(root);
    expect(hits).toEqual([]);
  });
});
