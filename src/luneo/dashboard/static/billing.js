// Billing inside a frame (Shopify admin): the checkout forms post into a new top-level window
// (`target="_blank"`, Stripe Checkout refuses frames). Here the page says to finish there and,
// when the person comes back to the frame, refreshes the balance figure; its answer's
// `HX-Trigger: luneo:credits` refreshes the header badge too.
const notice = document.querySelector("[data-checkout-notice]");
let opened = false;

for (const form of document.querySelectorAll("form[data-checkout-window]")) {
  form.addEventListener("submit", () => {
    opened = true;
    if (notice) notice.hidden = false;
  });
}

function refresh() {
  if (!opened || document.visibilityState !== "visible" || !window.htmx) return;
  window.htmx.ajax("GET", "/dashboard/billing/balance", { target: "#balance-figure", swap: "outerHTML" });
}

window.addEventListener("focus", refresh);
document.addEventListener("visibilitychange", refresh);
