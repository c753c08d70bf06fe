// S2O behaviours without inline scripts (a strict CSP holds): confirmations and auto-submit.
// A form with data-confirm-submit asks once the browser has validated it (so an empty required
// choice is pointed out first); "{outcome}" in the question becomes the chosen option's text.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirmSubmit;
  if (!question) return;
  const select = form.querySelector("select[name=outcome]");
  const chosen = select && select.selectedIndex >= 0 ? select.options[select.selectedIndex].text : "";
  if (!window.confirm(question.replace("{outcome}", chosen))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
});
document.addEventListener("click", (event) => {
  const el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.dataset.confirm)) {
    event.preventDefault();
    event.stopPropagation();
  }
});
document.addEventListener("change", (event) => {
  const el = event.target.closest("[data-autosubmit]");
  if (el && el.form) el.form.requestSubmit();
});
// A form submits once: a double click never files twice (the server's one-time token is the guarantee).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  setTimeout(() => { form.dataset.submitted = ""; }, 4000);
});
// A table that scrolls sideways in its box (.table-responsive, on a phone) can be scrolled with the
// keyboard: it takes the focus as a named region (axe-core "scrollable-region-focusable").
function headingBefore(el) {
  for (let node = el; node && node !== document.body; node = node.parentElement) {
    for (let sib = node.previousElementSibling; sib; sib = sib.previousElementSibling) {
      if (/^H[1-6]$/.test(sib.tagName)) return sib.textContent;
    }
  }
  return "";
}
function focusableScrollers() {
  for (const box of document.querySelectorAll(".table-responsive")) {
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      const table = box.querySelector("table");
      const heading = table?.caption?.textContent || headingBefore(box);
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", `${(heading || "Table").trim()} (scrolls sideways)`);
      box.dataset.s2oScroller = "1";
    } else if (!scrolls && box.dataset.s2oScroller) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      delete box.dataset.s2oScroller;
    }
  }
}
document.addEventListener("DOMContentLoaded", focusableScrollers);
window.addEventListener("resize", focusableScrollers);
// A panel that loads after its page ([data-panel-url]: similar earlier requests on the request
// page) is replaced by the HTML its URL returns; without script, its link shows the same on a page.
for (const panel of document.querySelectorAll("[data-panel-url]")) {
  fetch(panel.dataset.panelUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : ""))
    .then((html) => {
      if (!html) return;
      const box = document.createElement("div");
      box.innerHTML = html;
      panel.replaceWith(...box.childNodes);
    })
    .catch(() => {});
}
