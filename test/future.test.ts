import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Future } from "../src/index.js";

describe("Future: completion", () => {
  it("starts pending and is done after setResult", () => {
    const fut = new Future<number>();
    assert.equal(fut.done(), false);
    fut.setResult(1);
    assert.equal(fut.done(), true);
    assert.equal(fut.value(), 1);
    assert.equal(fut.wait(), 1);
  });
});
