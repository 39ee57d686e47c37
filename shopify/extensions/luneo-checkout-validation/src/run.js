// @ts-check
// Luneo checkout validation (target cart.validations.generate.run): a line of a personalizable
// product (one listed in the `$app:luneo.pricing` metafield's `products`) must carry a well-formed
// `_luneo_snapshot` and a 64-hex `_luneo_sig`, otherwise checkout is refused — express checkouts
// (Shop Pay, Apple Pay, …) run the same validation. The HMAC itself is verified by Luneo when the
// order is paid (the secret never reaches a function). Pure functions only.

export const MESSAGE = "Personalize this product before checking out.";
const SNAPSHOT_RE = /^snap_[A-Za-z0-9]+$/;
const SIG_RE = /^[0-9a-f]{64}$/;

/** @param {any} metafield @returns {Set<string> | null} the personalizable product gids */
export function personalizableProducts(metafield) {
  let doc = metafield?.jsonValue;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return null;
    }
  }
  if (!doc || typeof doc !== "object" || doc.v !== 1 || !doc.products || typeof doc.products !== "object") return null;
  return new Set(Object.keys(doc.products));
}

/** @param {any} line @returns {boolean} true when the line carries a usable personalization */
export function isPersonalized(line) {
  const snapshot = line?.snapshot?.value;
  const sig = line?.sig?.value;
  return typeof snapshot === "string" && SNAPSHOT_RE.test(snapshot) && typeof sig === "string" && SIG_RE.test(sig);
}

/**
 * @param {any} input the RunInput of src/run.graphql
 * @returns {{operations: Array<{validationAdd: {errors: Array<{message: string, target: string}>}}>}}
 */
export function run(input) {
  const products = personalizableProducts(input?.validation?.pricing);
  const errors = [];
  if (products) {
    for (const line of input?.cart?.lines || []) {
      const variant = line?.merchandise;
      if (!variant || variant.__typename !== "ProductVariant" || !variant.product) continue;
      if (!products.has(variant.product.id) || isPersonalized(line)) continue;
      errors.push({ message: MESSAGE, target: "$.cart" });
      break;  // one message is enough: the shopper sees it once
    }
  }
  return { operations: errors.length ? [{ validationAdd: { errors } }] : [] };
}
