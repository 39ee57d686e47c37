// Help links (templates/_support.html): with a Crisp website id, a click opens the Crisp chat
// (its script loaded on first use) with the brand, user and subject ids as session data;
// without JavaScript the link stays a mailto: to the support address.
function loadCrisp(websiteId) {
  if (window.$crisp) return;
  window.$crisp = [];
  window.CRISP_WEBSITE_ID = websiteId;
  const script = document.createElement("script");
  script.src = "https://client.crisp.chat/l.js";
  script.async = true;
  document.head.appendChild(script);
}

document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a.help-link[data-crisp-website]") : null;
  if (!link) return;
  event.preventDefault();
  loadCrisp(link.dataset.crispWebsite);
  let data = [];
  try {
    data = JSON.parse(link.dataset.crispSession || "[]");
  } catch {
    data = [];
  }
  if (data.length) window.$crisp.push(["set", "session:data", [data]]);
  window.$crisp.push(["do", "chat:open"]);
});
