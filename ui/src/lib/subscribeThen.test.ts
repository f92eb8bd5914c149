import { describe, expect, it, vi } from "vitest";
import { subscribeThen, type Subscription } from "./subscribeThen";

/** A subscription whose `start` resolves (or fails) when the test says so. */
function pending(what: string) {
  let resolve!: (unsub: () => void) => void;
  let reject!: (e: unknown) => void;
  const unsub = vi.fn();
  const sub: Subscription = {
    what,
    start: () =>
      new Promise<() => void>((res, rej) => {
        resolve = res;
        reject = rej;
      }),
  };
  return { sub, unsub, done: () => resolve(unsub), fail: (e: unknown) => reject(e) };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("subscribeThen", () => {
  it("reads only once every subscription is in place", async () => {
    const a = pending("a");
    const b = pending("b");
    const then = vi.fn();
    subscribeThen([a.sub, b.sub], then, () => {});
    a.done();
    await settle();
    expect(then).not.toHaveBeenCalled();
    b.done();
    await settle();
    expect(then).toHaveBeenCalledTimes(1);
  });

  it("a subscription that fails is reported and does not block the read", async () => {
    const a = pending("a");
    const b = pending("events-changed");
    const then = vi.fn();
    const onFail = vi.fn();
    subscribeThen([a.sub, b.sub], then, onFail);
    a.done();
    b.fail(new Error("no"));
    await settle();
    expect(onFail).toHaveBeenCalledWith("events-changed", expect.any(Error));
    expect(then).toHaveBeenCalledTimes(1);
  });

  it("stopped before the subscriptions arrive: no read, and each is undone as it arrives", async () => {
    const a = pending("a");
    const b = pending("b");
    const then = vi.fn();
    const onFail = vi.fn();
    const stop = subscribeThen([a.sub, b.sub], then, onFail);
    a.done();
    await settle();
    stop();
    expect(a.unsub).toHaveBeenCalledTimes(1);
    b.done();
    await settle();
    expect(b.unsub).toHaveBeenCalledTimes(1);
    expect(then).not.toHaveBeenCalled();
    expect(onFail).not.toHaveBeenCalled();
  });

  it("stopped later: every subscription is undone once", async () => {
    const a = pending("a");
    const b = pending("b");
    const stop = subscribeThen([a.sub, b.sub], () => {}, () => {});
    a.done();
    b.done();
    await settle();
    stop();
    stop();
    expect(a.unsub).toHaveBeenCalledTimes(1);
    expect(b.unsub).toHaveBeenCalledTimes(1);
  });
});
