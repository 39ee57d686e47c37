// <luneo-personalizer api-base="https://api.example" key="pk_live_…" product="prd_…">
// A dependency-free web component: draws a form from the product's zones and rules, validates on
// the server as the shopper types, shows the server-rendered preview, saves designs and adds the
// frozen snapshot to the cart. Prices, previews and file URLs always come from the server.
//
// "Add to cart" is bound to the design on screen: every change of the inputs bumps a sequence
// number that every request carries (in X-Request-ID) and that answers are checked against, so a
// stale answer is dropped; the button is enabled only while the preview on screen is the spec of
// the current inputs, and the cart line is added with that spec_hash (the server checks it).

const css = `
:host { display: block; font-family: system-ui, sans-serif; color: #1f2933; }
.wrap { display: grid; grid-template-columns: minmax(260px, 1fr) minmax(280px, 1.2fr); gap: 24px; }
@media (max-width: 720px) { .wrap { grid-template-columns: 1fr; } }
.panel { background: #fff; border-radius: 10px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 18px; margin: 0 0 4px; } .price { color: #52606d; margin-bottom: 12px; }
.zone { margin-bottom: 14px; } .zone label { display: block; font-weight: 600; margin-bottom: 4px; }
input[type=text], textarea, select { width: 100%; box-sizing: border-box; font-size: 15px; padding: 7px; border: 1px solid #cbd2d9; border-radius: 6px; }
.swatches { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
.swatch { width: 24px; height: 24px; border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 0 1px #9aa5b1; cursor: pointer; padding: 0; }
.swatch[aria-pressed=true] { box-shadow: 0 0 0 2px #1f3a5f; }
.errors { color: #b42318; font-size: 13px; margin-top: 4px; } .warnings { color: #9a6700; font-size: 13px; margin-top: 4px; }
.preview { min-height: 240px; display: flex; align-items: center; justify-content: center; background: repeating-conic-gradient(#f1f1f1 0% 25%, #fff 0% 50%) 50% / 20px 20px; border-radius: 8px; }
.preview img { max-width: 100%; max-height: 480px; }
.status { font-size: 13px; color: #52606d; margin-top: 8px; min-height: 18px; }
.actions { display: flex; gap: 8px; margin-top: 12px; }
button.primary, button.secondary { font-size: 15px; padding: 9px 14px; border-radius: 6px; border: 0; cursor: pointer; }
button.primary { background: #1f3a5f; color: #fff; } button.secondary { background: #e4e7eb; }
button:disabled { opacity: .5; cursor: not-allowed; }
.cart { margin-top: 10px; font-size: 14px; }
`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function money(cents, currency) {
  try { return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100); }
  catch { return `${(cents / 100).toFixed(2)} ${currency}`; }
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

class LuneoPersonalizer extends HTMLElement {
  static get observedAttributes() { return ["product", "key", "api-base"]; }

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

  connectedCallback() { this.started = true; this.load(); }
  attributeChangedCallback(_n, oldV, newV) { if (this.started && oldV !== newV) this.load(); }

  get base() { return (this.getAttribute("api-base") || "").replace(/\/$/, ""); }
  get key() { return this.getAttribute("key") || ""; }

