// <luneo-personalizer api-base="https://api.example" key="pk_live_…" product="prd_…" locale="fr" cart="host">
// A dependency-free web component: draws a form from the product's zones and rules, shows the
// brand's sample personalization at once, re-renders the server preview as the shopper types
// (debounced; the previous image stays until the new one is decoded), validates on the server and
// shows what to fix in the shopper's language, and adds the frozen snapshot to the cart — Luneo's
// cart (default) or the host's (`cart="host"`: listen to `luneo:add-to-cart`).
//
// Events (bubbling, composed): `luneo:ready` {product_id, locale}; `luneo:change` {product_id,
// valid, spec_hash, preview_url, inputs, codes}; `luneo:add-to-cart` {product_id, snapshot_id,
// spec_hash, preview_url, quantity, properties, cart}. Theming: CSS custom properties
// (--luneo-accent, --luneo-text, --luneo-muted, --luneo-surface, --luneo-bg, --luneo-error,
// --luneo-radius, --luneo-font) and ::part(form|stage|preview|preview-image|status|field|input|
// option|add-to-cart|save|cart|price|view-3d|model|ar-button).
//
// "Add to cart" is bound to the design on screen: every change of the inputs bumps a sequence
// number that every request carries (in X-Request-ID) and that answers are checked against, so a
// stale answer is dropped; the button is enabled only while the preview on screen is the spec of
// the current inputs, and the cart line is added with that spec_hash (the server checks it).

import { photoTools, dpiNotice } from "./luneo-photo.js";
import { designsPanel, saveDesign, pendingDesign } from "./luneo-designs.js";

const css = `
:host { display: block; font-family: var(--luneo-font, system-ui, sans-serif); color: var(--luneo-text, #1f2933);
  --a: var(--luneo-accent, #1f3a5f); --m: var(--luneo-muted, #52606d); --s: var(--luneo-surface, #fff);
  --e: var(--luneo-error, #b42318); --r: var(--luneo-radius, 10px); --maxh: 68vh; }
* { box-sizing: border-box; }
.wrap { display: grid; grid-template-columns: minmax(280px, 1.15fr) minmax(280px, 1fr); gap: 24px; align-items: start; }
.stage { position: sticky; top: 8px; }
.panel { background: var(--s); border-radius: var(--r); padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.preview { position: relative; margin: 0 auto; aspect-ratio: var(--ar, 1); width: min(100%, calc(var(--maxh) * var(--ar, 1)));
  background: repeating-conic-gradient(#f1f1f1 0% 25%, #fff 0% 50%) 50% / 20px 20px; border-radius: var(--r); overflow: hidden; }
.preview img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; transition: opacity .15s; }
.preview.busy img { opacity: .82; }
.bar { position: absolute; left: 0; top: 0; height: 3px; width: 30%; background: var(--a); opacity: 0; }
.busy .bar { opacity: .8; animation: slide 1s linear infinite; }
@keyframes slide { from { transform: translateX(-100%); } to { transform: translateX(340%); } }
@media (prefers-reduced-motion: reduce) { .busy .bar { animation: none; width: 100%; opacity: .35; } }
.status { font-size: 14px; color: var(--m); margin-top: 8px; min-height: 20px; text-align: center; }
h2 { font-size: 20px; margin: 0 0 2px; } .price { color: var(--m); margin-bottom: 6px; font-size: 16px; }
.note { display: block; font-size: 13px; }
.desc { color: var(--m); font-size: 14px; margin: 0 0 14px; }
.zone { margin: 0 0 16px; border: 0; padding: 0; min-width: 0; }
.zone > legend, .lbl { display: block; font-weight: 600; margin-bottom: 6px; padding: 0; }
.row { display: flex; justify-content: space-between; gap: 8px; font-size: 13px; color: var(--m); margin-top: 4px; }
input[type=text], textarea, select { width: 100%; font: inherit; font-size: 16px; min-height: 44px; padding: 9px 10px; border: 1px solid #9aa5b1; border-radius: 6px; background: #fff; color: inherit; }
textarea { resize: vertical; }
input::placeholder, textarea::placeholder { color: #66717d; }
:focus-visible { outline: 3px solid var(--a); outline-offset: 2px; }
[aria-invalid=true] { border-color: var(--e); }
.opts { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; border: 0; padding: 0; }
.opt { position: relative; display: inline-flex; align-items: center; justify-content: center; min-width: 44px; min-height: 44px; padding: 0 12px;
  border: 1px solid #9aa5b1; border-radius: 22px; background: #fff; font-size: 17px; cursor: pointer; }
.opt input { position: absolute; inset: 0; margin: 0; opacity: 0; cursor: pointer; }
.opt:has(input:checked) { border-color: var(--a); box-shadow: 0 0 0 2px var(--a); }
.opt:has(input:focus-visible) { outline: 3px solid var(--a); outline-offset: 2px; }
.sw { width: 44px; padding: 0; } .sw i { width: 28px; height: 28px; border-radius: 50%; box-shadow: inset 0 0 0 1px rgba(0,0,0,.25); }
.v3d { position: absolute; top: 8px; inset-inline-end: 8px; z-index: 2; min-width: 44px; min-height: 44px; border: 1px solid #9aa5b1;
  border-radius: 22px; background: #fff; color: #1f2933; font: inherit; font-weight: 700; cursor: pointer; }
.v3d[aria-pressed=true] { background: var(--a); border-color: var(--a); color: #fff; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.errors { color: var(--e); font-size: 14px; margin-top: 4px; } .warnings, .hint { color: #7a5200; font-size: 13px; margin-top: 4px; }
.file { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.file { margin-bottom: 2px; } .up { font-size: 16px; font-weight: 600; } .fname { font-size: 13px; color: var(--m); overflow-wrap: anywhere; }
.row + select { margin-top: 8px; }
.actions { display: flex; gap: 8px; margin-top: 8px; flex-wrap: wrap; }
button.primary, button.secondary { font: inherit; font-size: 16px; min-height: 44px; padding: 10px 18px; border-radius: 6px; border: 0; cursor: pointer; }
button.primary { background: var(--a); color: #fff; flex: 1; } button.secondary { background: #e4e7eb; color: #1f2933; }
button:disabled { opacity: .55; cursor: not-allowed; }
.cart { margin-top: 10px; font-size: 14px; min-height: 20px; }
.proof { margin-top: 12px; padding: 12px; border: 1px solid #9aa5b1; border-radius: 8px; } .proof h3 { font-size: 16px; margin: 0 0 6px; }
.proof ul { margin: 0 0 8px; padding-inline-start: 20px; } .check { display: flex; gap: 10px; align-items: center; min-height: 44px; font-weight: 600; }
.check input { width: 24px; height: 24px; }
@media (max-width: 720px) {
  .wrap { grid-template-columns: 1fr; gap: 12px; }
  .stage { top: 0; z-index: 2; margin: 0 -8px; padding: 8px 8px 4px; background: var(--luneo-bg, #f6f4ef); box-shadow: 0 6px 8px -8px rgba(0,0,0,.35); }
  :host { --maxh: 30vh; } .status { margin-top: 4px; font-size: 13px; min-height: 2.6em; } /* 2 lines: no shift */
}
`;

