// Dashboard behaviour shared by every page: CSRF header on HTMX requests, the mobile menu,
// and the low-credits upsell (once per browser session, dismissable).
const csrf = document.querySelector('meta[name="csrf-token"]')?.content;

document.body.addEventListener("htmx:configRequest", (event) => {
  if (csrf) event.detail.headers["X-CSRF-Token"] = csrf;
});

const toggle = document.querySelector(".nav-toggle");
const nav = document.getElementById("main-nav");
if (toggle && nav) {
  toggle.addEventListener("click", () => {
    const open = nav.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

const UPSELL_KEY = "luneo:upsell-dismissed";
function maybeUpsell() {
  const badge = document.querySelector("#credits-badge .credits-badge");
  const dialog = document.getElementById("upsell");
  if (!badge || !dialog || typeof dialog.showModal !== "function") return;
  const level = badge.dataset.level;
  if ((level === "low" || level === "empty") && !sessionStorage.getItem(UPSELL_KEY) && !dialog.open) {
    dialog.showModal();
    sessionStorage.setItem(UPSELL_KEY, "1"); // once per browser session, whatever the answer
  }
}
document.getElementById("upsell")?.addEventListener("close", () => sessionStorage.setItem(UPSELL_KEY, "1"));
document.querySelector("#upsell [data-dismiss]")?.addEventListener("click", () => {
  sessionStorage.setItem(UPSELL_KEY, "1");
  document.getElementById("upsell").close();
});
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.target.id === "credits-badge") maybeUpsell();
});
