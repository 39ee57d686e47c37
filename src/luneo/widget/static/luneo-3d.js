// The widget's 3D view and "View in your space" (imported by luneo-widget.js only when the shopper
// opens 3D; it imports Google's <model-viewer> — vendor/, Apache-2.0 — only then, and only where
// WebGL exists: without it the 2D mockup stays on screen with a note saying why).
//
// The model wears the design on screen: `POST /renders/preview3d {spec_hash}` answers a preview GLB
// (`src`; Scene Viewer on Android) and USDZ (`ios-src`; AR Quick Look on iOS), cached by spec_hash
// on the server. While 3D is open, every new valid design is asked for again (debounced); an answer
// for an older design is dropped. Analytics: `3d_opened`, `ar_opened`.

const VIEWER = new URL("vendor/model-viewer-4.4.0.min.js", import.meta.url).href;
const DEBOUNCE_MS = 250;

const css = `model-viewer{position:absolute;inset:0;width:100%;height:100%;z-index:1;background:var(--luneo-surface,#fff);--poster-color:transparent}
model-viewer[hidden]{display:none}
.ar{position:absolute;bottom:10px;left:50%;transform:translateX(-50%);min-height:44px;padding:10px 18px;border:0;border-radius:22px;
background:var(--luneo-accent,#1f3a5f);color:#fff;font:inherit;font-size:16px;cursor:pointer;white-space:nowrap}`;

/** Whether this browser can draw WebGL (no: the widget keeps the 2D mockup). */
export function hasWebGL() {
  try {
    const canvas = document.createElement("canvas");
    return !!(canvas.getContext("webgl2") || canvas.getContext("webgl") || canvas.getContext("experimental-webgl"));
  } catch {
    return false;
  }
}

export class Viewer3D {
  /** @param widget the <luneo-personalizer> (its api, t, status, track, frame, btn3d, img). */
  constructor(widget) {
    this.w = widget;
    this.open = false;
    this.seq = 0;      // bumped per request: an older answer is dropped
    this.spec = null;  // the spec_hash the model on screen wears
    widget.view3d = this;
  }

  get live() { return this.w.view3d === this; }  // false once the widget drew another product

  toggle() { return this.open ? this.close() : this.show(); }

  async show() {
    const w = this.w;
    if (!hasWebGL()) { this.fallback("no_webgl"); return; }
    this.open = true;
    w.btn3d.setAttribute("aria-pressed", "true");
    if (!this.mv) {
      w.status(w.t("loading_3d"));
      try { await import(VIEWER); } catch { this.fallback("err.network"); return; }
      if (!this.live || !this.open) return;
      this.build();
    }
    this.mv.hidden = false;
    w.track("3d_opened");
    this.update(w.shown?.specHash || w.specHash, 0);
  }

  close() {
    this.open = false;
    clearTimeout(this.timer);
    this.w.btn3d.setAttribute("aria-pressed", "false");
    if (this.mv) this.mv.hidden = true;
  }

  // Back to the 2D mockup, saying why (no WebGL, the viewer could not load or draw).
  fallback(key) {
    this.close();
    this.w.status(this.w.t(key));
  }

  build() {
    const w = this.w;
    const mv = (this.mv = document.createElement("model-viewer"));
    const attrs = { part: "model", alt: w.t("model_alt"), ar: "", "ar-modes": "webxr scene-viewer quick-look", "camera-controls": "",
      "touch-action": "pan-y", "shadow-intensity": "1", "interaction-prompt": "none", reveal: "auto", loading: "eager" };
    for (const [k, v] of Object.entries(attrs)) mv.setAttribute(k, v);
    const ar = document.createElement("button");
    Object.assign(ar, { type: "button", className: "ar", textContent: w.t("ar_view") });
    ar.setAttribute("slot", "ar-button");
    ar.setAttribute("part", "ar-button");
    ar.addEventListener("click", () => w.track("ar_opened"));
    mv.append(ar);
    mv.addEventListener("load", () => { if (this.open && !this.ready) { this.ready = true; w.status(w.t("ready_3d")); } });
    mv.addEventListener("error", e => { if (this.open && e.detail?.type === "webglcontextlost") this.fallback("no_webgl"); });
    const style = document.createElement("style");
    style.textContent = css;
    w.frame.append(style, mv);
  }

  // The design changed (or 3D just opened): ask for its model, once the shopper pauses.
  update(specHash, delay = DEBOUNCE_MS) {
    if (!this.open || !specHash || specHash === this.spec || !this.live) return;
    clearTimeout(this.timer);
    const seq = ++this.seq;
    this.timer = setTimeout(() => this.fetch(specHash, seq), delay);
  }

  async fetch(specHash, seq) {
    const w = this.w;
    const res = await w.api("POST", "/renders/preview3d", { spec_hash: specHash });
    if (seq !== this.seq || !this.open || !this.live) return;
    if (res.status !== 200) {
      if (res.status === 409) this.fallback("err.no_3d_model");
      else w.status(w.problem(res, "err.preview3d"));
      return;
    }
    this.spec = specHash;
    const { glb, usdz, poster } = res.data;
    const still = poster?.url || (w.shown ? w.img.src : "");
    if (still) this.mv.setAttribute("poster", still);
    this.mv.setAttribute("ios-src", usdz.url);
    this.mv.setAttribute("src", glb.url);
    this.mv.dataset.specHash = specHash;
  }
}
