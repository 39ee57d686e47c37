import assert from "node:assert/strict";
import { test } from "node:test";
import { MESSAGE, run } from "../src/run.js";

const pricing = {
  v: 1,
  personalization_variant: "gid://shopify/ProductVariant/999",
  products: { "gid://shopify/Product/123": { luneo_product: "prd_mug", zones: { name: { flat: "5.00" } } } },
};

function line(snapshot, sig, productId = "gid://shopify/Product/123") {
  return {
    id: "gid://shopify/CartLine/1",
    snapshot: snapshot === undefined ? null : { value: snapshot },
    sig: sig === undefined ? null : { value: sig },
    merchandise: { __typename: "ProductVariant", id: "gid://shopify/ProductVariant/1", product: { id: productId } },
  };
}
const input = (lines, doc = pricing) => ({ cart: { lines }, validation: { pricing: doc === null ? null : { jsonValue: doc } } });
const SIG = "0123456789abcdef".repeat(4);
const refused = (out) => out.operations.length === 1 && out.operations[0].validationAdd.errors[0].message === MESSAGE;

test("a personalized line passes", () => {
  assert.deepEqual(run(input([line("snap_abc123", SIG)])), { operations: [] });
});

test("a personalizable product without a snapshot is refused with the contract message", () => {
  const out = run(input([line(undefined, undefined)]));
  assert.ok(refused(out));
  assert.equal(out.operations[0].validationAdd.errors[0].target, "$.cart");
});

test("malformed snapshots are refused", () => {
  for (const snap of ["", "snap_", "prd_abc", "snap_ab-c", "snap_abc\n", " snap_abc"]) {
    assert.ok(refused(run(input([line(snap, SIG)]))), JSON.stringify(snap));
  }
});

test("a missing or malformed sig is refused", () => {
  for (const sig of [undefined, "", "ab", SIG.toUpperCase(), SIG + "0", SIG.slice(1) + "g"]) {
    assert.ok(refused(run(input([line("snap_abc123", sig)]))), String(sig));
  }
});

test("products Luneo does not personalize are never refused", () => {
  assert.deepEqual(run(input([line(undefined, undefined, "gid://shopify/Product/7")])).operations, []);
  assert.deepEqual(run({ cart: { lines: [{ id: "x", merchandise: { __typename: "CustomProduct" } }] }, validation: null }).operations, []);
});

test("without the pricing metafield nothing is refused", () => {
  assert.deepEqual(run(input([line(undefined, undefined)], null)).operations, []);
  assert.deepEqual(run(input([line(undefined, undefined)], "{oops")).operations, []);
});

test("one bad line among good ones refuses once", () => {
  const out = run(input([line("snap_a1", SIG), line(undefined, SIG), line("snap_b2", "zz")]));
  assert.equal(out.operations.length, 1);
  assert.equal(out.operations[0].validationAdd.errors.length, 1);
});

test("the metafield may arrive as a JSON string", () => {
  assert.ok(refused(run(input([line("snap_x", "nope")], JSON.stringify(pricing)))));
});
