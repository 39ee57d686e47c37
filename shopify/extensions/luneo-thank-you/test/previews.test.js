import assert from "node:assert/strict";
import { test } from "node:test";
import { linePreview, linesWithPreviews } from "../src/previews.js";

const personalized = {
  id: "gid://shopify/CartLine/1",
  merchandise: { title: "Mug" },
  attributes: [
    { key: "_luneo_snapshot", value: "snap_abc" },
    { key: "_luneo_preview", value: "https://cdn.luneo.test/p/snap_abc.png" },
    { key: "_luneo_sig", value: "ab".repeat(32) },
    { key: "Name", value: "Emma" },
  ],
};

test("lines with a Luneo preview are extracted with their visible properties", () => {
  const plain = { id: "gid://shopify/CartLine/2", attributes: [{ key: "gift", value: "yes" }] };
  const got = linesWithPreviews([plain, personalized]);
  assert.deepEqual(got, [
    { id: "gid://shopify/CartLine/1", title: "Mug", url: "https://cdn.luneo.test/p/snap_abc.png", snapshot: "snap_abc", details: ["Name: Emma"] },
  ]);
});

test("no preview, no snapshot or a non-https URL: nothing shown", () => {
  const attrs = (list) => ({ attributes: list });
  assert.equal(linePreview(attrs([{ key: "_luneo_snapshot", value: "snap_a" }])), null);
  assert.equal(linePreview(attrs([{ key: "_luneo_preview", value: "https://x.test/a.png" }])), null);
  assert.equal(linePreview(attrs([{ key: "_luneo_snapshot", value: "snap_a" }, { key: "_luneo_preview", value: "http://x.test/a.png" }])), null);
  assert.equal(linePreview(attrs([{ key: "_luneo_snapshot", value: "snap_a" }, { key: "_luneo_preview", value: "javascript:alert(1)" }])), null);
  assert.equal(linePreview(null), null);
  assert.deepEqual(linesWithPreviews(undefined), []);
});
