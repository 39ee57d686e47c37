import assert from "node:assert/strict";
import { test } from "node:test";
import { addonUnits, formatAmount, parseAddons, parseAmount, run } from "../src/run.js";

const PV = "gid://shopify/ProductVariant/999";
const pricing = {
  v: 1,
  personalization_variant: PV,
  products: {
    "gid://shopify/Product/123": { luneo_product: "prd_mug", zones: { name: { flat: "5.00", per_char: "0.50" }, photo: { flat: "3.00" } } },
  },
};

function line(over = {}, attrs = {}) {
  const a = {
    _luneo_snapshot: "snap_abc123",
    _luneo_spec_hash: "ab".repeat(32),
    _luneo_preview: "https://cdn.luneo.test/p/snap_abc123.png",
    _luneo_addons: "name=4,photo=0",
    _luneo_sig: "cd".repeat(32),
    ...attrs,
  };
  const attr = (k) => (a[k] === undefined ? null : { value: a[k] });
  return {
    id: "gid://shopify/CartLine/1",
    quantity: 1,
    cost: { amountPerQuantity: { amount: "20.0", currencyCode: "EUR" } },
    snapshot: attr("_luneo_snapshot"),
    specHash: attr("_luneo_spec_hash"),
    preview: attr("_luneo_preview"),
    addons: attr("_luneo_addons"),
    sig: attr("_luneo_sig"),
    merchandise: { __typename: "ProductVariant", id: "gid://shopify/ProductVariant/111", product: { id: "gid://shopify/Product/123", title: "Mug" } },
    ...over,
  };
}

const input = (lines, doc = pricing, rate = "1.0") => ({
  presentmentCurrencyRate: rate,
  cart: { lines },
  cartTransform: { pricing: doc === null ? null : { jsonValue: doc } },
});

const amounts = (op) => op.lineExpand.expandedCartItems.map((i) => i.price.adjustment.fixedPricePerUnit.amount);

test("a personalized line is expanded into base + Personalization priced from the metafield", () => {
  const out = run(input([line()]));
  assert.equal(out.operations.length, 1);
  const op = out.operations[0].lineExpand;
  assert.equal(op.cartLineId, "gid://shopify/CartLine/1");
  assert.deepEqual(op.expandedCartItems.map((i) => i.merchandiseId), ["gid://shopify/ProductVariant/111", PV]);
  // 5.00 + 4 × 0.50 (name) + 3.00 (photo, 0 chars) = 10.00; base = Shopify's own unit cost
  assert.deepEqual(amounts(out.operations[0]), ["20.00", "10.00"]);
  assert.deepEqual(op.image, { url: "https://cdn.luneo.test/p/snap_abc123.png" });
  const keys = op.expandedCartItems[0].attributes.map((a) => a.key);
  assert.deepEqual(keys, ["_luneo_snapshot", "_luneo_spec_hash", "_luneo_preview", "_luneo_addons", "_luneo_sig"]);
});

test("a forged price property is never read: the add-on is recomputed", () => {
  const forged = line({ price: { value: "0.01" }, _luneo_price: { value: "0.01" } });
  const out = run(input([forged]));
  assert.deepEqual(amounts(out.operations[0]), ["20.00", "10.00"]);
  // the run.graphql query does not even ask for such an attribute
  const out2 = run(input([line({}, { _luneo_addons: "name=4" })]));
  assert.deepEqual(amounts(out2.operations[0]), ["20.00", "7.00"]);
});

test("multi-quantity: component quantities are per unit and the unit price does not change", () => {
  const out = run(input([line({ quantity: 3 })]));
  const items = out.operations[0].lineExpand.expandedCartItems;
  assert.deepEqual(items.map((i) => i.quantity), [1, 1]);
  assert.deepEqual(amounts(out.operations[0]), ["20.00", "10.00"]);
});

test("unknown zones add nothing; only unknown zones → line left alone", () => {
  const out = run(input([line({}, { _luneo_addons: "name=2,monogram=9" })]));
  assert.deepEqual(amounts(out.operations[0]), ["20.00", "6.00"]);
  assert.deepEqual(run(input([line({}, { _luneo_addons: "monogram=9" })])).operations, []);
  assert.deepEqual(run(input([line({}, { _luneo_addons: "" })])).operations, []);
});

