/* Luneo app embed: the personalization always reaches the cart.
 *
 * Whatever path the theme uses to add to the cart — a native `<form action="/cart/add">` submit,
 * `fetch` or `XMLHttpRequest` to `/cart/add` or `/cart/add.js` with a JSON, FormData or urlencoded
 * body — a line of the page's personalizable product gets the line-item properties that Luneo signed
 * for the shopper's snapshot (`POST /apps/luneo/properties`), or is refused with a message when the
 * shopper has not personalized it yet. The widget (`<luneo-personalizer cart="host">`) announces the
 * snapshot with `luneo:add-to-cart`; a change of the design (`luneo:change`) forgets it. In the cart
 * (page or drawer) the lines that carry `_luneo_preview` show the design's mockup. Plain ES, no build.
 */
(function () {
  "use strict";
  if (window.__luneoCart) return;

  var cfg = {};
  try { cfg = JSON.parse((document.getElementById("luneo-embed-config") || {}).textContent || "{}") || {}; } catch (e) { cfg = {}; }
  var PROXY = String(cfg.proxy || "/apps/luneo").replace(/\/$/, "");
  var ROOT = PROXY.replace(/apps\/luneo$/, "");
  var MSG = cfg.messages || {};
  var PERSONALIZE_FIRST = MSG.personalize_first || "Personalize this product before adding it to your cart.";
  var UNAVAILABLE = MSG.unavailable || "Your personalization could not be attached. Please try again.";
  var product = cfg.product && cfg.product.id ? cfg.product : null;
  var variants = {};
  (product ? product.variants || [] : []).forEach(function (v) { variants[String(v)] = true; });

  var nativeFetch = window.fetch.bind(window);
  var state = { snapshot: null, props: null, loading: null, pendingForm: null, cart: [] };
  var HTTPS = /^https:\/\/[^\s"'<>]+$/;

  // --- is this product personalizable (mapped in Luneo)? -------------------------------------
  var personalizable = product
    ? nativeFetch(PROXY + "/config?product=" + encodeURIComponent(product.id), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (res) { return res.ok; }, function () { return false; })  // Luneo unreachable: checkout validation still guards
    : Promise.resolve(false);
  var personalizableNow = null;
  personalizable.then(function (v) { personalizableNow = v; });

  function isCartAdd(url) {
    try {
      var u = new URL(String(url), location.href);
      return u.origin === location.origin && /\/cart\/add(\.js|\.json)?$/.test(u.pathname);
    } catch (e) { return false; }
  }

  function properties(snapshot) {
    if (state.props && state.props.snapshot === snapshot) return Promise.resolve(state.props.values);
    if (state.loading && state.loading.snapshot === snapshot) return state.loading.promise;
    var promise = nativeFetch(PROXY + "/properties", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ snapshot_id: snapshot }),
    }).then(function (res) { return res.ok ? res.json() : null; }).then(function (data) {
      var values = data && data.properties;
      if (!values || values._luneo_snapshot !== snapshot || !/^[0-9a-f]{64}$/.test(values._luneo_sig || "")) return null;
      if (state.snapshot === snapshot) state.props = { snapshot: snapshot, values: values };
      return values;
    }, function () { return null; });
    state.loading = { snapshot: snapshot, promise: promise };
    return promise;
  }

  function widget() {
    var list = document.querySelectorAll("luneo-personalizer");
    for (var i = 0; i < list.length; i++) {
      var p = list[i].getAttribute("data-shopify-product");
      if (!product || !p || String(p) === String(product.id)) return list[i];
    }
    return null;
  }

  // What to do with an add of these variant ids: {props} to attach, {block: message}, or {} (leave).
  function decide(ids) {
    var relevant = ids.some(function (id) { return variants[String(id)]; });
    if (!relevant) return Promise.resolve({});
    return personalizable.then(function (yes) {
      if (!yes) return {};
      if (!state.snapshot) return { block: PERSONALIZE_FIRST, personalize: true };
      return properties(state.snapshot).then(function (props) { return props ? { props: props } : { block: UNAVAILABLE }; });
    });
  }

  // --- messages -------------------------------------------------------------------------------
  function showMessage(text, form) {
    var host = form || document.body;
    var box = host.querySelector(".luneo-cart-message");
    if (!box) {
      box = document.createElement("div");
      box.className = "luneo-cart-message";
      box.setAttribute("role", "alert");
      box.style.cssText = "margin:8px 0;padding:10px 12px;border-radius:6px;background:#fdecea;color:#8a1c12;font:inherit;";
      if (!form) box.style.cssText += "position:fixed;left:16px;right:16px;bottom:16px;z-index:2147483000;";
      host.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
  }
  function clearMessages() {
    var list = document.querySelectorAll(".luneo-cart-message");
    for (var i = 0; i < list.length; i++) list[i].hidden = true;
  }
  function productForm() {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var id = forms[i].elements && forms[i].elements.namedItem("id");
      if (isCartAdd(forms[i].getAttribute("action") || "") && id && variants[String(id.value)]) return forms[i];
    }
    return null;
  }

  // --- bodies ---------------------------------------------------------------------------------
  function withProps(target, props) {  // FormData / URLSearchParams
    Object.keys(props).forEach(function (k) { target.set("properties[" + k + "]", props[k]); });
    return target;
  }
  function prepare(body) {
    if (body instanceof FormData || body instanceof URLSearchParams) {
      return decide(body.getAll("id")).then(function (d) {
        if (d.props) withProps(body, d.props);
        return { d: d, body: body };
      });
    }
    if (typeof body === "string") {
      var json = null;
      try { json = JSON.parse(body); } catch (e) { json = null; }
      if (json && typeof json === "object") {
        var items = Array.isArray(json.items) ? json.items : [json];
        return decide(items.map(function (it) { return it && it.id; })).then(function (d) {
          if (d.props) items.forEach(function (it) {
            if (it && variants[String(it.id)]) it.properties = Object.assign({}, it.properties || {}, d.props);
          });
          return { d: d, body: d.props ? JSON.stringify(json) : body };
        });
      }
      var params = new URLSearchParams(body);
      return decide(params.getAll("id")).then(function (d) {
        return { d: d, body: d.props ? withProps(params, d.props).toString() : body };
      });
    }
    return Promise.resolve({ d: {}, body: body });
  }
  function refused(d) {
    showMessage(d.block, productForm());
    if (d.personalize) askWidget(null);
    return JSON.stringify({ status: 422, message: "Cart Error", description: d.block });
  }
  function afterAdd(ok) { if (ok) { clearMessages(); setTimeout(refreshCart, 0); } }

  // --- fetch ----------------------------------------------------------------------------------
  window.fetch = function (resource, init) {
    var url = typeof resource === "string" ? resource : resource && (resource.href || resource.url);
    var method = String((init && init.method) || (resource && resource.method) || "GET").toUpperCase();
    if (method !== "POST" || !isCartAdd(url) || !init || init.body == null) return nativeFetch(resource, init);
    return prepare(init.body).then(function (r) {
      if (r.d.block) return new Response(refused(r.d), { status: 422, headers: { "Content-Type": "application/json" } });
      return nativeFetch(resource, Object.assign({}, init, { body: r.body })).then(function (res) { afterAdd(res.ok); return res; });
    });
  };

  // --- XMLHttpRequest -------------------------------------------------------------------------
  var XHR = window.XMLHttpRequest && window.XMLHttpRequest.prototype;
  if (XHR) {
    var open = XHR.open, send = XHR.send;
    XHR.open = function (method, url) {
      this.__luneo = { method: String(method).toUpperCase(), url: String(url) };
      return open.apply(this, arguments);
    };
    XHR.send = function (body) {
      var xhr = this, info = this.__luneo;
      if (!info || info.method !== "POST" || !isCartAdd(info.url) || body == null) return send.apply(this, arguments);
      prepare(body).then(function (r) {
        if (!r.d.block) {
          xhr.addEventListener("load", function () { afterAdd(xhr.status >= 200 && xhr.status < 300); });
          return send.call(xhr, r.body);
        }
        // answer like Shopify's /cart/add.js does for a refused add, without sending anything
        var text = refused(r.d);
        var fake = { readyState: 4, status: 422, statusText: "Unprocessable Entity", responseText: text,
          response: xhr.responseType === "json" ? JSON.parse(text) : text };
        Object.keys(fake).forEach(function (k) { Object.defineProperty(xhr, k, { configurable: true, value: fake[k] }); });
        ["readystatechange", "load", "loadend"].forEach(function (t) { xhr.dispatchEvent(new Event(t)); });
      });
    };
  }

  // --- native form submits (capture: before the theme's own handlers) --------------------------
  function inject(form, props) {
    Object.keys(props).forEach(function (k) {
      var name = "properties[" + k + "]";
      var input = null;
      for (var i = 0; i < form.elements.length; i++) if (form.elements[i].name === name) { input = form.elements[i]; break; }
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.setAttribute("data-luneo-prop", "");
        form.appendChild(input);
      }
      input.value = props[k];
    });
  }
  function resubmit(form, submitter) {
    if (form.requestSubmit) form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    else form.submit();
  }
  function askWidget(form) {
    var w = widget();
    if (w && typeof w.isReady === "function" && w.isReady() && typeof w.addToCart === "function") {
      state.pendingForm = form;  // the widget freezes the design (and asks for approval if needed)
      w.addToCart();
      return true;
    }
    if (w && w.scrollIntoView) w.scrollIntoView({ block: "center", behavior: "smooth" });
    return false;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !isCartAdd(form.getAttribute("action") || form.action)) return;
    var id = form.elements.namedItem("id");
    if (!id || !variants[String(id.value)]) return;
    if (personalizableNow === false) return;
    if (personalizableNow === true && state.props && state.props.snapshot === state.snapshot) {
      inject(form, state.props.values);  // synchronous: the theme's handlers see the properties too
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter;
    decide([id.value]).then(function (d) {
      if (d.props) { inject(form, d.props); resubmit(form, submitter); return; }
      if (!d.block) { personalizableNow = false; resubmit(form, submitter); return; }
      if (d.personalize && askWidget(form)) return;
      showMessage(d.block, form);
    });
  }, true);

  // --- the widget -----------------------------------------------------------------------------
  document.addEventListener("luneo:change", function (event) {
    var d = event.detail || {};
    if (!state.snapshot || d.spec_hash !== state.specHash) { state.snapshot = null; state.props = null; state.specHash = null; }
  });
  document.addEventListener("luneo:add-to-cart", function (event) {
    var d = event.detail || {};
    if (typeof d.snapshot_id !== "string" || !/^snap_[A-Za-z0-9]+$/.test(d.snapshot_id)) return;
    state.snapshot = d.snapshot_id;
    state.specHash = d.spec_hash || null;
    state.props = null;
    var form = state.pendingForm || productForm();
    state.pendingForm = null;
    properties(d.snapshot_id).then(function (props) {
      if (!props) { showMessage(UNAVAILABLE, form); return; }
      if (form) { inject(form, props); resubmit(form, null); return; }
      var first = product && product.variants && product.variants[0];
      if (!first) return;
      window.fetch(ROOT + "cart/add.js", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ items: [{ id: first, quantity: d.quantity || 1 }] }),
      }).then(function (res) { if (res.ok) location.href = ROOT + "cart"; });
    });
  });

  // --- mockups in the cart (page and drawer) --------------------------------------------------
  var LINE = "[data-luneo-line], .cart-item, .cart-drawer-item, [id^='CartItem'], [id^='CartDrawer-Item'], li, tr";
  function lineElements(variantId) {
    var anchors = document.querySelectorAll("a[href*='variant=" + variantId + "']");
    var lines = [];
    for (var i = 0; i < anchors.length; i++) {
      if (anchors[i].closest("form[action*='/cart/add']")) continue;
      var line = anchors[i].closest(LINE);
      if (line && lines.indexOf(line) < 0) lines.push(line);
    }
    return lines;
  }
  function applyThumbs() {
    var seen = {};
    state.cart.forEach(function (item) {
      var v = String(item.variant_id);
      var k = seen[v] = (seen[v] || 0) + 1;
      var url = item.properties && item.properties._luneo_preview;
      if (!url || !HTTPS.test(url)) return;
      lineElements(v).forEach(function (line, idx, all) {
        // several lines of one variant: the k-th line in the DOM is the k-th such item of the cart
        if (all.length > 1 && idx !== k - 1) return;
        var img = line.querySelector("img");
        if (img && img.getAttribute("data-luneo-preview") === url) return;
        if (!img) {
          img = document.createElement("img");
          img.width = 80;
          img.height = 80;
          img.className = "luneo-cart-thumb";
          line.insertBefore(img, line.firstChild);
        }
        img.removeAttribute("srcset");
        img.removeAttribute("sizes");
        img.src = url;
        img.alt = item.product_title ? item.product_title + " — your design" : "Your design";
        img.setAttribute("data-luneo-preview", url);
      });
    });
  }
  function refreshCart() {
    return nativeFetch(ROOT + "cart.js", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (cart) { if (cart && Array.isArray(cart.items)) { state.cart = cart.items; applyThumbs(); } }, function () {});
  }
  var timer = null;
  new MutationObserver(function () {
    clearTimeout(timer);
    timer = setTimeout(applyThumbs, 60);
  }).observe(document.documentElement, { childList: true, subtree: true });
  refreshCart();

  window.__luneoCart = { refresh: refreshCart };
})();
