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
