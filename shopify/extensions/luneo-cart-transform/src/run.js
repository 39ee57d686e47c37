// @ts-check
// Luneo cart transform (target cart.transform.run): a personalized line (one that carries
// `_luneo_snapshot`) is expanded into its base variant + one "Personalization" component whose unit
// price is computed here from the line's `_luneo_addons` and the add-on rules Luneo publishes in the
// CartTransform's `$app:luneo.pricing` metafield. No price is ever read from the cart's properties:
// the base keeps Shopify's own unit cost of the line, the add-on is recomputed. Pure functions only.

const SNAPSHOT_RE = /^snap_[A-Za-z0-9]+$/;
const ZONE_RE = /^[A-Za-z0-9_-]+$/;
// amounts are handled as integers of 1/10_000 of the currency unit (exact for any price string
// with up to 4 decimals; the largest safe amount is ~900 billion units)
const SCALE = 10000;
const MAX_CHARS = 100000;

/** @param {unknown} value @returns {number | null} the amount in 1/10_000 units, or null */
export function parseAmount(value) {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const text = String(value).trim();
  const m = /^(\d{1,12})(?:\.(\d{1,4}))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * SCALE + Number((m[2] || "").padEnd(4, "0"));
}

/** @param {number} units 1/10_000 units, >= 0 @returns {string} a Decimal string with 2 to 4 decimals */
export function formatAmount(units) {
  const whole = Math.floor(units / SCALE);
  let frac = String(units % SCALE).padStart(4, "0");
  while (frac.length > 2 && frac.endsWith("0")) frac = frac.slice(0, -1);
  return `${whole}.${frac}`;
}

/**
 * `_luneo_addons` ("name=4,photo=0") → [[zone, chars], …]; null when malformed.
 * @param {unknown} text @returns {Array<[string, number]> | null}
 */
export function parseAddons(text) {
  if (typeof text !== "string") return null;
  if (text === "") return [];
  /** @type {Array<[string, number]>} */
  const pairs = [];
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    const zone = part.slice(0, eq);
    const digits = part.slice(eq + 1);
    if (!ZONE_RE.test(zone) || !/^\d{1,6}$/.test(digits)) return null;
    const chars = Number(digits);
    if (chars > MAX_CHARS) return null;
    pairs.push([zone, chars]);
  }
  return pairs;
}

/**
 * The add-on unit price (1/10_000 units, shop currency) of a design: sum over its priced zones of
 * flat + chars × per_char; zones unknown to the rules add nothing. null when the rules are unusable.
 * @param {Array<[string, number]>} addons
 * @param {Record<string, {flat?: unknown, per_char?: unknown}>} zones
 * @returns {number | null}
 */
export function addonUnits(addons, zones) {
  let total = 0;
  for (const [zone, chars] of addons) {
    const rule = Object.prototype.hasOwnProperty.call(zones, zone) ? zones[zone] : null;
    if (!rule || typeof rule !== "object") continue;
    const flat = rule.flat === undefined ? 0 : parseAmount(rule.flat);
    const perChar = rule.per_char === undefined ? 0 : parseAmount(rule.per_char);
    if (flat === null || perChar === null) return null;
    total += flat + chars * perChar;
  }
  return total;
}

/** Shop-currency units × presentment rate ("1.0834"), rounded half-up to the cent. */
export function convert(units, rate) {
  const r = typeof rate === "string" || typeof rate === "number" ? Number(rate) : 1;
  const factor = Number.isFinite(r) && r > 0 ? r : 1;
  const cents = Math.round((units * factor) / 100);
  return cents * 100;
}

/** @param {any} metafield @returns {any | null} the pricing document (v1) or null */
export function readPricing(metafield) {
  let doc = metafield?.jsonValue;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return null;
    }
  }
  if (!doc || typeof doc !== "object" || doc.v !== 1) return null;
  if (typeof doc.personalization_variant !== "string" || !doc.personalization_variant.startsWith("gid://shopify/ProductVariant/")) return null;
  if (!doc.products || typeof doc.products !== "object") return null;
  return doc;
}

const value = (/** @type {any} */ attr) => (attr && typeof attr.value === "string" ? attr.value : null);

/**
 * @param {any} line a cart line of the input
 * @param {any} pricing the pricing document
 * @param {unknown} rate presentmentCurrencyRate
 * @returns {any | null} a lineExpand operation, or null to leave the line alone
 */
export function expandLine(line, pricing, rate) {
  const snapshot = value(line.snapshot);
  if (snapshot === null || !SNAPSHOT_RE.test(snapshot)) return null;
  const variant = line.merchandise;
  if (!variant || variant.__typename !== "ProductVariant" || !variant.product) return null;
  if (variant.id === pricing.personalization_variant) return null;
  const product = pricing.products[variant.product.id];
  if (!product || typeof product !== "object" || !product.zones || typeof product.zones !== "object") return null;
  const addons = parseAddons(value(line.addons));
  if (addons === null) return null;
  const units = addonUnits(addons, product.zones);
  if (units === null || units <= 0) return null;
  const base = parseAmount(line.cost?.amountPerQuantity?.amount);
  if (base === null) return null;
  /** @type {Array<{key: string, value: string}>} */
  const attributes = [];
  for (const [key, attr] of [["_luneo_snapshot", line.snapshot], ["_luneo_spec_hash", line.specHash],
    ["_luneo_preview", line.preview], ["_luneo_addons", line.addons], ["_luneo_sig", line.sig]]) {
    const v = value(attr);
    if (v !== null) attributes.push({ key: String(key), value: v });
  }
  const fixed = (/** @type {number} */ u) => ({ adjustment: { fixedPricePerUnit: { amount: formatAmount(u) } } });
  /** @type {any} */
  const op = {
    cartLineId: line.id,
    title: variant.product.title ? `${variant.product.title} (personalized)` : undefined,
    expandedCartItems: [
      // quantities are per unit of the parent line: Shopify multiplies them by the line's quantity
      { merchandiseId: variant.id, quantity: 1, price: fixed(base), attributes },
      { merchandiseId: pricing.personalization_variant, quantity: 1, price: fixed(convert(units, rate)),
        attributes: [{ key: "_luneo_snapshot", value: snapshot }] },
    ],
  };
  const preview = value(line.preview);
  if (preview && /^https:\/\/[^\s"'<>]+$/.test(preview)) op.image = { url: preview };
  if (op.title === undefined) delete op.title;
  return { lineExpand: op };
}

/**
 * @param {any} input the RunInput of src/run.graphql
 * @returns {{operations: any[]}}
 */
export function run(input) {
  const pricing = readPricing(input?.cartTransform?.pricing);
  if (!pricing) return { operations: [] };
  const operations = [];
  for (const line of input?.cart?.lines || []) {
    const op = expandLine(line, pricing, input.presentmentCurrencyRate);
    if (op) operations.push(op);
  }
  return { operations };
}