const RTL_LANGS = /^(ar|he|fa|ur)$/;
const RTL_TEXT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
const LOCALES = ["en", "fr", "de", "es", "ar"];
const catalogues = {};  // resolved message catalogues by language
const loadingCatalogues = {};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function shopperToken(key) {
  const name = `luneo-shopper:${key.slice(0, 16)}`;
  let token = localStorage.getItem(name);
  if (!token) {
    const bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    token = "shp_" + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(name, token);
  }
  return token;
}

function chars(text) {
  if (globalThis.Intl?.Segmenter) return [...new Intl.Segmenter().segment(text)].length;
  return [...text].length;
}

class LuneoPersonalizer extends HTMLElement {
  static get observedAttributes() { return ["product", "key", "api-base", "locale"]; }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.inputs = {};
    this.timer = null;
    this.seq = 0;          // bumped on every change of the inputs: answers of older refreshes are stale
    this.calls = 0;
    this.rid = "lw" + Math.random().toString(36).slice(2, 10);
    this.specHash = null;  // the spec of the current inputs, once the server has answered for them
    this.specKey = null;   // the inputs (as sent) that specHash is the spec of
    this.shown = null;     // { specHash, key } of the preview on screen
    this.busy = 0;         // uploads and cart adds in progress
  }

  connectedCallback() { this.started = true; this.connectedAt = performance.now(); this.load(); }
  attributeChangedCallback(_n, oldV, newV) { if (this.started && oldV !== newV) this.load(); }

  get base() { return (this.getAttribute("api-base") || "").replace(/\/$/, ""); }
  get key() { return this.getAttribute("key") || ""; }
  get lang() {
    const wanted = [this.getAttribute("locale"), ...(navigator.languages || [navigator.language])];
    for (const l of wanted) { const b = (l || "").toLowerCase().split(/[-_]/)[0]; if (LOCALES.includes(b) || RTL_LANGS.test(b)) return b; }
    return "en";
  }
  get locale() { return this.getAttribute("locale") || navigator.language || "en"; }

  // A message of the shopper's catalogue (English when the key is missing), `{name}` filled in.
  t(key, params = {}) {
    const text = this.msgs?.[key] ?? catalogues.en?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, k) => (Array.isArray(params[k]) ? params[k].join(" ") : params[k] ?? ""));
  }

  catalogue(lang) {
    loadingCatalogues[lang] ||= fetch(`${this.base}/widget/i18n/${lang}.json`).then(r => (r.ok ? r.json() : {}))
      .catch(() => ({})).then(m => (catalogues[lang] = m));
    return loadingCatalogues[lang];
  }

  async api(method, path, body, extraHeaders = {}) {
    const headers = { Authorization: `Bearer ${this.key}`, "X-Shopper-Token": shopperToken(this.key),
      "X-Request-ID": `${this.rid}-s${this.seq}-${++this.calls}`, ...extraHeaders };
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    try {
      const res = await fetch(`${this.base}/api/v1${path}`, { method, headers, body: payload });
      const data = res.status === 204 ? null : await res.json().catch(() => null);
      return { status: res.status, data };
    } catch { return { status: 0, data: null }; }
  }

  // A problem answer in the shopper's words: its `code` when catalogued, else by status.
  problem(res, fallback) {
    const code = res.data?.code;
    if (code && this.msgs?.[`err.${code}`]) return this.t(`err.${code}`, res.data);
    if (res.status === 429) return this.t("err.rate_limited");
    if (res.status === 0 || res.status >= 500) return this.t("err.network");
    return this.t(fallback);
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true })); }

  // Funnel analytics (`POST /widget/events`): queued, sent in batches of ≤ 50 every 3 s and when
  // the page is hidden; no personal data (a random id per page view, the shopper token's hash).
  track(name, durationMs) {
    if (!this.config) return;
    this.session ||= Array.from(crypto.getRandomValues(new Uint8Array(12)), b => b.toString(16).padStart(2, "0")).join("");
    (this.queue ||= []).push({ name, product_id: this.config.product.id, session_id: this.session, at: new Date().toISOString(),
      ...(durationMs !== undefined && { duration_ms: Math.max(0, Math.min(600000, Math.round(durationMs))) }) });
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), 3000);
      this.onHide ||= () => { if (document.visibilityState === "hidden") this.flush(true); };
      document.addEventListener("visibilitychange", this.onHide);
    }
  }

  flush(keepalive = false) {
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const events = (this.queue || []).splice(0, 50);
    if (!events.length) return;
    fetch(`${this.base}/api/v1/widget/events`, { method: "POST", keepalive,
      headers: { Authorization: `Bearer ${this.key}`, "X-Shopper-Token": shopperToken(this.key), "Content-Type": "application/json",
        "X-Request-ID": `${this.rid}-s${this.seq}-${++this.calls}` }, body: JSON.stringify({ events }) }).catch(() => {});
    if (this.queue.length) this.flushTimer = setTimeout(() => this.flush(), 3000);
  }

  disconnectedCallback() { this.flush(true); if (this.onHide) document.removeEventListener("visibilitychange", this.onHide); }

  // The live price of the current inputs (`POST /widget/quote`: base + add-ons, the server's
  // arithmetic, formatted for the shopper's locale); the base price stays when it cannot answer.
  async quote(body, seq) {
    const res = await this.api("POST", "/widget/quote", { ...body, locale: this.locale });
    if (seq !== this.seq || res.status !== 200 || !this.priceLine) return;
    this.priceLine.textContent = res.data.unit_price.formatted;
    this.priceNote.textContent = res.data.lines.map(l => `${l.label} +${l.amount.formatted}`).join(" · ");
  }

  async load() {
    const product = this.getAttribute("product");
    if (!product || !this.key) return;
    this.inputs = {};
    this.invalidate();
    this.shown = null;
    const loading = (this.loading = (this.loading || 0) + 1);
    const lang = this.lang;
    const [res, msgs] = await Promise.all([
      this.api("GET", `/widget/config/${encodeURIComponent(product)}`), this.catalogue(lang), this.catalogue("en")]);
    if (loading !== this.loading) return;  // a newer product was asked for meanwhile
    this.msgs = msgs;
    if (res.status !== 200) { this.root.replaceChildren(el("p", { role: "alert" }, this.problem(res, "err.unavailable"))); return; }
    this.config = res.data;
    this.dir = RTL_LANGS.test(lang) ? "rtl" : "ltr";
    this.draw();
    this.showSample();
    this.emit("luneo:ready", { product_id: this.config.product.id, locale: lang });
    this.track("widget_loaded", performance.now() - this.connectedAt);
    await this.samplePhotos(loading);
    if (loading !== this.loading) return;
    await pendingDesign(this);  // a saved design to reopen (luneo-designs.js)
    if (loading !== this.loading) return;
    this.schedule(0);
  }

  // The brand's sample design, already rendered by the server (`sample_preview` of the config: the
  // preview of the sample spec with the options `preview()` asks, so the very same render), goes on
  // screen with the config, before any round trip; the first refresh finds that spec and keeps it.
  get sampleUrl() {
    const url = this.config?.sample_preview?.url;
    return url ? new URL(url.startsWith("/") ? this.base + url : url, document.baseURI).href : null;
  }

  showSample() {
    const s = this.config.sample_preview;
    const design = this.getAttribute("design") || new URLSearchParams(location.search).get("luneo_design");
    if (!s || design || this.pendingDesign) { this.fontsSoon(0); return; }  // a design to reopen: not the sample
    this.img.width = s.width_px;
    this.img.height = s.height_px;
    this.img.addEventListener("load", () => this.fontsSoon(0), { once: true });
    this.img.addEventListener("error", () => { if (this.img.src === this.sampleUrl) { this.sampleFailed = true; this.img.hidden = true; } }, { once: true });
    this.img.src = this.sampleUrl;
    this.img.hidden = false;
    this.fontsSoon(2500);
  }

  // The pickers' font files (up to a few hundred KB each) load once the first preview is on screen,
  // not in competition with it.
  fontsSoon(delay) {
    clearTimeout(this.fontTimer);
    if (!this.config || this.fontsLoaded === this.config) return;
    this.fontTimer = setTimeout(() => { this.fontsLoaded = this.config; this.fontFaces(this.config.fonts); }, delay);
  }

  // Image zones show the brand's sample photo until the shopper uploads one: it is uploaded once
  // as this shopper's photo (content-addressed: the same asset every time), remembered per browser.
  async samplePhotos(loading) {
    await Promise.all(Object.entries(this.inputs).map(async ([, s]) => {
      const url = s.sample?.photo_url;
      if (s.kind !== "image" || !url) return;
      const abs = new URL(url.startsWith("/") ? this.base + url : url, document.baseURI).href;
      const memo = `luneo-sample:${shopperToken(this.key)}:${abs}`;
      let id = localStorage.getItem(memo);
      if (!id) {
        const blob = await fetch(abs).then(r => (r.ok ? r.blob() : null)).catch(() => null);
        if (!blob || loading !== this.loading) return;
        const form = new FormData();
        form.append("file", blob, "sample.jpg");
        const up = await this.api("POST", "/widget/uploads", form);
        if (up.status !== 201) return;
        id = up.data.asset_id;
        localStorage.setItem(memo, id);
      }
      s.sampleAsset = id;
      s.sampleMemo = memo;
    }));
  }

  // A remembered sample photo the server no longer knows (data reset): upload it again, once.
  async staleSamples(violations) {
    const stale = violations.filter(v => v.code === "unknown_asset" && this.inputs[v.zone]?.sampleAsset && !this.inputs[v.zone].touched);
    if (!stale.length || this.resampled) return false;
    this.resampled = true;
    for (const v of stale) { localStorage.removeItem(this.inputs[v.zone].sampleMemo); this.inputs[v.zone].sampleAsset = null; }
    await this.samplePhotos(this.loading);
    this.schedule(0);
    return true;
  }

  draw() {
    const { product, zones, fonts } = this.config;
    const money = this.money(product.price_cents, product.currency);
    this.priceLine = el("span", {}, money);
    this.priceNote = el("span", { class: "note" });
    const form = el("section", { class: "panel", part: "form", "aria-labelledby": "lw-title" },
      el("h2", { id: "lw-title" }, product.name), el("div", { class: "price", part: "price" }, this.priceLine, this.priceNote),
      product.description ? el("p", { class: "desc" }, product.description) : null);
    form.append(templateStrip(this));  // "Start from a design" (only when the product has templates)
    for (const zone of zones) form.append(this.zoneField(zone, fonts, product.palette));
    this.general = el("div", { class: "errors", role: "alert" });
    this.saveBtn = el("button", { class: "secondary", part: "save", type: "button", onclick: () => this.save() }, this.t("save"));
    this.cartBtn = el("button", { class: "primary", part: "add-to-cart", type: "button", onclick: () => this.addToCart() }, this.t("add_to_cart"));
    this.cartLine = el("div", { class: "cart", part: "cart", role: "status" });
    form.append(this.general, el("div", { class: "actions" }, this.cartBtn, this.saveBtn), this.cartLine, designsPanel(this));

    this.img = el("img", { alt: this.t("preview_alt"), part: "preview-image", decoding: "async", fetchpriority: "high" });
    this.img.hidden = true;
    // The box keeps the preview's aspect ratio (the product photo's, or the print's): no layout shift.
    const [aw, ah] = product.mockup_px || [product.width_mm + 2 * (product.bleed_mm || 0), product.height_mm + 2 * (product.bleed_mm || 0)];
    this.frame = el("div", { class: "preview busy", part: "preview", style: `--ar:${aw}/${ah}` },
      this.img, el("div", { class: "bar", "aria-hidden": "true" }));
    this.v3d = this.view3d = null;  // a product with a 3D model gets a "3D" toggle on its preview
    if (product.has_3d) this.frame.append(this.btn3d = el("button", { class: "v3d", part: "view-3d", type: "button",
      "aria-pressed": "false", "aria-label": this.t("view_3d"), onclick: () => this.toggle3d() }, "3D"));
    this.statusLine = el("div", { class: "status", part: "status", role: "status", "aria-live": "polite" }, this.t("loading"));
    const stage = el("section", { class: "stage", part: "stage", "aria-label": this.t("preview_alt") }, this.frame, this.statusLine);
    this.wrap = el("div", { class: "wrap", dir: this.dir, lang: this.lang }, stage, form);
    this.root.replaceChildren(el("style", {}, css), this.wrap);
    this.updateReady();
  }

  // The 3D view (luneo-3d.js, which loads <model-viewer>): downloaded only once the shopper asks.
  toggle3d() {
    (this.v3d ||= import("./luneo-3d.js").then(m => new m.Viewer3D(this)))
      .then(v => v.toggle(), () => { this.v3d = null; this.status(this.t("err.network")); });
  }

  money(cents, currency) {
    try {
      const f = new Intl.NumberFormat(this.locale, { style: "currency", currency });
      return f.format(cents / 10 ** f.resolvedOptions().maximumFractionDigits);
    } catch { return `${(cents / 100).toFixed(2)} ${currency}`; }
  }

  // Each font of the picker is shown in its own typeface (loaded once per page, lazily).
  fontFaces(fonts) {
    for (const f of fonts) {
      if (!f.url || !globalThis.FontFace) continue;
      const family = `luneo-${f.id}`;
      if ([...document.fonts].some(x => x.family === family)) continue;
      const face = new FontFace(family, `url(${f.url.startsWith("/") ? this.base + f.url : f.url})`, { display: "swap" });
      document.fonts.add(face);
    }
  }

  zoneField(zone, fonts, palette) {
    const id = `z-${zone.key}`;
    const rules = zone.rules || {};
    const state = (this.inputs[zone.key] = { kind: zone.kind, zone, sample: zone.sample || {}, touched: false });
    const box = el(zone.kind === "text" ? "div" : "fieldset", { class: "zone", part: "field", "data-zone": zone.key });
    const errors = el("div", { class: "errors", id: `${id}-err`, "data-errors": zone.key, "aria-live": "polite" });
    const warnings = el("div", { class: "warnings", id: `${id}-warn`, "data-warnings": zone.key, "aria-live": "polite" });
    const label = zone.label + (rules.required ? ` (${this.t("required")})` : "");
    if (zone.kind === "text") {
      box.append(el("label", { class: "lbl", for: id }, label));
      const max = rules.max_chars;
      const multi = (rules.max_lines || 1) > 1;
      const counter = el("span", { id: `${id}-count` });
      const input = el(multi ? "textarea" : "input", { id, part: "input", type: multi ? undefined : "text", name: zone.key,
        rows: multi ? Math.min(rules.max_lines, 3) : undefined, autocomplete: "off", dir: "auto", spellcheck: "false",
        placeholder: state.sample.text || "", "aria-describedby": `${id}-count ${id}-err ${id}-warn`,
        oninput: e => { state.text = e.target.value; state.touched = true; this.count(state); this.schedule(); } });
      state.input = input;
      state.counter = counter;
      const hint = multi ? this.t("lines_hint", { max: rules.max_lines }) : "";
      box.append(input, el("div", { class: "row" }, el("span", {}, hint), counter));
      this.count(state);
      const allowed = rules.allowed_fonts || [];
      const choices = fonts.filter(f => allowed.includes(f.id));
      if (choices.length > 1) {
        box.append(this.options(zone, "font", this.t("font"), choices.map(f => ({ value: f.id, text: f.family,
          style: `font-family: luneo-${f.id}, system-ui`, checked: f.id === zone.default_font }))));
      }
      const colors = rules.allowed_colors || [];
      if (colors.length > 1) box.append(this.swatchGroup(zone, colors, zone.default_color));
      const lo = rules.min_font_pt ?? 6, hi = rules.max_font_pt ?? 72;
      if (hi - lo >= 4) {
        const at = f => Math.round((lo + (hi - lo) * f) * 2) / 2;
        box.append(this.options(zone, "size", this.t("size"), [
          { value: "", text: this.t("size_auto"), checked: true },
          { value: String(at(0.5)), text: this.t("size_m") }, { value: String(at(0.2)), text: this.t("size_s") }]));
      }
      state.hint = el("div", { class: "hint", "aria-live": "polite" });
      box.append(state.hint);
    } else if (zone.kind === "image") {
      box.append(el("legend", { class: "lbl" }, label));
      const input = el("input", { id, part: "input", type: "file", accept: "image/png,image/jpeg,image/webp",
        "aria-describedby": `${id}-err ${id}-warn`, onchange: e => state.pick(e.target.files[0]) });
      const fit = el("select", { "aria-label": this.t("fit"), part: "input", onchange: e => { state.fit = e.target.value; state.touched = true; this.schedule(); } },
        el("option", { value: "cover" }, this.t("fit_cover")), el("option", { value: "contain" }, this.t("fit_contain")),
        el("option", { value: "smart" }, this.t("fit_smart")));
      state.fileName = el("span", { class: "fname" });
      box.append(el("div", { class: "file" }, el("label", { class: "opt up" }, input, this.t("upload")), state.fileName),
        el("div", { class: "row" }, el("span", {}, this.t("upload_hint"))), fit, photoTools(this, zone, state, fit));
    } else {
      box.append(el("legend", { class: "lbl" }, label));
      const colors = rules.allowed_colors?.length ? rules.allowed_colors : palette;
      state.color = zone.default_color || colors[0];
      box.append(this.swatchGroup(zone, colors, state.color));
    }
    box.append(errors, warnings);
    return box;
  }

  // A group of native radio buttons (keyboard and screen readers for free) drawn as chips.
  options(zone, field, legend, items) {
    const state = this.inputs[zone.key];
    const group = el("fieldset", { class: "opts", "data-field": field }, el("legend", { class: "sr" }, `${zone.label}: ${legend}`));
    for (const it of items) {
      const input = el("input", { type: "radio", name: `${field}-${zone.key}`, value: it.value, checked: it.checked,
        "aria-label": it.label || undefined, onchange: () => { state[field] = it.value || undefined; this.schedule(); } });
      group.append(el("label", { class: `opt ${it.cls || ""}`, part: "option", style: it.style, "data-value": it.value }, input, it.swatch || null, it.text));
    }
    return group;
  }

  swatchGroup(zone, colors, current) {
    return this.options(zone, "color", this.t("color"), colors.map(c => ({ value: c, cls: "sw", label: `${this.t("color")} ${c}`,
      swatch: el("i", { style: `background:${c}` }), text: "", checked: c.toLowerCase() === (current || "").toLowerCase() })));
  }

  count(state) {
    const max = state.zone.rules?.max_chars;
    const n = chars(state.text ?? "");
    state.counter.textContent = max ? this.t("chars", { count: n, max }) : "";
  }

  async upload(zone, state, file) {
    if (!file) return;
    this.status(this.t("uploading"));
    this.busy++;
    this.invalidate();  // the photo on screen is no longer the one chosen
    const form = new FormData();
    form.append("file", file);
    const res = await this.api("POST", "/widget/uploads", form).finally(() => this.busy--);
    if (res.status !== 201) {
      this.showErrors([{ zone: zone.key, message: this.problem(res, "err.upload_failed") }], []);
      this.status("");
      this.updateReady();
      return;
    }
    state.asset_id = res.data.asset_id;
    state.touched = true;
    state.fileName.textContent = file.name;
    this.schedule();
  }

  // What is sent: the shopper's input per zone, or the brand's sample where the shopper has not
  // touched the zone yet (so the first view is the product, personalized, with no error).
  payload() {
    const inputs = {};
    for (const [key, s] of Object.entries(this.inputs)) {
      if (s.kind === "text") {
        const text = s.touched ? s.text : s.sample.text;
        if (text) inputs[key] = { kind: "text", text, ...(s.font && { font: s.font }), ...(s.color && { color: s.color }), ...(s.size && { size_pt: Number(s.size) }) };
      }
      const asset = s.asset_id || s.sampleAsset;
      if (s.kind === "image" && asset) inputs[key] = { kind: "image", asset_id: asset, fit: s.fit || "cover" };
      if (s.kind === "colour" && s.color) inputs[key] = { kind: "colour", color: s.color };
    }
    return { product_id: this.config.product.id, inputs };
  }

  inputsKey() { return this.config ? JSON.stringify(this.payload()) : null; }

  // The inputs changed (or are about to): every answer in flight is stale from now on, and so is
  // a proof on screen (a refused design's findings leave with it).
  invalidate() {
    this.seq++; this.specHash = null; this.specKey = null; this.abandon?.();
    this.proofBox?.remove(); this.proofBox = null; this.updateReady();
  }

  // Debounced (80 ms) while the shopper types; the first change after a pause goes at once.
  schedule(delay = 80) {
    clearTimeout(this.timer);
    this.invalidate();
    const now = performance.now();
    if (now - (this.lastChange || -1e9) > delay) delay = 0;
    this.lastChange = now;
    this.timer = setTimeout(() => this.coalesce(), delay);
  }

  // At most one refresh in flight: a change meanwhile waits for it to end (its answer, stale, is
  // dropped at its next step) and then only the latest inputs go.
  async coalesce() {
    if (this.inflight) { this.queued = true; return; }
    this.inflight = true;
    try { await this.refresh(this.seq); } finally { this.inflight = false; }
    if (this.queued) { this.queued = false; this.coalesce(); }
  }

  status(text) { if (this.statusLine && this.statusLine.textContent !== text) this.statusLine.textContent = text; }
  setBusy(on) { this.frame?.classList.toggle("busy", on); }

  // Ready only when the preview on screen is the spec of the inputs on screen.
  isReady() {
    const key = this.inputsKey();
    return !this.busy && !!this.shown && this.specHash !== null && key !== null && this.specKey === key
      && this.shown.key === key && this.shown.specHash === this.specHash;
  }

  updateReady() {
    if (!this.saveBtn) return;
    const ready = this.isReady();
    this.saveBtn.disabled = !ready;
    this.cartBtn.disabled = !ready;
    this.cartBtn.dataset.specHash = ready ? this.specHash : "";
  }

  // Violations next to their field, in the shopper's language, saying how to fix them. An
  // untouched zone shows none of its "required" errors (the shopper has not typed yet).
  showErrors(violations, warnings) {
    this.root.querySelectorAll("[data-errors],[data-warnings]").forEach(n => (n.textContent = ""));
    this.root.querySelectorAll("[aria-invalid]").forEach(n => n.removeAttribute("aria-invalid"));
    const general = [];
    for (const v of violations) {
      const state = v.zone && this.inputs[v.zone];
      if (state && v.code === "required" && !state.touched) continue;
      const message = v.message && !v.code ? v.message : this.violation(v, state);
      const slot = state && this.root.querySelector(`[data-errors="${CSS.escape(v.zone)}"]`);
      if (slot) { slot.append(el("div", { "data-code": v.code || "" }, message)); state.input?.setAttribute("aria-invalid", "true"); }
      else general.push(message);
    }
    for (const w of warnings) {
      const slot = w.zone && this.root.querySelector(`[data-warnings="${CSS.escape(w.zone)}"]`);
      if (slot) slot.append(el("div", { "data-code": w.code || "" }, this.violation(w, this.inputs[w.zone])));
    }
    this.general.textContent = general.join(" ");
    dpiNotice(this, violations, warnings);
  }

  violation(v, state) {
    const p = { ...v.params };
    const rules = state?.zone?.rules || {};
    if (v.code === "chars_not_allowed" && rules.allowed_chars && /^[A-Z\u00C0-\u00DC]+$/.test(rules.allowed_chars)) {
      return this.t(rules.max_chars === 1 ? "err.capital_letter" : "err.capitals");
    }
    if (p.chars) p.chars = p.chars.map(c => (c.startsWith("U+") ? c : `“${c}”`)).join(" ");
    if (p.words) p.words = p.words.join(", ");
    if (p.min_dpi) p.dpi = Math.round(p.dpi);
    const key = `err.${v.code}`;
    return this.msgs?.[key] || catalogues.en?.[key] ? this.t(key, p) : this.t("err.generic");
  }

  // Guidance when the server shrank the text to fit its zone.
  shrinkHints(sizes) {
    for (const [key, s] of Object.entries(this.inputs)) {
      if (!s.hint) continue;
      const top = s.size ? Number(s.size) : s.zone.rules?.max_font_pt ?? 72;
      const got = sizes?.[key];
      const text = s.touched && got && got < top * 0.8 ? this.t("shrunk", { size: Math.round(got * 10) / 10 }) : "";
      if (s.hint.textContent !== text) s.hint.textContent = text;
    }
  }

  async refresh(seq) {
    if (seq !== this.seq) return;  // the inputs changed again before this refresh started
    const body = this.payload();
    const key = JSON.stringify(body);
    const started = performance.now();
    this.setBusy(true);
    // Validation (messages, auto-fit sizes) and the spec are asked at once: one round trip.
    this.quote(body, seq);
    this.track("preview_requested");
    const [check, spec] = await Promise.all([this.api("POST", "/personalization/validate", body), this.api("POST", "/specs", body)]);
    if (seq !== this.seq) return;  // stale answer: dropped
    if (check.status === 200 && await this.staleSamples(check.data.violations)) return;
    if (check.status !== 200) { this.setBusy(false); this.showErrors([{ message: this.problem(check, "err.generic") }], []); return; }
    this.showErrors(check.data.violations, check.data.warnings);
    this.shrinkHints(check.data.sizes);
    if (!check.data.valid || (spec.status !== 201 && spec.status !== 200)) {
      this.setBusy(false);
      const untouched = check.data.violations.every(v => v.code === "required" && !this.inputs[v.zone]?.touched);
      this.status(check.data.valid ? this.problem(spec, "err.generic") : untouched ? this.t("start") : this.t("fix"));
      if (!check.data.valid && !untouched) this.track("validation_failed");
      this.emit("luneo:change", { product_id: this.config.product.id, valid: false, spec_hash: null, preview_url: null,
        inputs: body.inputs, codes: check.data.violations.map(v => v.code) });
      return;
    }
    const specHash = spec.data.spec_hash;
    this.specHash = specHash;
    this.specKey = key;
    this.view3d?.update(specHash);  // the 3D view, when open, follows the design
    // The sample spec: its render (the config's `sample_preview`) is already on screen or loading.
    const isSample = this.config.sample_preview?.spec_hash === specHash && !this.sampleFailed;
    let url = isSample ? this.sampleUrl : await this.preview(specHash, seq);
    if (seq !== this.seq) return;
    if (!url) { this.setBusy(false); this.status(this.t("err.preview")); return; }
    let loaded = await this.show(url);
    if (seq !== this.seq) return;
    if (!loaded && isSample) {  // that file is gone (cleaned up): ask for the render as usual
      this.sampleFailed = true;
      url = await this.preview(specHash, seq);
      if (seq !== this.seq) return;
      loaded = !!url && await this.show(url);
      if (seq !== this.seq) return;
    }
    this.setBusy(false);
    if (!loaded) { this.status(this.t("err.preview")); return; }
    this.img.dataset.specHash = specHash;
    this.shown = { specHash, key, url: this.img.src };
    this.lastPreviewMs = performance.now() - started;
    this.track("preview_ready", this.lastPreviewMs);
    if (this.firstPreviewMs === undefined) { this.firstPreviewMs = performance.now() - this.connectedAt; this.fontsSoon(0); }
    const sample = Object.values(this.inputs).some(s => !s.touched && (s.sample.text || s.sample.photo_url));
    const photo = Object.values(this.inputs).some(s => s.kind === "image");
    this.status(sample ? this.t(photo ? "sample" : "sample_type") : this.t("updated"));
    this.updateReady();
    this.emit("luneo:change", { product_id: this.config.product.id, valid: true, spec_hash: specHash, preview_url: this.img.src,
      inputs: body.inputs, codes: [] });
  }

  // Put the preview on screen once it is decoded (the previous image stays until then).
  async show(url) {
    const absolute = new URL(url, document.baseURI).href;
    if (this.img.src === absolute && this.img.naturalWidth > 0) return true;
    const next = new Image();
    next.src = absolute;
    try { await next.decode(); } catch { return false; }
    this.img.src = absolute;
    this.img.hidden = false;
    return true;
  }

  async preview(specHash, seq) {
    // On the product photo when the brand gave one (a mockup rendered from the same scene).
    const mockup = !!this.config.product.mockup_px;
    let res = await this.api("POST", "/renders/preview", { spec_hash: specHash, width: 720, format: "png", mockup });
    const deadline = Date.now() + 30000;
    let polls = 0;
    while (res.data && res.data.status !== "success" && res.data.status !== "failed" && Date.now() < deadline) {
      if (seq !== this.seq) return null;
      await new Promise(r => setTimeout(r, ++polls < 20 ? 25 : 250));  // a preview takes tens of ms
      res = await this.api("GET", `/renders/${encodeURIComponent(res.data.render_id)}/status`);
    }
    const outputs = res.data?.outputs || {};
    return res.data?.status === "success" ? (outputs.preview || Object.values(outputs)[0]) : null;
  }

  async save() {
    if (!this.isReady()) return;
    await saveDesign(this);  // saved, shared, its link shown (luneo-designs.js)
  }

  // The final proof (`GET /snapshots/{id}/proof`): the texts exactly as they will be made and
  // production's print checks. When the brand requires approval the shopper ticks "I approved this
  // design" here (`POST /snapshots/{id}/approve`); a blocking finding stops here, before payment.
  async approved(snapshotId) {
    const res = await this.api("GET", `/snapshots/${encodeURIComponent(snapshotId)}/proof`);
    if (res.status !== 200) return res.status === 404 || res.status === 405;  // no proof service
    const proof = res.data;
    if (!proof.blocking && (!proof.approval_required || proof.approved)) return true;
    const title = el("h3", { tabindex: "-1" }, this.t(proof.blocking ? "proof_blocked" : "proof_title"));
    const list = el("ul", {}, ...proof.zones.map(z => el("li", {}, `${z.label}: `,
      z.kind === "text" ? el("strong", { dir: "auto" }, (z.lines || [z.text]).join(" / ")) : this.t("proof_dpi", { dpi: Math.round(z.effective_dpi || 0) }),
      z.auto_shrunk ? ` — ${this.t("proof_shrunk", { size: z.size_pt })}` : "")));
    const findings = el("ul", { class: "errors" }, ...proof.findings.map(f => el("li", { "data-code": f.code }, f.message)));
    const box = el("div", { class: "proof", part: "proof", role: "group", "aria-label": this.t("proof_title") }, title, list, findings);
    this.proofBox?.remove();
    this.proofBox = box;
    this.cartLine.before(box);
    if (proof.blocking) { title.focus(); return false; }
    const check = el("input", { type: "checkbox", id: "lw-approve" });
    const go = el("button", { class: "primary", type: "button", disabled: true }, this.t("approve_button"));
    const cancel = el("button", { class: "secondary", type: "button" }, this.t("cancel"));
    check.addEventListener("change", () => { go.disabled = !check.checked; });
    box.append(el("label", { class: "check", for: "lw-approve" }, check, this.t("approve_label")), el("div", { class: "actions" }, go, cancel));
    title.focus();
    const ok = await new Promise(resolve => {
      this.abandon = () => resolve(null);  // the inputs changed: this proof is no longer the design
      go.addEventListener("click", () => resolve(true));
      cancel.addEventListener("click", () => resolve(false));
    });
    this.abandon = null;
    box.remove();
    if (ok === false) this.cartBtn.focus();
    if (!ok) return false;
    const done = await this.api("POST", `/snapshots/${encodeURIComponent(snapshotId)}/approve`);
    if (done.status !== 200) { this.status(this.problem(done, "err.generic")); return false; }
    return true;
  }

  // Line-item properties a storefront can put on its cart line (Shopify: `properties`).
  properties(snapshotId, specHash) {
    const props = { _luneo_snapshot_id: snapshotId, _luneo_spec_hash: specHash };
    const sent = JSON.parse(this.shown.key).inputs;
    for (const s of Object.values(this.inputs)) {
      const inp = sent[s.zone.key];
      if (inp?.kind === "text") props[s.zone.label] = inp.text;
      else if (inp?.kind === "image") props[s.zone.label] = this.t("photo_added");
      else if (inp?.kind === "colour") props[s.zone.label] = inp.color;
    }
    return props;
  }

  async addToCart() {
    if (!this.isReady()) return;  // never add a design that is not the one on screen
    const specHash = this.shown.specHash;
    const product_id = this.config.product.id;
    this.track("add_to_cart_clicked");
    this.busy++;
    this.updateReady();
    try {
      const snap = await this.api("POST", "/snapshots", { spec_hash: specHash, provenance: { source: "widget" } });
      if ((snap.status !== 201 && snap.status !== 200) || snap.data?.spec_hash !== specHash) { this.status(this.problem(snap, "err.snapshot")); return; }
      this.track("snapshot_created");
      if (!(await this.approved(snap.data.id))) return;
      const detail = { product_id, snapshot_id: snap.data.id, spec_hash: specHash, preview_url: this.shown.url, quantity: 1,
        properties: this.properties(snap.data.id, specHash), cart: null };
      if (this.getAttribute("cart") !== "host") {
        const add = await this.api("POST", "/cart/add", { product_id, quantity: 1, snapshot_id: snap.data.id, spec_hash: specHash });
        if (add.status !== 201 && add.status !== 200) { this.status(this.problem(add, "err.cart")); return; }
        const cart = await this.api("GET", "/cart");
        detail.cart = cart.data;
        const total = cart.data?.currency ? this.money(cart.data.subtotal_cents, cart.data.currency) : "";
        this.cartLine.textContent = this.t("in_cart", { count: cart.data?.item_count ?? "?", total });
        this.emit("luneo:added", { snapshot_id: snap.data.id, spec_hash: specHash, cart: cart.data });
      }
      this.emit("luneo:add-to-cart", detail);
      this.status(this.t("added"));
    } finally {
      this.busy--;
      this.updateReady();
    }
  }
}