  async api(method, path, body, extraHeaders = {}) {
    const headers = { Authorization: `Bearer ${this.key}`, "X-Shopper-Token": shopperToken(this.key),
      "X-Request-ID": `${this.rid}-s${this.seq}-${++this.calls}`, ...extraHeaders };
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const res = await fetch(`${this.base}/api/v1${path}`, { method, headers, body: payload });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data };
  }

  async load() {
    const product = this.getAttribute("product");
    if (!product || !this.key) return;
    this.inputs = {};
    this.invalidate();
    this.shown = null;
    const loading = (this.loading = (this.loading || 0) + 1);
    const { status, data } = await this.api("GET", `/widget/config/${encodeURIComponent(product)}`);
    if (loading !== this.loading) return;  // a newer product was asked for meanwhile
    if (status !== 200) { this.root.replaceChildren(el("p", {}, data?.detail || "This product is not available.")); return; }
    this.config = data;
    this.draw();
    this.schedule();
  }

  draw() {
    const { product, zones, fonts } = this.config;
    const form = el("div", { class: "panel", part: "form" },
      el("h2", {}, product.name), el("div", { class: "price" }, money(product.price_cents, product.currency)));
    for (const zone of zones) form.append(this.zoneField(zone, fonts, product.palette));
    this.general = el("div", { class: "errors", role: "alert" });
    form.append(this.general);
    this.img = el("img", { alt: "Preview of your design", part: "preview-image" });
    this.img.hidden = true;
    this.statusLine = el("div", { class: "status", "aria-live": "polite" });
    this.saveBtn = el("button", { class: "secondary", type: "button", onclick: () => this.save() }, "Save design");
    this.cartBtn = el("button", { class: "primary", type: "button", onclick: () => this.addToCart() }, "Add to cart");
    this.cartLine = el("div", { class: "cart", part: "cart" });
    const preview = el("div", { class: "panel" }, el("div", { class: "preview" }, this.img), this.statusLine,
      el("div", { class: "actions" }, this.saveBtn, this.cartBtn), this.cartLine);
    this.root.replaceChildren(el("style", {}, css), el("div", { class: "wrap" }, form, preview));
    this.updateReady();
  }

  zoneField(zone, fonts, palette) {
    const box = el("div", { class: "zone", "data-zone": zone.key });
    const id = `z-${zone.key}`;
    box.append(el("label", { for: id }, zone.label + (zone.rules.required ? " *" : "")));
    const state = (this.inputs[zone.key] = { kind: zone.kind });
    if (zone.kind === "text") {
      const multi = (zone.rules.max_lines || 1) > 1;
      const input = el(multi ? "textarea" : "input", { id, type: multi ? undefined : "text", rows: multi ? zone.rules.max_lines : undefined,
        maxlength: zone.rules.max_chars ? zone.rules.max_chars * 4 : undefined, autocomplete: "off", name: zone.key,
        oninput: e => { state.text = e.target.value; this.schedule(); } });
      box.append(input);
      const allowed = zone.rules.allowed_fonts || [];
      if (allowed.length > 1) {
        const select = el("select", { "aria-label": `${zone.label} font`, onchange: e => { state.font = e.target.value; this.schedule(); } });
        for (const f of fonts.filter(f => allowed.includes(f.id))) {
          select.append(el("option", { value: f.id, selected: f.id === zone.default_font ? "" : undefined }, f.family));
        }
        box.append(select);
      }
      this.swatches(box, zone.rules.allowed_colors?.length ? zone.rules.allowed_colors : [], zone.default_color, c => { state.color = c; this.schedule(); });
    } else if (zone.kind === "image") {
      const input = el("input", { id, type: "file", accept: "image/png,image/jpeg,image/webp", onchange: e => this.upload(zone, state, e.target.files[0]) });
      const fit = el("select", { "aria-label": `${zone.label} fit`, onchange: e => { state.fit = e.target.value; this.schedule(); } },
        el("option", { value: "cover" }, "Fill the area"), el("option", { value: "contain" }, "Show whole image"), el("option", { value: "smart" }, "Smart crop"));
      box.append(input, fit);
    } else {
      const colors = zone.rules.allowed_colors?.length ? zone.rules.allowed_colors : palette;
      state.color = zone.default_color || colors[0];
      this.swatches(box, colors, state.color, c => { state.color = c; this.schedule(); });
    }
    box.append(el("div", { class: "errors", "data-errors": zone.key }), el("div", { class: "warnings", "data-warnings": zone.key }));
    return box;
  }

  swatches(box, colors, current, onPick) {
    if (!colors || colors.length < 2) return;
    const row = el("div", { class: "swatches", role: "group" });
    for (const c of colors) {
      const b = el("button", { class: "swatch", type: "button", title: c, "aria-label": c, "aria-pressed": String(c === current), style: `background:${c}`,
        onclick: () => { row.querySelectorAll(".swatch").forEach(s => s.setAttribute("aria-pressed", "false")); b.setAttribute("aria-pressed", "true"); onPick(c); } });
      row.append(b);
    }
    box.append(row);
  }

  async upload(zone, state, file) {
    if (!file) return;
    this.status("Uploading…");
    this.busy++;
    this.invalidate();  // the photo on screen is no longer the one chosen
    const form = new FormData();
    form.append("file", file);
    const { status, data } = await this.api("POST", "/widget/uploads", form).finally(() => this.busy--);
    if (status !== 201) { this.showErrors([{ zone: zone.key, message: data?.detail || "Upload failed." }], []); this.status(""); this.updateReady(); return; }
    state.asset_id = data.asset_id;
    this.schedule();
  }

  payload() {
    const inputs = {};
    for (const [key, s] of Object.entries(this.inputs)) {
      if (s.kind === "text" && s.text && s.text.length) inputs[key] = { kind: "text", text: s.text, ...(s.font && { font: s.font }), ...(s.color && { color: s.color }) };
      if (s.kind === "image" && s.asset_id) inputs[key] = { kind: "image", asset_id: s.asset_id, fit: s.fit || "cover" };
      if (s.kind === "colour" && s.color) inputs[key] = { kind: "colour", color: s.color };
    }
    return { product_id: this.config.product.id, inputs };
  }

  inputsKey() { return this.config ? JSON.stringify(this.payload()) : null; }

  // The inputs changed (or are about to): every answer in flight is stale from now on.
  invalidate() { this.seq++; this.specHash = null; this.specKey = null; this.updateReady(); }

  schedule() {
    clearTimeout(this.timer);
    this.invalidate();
    const seq = this.seq;
    this.timer = setTimeout(() => this.refresh(seq), 350);
  }

  status(text) { if (this.statusLine) this.statusLine.textContent = text; }

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

  showErrors(violations, warnings) {
    this.root.querySelectorAll("[data-errors],[data-warnings]").forEach(n => (n.textContent = ""));
    const general = [];
    for (const v of violations) {
      const slot = v.zone && this.root.querySelector(`[data-errors="${CSS.escape(v.zone)}"]`);
      if (slot) slot.append(el("div", { "data-code": v.code || "" }, v.message)); else general.push(v.message);
    }
    for (const w of warnings) {
      const slot = w.zone && this.root.querySelector(`[data-warnings="${CSS.escape(w.zone)}"]`);
      if (slot) slot.append(el("div", {}, w.message));
    }
    this.general.textContent = general.join(" ");
  }

  async refresh(seq) {
    if (seq !== this.seq) return;  // the inputs changed again before this refresh started
    const body = this.payload();
    const key = JSON.stringify(body);
    const check = await this.api("POST", "/personalization/validate", body);
    if (seq !== this.seq) return;  // stale answer: dropped
    if (check.status !== 200) { this.showErrors([{ message: check.data?.detail || "Validation failed." }], []); return; }
    this.showErrors(check.data.violations, check.data.warnings);
    if (!check.data.valid) { this.status("Fix the highlighted fields to see your preview."); return; }
    this.status("Rendering preview…");
    const spec = await this.api("POST", "/specs", body);
    if (seq !== this.seq) return;
    if (spec.status !== 201 && spec.status !== 200) { this.status(spec.data?.detail || "The design could not be checked; please try again."); return; }
    const specHash = spec.data.spec_hash;
    this.specHash = specHash;
    this.specKey = key;
    const url = await this.preview(specHash, seq);
    if (seq !== this.seq) return;
    if (!url) { this.status("The preview could not be rendered; please try again."); return; }
    const loaded = await this.show(url);
    if (seq !== this.seq) return;
    if (!loaded) { this.status("The preview could not be shown; please try again."); return; }
    this.img.hidden = false;
    this.img.dataset.specHash = specHash;
    this.shown = { specHash, key };
    this.status("");
    this.updateReady();
  }

  // Put the preview on screen; resolves once the image is displayed (true) or failed (false).
  show(url) {
    return new Promise(resolve => {
      const img = this.img;
      const absolute = new URL(url, document.baseURI).href;
      if (img.src === absolute && img.complete && img.naturalWidth > 0) { resolve(true); return; }
      img.onload = () => resolve(true);
      img.onerror = () => resolve(false);
      img.src = url;
    });
  }

  async preview(specHash, seq) {
    let res = await this.api("POST", "/renders/preview", { spec_hash: specHash, width: 720, format: "png" });
    const deadline = Date.now() + 30000;
    while (res.data && res.data.status !== "success" && res.data.status !== "failed" && Date.now() < deadline) {
      if (seq !== this.seq) return null;
      await new Promise(r => setTimeout(r, 400));
      res = await this.api("GET", `/renders/${encodeURIComponent(res.data.render_id)}/status`);
    }
    const outputs = res.data?.outputs || {};
    return res.data?.status === "success" ? (outputs.preview || Object.values(outputs)[0]) : null;
  }

  async save() {
    if (!this.isReady()) return;
    const name = `${this.config.product.name} — ${new Date().toLocaleString()}`;
    const { status } = await this.api("POST", "/designs", { name, source: "widget", spec_hash: this.shown.specHash });
    this.status(status === 201 ? "Design saved." : "Could not save the design.");
  }

  async addToCart() {
    if (!this.isReady()) return;  // never add a design that is not the one on screen
    const specHash = this.shown.specHash;
    this.busy++;
    this.updateReady();
    try {
      const snap = await this.api("POST", "/snapshots", { spec_hash: specHash, provenance: { source: "widget" } });
      if ((snap.status !== 201 && snap.status !== 200) || snap.data?.spec_hash !== specHash) { this.status(snap.data?.detail || "Could not freeze the design."); return; }
      const add = await this.api("POST", "/cart/add", { product_id: this.config.product.id, quantity: 1, snapshot_id: snap.data.id, spec_hash: specHash });
      if (add.status !== 201 && add.status !== 200) { this.status(add.data?.detail || "Could not add to the cart."); return; }
      const cart = await this.api("GET", "/cart");
      const total = cart.data?.currency ? ` — ${money(cart.data.subtotal_cents, cart.data.currency)}` : "";
      this.cartLine.textContent = `In your cart: ${cart.data?.item_count ?? "?"} item(s)${total}.`;
      this.dispatchEvent(new CustomEvent("luneo:added", { detail: { snapshot_id: snap.data.id, spec_hash: specHash, cart: cart.data }, bubbles: true, composed: true }));
      this.status("Added to your cart.");
    } finally {
      this.busy--;
      this.updateReady();
    }
  }
}

customElements.define("luneo-personalizer", LuneoPersonalizer);
