// S2O behaviours without inline scripts (a strict CSP holds): confirmations and auto-submit.
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