test("missing or malformed snapshot leaves the line alone (validation refuses it)", () => {
  assert.deepEqual(run(input([line({}, { _luneo_snapshot: undefined })])).operations, []);
  assert.deepEqual(run(input([line({}, { _luneo_snapshot: "snap_../x" })])).operations, []);
  assert.deepEqual(run(input([line({}, { _luneo_snapshot: "" })])).operations, []);
});

test("malformed addons or sig-less line: no price invented", () => {
  for (const bad of ["name=-1", "name", "=4", "name=4,,photo=0", "name=4x", "na me=1", "name=9999999"]) {
    assert.deepEqual(run(input([line({}, { _luneo_addons: bad })])).operations, [], bad);
  }
  assert.deepEqual(run(input([line({}, { _luneo_addons: undefined })])).operations, []);
});

test("no metafield, a bad document or an unmapped product: nothing changes", () => {
  assert.deepEqual(run(input([line()], null)).operations, []);
  assert.deepEqual(run({ cart: { lines: [line()] }, cartTransform: null }).operations, []);
  assert.deepEqual(run(input([line()], { ...pricing, v: 2 })).operations, []);
  assert.deepEqual(run(input([line()], { ...pricing, personalization_variant: "123" })).operations, []);
  assert.deepEqual(run(input([line()], "{not json")).operations, []);
  const other = line({ merchandise: { __typename: "ProductVariant", id: "gid://shopify/ProductVariant/5", product: { id: "gid://shopify/Product/5" } } });
  assert.deepEqual(run(input([other])).operations, []);
  const badRule = { ...pricing, products: { "gid://shopify/Product/123": { zones: { name: { flat: "five" } } } } };
  assert.deepEqual(run(input([line()], badRule)).operations, []);
});

test("the metafield may arrive as a JSON string", () => {
  const out = run(input([line()], JSON.stringify(pricing)));
  assert.deepEqual(amounts(out.operations[0]), ["20.00", "10.00"]);
});

test("lines without Luneo properties and the personalization variant itself are left alone", () => {
  const plain = line({}, { _luneo_snapshot: undefined, _luneo_addons: undefined });
  const pv = line({ id: "gid://shopify/CartLine/2", merchandise: { __typename: "ProductVariant", id: PV, product: { id: "gid://shopify/Product/123" } } });
  const out = run(input([plain, pv, line({ id: "gid://shopify/CartLine/3" })]));
  assert.deepEqual(out.operations.map((o) => o.lineExpand.cartLineId), ["gid://shopify/CartLine/3"]);
});

test("presentment currency: the add-on is converted at Shopify's rate, rounded to the cent", () => {
  const out = run(input([line({ cost: { amountPerQuantity: { amount: "21.67", currencyCode: "USD" } } })], pricing, "1.0833"));
  assert.deepEqual(amounts(out.operations[0]), ["21.67", "10.83"]);
});

test("a non-https preview is not used as the line image", () => {
  const out = run(input([line({}, { _luneo_preview: "javascript:alert(1)" })]));
  assert.equal(out.operations[0].lineExpand.image, undefined);
});

test("decimal helpers are exact", () => {
  assert.equal(parseAmount("0.50"), 5000);
  assert.equal(parseAmount("12"), 120000);
  assert.equal(parseAmount("1.23456"), null);
  assert.equal(parseAmount("-1"), null);
  assert.equal(parseAmount("1e3"), null);
  assert.equal(formatAmount(5000), "0.50");
  assert.equal(formatAmount(12345), "1.2345");
  assert.deepEqual(parseAddons("name=4,photo=0"), [["name", 4], ["photo", 0]]);
  // 0.1 + 0.2 style drift cannot happen: 3 × 0.10 + 0.20 = 0.50 exactly
  assert.equal(addonUnits([["a", 3]], { a: { flat: "0.20", per_char: "0.10" } }), 5000);
});