// "Start from a design": the brand's templates (`GET /widget/products/{id}/templates`) as a strip
// of thumbnails above the inputs — each a button (keyboard, ≥ 44 px) whose image is the template's
// finished preview (the same render the widget's preview gives those inputs). Choosing one fills
// every zone with the template's inputs (a zone it leaves out is emptied) and refreshes the
// preview as any change does. Previews not rendered yet are asked again a few times.
const TEMPLATE_CSS = `.tpl{margin:0 0 16px;border:0;padding:0;min-width:0}.tpl[hidden]{display:none}
.tpl legend{font-weight:600;margin-bottom:6px;padding:0}.tpl-row{display:flex;gap:8px;overflow-x:auto;padding:4px 2px}
.tpl button{flex:0 0 auto;display:grid;justify-items:center;gap:4px;min-width:76px;min-height:44px;padding:4px;
border:1px solid #9aa5b1;border-radius:8px;background:#fff;color:inherit;font:inherit;font-size:13px;cursor:pointer}
.tpl button[aria-pressed=true]{border-color:var(--a);box-shadow:0 0 0 2px var(--a)}
.tpl img,.tpl .tpl-ph{width:68px;height:68px;object-fit:contain;border-radius:4px;background:#f1f1f1}`;

function templateStrip(w) {
  const row = el("div", { class: "tpl-row", part: "templates" });
  const box = el("fieldset", { class: "tpl", hidden: true, "data-templates": "" },
    el("style", {}, TEMPLATE_CSS), el("legend", {}, w.t("templates_title")), row);
  const config = w.config;
  w.templateChosen = null;
  const load = async (tries) => {
    const res = await w.api("GET", `/widget/products/${encodeURIComponent(config.product.id)}/templates`);
    if (w.config !== config || res.status !== 200) return;
    const list = res.data.data || [];
    box.hidden = !list.length;
    const kids = [...row.children];
    if (kids.length === list.length && list.every((t, i) => kids[i].dataset.template === t.id)) {
      // the same templates: only thumbnails rendered since are put in (focus stays where it is)
      list.forEach((t, i) => { if (t.preview && !kids[i].querySelector("img")) kids[i].firstChild.replaceWith(templateButton(w, row, t).firstChild); });
    } else row.replaceChildren(...list.map(tpl => templateButton(w, row, tpl)));
    if (tries > 0 && list.some(t => !t.preview)) setTimeout(() => load(tries - 1), 2000);
  };
  load(5);
  return box;
}

function templateButton(w, row, tpl) {
  const url = tpl.preview?.url;
  const src = url ? new URL(url.startsWith("/") ? w.base + url : url, document.baseURI).href : null;
  const pic = src ? el("img", { src, alt: w.t("template_alt", { name: tpl.name }), loading: "lazy", decoding: "async" })
    : el("span", { class: "tpl-ph", role: "img", "aria-label": w.t("template_alt", { name: tpl.name }) });
  const btn = el("button", { type: "button", "aria-pressed": String(w.templateChosen === tpl.id), "data-template": tpl.id, onclick: () => {
    w.templateChosen = tpl.id;  // kept when the strip is drawn again (previews that arrived later)
    row.querySelectorAll("button").forEach(b => b.setAttribute("aria-pressed", String(b === btn)));
    applyTemplate(w, tpl.inputs || {});
  } }, pic, el("span", { "aria-hidden": "true" }, tpl.name));
  return btn;
}

function applyTemplate(w, inputs) {
  const pick = (name, value) => {
    const q = value == null ? `input[name="${CSS.escape(name)}"][value=""]` : `input[name="${CSS.escape(name)}"][value="${CSS.escape(String(value))}"]`;
    const input = w.root.querySelector(q);
    if (input) input.checked = true;
  };
  for (const [key, s] of Object.entries(w.inputs)) {
    const inp = inputs[key];
    if (s.kind === "text") {
      s.touched = true;
      s.text = inp?.text || "";
      if (s.input) s.input.value = s.text;
      w.count(s);
      s.font = inp?.font; s.color = inp?.color; s.size = inp?.size_pt != null ? String(inp.size_pt) : undefined;
      pick(`font-${key}`, s.font || s.zone.default_font);
      pick(`color-${key}`, s.color || s.zone.default_color);
      pick(`size-${key}`, s.size ?? "");
    } else if (s.kind === "colour" && inp?.color) {
      s.color = inp.color;
      pick(`color-${key}`, inp.color);
    }
  }
  w.schedule(0);
}

if (!customElements.get("luneo-personalizer")) customElements.define("luneo-personalizer", LuneoPersonalizer);
